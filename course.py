#!/usr/bin/env python3
"""One entry point for learners and maintainers.

    python3 course.py lab     # create the environment on first use, then open JupyterLab
    python3 course.py test    # create the environment on first use, then run every test
    python3 course.py test --fast   # the unit tests only: no notebooks, no test marked slow
    python3 course.py bench   # the benchmarks (they print figures; they never fail on speed)
    python3 course.py bench full_mnist --seeds 1   # one benchmark, with its own options

Options of the launcher itself, accepted after any command:

    --recreate   delete the environment and build it again from scratch
    --cpu        (Linux) install PyTorch's CPU-only build: no CUDA libraries, GBs less to download

The environment is a virtual environment in `.venv/`, installed from `requirements-lock.txt`
(the exact versions the tests use) plus this checkout's `helpers` package. Each start checks
that it still works and matches the lock; a broken one is rebuilt, and after a change of the
lock it holds exactly what the lock lists. Anything else after the command is passed on:
`python3 course.py test -k baseline`, `python3 course.py lab --port 8890`.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The environment's folder: `.venv/`, or COURSE_VENV (relative to the checkout), which lets CI
# keep one environment per Python side by side.
VENV = ROOT / os.environ.get("COURSE_VENV", ".venv")
LOCK = ROOT / "requirements-lock.txt"
STAMP = VENV / "course-installed.txt"

# The Pythons the lock is made for (tools/lock.py resolves it from 3.11.5 up) and tested with.
OLDEST, NEWEST = (3, 11, 5), (3, 13)
PYTHONS = "Python 3.11 (3.11.5 or newer), 3.12 or 3.13"
# Disk space a first install needs, with some room to spare (PyTorch's CUDA libraries are big).
NEEDED_GB = {"cuda": 8, "cpu": 2}
# Where the CPU-only build of the same PyTorch release lives.
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Distributions that only the CUDA build of PyTorch needs (left out by --cpu).
CUDA_ONLY = ("nvidia-", "cuda-", "triton")
# Never removed when the environment is brought in line with the lock.
KEEP = {"pip", "mnist-basics-helpers"}

# The README's test command runs exactly this: the helpers' unit tests, then every notebook
# re-executed by nbval and compared with its stored outputs.
TEST_ARGS = ["-p", "no:cacheprovider", "tests", "notebooks", "--nbval",
             "--nbval-current-env", "--nbval-sanitize-with", "tests/sanitize.cfg",
             "--nbval-cell-timeout", "1800"]
# `test --fast`: the unit tests alone; the notebooks and the tests marked slow (a browser,
# a fresh Colab-like environment, subprocesses, training) are left out, and so is nbval's
# plugin (importing it costs seconds: nbformat's schema validation).
FAST_ARGS = ["-p", "no:cacheprovider", "-p", "no:nbval", "tests", "-m", "not slow"]

# JupyterLab settings of the course environment (share/jupyter/lab/settings/overrides.json):
# no "get notified about Jupyter news?" pop-up on the learner's first screen, and a Markdown
# file such as the README (linked from each notebook's "All notebooks") opens rendered.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"},
    "@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Markdown Preview"}},
}


class CourseError(Exception):
    "A failure the learner can fix; its message is one sentence saying what is wrong and what to do."


def venv_python(venv_dir: Path | None = None) -> Path:
    venv_dir = venv_dir or VENV
    return venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def canonical(name: str) -> str:
    return "-".join(name.lower().replace("_", "-").replace(".", "-").split("-"))


# ---- where the course can run ----------------------------------------------------------------

def check_platform(version=None, system: str | None = None, machine: str | None = None,
                   bits: int | None = None) -> None:
    "Raise CourseError, in one sentence, for a Python or platform the locked PyTorch cannot serve."
    version = tuple(version or sys.version_info[:3])
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    bits = bits or (64 if sys.maxsize > 2**32 else 32)
    here = ".".join(map(str, version))
    if not (OLDEST <= version[:3] and version[:2] <= NEWEST):
        raise CourseError(f"This is Python {here}, but the course runs on {PYTHONS}: install one of "
                          f"those and start it with that Python (e.g. `python3.12 course.py lab`), "
                          f"or use the Colab badge of each notebook.")
    if bits != 64:
        raise CourseError(f"This is a 32-bit Python, for which PyTorch publishes no packages: "
                          f"install a 64-bit {PYTHONS}, or use the Colab badge of each notebook.")
    if system == "Darwin" and machine in {"x86_64", "amd64", "i386"}:
        raise CourseError("PyTorch stopped publishing packages for Intel Macs after version 2.2, so "
                          "the course's PyTorch cannot be installed here: open the notebooks in "
                          "Colab with the badge at the top of each one.")


def check_disk(variant: str, where: Path | None = None) -> None:
    free = shutil.disk_usage(where or ROOT).free / 1e9
    if free < NEEDED_GB[variant]:
        extra = " (or add --cpu on Linux, which needs about 2 GB)" if variant == "cuda" else ""
        raise CourseError(f"Only {free:.1f} GB of disk space is free here, and installing the course "
                          f"needs about {NEEDED_GB[variant]} GB: free some space{extra} and try again.")


# ---- the environment -------------------------------------------------------------------------

PROBE = (
    "import importlib.metadata as m, importlib.util as u, json, sys\n"
    "spec = u.find_spec('helpers')\n"
    "def version(n):\n"
    "    try:\n"
    "        return m.version(n)\n"
    "    except m.PackageNotFoundError:\n"
    "        return None\n"
    "print(json.dumps({'python': list(sys.version_info[:3]), 'helpers': spec and spec.origin,"
    " 'torch': version('torch'), 'pip': version('pip')}))\n"
)


def probe(venv_dir: Path | None = None) -> tuple[dict | None, str]:
    "What the environment's Python reports about itself (None and why, when it does not work)."
    venv_dir = venv_dir or VENV
    py = venv_python(venv_dir)
    if not py.exists():
        return None, f"{py.relative_to(venv_dir.parent)} is missing"
    try:
        r = subprocess.run([str(py), "-c", PROBE], capture_output=True, text=True, timeout=120,
                           cwd=venv_dir.parent)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"its Python does not start ({e})"
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"its Python does not start ({last})"
    try:
        return json.loads(r.stdout.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return None, "its Python printed something unexpected"


def health(info: dict | None, why: str) -> str:
    "Empty when the probed environment works; otherwise why it does not, in a few words."
    if info is None:
        return why
    v = tuple(info["python"])
    if not (OLDEST <= v and v[:2] <= NEWEST):
        return f"it was made with Python {'.'.join(map(str, v))}, which the course does not support"
    if not info.get("pip"):
        return "it has no pip"
    return ""


def installed_here(info: dict, root: Path | None = None) -> bool:
    "Whether the probed environment has torch, and imports helpers from this checkout."
    root = root or ROOT
    origin = info.get("helpers")
    return bool(info.get("torch")) and bool(origin) and Path(origin).resolve().is_relative_to(root.resolve())


def wanted_state(variant: str) -> dict:
    h = hashlib.sha256()
    for f in (LOCK, ROOT / "pyproject.toml"):
        h.update(f.read_bytes())
    return {"inputs": h.hexdigest(), "variant": variant,
            "platform": f"{sys.platform}-{platform.machine().lower()}"}


def read_stamp(stamp: Path | None = None) -> dict:
    try:
        state = json.loads((stamp or STAMP).read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def locked_requirements(variant: str, lock: Path | None = None) -> list[str]:
    "The lock's lines to install: all of them, or for --cpu all but the CUDA build's own libraries."
    lines = []
    for line in (lock or LOCK).read_text().splitlines():
        req = line.split("#", 1)[0].strip()
        if not req:
            continue
        name = canonical(req.split("==", 1)[0].split(";", 1)[0].strip())
        if variant == "cpu" and name.startswith(CUDA_ONLY):
            continue
        lines.append(req)
    return lines


# Words in pip's output that tell why an install failed.
NETWORK_SIGNS = ("Failed to establish a new connection", "Temporary failure in name resolution",
                 "Name or service not known", "Network is unreachable", "No route to host",
                 "ConnectTimeoutError", "ReadTimeoutError", "Could not fetch URL",
                 "getaddrinfo failed", "nodename nor servname", "ProxyError")
DISK_SIGNS = ("No space left on device", "[Errno 28]", "Disk quota exceeded")


def explain_pip_failure(output: str, what: str) -> CourseError:
    if any(s in output for s in DISK_SIGNS):
        return CourseError(f"The disk filled up while {what}: free some space, then run the same "
                           f"command again with --recreate.")
    if any(s in output for s in NETWORK_SIGNS):
        return CourseError(f"The package index could not be reached while {what}: the first run "
                           f"needs an internet connection (a few GB), so connect and run the same "
                           f"command again.")
    return CourseError(f"pip failed while {what} (its last lines are above): run the same command "
                       f"again with --recreate, and if it fails again, report those lines.")


def run_pip(py: Path, args: list[str], what: str) -> None:
    cmd = [str(py), "-m", "pip", "--disable-pip-version-check", *args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    except OSError as e:
        raise CourseError(f"pip could not be started while {what} ({e}): run the same command "
                          f"again with --recreate.") from None
    if r.returncode != 0:
        out = (r.stdout or "") + (r.stderr or "")
        print("\n".join(out.strip().splitlines()[-15:]), file=sys.stderr)
        raise explain_pip_failure(out, what)


def create_venv(venv_dir: Path | None = None) -> None:
    "A new, empty virtual environment with pip, replacing whatever is at `venv_dir`."
    venv_dir = venv_dir or VENV
    try:
        import ensurepip  # noqa: F401  (Debian and Ubuntu ship it in a separate package)
    except ImportError:
        minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
        raise CourseError(f"This Python has no ensurepip, so it cannot make virtual environments: on "
                          f"Debian or Ubuntu run `sudo apt install python3-venv` (or "
                          f"python{minor}-venv), then try again.") from None
    try:
        venv.EnvBuilder(with_pip=True, clear=True, symlinks=os.name != "nt").create(venv_dir)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise CourseError(f"The disk is full, so {venv_dir.name}/ could not be created: free "
                              f"some space and try again.") from None
        raise CourseError(f"Could not create {venv_dir.name}/ ({e}): check that this folder is "
                          f"writable, delete {venv_dir.name}/ if it is there, and try again.") from None
    except subprocess.CalledProcessError as e:
        raise CourseError(f"Python could not put pip into {venv_dir.name}/ (ensurepip failed with "
                          f"exit status {e.returncode}): on Debian or Ubuntu install python3-venv, "
                          f"otherwise reinstall Python, then try again.") from None


def remove_venv(venv_dir: Path | None = None) -> None:
    venv_dir = venv_dir or VENV
    try:
        shutil.rmtree(venv_dir)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise CourseError(f"Could not delete {venv_dir.name}/ ({e}): close JupyterLab and any other "
                          f"program using it, delete the folder by hand, and try again.") from None


SYNC = (
    "import importlib.metadata as m, json, sys\n"
    "from packaging.requirements import Requirement\n"
    "canon = lambda n: '-'.join(n.lower().replace('_', '-').replace('.', '-').split('-'))\n"
    "wanted = set()\n"
    "for line in open(sys.argv[1]):\n"
    "    line = line.strip()\n"
    "    if line:\n"
    "        r = Requirement(line)\n"
    "        if r.marker is None or r.marker.evaluate():\n"
    "            wanted.add(canon(r.name))\n"
    "have = {canon(d.metadata['Name']) for d in m.distributions() if d.metadata['Name']}\n"
    "print(json.dumps(sorted(have - wanted)))\n"
)


def install(py: Path, variant: str) -> None:
    "Install the lock into the environment of `py`, remove what the lock does not list, add helpers."
    reqs = VENV / "course-requirements.txt"
    reqs.write_text("\n".join(locked_requirements(variant)) + "\n")
    index = ["--index-url", CPU_INDEX, "--extra-index-url", "https://pypi.org/simple"] if variant == "cpu" else []
    # --no-compile: no .pyc for the thousands of modules of torch and friends that the course
    # never imports; compile_what_the_course_imports (below) does the ones it does. On two cores
    # this brought the first install from about 3.5 minutes down to 2.
    run_pip(py, ["install", "-q", "--no-compile", *index, "-r", str(reqs)],
            "installing the pinned packages")
    r = subprocess.run([str(py), "-c", SYNC, str(reqs)], capture_output=True, text=True, cwd=ROOT)
    extra = [n for n in json.loads(r.stdout) if n not in KEEP] if r.returncode == 0 else []
    if extra:
        print(f"Removing packages the lock no longer lists: {', '.join(extra)}", flush=True)
        run_pip(py, ["uninstall", "-q", "-y", *extra], "removing packages the lock no longer lists")
    run_pip(py, ["install", "-q", "--no-deps", "--no-build-isolation", "-e", "."],
            "installing the course's helpers")
    compile_what_the_course_imports(py)


# What a notebook's kernel, the test suite and JupyterLab import. Python usually writes a .pyc
# for each module on first use, but not where PYTHONDONTWRITEBYTECODE is set (many CI systems
# and containers set it): there every new kernel compiled torch, torchvision (whose import pulls
# in torch._dynamo and sympy), fastai and scikit-learn from source again, about 25 of the 30
# seconds its imports took on two cores. Importing them once here, with writing allowed, leaves
# the .pyc files, which Python reads whatever that setting says.
# A name ending in ".*" stands for the package and every module in it.
WARM_UP_MODULES = ["helpers.*", "fastai.vision.all", "scipy.stats", "ipykernel.kernelapp",
                   "matplotlib_inline.backend_inline", "ipywidgets", "nbclient", "nbval.plugin",
                   "pytest", "jupyterlab", "jupyter_server.serverapp", "playwright.sync_api"]
WARM_UP = (
    "import importlib, pkgutil, sys\n"
    "sys.dont_write_bytecode = False\n"
    "def load(name):\n"
    "    try:\n"
    "        return importlib.import_module(name)\n"
    "    except Exception:\n"
    "        pass\n"   # a module that fails to import fails later, with its own message
    "for name in sys.argv[1:]:\n"
    "    package = load(name.removesuffix('.*'))\n"
    "    if name.endswith('.*') and package is not None:\n"
    "        for m in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
    "            load(m.name)\n"
)


def compile_what_the_course_imports(py: Path) -> None:
    "Leave a .pyc beside every module the course imports (see WARM_UP_MODULES)."
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    print("Compiling the modules the notebooks import (once, about a minute) ...", flush=True)
    subprocess.run([str(py), "-c", WARM_UP, *WARM_UP_MODULES], cwd=ROOT, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ensure_env(recreate: bool = False, cpu: bool = False) -> Path:
    """The course environment's Python: checked, and (re)built when it is missing, broken or
    out of step with the lock. Raises CourseError with one sentence when that cannot be done."""
    check_platform()
    py = venv_python()
    if recreate and VENV.exists():
        print(f"Deleting {VENV.name}/ to build it again (--recreate) ...", flush=True)
        remove_venv()
    state = read_stamp()
    variant = "cpu" if cpu or (state.get("variant") == "cpu" and not recreate) else "cuda"
    if variant == "cpu" and sys.platform != "linux":
        print("note: --cpu changes nothing outside Linux, where PyTorch's packages hold no CUDA anyway.")
        variant = "cuda"
    wanted = wanted_state(variant)
    if VENV.exists():
        info, why = probe()
        problem = health(info, why)
        if problem:
            print(f"The course environment in {VENV.name}/ does not work ({problem}), so it is built again.",
                  flush=True)
            remove_venv()
        elif state == wanted and installed_here(info):
            write_lab_settings()
            return py
    check_disk(variant)
    if not py.exists():
        print(f"Creating the course environment in {VENV.name}/ (first run only) ...", flush=True)
        create_venv()
    what = "PyTorch's CPU-only build, " if variant == "cpu" else ""
    print(f"Installing the pinned packages ({what}a few minutes the first time) ...", flush=True)
    install(py, variant)
    r = subprocess.run([str(py), "-c", "import helpers"], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no message"])[-1]
        raise CourseError(f"The environment is installed but `import helpers` fails ({last}): run "
                          f"the same command again with --recreate.")
    write_lab_settings()
    STAMP.write_text(json.dumps(wanted) + "\n")
    return py


def write_lab_settings(venv_dir: Path | None = None) -> Path:
    "Merge LAB_SETTINGS into the environment's JupyterLab overrides.json (idempotent)."
    path = (venv_dir or VENV) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        current = json.loads(path.read_text())
    except (OSError, ValueError):
        current = {}
    merged = dict(current)
    for plugin, values in LAB_SETTINGS.items():
        merged[plugin] = {**current.get(plugin, {}), **values}
    if merged != current:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2) + "\n")
    return path


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_args(root: Path | None = None, open_folder: str | None = "notebooks") -> list[str]:
    """What follows `python -m` to start JupyterLab on `root`, showing `open_folder` first.

    The server's root is the whole checkout, so that each notebook's "All notebooks" link
    (../README.md) opens. JupyterLab refuses to run as root (as one is in a container)
    without --allow-root, so it is added there.
    """
    args = ["jupyter", "lab", f"--ServerApp.root_dir={root or ROOT}"]
    if open_folder:
        args.append(f"--LabApp.default_url=/lab/tree/{open_folder}")
    if running_as_root():
        args.append("--allow-root")
    return args


def benchmarks() -> list[Path]:
    return sorted((ROOT / "benchmarks").glob("bench_*.py"))


def bench_commands(py: str, rest: list[str]) -> list[list[str]]:
    """`bench` alone runs every benchmark; `bench NAME [options]` runs the one whose file name
    holds NAME and passes every option, with its value, on to it."""
    if rest and not rest[0].startswith("-"):
        name, options = rest[0], rest[1:]
        chosen = [b for b in benchmarks() if name in b.stem]
        if not chosen:
            known = ", ".join(b.stem.removeprefix("bench_") for b in benchmarks())
            raise CourseError(f"There is no benchmark called {name!r}: choose one of {known}.")
        return [[py, str(b), *options] for b in chosen]
    return [[py, str(b), *rest] for b in benchmarks()]


def launcher_options(rest: list[str]) -> tuple[list[str], bool, bool]:
    "Take the launcher's own --recreate and --cpu out of the arguments passed on."
    return ([r for r in rest if r not in {"--recreate", "--cpu"}], "--recreate" in rest, "--cpu" in rest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"lab", "test", "bench", "env"}:
        print(__doc__.strip())
        return 2
    cmd, (rest, recreate, cpu) = argv[0], launcher_options(argv[1:])
    try:
        if cmd == "bench":
            bench_commands("python", rest)  # an unknown name fails before anything is installed
        py = str(ensure_env(recreate=recreate, cpu=cpu))
        if cmd == "env":
            return 0
        if cmd == "lab":
            if running_as_root():
                print("Running as root (as in a container), so JupyterLab is started with --allow-root.")
            return subprocess.call([py, "-m", *lab_args(), *rest], cwd=ROOT)
        if cmd == "test":
            if "--fast" in rest:
                rest = [r for r in rest if r != "--fast"]
                # The unit tests' tensors are tiny: one thread runs them faster than several
                # competing for the cores (and a busy machine slows them down less).
                env = {"OMP_NUM_THREADS": "1", **os.environ}
                return subprocess.call([py, "-m", "pytest", *FAST_ARGS, *rest], cwd=ROOT, env=env)
            return subprocess.call([py, "-m", "pytest", *TEST_ARGS, *rest], cwd=ROOT)
        status = 0
        for command in bench_commands(py, rest):
            print(f"== {Path(command[1]).relative_to(ROOT)}", flush=True)
            status |= subprocess.call(command, cwd=ROOT)
        return status
    except CourseError as e:
        print(f"\n{e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped. If it stopped while installing, the next run finishes the environment.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

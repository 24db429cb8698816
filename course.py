#!/usr/bin/env python3
"""One entry point for learners and maintainers.

    python3 course.py lab     # create the environment on first use, then open JupyterLab
    python3 course.py test    # create the environment on first use, then run every test
    python3 course.py test --fast   # the unit tests only: no notebooks, no test marked slow
    python3 course.py bench   # the benchmarks (they print figures; they never fail on speed)
    python3 course.py bench full_mnist --skip-fastai   # one benchmark, with its own options

The environment is a virtual environment in `.venv/`, installed from `requirements-lock.txt`
(the exact versions the tests use) plus this checkout's `helpers` package. It is reinstalled
only when the lock file or `pyproject.toml` changes. Anything after the command is passed on:
`python3 course.py test -k baseline`, `python3 course.py lab --port 8890`.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements-lock.txt"
STAMP = VENV / "course-installed.txt"

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


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def wanted_stamp() -> str:
    h = hashlib.sha256()
    for f in (LOCK, ROOT / "pyproject.toml"):
        h.update(f.read_bytes())
    return h.hexdigest()


def write_lab_settings(venv: Path = VENV) -> Path:
    "Merge LAB_SETTINGS into the environment's JupyterLab overrides.json (idempotent)."
    path = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
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


def ensure_env() -> Path:
    "Create `.venv` and install the locked environment, unless it is already up to date."
    py = venv_python()
    if STAMP.is_file() and STAMP.read_text().strip() == wanted_stamp() and py.exists():
        write_lab_settings()
        return py
    if sys.version_info[:2] != (3, 11):
        print(f"note: the lock file was made with Python 3.11; this is {sys.version.split()[0]}.")
    if not py.exists():
        print("Creating the course environment in .venv/ (first run only) ...", flush=True)
        try:
            venv.create(VENV, with_pip=True)
        except Exception as e:  # Debian without python3-venv, for instance
            sys.exit(f"Could not create .venv ({e}): on Debian/Ubuntu run "
                     f"'sudo apt install python3-venv' and try again.")
    # --no-compile: no .pyc for the thousands of modules of torch and friends that the course
    # never imports (Python compiles what it does import, on first use). On two cores this
    # brought the first install from about 3.5 minutes down to 2.
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile"]
    print("Installing the pinned packages (a few minutes the first time) ...", flush=True)
    subprocess.run(pip + ["-q", "-r", str(LOCK)], check=True, cwd=ROOT)
    subprocess.run(pip + ["-q", "--no-deps", "--no-build-isolation", "-e", "."], check=True, cwd=ROOT)
    write_lab_settings()
    STAMP.write_text(wanted_stamp() + "\n")
    return py


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_args(root: Path = ROOT, open_folder: str | None = "notebooks") -> list[str]:
    """What follows `python -m` to start JupyterLab on `root`, showing `open_folder` first.

    The server's root is the whole checkout, so that each notebook's "All notebooks" link
    (../README.md) opens. JupyterLab refuses to run as root (as one is in a container)
    without --allow-root, so it is added there.
    """
    args = ["jupyter", "lab", f"--ServerApp.root_dir={root}"]
    if open_folder:
        args.append(f"--LabApp.default_url=/lab/tree/{open_folder}")
    if running_as_root():
        args.append("--allow-root")
    return args


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"lab", "test", "bench", "env"}:
        print(__doc__.strip())
        return 2
    cmd, rest = argv[0], argv[1:]
    py = str(ensure_env())
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
    names = [r for r in rest if not r.startswith("-")]   # which benchmarks (default: all)
    flags = [r for r in rest if r.startswith("-")]       # passed on to each benchmark
    status = 0
    for b in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        if names and not any(n in b.name for n in names):
            continue
        print(f"== {b.relative_to(ROOT)}", flush=True)
        status |= subprocess.call([py, str(b), *flags], cwd=ROOT)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

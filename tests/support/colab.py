"""Building blocks of the Colab-like tests: the helpers wheel, a kernel that takes the setup
cell's Colab branch, and a fresh environment that shares only PyTorch with the course's."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP = Path(__file__).with_name("colab_startup.py")


def build_helpers_wheel(dest: Path) -> Path:
    """Build the helpers wheel from a copy of what it is made of (pyproject.toml, README.md,
    LICENSE, helpers/), so that the build writes nothing into the checkout."""
    src = dest / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "helpers", src / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        "--no-build-isolation", "-w", str(dest), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"building the helpers wheel failed:\n{r.stdout}{r.stderr}"
    shutil.rmtree(src)
    (wheel,) = dest.glob("mnist_basics_helpers-*.whl")
    return wheel


def colab_ipython_dir(dest: Path, install_instead: str, log: Path, audit: bool = True) -> Path:
    """An IPYTHONDIR whose startup script makes the kernel take the setup cell's Colab branch
    and install `install_instead` there; with `audit`, it also records in `log` whatever the
    kernel touches in the checkout (see colab_startup.py)."""
    startup = dest / "profile_default" / "startup"
    startup.mkdir(parents=True)
    text = STARTUP.read_text()
    for key, value in {"__INSTALL_INSTEAD__": install_instead, "__REPO__": str(ROOT) if audit else "",
                       "__LOG__": str(log)}.items():
        text = text.replace(f'"{key}"', json.dumps(value))
    (startup / "00-colab-like.py").write_text(text)
    return dest


def read_log(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# ---- a fresh environment ---------------------------------------------------------------------

def colab_python() -> tuple[str, str]:
    """The interpreter the Colab-like environment is made from, and a line saying which and why:
    COLAB_PYTHON when set; else a Python 3.12, as Colab runs (python3.12 on PATH, or pyenv's
    newest 3.12); else the course environment's own base Python."""
    def version(py):
        r = subprocess.run([py, "-c", "import platform; print(platform.python_version())"],
                           capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None
    chosen = os.environ.get("COLAB_PYTHON")
    if chosen:
        v = version(chosen)
        assert v, f"COLAB_PYTHON={chosen} does not run"
        return chosen, f"Python {v} (COLAB_PYTHON)"
    candidates = [shutil.which("python3.12")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        r = subprocess.run([pyenv, "root"], capture_output=True, text=True)
        root = Path(r.stdout.strip()) / "versions"
        candidates += sorted((str(p / "bin" / "python3.12") for p in root.glob("3.12.*")), reverse=True)
    for py in filter(None, candidates):
        v = version(py)
        if v and v.startswith("3.12."):
            return py, f"Python {v}, as in Colab"
    base = getattr(sys, "_base_executable", sys.executable)
    return base, (f"Python {version(base)}, the course environment's: no Python 3.12 was found "
                  f"(set COLAB_PYTHON to one)")


def _shared_name(name: str) -> bool:
    "torch, torchvision, and the CUDA runtime wheels and triton that torch brings along."
    name = name.lower().replace("_", "-")
    return name in {"torch", "torchvision", "triton"} or name.startswith(("nvidia-", "cuda-"))


def _pure(dist) -> bool:
    "Whether a distribution's wheel serves every Python 3 (its WHEEL file's tags are py3-none-...)."
    wheel = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    return bool(tags) and all(t.split("-")[0] in {"py3", "py2.py3"} and t.split("-")[1] == "none" for t in tags)


def share_torch(dest: Path, python: str | None = None) -> Path:
    """A folder holding the course environment's torch, torchvision, triton and CUDA wheels (their
    packages and their .dist-info), and nothing else. A .pth file naming it makes a fresh
    environment see them as installed, so pip keeps them as they are.

    For `python` of the course environment's own version they are symbolic links. For another
    version (Colab's 3.12), only the wheels made for every Python (the CUDA libraries, several
    GB) are linked; those built for one Python (torch, torchvision, triton, cuda-bindings) are
    installed into the folder for `python`, at the same versions, by pip (whose cache keeps the
    download, about 560 MB, for the next run). Nothing is ever written through a link."""
    import importlib.metadata as md
    target = _version_of(python) if python else None
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    linked, per_python = {}, {}   # linked: path parts inside site-packages -> (site, owners)
    others = set()   # top-level names that distributions other than torch's also install
    for d in md.distributions():
        name = d.metadata["Name"] or ""
        if not _shared_name(name):
            others |= {f.parts[0] for f in d.files or []}
            continue
        if target not in (None, here) and not _pure(d):
            per_python[name] = d.version
            continue
        for f in d.files or []:
            if f.parts[0] not in {"..", "__pycache__"} and not f.parts[0].endswith(".pth"):
                linked.setdefault(f.parts[:2], (Path(d.locate_file("")), set()))[1].add(name)
    dest.mkdir(parents=True)
    if per_python:
        staging = dest.parent / f"{dest.name}-for-{target}"
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile",
                            "--only-binary=:all:", f"--python-version={target}", "--target", str(staging),
                            *(f"{n}=={v}" for n, v in sorted(per_python.items()))],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"installing {sorted(per_python)} for Python {target} failed:\n{r.stderr[-3000:]}"
        for entry in staging.iterdir():
            entry.rename(dest / entry.name)
        staging.rmdir()
    # Link whole top-level folders where nothing of this Python's own lives in them, else their
    # entries one by one (the namespace folder `cuda` holds cuda-bindings and cuda-pathfinder).
    tops = {parts[0] for parts in linked}
    assert not tops & others, f"{sorted(tops & others)} belong to torch's wheels and to other packages"
    for top in sorted(tops):
        entries = {parts: owner for parts, owner in linked.items() if parts[0] == top}
        site = next(iter(entries.values()))[0]
        if not (dest / top).exists():
            (dest / top).symlink_to(site / top)
            continue
        assert not (dest / top).is_symlink()
        for parts, (site, _) in entries.items():
            if len(parts) == 2 and not (dest / top / parts[1]).exists():
                (dest / top / parts[1]).symlink_to(site / top / parts[1])
    assert (dest / "torch").exists(), "the course environment has no torch to share"
    return dest


def _version_of(python: str) -> str:
    "X.Y of an interpreter."
    return subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
                          capture_output=True, text=True, check=True).stdout.strip()


def shared_pins(shared: Path) -> list[str]:
    "name==version of each distribution in a share_torch folder."
    pins = []
    for info in sorted(shared.glob("*.dist-info")):
        name, version = info.name[: -len(".dist-info")].split("-", 1)
        pins.append(f"{name.replace('_', '-')}=={version}")
    return pins


def uv_executable() -> str | None:
    "The uv of the course environment (requirements-lock.txt), if it is there."
    try:
        from uv import find_uv_bin
        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return None


def fresh_venv(dest: Path, packages: list[str], shared: Path, python: str | None = None) -> Path:
    """A new virtual environment of `python` (default: the course environment's base Python),
    with the `shared` torch on its path and `packages` installed at their newest versions
    that agree with it, from PyPI.

    uv resolves (against the shared torch's exact versions) and installs everything else
    without dependencies, in seconds once its cache is warm; pip's own resolver, the
    fallback without uv, takes about a minute more, mostly fetching index pages one by one.
    `pip check` then confirms that the environment, shared torch included, is consistent."""
    base = python or getattr(sys, "_base_executable", sys.executable)
    r = subprocess.run([base, "-m", "venv", str(dest)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    py = dest / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "zz-shared-torch.pth").write_text(f"{shared}\n")
    env = clean_env(dest)
    uv = uv_executable()
    if uv:
        pins = shared_pins(shared)
        (dest / "shared.txt").write_text("\n".join(pins) + "\n")
        (dest / "wanted.txt").write_text("\n".join(packages) + "\n")
        r = subprocess.run([uv, "pip", "compile", "-q", "--no-header", "--no-annotate",
                            "--python", str(py), "-c", str(dest / "shared.txt"),
                            str(dest / "wanted.txt")], capture_output=True, text=True, env=env)
        assert r.returncode == 0, f"uv could not resolve {packages}:\n{r.stderr}"
        shared_names = {p.split("==")[0].lower() for p in pins}
        rest = [line for line in r.stdout.splitlines()
                if line.strip() and line.split("==")[0].strip().lower().replace("_", "-") not in shared_names]
        (dest / "resolved.txt").write_text("\n".join(rest) + "\n")
        # --compile-bytecode, as pip does: otherwise the kernel's first start compiles IPython
        # and friends itself, which took longer than nbclient waits for a kernel on a busy machine
        cmd = [uv, "pip", "install", "-q", "--no-deps", "--compile-bytecode", "--python", str(py),
               "-r", str(dest / "resolved.txt")]
    else:
        cmd = [str(py), "-m", "pip", "install", "-q", "--no-compile", "--disable-pip-version-check", *packages]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, f"installing {' '.join(packages)} failed:\n{r.stdout}{r.stderr}"
    r = subprocess.run([str(py), "-m", "pip", "check"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, f"the fresh environment is inconsistent:\n{r.stdout}{r.stderr}"
    return py


def clean_env(venv_dir: Path, **extra: str) -> dict:
    "The environment of a process of `venv_dir`: its bin first on PATH, nothing of the course's."
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "MNIST_DATA", "CONDA_PREFIX"}
           and not k.startswith(("JUPYTER", "IPYTHON", "PYTEST"))}
    bin_dir = venv_dir / ("Scripts" if os.name == "nt" else "bin")
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env.update(extra)
    return env


def installed(py: Path) -> dict[str, str]:
    "name -> version of every distribution an interpreter sees."
    code = ("import importlib.metadata as m, json; print(json.dumps({d.metadata['Name'].lower()"
            ".replace('_', '-'): d.version for d in m.distributions()}))")
    return json.loads(subprocess.run([str(py), "-c", code], capture_output=True, text=True,
                                     check=True).stdout)

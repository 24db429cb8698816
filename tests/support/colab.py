"""Building blocks of the Colab-like tests: the helpers wheel, a kernel that takes the setup
cell's Colab branch, and a fresh environment that shares only PyTorch with the course's."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP = Path(__file__).with_name("colab_startup.py")


def build_helpers_wheel(dest: Path) -> Path:
    """Build the helpers wheel from a copy of what it is made of (pyproject.toml, README.md,
    helpers/), so that the build writes nothing into the checkout."""
    src = dest / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
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

def _shared_name(name: str) -> bool:
    "torch, torchvision, and the CUDA runtime wheels and triton that torch brings along."
    name = name.lower().replace("_", "-")
    return name in {"torch", "torchvision", "triton"} or name.startswith(("nvidia-", "cuda-"))


def share_torch(dest: Path) -> Path:
    """A folder of symbolic links to the course environment's torch, torchvision, triton and
    CUDA wheels (their packages and their .dist-info), and nothing else. A .pth file naming it
    makes a fresh environment see them as installed, so pip keeps them as they are."""
    import importlib.metadata as md
    from collections import defaultdict
    owners = defaultdict(set)
    for d in md.distributions():
        name = d.metadata["Name"] or ""
        for f in d.files or []:
            if f.parts[0] != "..":
                owners[(Path(d.locate_file("")), f.parts[0])].add(name)
    dest.mkdir(parents=True)
    for (site, top), names in owners.items():
        shared = {n for n in names if _shared_name(n)}
        if not shared or top == "__pycache__" or top.endswith(".pth"):
            continue
        assert shared == names, f"{top} belongs to torch's {sorted(shared)} and to {sorted(names - shared)}"
        if not (dest / top).exists():
            (dest / top).symlink_to(site / top)
    assert (dest / "torch").exists(), "the course environment has no torch to share"
    return dest


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


def fresh_venv(dest: Path, packages: list[str], shared: Path) -> Path:
    """A new virtual environment of this Python (the one the machine's torch is built for),
    with the `shared` torch on its path and `packages` installed at their newest versions
    that agree with it, from PyPI.

    uv resolves (against the shared torch's exact versions) and installs everything else
    without dependencies, in seconds once its cache is warm; pip's own resolver, the
    fallback without uv, takes about a minute more, mostly fetching index pages one by one.
    `pip check` then confirms that the environment, shared torch included, is consistent."""
    base = getattr(sys, "_base_executable", sys.executable)
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
        cmd = [uv, "pip", "install", "-q", "--no-deps", "--python", str(py), "-r", str(dest / "resolved.txt")]
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

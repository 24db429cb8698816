"""Make requirements-lock.txt from pyproject.toml: the one command that writes the lock.

    .venv/bin/python tools/lock.py              # after editing the dependencies in pyproject.toml
    .venv/bin/python tools/lock.py --upgrade    # move every pin to the newest release that fits
    .venv/bin/python tools/lock.py --check      # exit 1 if the lock is not what this would write

It asks uv (`uv pip compile`, installed with the course's test tools) to resolve the helpers'
dependencies with the `lab` and `test` extras, once for every platform (`--universal`: each
platform-only package gets its marker, e.g. the CUDA libraries `sys_platform == 'linux'`), for
Python 3.11.5 and newer. Pins already in the lock are kept unless `--upgrade` is given or
pyproject.toml no longer allows them, so relocking after adding a dependency changes only what
it needs. Each line says what brings the package in (`# via ...`); pyproject.toml says which of
its own requirements are the learner's, which JupyterLab's (`lab`) and which the test tools'
(`test`).

The first line records a fingerprint of pyproject.toml's dependency lists; the test suite
compares it, so changing the dependencies without relocking fails the tests. Other arguments go
to uv, e.g. `--find-links DIR` for packages that lie in a local folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ImportError:  # pragma: no cover - the course's Pythons all have it
    sys.exit("tools/lock.py needs Python 3.11 or newer.")

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements-lock.txt"
PYPROJECT = ROOT / "pyproject.toml"
# The oldest Python the lock must serve (soupsieve, through beautifulsoup4, needs 3.11.5);
# course.py's OLDEST says the same.
PYTHON = "3.11.5"
EXTRAS = ("lab", "test")
FINGERPRINT = "# pyproject.toml dependencies, sha256: "


def fingerprint(pyproject_text: str) -> str:
    "A hash of what the lock is made from: requires-python, dependencies and the extras."
    project = tomllib.loads(pyproject_text)["project"]
    what = {k: project.get(k) for k in ("requires-python", "dependencies", "optional-dependencies")}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def header(pyproject_text: str) -> str:
    return (f"{FINGERPRINT}{fingerprint(pyproject_text)}\n"
            "# The exact environment of `python3 course.py ...` (and of environment.yml), on every\n"
            "# platform, for Python 3.11.5 to 3.13. Do not edit: `python tools/lock.py` writes it from\n"
            "# pyproject.toml (see that script for how). The helpers package itself asks only for\n"
            "# lower bounds, so installing it in Colab keeps Colab's torch and fastai.\n")


def uv_command() -> list[str]:
    try:
        from uv import find_uv_bin
        return [find_uv_bin()]
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return [found]
    sys.exit("uv is needed to make the lock: run this script with the course's Python "
             "(.venv/bin/python tools/lock.py), or install uv.")


def compile_lock(out: Path, extra_args: list[str]) -> None:
    "Resolve pyproject.toml into `out` (whose current pins uv prefers), then add the header."
    cmd = [*uv_command(), "pip", "compile", "pyproject.toml", *(f"--extra={e}" for e in EXTRAS),
           "--universal", f"--python-version={PYTHON}", "--annotation-style=line", "--no-header",
           "--quiet", f"--output-file={out}", *extra_args]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"uv could not make the lock:\n{r.stderr.strip()}")
    body = "".join(line for line in out.read_text().splitlines(keepends=True)
                   if not line.startswith("#"))
    out.write_text(header(PYPROJECT.read_text()) + body)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        argv = [a for a in argv if a != "--check"]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / LOCK.name
            shutil.copy(LOCK, out)  # so that uv prefers the pins already there
            compile_lock(out, argv)
            if out.read_text() != LOCK.read_text():
                print(f"{LOCK.name} is out of date: run `python tools/lock.py` and commit the result.")
                return 1
        print(f"{LOCK.name} is up to date.")
        return 0
    compile_lock(LOCK, argv)
    n = sum(1 for line in LOCK.read_text().splitlines() if line and not line.startswith("#"))
    print(f"wrote {LOCK.name}: {n} pinned packages")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))

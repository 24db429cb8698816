"""Colab, as Colab runs it: notebooks 01 and 02 alone in an empty folder, the helpers
installed from a wheel by the setup cell's Colab branch, in a fresh environment with the
newest releases of the libraries the course names, and data in fastai's own home.

How the environment is made, and why so:

* The interpreter is Python 3.12, as in Colab: COLAB_PYTHON when set, else a python3.12 on
  PATH or pyenv's newest 3.12. Without one, the course environment's own Python is used, and
  the test prints which it used and why.
* torch, torchvision, triton and the CUDA runtime wheels are the course environment's
  versions, shared rather than installed again where possible: a temporary folder holds
  symbolic links to the CUDA libraries (wheels made for every Python, several GB) and, for
  the course's own Python, to torch itself; for 3.12, torch, torchvision, triton and
  cuda-bindings at the same versions are installed into that folder (a download of about
  560 MB the first time, kept by pip's cache). A .pth file in the fresh environment names the
  folder; pip then counts them as installed (as Colab's own torch is), keeps them, and
  installs what they need at its newest version.
* Everything else that pyproject.toml names (fastai, matplotlib, pandas, pillow, anywidget,
  ipywidgets), and what executing needs (ipykernel, nbclient), comes from PyPI at its newest
  version that agrees with the shared torch: resolved and installed by uv when the course
  environment has it (requirements-lock.txt pins it; about 15 s), by pip otherwise (about a
  minute more).
* The kernel takes the setup cell's Colab branch through a temporary IPYTHONDIR
  (support/colab_startup.py): a stand-in `google.colab` module, and the branch's
  `!pip install ... git+https://...` pointed at the freshly built wheel. The notebooks
  themselves are not changed.

Checked: no cell fails; every deterministic output equals the stored one, as nbval compares
them (images and `# NBVAL_IGNORE_OUTPUT` cells aside); the setup cell prints its one Colab
line; installing the helpers changed nothing but the helpers; and nothing in the kernel
touched the checkout (an audit hook records file opens, listings, imports and subprocesses
under it), `helpers` was imported from the fresh environment, and no editable install exists.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT
from support import colab

pytestmark = [pytest.mark.slow, pytest.mark.network]

NOTEBOOKS = [ROOT / "notebooks" / "01_pixel_similarity.ipynb",
             ROOT / "notebooks" / "02_broadcasting_baseline.ipynb"]
# Shared with the course environment (see above), not installed again.
SHARED = {"torch", "torchvision"}
# What executing a notebook needs, as Colab has it.
RUNNER = ["ipykernel", "nbclient"]


def colab_packages() -> list[str]:
    """The helpers' dependencies as pyproject.toml names them, without their version bounds
    (so at their newest versions), torch and torchvision aside, and what runs a notebook."""
    import tomllib
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.match(r"[A-Za-z0-9_.-]+", d).group(0) for d in deps]
    return [n for n in names if n.lower() not in SHARED] + RUNNER

IMAGES = ("image/png", "image/jpeg")
COLAB_LINE = re.compile(r"^Course helpers \S+ installed · (GPU: .+|no GPU, .*Runtime → Change runtime type → .+)$")


def sanitizers() -> list[tuple[re.Pattern, str]]:
    "tests/sanitize.cfg, read as nbval reads it."
    from nbval.plugin import get_sanitize_patterns
    text = (ROOT / "tests" / "sanitize.cfg").read_text()
    return [(re.compile(rx), rep) for rx, rep in get_sanitize_patterns(text)]


def comparable(outputs: list[dict], subs) -> dict[str, list[str]]:
    "Outputs as nbval compares them: streams joined by name, MIME data by type, images left out."
    flat: dict[str, list[str]] = {}
    streams: dict[str, str] = {}
    for o in outputs:
        if o["output_type"] == "stream":
            streams[o["name"]] = streams.get(o["name"], "") + "".join(o["text"])
        for key, value in o.get("data", {}).items():
            if key not in IMAGES:
                flat.setdefault(key, []).append(value if isinstance(value, str) else "".join(value))
        if o["output_type"] == "error":
            flat.setdefault("error", []).append(f"{o['ename']}: {o['evalue']}")
    for name, text in streams.items():
        flat.setdefault(f"stream:{name}", []).append(text)
    for key, values in flat.items():
        for i, v in enumerate(values):
            for rx, rep in subs:
                v = rx.sub(rep, v)
            values[i] = v
    return flat


def first_error(nb: dict) -> str | None:
    for i, cell in enumerate(nb["cells"]):
        for o in cell.get("outputs", []):
            if o["output_type"] == "error":
                tb = "\n".join(o.get("traceback", []))
                tb = re.sub(r"\x1b\[[0-9;]*m", "", tb)
                return f"cell {i} ({''.join(cell['source'])[:80]!r}...) failed:\n{tb[-2500:]}"
    return None


@pytest.fixture(scope="module")
def colab_env(tmp_path_factory):
    "The helpers wheel and a fresh environment around the machine's torch (see the docstring)."
    tmp = tmp_path_factory.mktemp("colab-env")
    t = time.perf_counter()
    base, which = colab.colab_python()
    print(f"Colab-like environment on {which}")
    wheel = colab.build_helpers_wheel(tmp / "wheel")
    shared = colab.share_torch(tmp / "shared-torch", base)
    py = colab.fresh_venv(tmp / "venv", colab_packages(), shared, base)
    print(f"fresh environment ready in {time.perf_counter() - t:.0f} s")
    version = subprocess.run([str(py), "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return {"wheel": wheel, "python": py, "venv": tmp / "venv", "version": version}


def test_notebooks_run_as_in_colab(colab_env, tmp_path):
    py, venv_dir, wheel = colab_env["python"], colab_env["venv"], colab_env["wheel"]
    # The course's own notebooks, alone in an empty folder far from the checkout.
    work = tmp_path / "content"
    work.mkdir()
    for nb in NOTEBOOKS:
        shutil.copy(nb, work / nb.name)
    driver = shutil.copy(ROOT / "tests" / "support" / "run_notebooks.py", tmp_path / "run_notebooks.py")
    log = tmp_path / "colab-like.log"
    ipython_dir = colab.colab_ipython_dir(tmp_path / "ipython", str(wheel), log)
    env = colab.clean_env(venv_dir, IPYTHONDIR=str(ipython_dir), FASTAI_HOME=str(tmp_path / "fastai"),
                          JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
                          JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
                          JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
                          PYDEVD_DISABLE_FILE_VALIDATION="1")
    assert env.get("MNIST_MIRROR"), "set MNIST_MIRROR to the folder that holds mnist_sample.tgz"
    before = colab.installed(py)
    report = tmp_path / "probes.json"
    t = time.perf_counter()
    r = subprocess.run([str(py), str(driver), str(report), *(str(work / nb.name) for nb in NOTEBOOKS)],
                       cwd=work, env=env, capture_output=True, text=True, timeout=1200)
    print(f"notebooks executed in {time.perf_counter() - t:.0f} s")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    probes = json.loads(report.read_text())
    events = colab.read_log(log)

    # 1. Every cell ran.
    executed = {nb.name: json.loads((work / nb.name).with_suffix(".out.ipynb").read_text())
                for nb in NOTEBOOKS}
    for name, nb in executed.items():
        err = first_error(nb)
        assert err is None, f"{name}, run as in Colab: {err}"

    # 2. Nothing reached into the checkout.
    touched = [e["what"] for e in events if e["kind"] == "repository"]
    assert not touched, "the notebooks reached into the repository:\n" + "\n".join(touched[:20])
    for name, probe in probes.items():
        assert "error" not in probe, f"{name}: the probe failed: {probe}"
        assert probe["python"] == colab_env["version"], f"{name} ran on Python {probe['python']}"
        assert Path(probe["executable"]).parent.parent == venv_dir, probe["executable"]
        assert Path(probe["helpers_file"]).is_relative_to(venv_dir), \
            f"{name} imported helpers from {probe['helpers_file']}, not from the installed wheel"
        inside = [f for f in probe["module_files"] + probe["sys_path"] if os.path.isabs(f)
                  and Path(os.path.realpath(f)).is_relative_to(ROOT)
                  and not Path(os.path.realpath(f)).is_relative_to(ROOT / ".venv")]
        assert not inside, f"{name}: modules or sys.path inside the checkout: {inside[:10]}"
    editable = [p.name for p in venv_dir.rglob("*.pth") if str(ROOT) in p.read_text()]
    editable += [str(p) for p in venv_dir.rglob("direct_url.json") if '"editable": true' in p.read_text()]
    assert not editable, f"an editable install or path into the checkout: {editable}"

    # 3. The setup cell installed the wheel, and nothing but the helpers.
    pips = [e["what"] for e in events if e["kind"] == "pip"]
    assert len(pips) == len(NOTEBOOKS) and all(str(wheel) in p for p in pips), pips
    after = colab.installed(py)
    changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    assert changed == {"mnist-basics-helpers"}, f"the setup cell changed {sorted(changed)}"

    # 4. The setup cell printed its one line, and every deterministic output is the stored one.
    subs = sanitizers()
    for nb_path in NOTEBOOKS:
        stored = json.loads(nb_path.read_text())
        ran = executed[nb_path.name]
        assert len(stored["cells"]) == len(ran["cells"])
        for i, (old, new) in enumerate(zip(stored["cells"], ran["cells"])):
            if old["cell_type"] != "code":
                continue
            src = "".join(old["source"])
            if "course-setup" in old.get("metadata", {}).get("tags", []):
                text = "".join("".join(o.get("text", "")) for o in new["outputs"])
                kinds = {(o["output_type"], o.get("name")) for o in new["outputs"]}
                assert kinds == {("stream", "stdout")} and COLAB_LINE.match(text.rstrip("\n")) \
                    and text.count("\n") == 1, \
                    f"{nb_path.name}: the setup cell should print one Colab line, printed {new['outputs']}"
                continue
            if "NBVAL_IGNORE_OUTPUT" in src:
                continue
            want, got = comparable(old["outputs"], subs), comparable(new["outputs"], subs)
            assert got == want, (f"{nb_path.name}, cell {i} gives other output as in Colab:\n{src}\n"
                                 f"--- stored:\n{want}\n--- now:\n{got}")
    first = probes[NOTEBOOKS[0].name]
    print("Colab-like environment: Python", first["python"],
          ", ".join(f"{k} {v}" for k, v in first["versions"].items()),
          "| seconds per notebook:", {n: p["seconds"] for n, p in probes.items()})

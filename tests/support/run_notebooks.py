"""Execute notebooks in this interpreter's kernel, as Colab would, and report what happened.

    python run_notebooks.py OUT.json NOTEBOOK.ipynb ...

Runs inside the fresh environment of tests/test_colab.py (it needs only nbformat and
nbclient). Each notebook runs in its own folder, every cell even after an error; the executed
notebooks are written beside the originals (NAME.out.ipynb). After the last cell, a probe asks
the same kernel what it was: its interpreter, where `helpers` came from, and the versions of
the libraries the course uses. OUT.json gets one probe per notebook.
"""
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

PROBE = r"""
import json as _j, sys as _s, importlib.metadata as _m, helpers as _h
def _v(name):
    try:
        return _m.version(name)
    except _m.PackageNotFoundError:
        return None
print(_j.dumps({"executable": _s.executable, "python": _s.version.split()[0],
                "helpers_file": _h.__file__,
                "module_files": sorted(str(getattr(m, "__file__", None) or "") for m in list(_s.modules.values())),
                "sys_path": _s.path,
                "versions": {n: _v(n) for n in ["torch", "torchvision", "fastai", "numpy", "pandas",
                             "matplotlib", "pillow", "ipykernel", "mnist-basics-helpers"]}}))
"""


def main(out: str, *paths: str) -> None:
    probes = {}
    for p in map(Path, paths):
        start = time.perf_counter()
        nb = nbformat.read(p, as_version=4)
        client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(p.parent)}})
        with client.setup_kernel():
            for i, cell in enumerate(nb.cells):
                client.execute_cell(cell, i)
            probe = nbformat.v4.new_code_cell(PROBE)
            nb.cells.append(probe)
            client.execute_cell(probe, len(nb.cells) - 1, store_history=False)
            nb.cells.pop()
        nbformat.write(nb, p.with_suffix(".out.ipynb"))
        texts = [o.get("text", "") for o in probe.outputs if o.get("name") == "stdout"]
        probes[p.name] = json.loads("".join(texts)) if texts else {"error": probe.outputs}
        probes[p.name]["seconds"] = round(time.perf_counter() - start, 1)
    Path(out).write_text(json.dumps(probes, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])

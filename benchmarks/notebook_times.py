"""How long does each notebook take to run from top to bottom, and which cell is the slowest?

    python benchmarks/notebook_times.py            # every notebook
    python benchmarks/notebook_times.py 06 07      # some of them

Each notebook is executed as the test suite's nbval does it: a fresh kernel of this Python,
started in the `notebooks/` folder, every cell in order (the stored notebook is not changed).
The script prints one row per notebook (seconds in all, kernel start included, and its slowest
cell with that cell's seconds and first line), the total, then one JSON line. Run it alone: on a
machine with two cores, anything else running at the same time changes the figures a lot.
Like every benchmark it never fails on speed; it exits with status 1 only if a cell raised.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def cell_seconds(cell) -> float:
    "Seconds between the kernel starting a cell and its reply, from nbclient's timing metadata."
    t = cell.get("metadata", {}).get("execution", {})
    try:
        begin = datetime.fromisoformat(t["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(t["shell.execute_reply"].replace("Z", "+00:00"))
    except KeyError:
        return 0.0
    return (end - begin).total_seconds()


def time_notebook(path: Path, timeout: int = 1800) -> dict:
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            record_timing=True, resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    total = time.perf_counter() - start
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    i, slowest = max(code, key=lambda ic: cell_seconds(ic[1]))
    errors = [f"cell {j}: {o.get('ename')}: {o.get('evalue')}" for j, c in code
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    first_line = next((l for l in slowest.source.splitlines() if l.strip() and not l.startswith("#")), "")
    return {"notebook": path.name, "seconds": round(total, 1), "slowest_cell": i,
            "slowest_seconds": round(cell_seconds(slowest), 1), "slowest_code": first_line[:60],
            "errors": errors}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", help="notebook numbers, e.g. 06 07 (default: all)")
    p.add_argument("--timeout", type=int, default=1800, help="seconds one cell may take")
    args = p.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.notebooks:
        paths = [q for q in paths if q.name[:2] in args.notebooks]
        if not paths:
            p.error(f"no notebook numbered {', '.join(args.notebooks)}")
    results = []
    print(f"{'notebook':34} {'seconds':>8}   slowest cell")
    for path in paths:
        r = time_notebook(path, args.timeout)
        results.append(r)
        print(f"{r['notebook']:34} {r['seconds']:8.1f}   #{r['slowest_cell']} {r['slowest_seconds']:.1f} s: "
              f"{r['slowest_code']}" + (f"   ✗ {r['errors'][0]}" if r["errors"] else ""), flush=True)
    total = sum(r["seconds"] for r in results)
    print(f"{'all notebooks':34} {total:8.1f}   ({total / 60:.1f} min)")
    print(json.dumps({"total_seconds": round(total, 1), "notebooks": results}))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

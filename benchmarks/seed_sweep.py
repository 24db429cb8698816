"""Run the training notebooks themselves with other seeds and record what their guards saw.

    python benchmarks/seed_sweep.py 05 06 --seeds 42 43 44 45 46   # two notebooks, five seeds
    python benchmarks/seed_sweep.py --seeds 47 48                  # every notebook with a seed
    python benchmarks/seed_sweep.py --show                         # the record, without running

A notebook checks each training result with `helpers.guard(what, value, above=floor)`, which
fails only below a floor set a margin under the worst healthy seed. This script is where those
floors come from. Each notebook that trains sets its seed in one cell tagged `parameters` (the
convention of papermill and other notebook runners); the script executes the real notebook, as
nbval does, with a cell `seed = N` added after that one, then reads back every guard the kernel
called (`helpers.checks.RECORD`: what, value, floor, book figure), even those that failed.

Results are merged into `benchmarks/seed_sweep.json`, one entry per notebook and guard, with the
value each seed gave, so runs on different days (or machines) add up. The script prints one
table (per guard: seeds, min / median / max, floor, margin) and its own run time, then one JSON
line; it exits with status 1 if a seed fell to or below a floor. It is a maintainer's tool, not
part of the test suite; `tests/test_guards.py` checks the notebooks' floors against the record.
Run it with the course's Python, offline with `MNIST_MIRROR` set as for the tests.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RECORD_FILE = Path(__file__).with_suffix(".json")
# A floor must sit at least this far under the worst seed recorded for it (accuracies are
# fractions: 0.002 is 12 of notebook 07's 6,000 validation images, 4 of the 2,038 3s and 7s).
MARGIN = 0.002

READ_BACK = ("import json as _json, helpers.checks as _checks\n"
             "print('SEED-SWEEP ' + _json.dumps(_checks.RECORD))")


def notebooks_with_parameters() -> dict[str, Path]:
    "Notebook number -> path, for every notebook that has a cell tagged `parameters`."
    found = {}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        if any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells):
            found[path.name[:2]] = path
    return found


def with_seed(nb, seed: int):
    "A copy of the notebook with `seed = N` added right after its parameters cell."
    import nbformat
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    cell = nbformat.v4.new_code_cell(f"seed = {seed}")
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(at + 1, cell)
    nb.cells.append(nbformat.v4.new_code_cell(READ_BACK))
    return nb


def run_notebook(path: Path, seed: int, timeout: int) -> tuple[list[dict], float, str | None]:
    """Execute the notebook with this seed; return the guards it called, the seconds it took,
    and the first error (None if every cell ran)."""
    import nbformat
    from nbclient import NotebookClient
    nb = with_seed(nbformat.read(path, as_version=4), seed)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    seconds = time.perf_counter() - start
    error = next((f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
                  for o in c.get("outputs", []) if o.get("output_type") == "error"), None)
    text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("name") == "stdout")
    line = next((l for l in text.splitlines() if l.startswith("SEED-SWEEP ")), None)
    guards = json.loads(line[len("SEED-SWEEP "):]) if line else []
    return guards, seconds, error


def load_record(path: Path = RECORD_FILE) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {"margin": MARGIN, "notebooks": {}}


def merge(record: dict, notebook: str, seed: int, guards: list[dict]) -> None:
    "Add one run's guards to the record (a floor or book figure that changed starts afresh)."
    entries = record["notebooks"].setdefault(notebook, {})
    pending = record.get("pending", {}).get(notebook, [])
    for g in guards:
        if g["what"] in pending:
            pending.remove(g["what"])   # swept now: no longer waiting for a record
        e = entries.get(g["what"])
        if e is None or (e["floor"], e["book"]) != (g["above"], g["book"]):
            e = entries[g["what"]] = {"floor": g["above"], "book": g["book"], "values": {}}
        e["values"][str(seed)] = round(g["value"], 6)
    if notebook in record.get("pending", {}) and not pending:
        del record["pending"][notebook]   # nothing of this notebook waits any more


def rows(record: dict, notebooks=None) -> list[dict]:
    out = []
    for nb, entries in sorted(record["notebooks"].items()):
        if notebooks and nb not in notebooks:
            continue
        for what, e in entries.items():
            vals = sorted(e["values"].values())
            out.append({"notebook": nb, "what": what, "seeds": len(vals), "min": vals[0],
                        "median": statistics.median(vals), "max": vals[-1], "floor": e["floor"],
                        "book": e["book"], "ok": vals[0] > e["floor"],
                        "margin_ok": e["floor"] <= vals[0] - record.get("margin", MARGIN) + 1e-9})
    return out


def table(rs: list[dict]) -> str:
    lines = [f"{'nb':3} {'guard':52} {'seeds':>5} {'min':>7} {'median':>7} {'max':>7} {'floor':>7}  "]
    for r in rs:
        flag = "ok" if r["margin_ok"] else ("✗ below the floor" if not r["ok"] else "✗ within the margin")
        lines.append(f"{r['notebook']:3} {r['what'][:52]:52} {r['seeds']:5d} {r['min']:7.4f} "
                     f"{r['median']:7.4f} {r['max']:7.4f} {r['floor']:7.4f}  {flag}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebooks", nargs="*", help="notebook numbers, e.g. 05 07 (default: all with a parameters cell)")
    p.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44, 45, 46], help="seeds to run (default 42-46)")
    p.add_argument("--timeout", type=int, default=1800, help="seconds one cell may take")
    p.add_argument("--record", type=Path, default=RECORD_FILE, help="the JSON record to update")
    p.add_argument("--show", action="store_true", help="print the record and exit, running nothing")
    args = p.parse_args(argv)

    found = notebooks_with_parameters()
    wanted = args.notebooks or sorted(found)
    unknown = [n for n in wanted if n not in found]
    if unknown:
        p.error(f"no notebook numbered {', '.join(unknown)} has a cell tagged 'parameters' "
                f"(those that do: {', '.join(sorted(found))})")
    record = load_record(args.record)
    if args.show:
        print(table(rows(record, wanted)))
        return 0

    start, runs = time.perf_counter(), []
    for nb in wanted:
        for seed in args.seeds:
            guards, seconds, error = run_notebook(found[nb], seed, args.timeout)
            merge(record, nb, seed, guards)
            args.record.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
            runs.append({"notebook": nb, "seed": seed, "seconds": round(seconds, 1),
                         "guards": len(guards), "error": error})
            print(f"{nb} seed {seed}: {len(guards)} guards in {seconds:.0f} s"
                  + (f"  (first error: {error})" if error else ""), flush=True)
    total = time.perf_counter() - start
    rs = rows(record, wanted)
    print()
    print(table(rs))
    print(f"\nthe sweep ran {len(runs)} notebook runs in {total / 60:.1f} min")
    print(json.dumps({"seconds": round(total, 1), "runs": runs, "guards": rs}))
    return 0 if all(r["ok"] for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())

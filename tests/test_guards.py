"""The notebooks' guard lines against what the seed sweep saw when it ran the notebooks.

A guard (`helpers.guard`) prints `WHAT: above FLOOR ✓ (book: FIGURE)` in a stored notebook.
`benchmarks/seed_sweep.py` runs the notebooks themselves with other seeds and keeps every value
each guard saw in `benchmarks/seed_sweep.json`. These tests hold the two together: every guard
has a record, every floor sits at least the record's margin under the worst seed recorded for
it, and the record keeps nothing that no notebook guards any more.
"""
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from helpers import checks, guard

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GUARD_LINE = re.compile(r"^(?P<what>.+): above (?P<floor>\d+(?:\.\d+)?) ✓(?: \(book: (?P<book>[\d.]+)\))?$")
MIN_SEEDS = 3   # fewer seeds than this say too little about the worst healthy run


def load_sweep():
    spec = importlib.util.spec_from_file_location("seed_sweep", ROOT / "benchmarks" / "seed_sweep.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def stored_guards() -> dict[tuple[str, str], float]:
    "(notebook number, what) -> floor, for every guard line in the stored notebooks' outputs."
    found = {}
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            for out in cell.get("outputs", []):
                text = out.get("text", "")
                for line in ("".join(text) if isinstance(text, list) else text).splitlines():
                    m = GUARD_LINE.match(line.strip())
                    if m:
                        found[(path.name[:2], m["what"])] = float(m["floor"])
    return found


@pytest.fixture(scope="module")
def record():
    return load_sweep().load_record()


def test_the_stored_notebooks_have_guards():
    assert len(stored_guards()) >= 10


def test_every_guard_has_a_record_of_the_sweep(record):
    pending = {(nb, what) for nb, whats in record.get("pending", {}).items() for what in whats}
    missing = [f"notebook {nb} guards {what!r}: run `python benchmarks/seed_sweep.py {nb}`"
               for (nb, what) in stored_guards()
               if what not in record["notebooks"].get(nb, {}) and (nb, what) not in pending]
    assert not missing, "\n".join(missing)


def test_every_floor_sits_under_the_worst_recorded_seed(record):
    margin, problems = record["margin"], []
    for (nb, what), floor in stored_guards().items():
        entry = record["notebooks"].get(nb, {}).get(what)
        if entry is None:
            continue
        values = list(entry["values"].values())
        if entry["floor"] != floor:
            problems.append(f"{nb} {what!r}: floor {floor} in the notebook, {entry['floor']} in the "
                            "record: run the sweep again for this notebook")
        elif len(values) < MIN_SEEDS:
            problems.append(f"{nb} {what!r}: only {len(values)} seeds recorded, {MIN_SEEDS} needed")
        elif floor > min(values) - margin + 1e-9:
            problems.append(f"{nb} {what!r}: floor {floor} is not {margin} under the worst seed, "
                            f"{min(values):.4f}")
    assert not problems, "\n".join(problems)


def test_the_record_keeps_only_guards_that_exist(record):
    guarded = stored_guards()
    stale = [f"{nb} {what!r}" for nb, entries in record["notebooks"].items() for what in entries
             if (nb, what) not in guarded]
    stale += [f"{nb} {what!r} (pending)" for nb, whats in record.get("pending", {}).items()
              for what in whats if (nb, what) not in guarded]
    assert not stale, "recorded, but no notebook guards it any more:\n" + "\n".join(stale)


def test_notebooks_that_guard_set_their_seed_in_one_parameters_cell():
    problems = []
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        if not any("guard(" in s for s in sources):
            continue
        params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        if len(params) != 1 or not re.search(r"(?m)^seed = \d+", "".join(params[0]["source"])):
            problems.append(f"{path.name}: needs exactly one cell tagged 'parameters' that sets `seed`")
        literal = [s.splitlines()[0] for s in sources if re.search(r"seed_everything\(\d", s)]
        if literal:
            problems.append(f"{path.name}: seeds with a number instead of `seed`: {literal}")
    assert not problems, "\n".join(problems)


def test_the_sweep_adds_a_seed_cell_after_the_parameters_cell():
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import helpers"),
                                         nbformat.v4.new_code_cell("seed = 42"),
                                         nbformat.v4.new_code_cell("guard('x', 0.9, above=0.5)")])
    nb.cells[1].metadata["tags"] = ["parameters"]
    out = load_sweep().with_seed(nb, 7)
    assert [c.source for c in out.cells[1:3]] == ["seed = 42", "seed = 7"]
    assert "RECORD" in out.cells[-1].source and len(out.cells) == 5


def test_the_sweep_merges_runs_and_starts_afresh_when_a_floor_changes():
    sweep = load_sweep()
    rec = {"margin": 0.002, "notebooks": {}}
    sweep.merge(rec, "05", 42, [{"what": "a", "value": 0.97, "above": 0.9, "book": None}])
    sweep.merge(rec, "05", 43, [{"what": "a", "value": 0.95, "above": 0.9, "book": None}])
    row, = sweep.rows(rec)
    assert (row["seeds"], row["min"], row["max"], row["margin_ok"]) == (2, 0.95, 0.97, True)
    sweep.merge(rec, "05", 44, [{"what": "a", "value": 0.96, "above": 0.955, "book": None}])
    row, = sweep.rows(rec)
    assert (row["seeds"], row["floor"], row["margin_ok"]) == (1, 0.955, True)
    assert "✗ within the margin" in sweep.table([{**row, "min": 0.956, "margin_ok": False}])


def test_guard_records_what_it_saw_even_when_it_fails(capsys):
    checks.RECORD.clear()
    guard("a result", 0.97, above=0.9, book=0.95)
    assert capsys.readouterr().out == "a result: above 0.9 ✓ (book: 0.95)\n"
    with pytest.raises(AssertionError, match="0.8000 is not above 0.9"):
        guard("another", 0.8, above=0.9)
    assert [(r["what"], r["value"]) for r in checks.RECORD] == [("a result", 0.97), ("another", 0.8)]
    checks.RECORD.clear()

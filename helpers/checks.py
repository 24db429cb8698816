"""Checks a learner can live with: a training result is guarded by a floor, not a figure.

A training run lands on slightly different numbers with another seed, another machine or a GPU.
`guard` fails only when a result falls below a floor set under the worst healthy seed we
measured (`benchmarks/seed_sweep.py` runs the notebooks themselves with other seeds and keeps
what it saw in `benchmarks/seed_sweep.json`), and prints a line that stays the same on every
healthy run, so the notebook tests can compare it exactly.
"""
from __future__ import annotations

__all__ = ["guard"]

# Every guard called in this process, in order: what the seed sweep reads back after it has run
# a notebook with another seed (the value itself is not printed, so nbval can compare the line).
RECORD: list[dict] = []


def guard(what: str, value: float, above: float, book: float | None = None) -> None:
    """Fail unless `value` is above the floor `above`; print one stable line saying it is
    (first used in notebook 05). The exact `value` is printed elsewhere, where tests ignore it."""
    value = float(value)
    RECORD.append({"what": what, "value": value, "above": above, "book": book})
    if not value > above:
        raise AssertionError(f"{what}: {value:.4f} is not above {above}, lower than any healthy "
                             f"run we measured: something is broken.")
    book_part = f" (book: {book})" if book is not None else ""
    print(f"{what}: above {above} ✓{book_part}")

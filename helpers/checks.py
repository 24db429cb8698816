"""Checks a learner can live with: a training result is guarded by a floor, not a figure.

A training run lands on slightly different numbers with another seed, another machine or a GPU.
`guard` fails only when a result falls below a floor set under the worst healthy seed we
measured (see `benchmarks/seed_spread.py`), and prints a line that stays the same on every
healthy run, so the notebook tests can compare it exactly.
"""
from __future__ import annotations

__all__ = ["guard"]


def guard(what: str, value: float, above: float, book: float | None = None) -> None:
    """Fail unless `value` is above the floor `above`; print one stable line saying it is
    (first used in notebook 05). The exact `value` is printed elsewhere, where tests ignore it."""
    if not value > above:
        raise AssertionError(f"{what}: {value:.4f} is not above {above}, lower than any healthy "
                             f"run we measured: something is broken.")
    book_part = f" (book: {book})" if book is not None else ""
    print(f"{what}: above {above} ✓{book_part}")

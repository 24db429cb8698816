"""Seconds per notebook, printed at the end of every test run that executed notebooks.

nbval runs each notebook as a series of test items, one per code cell; this hook adds up their
durations (the kernel's start is in the first cell's setup) and prints one row per notebook with
its slowest cell, so every run of the README's test command shows where its time went. The
figures are the suite's own; `benchmarks/notebook_times.py` measures a notebook on its own.
"""
from __future__ import annotations

from collections import defaultdict

_seconds: dict[str, float] = defaultdict(float)
_slowest: dict[str, tuple[float, str]] = {}


def pytest_runtest_logreport(report):
    path, _, cell = report.nodeid.partition("::")
    if not path.endswith(".ipynb"):
        return
    _seconds[path] += report.duration
    if report.when == "call" and report.duration > _slowest.get(path, (-1.0, ""))[0]:
        _slowest[path] = (report.duration, cell)


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    tr = terminalreporter
    tr.section("seconds per notebook (nbval)")
    for path, seconds in sorted(_seconds.items()):
        slow, cell = _slowest.get(path, (0.0, "-"))
        tr.write_line(f"{path.rsplit('/', 1)[-1]:36} {seconds:7.1f} s   slowest: {cell} {slow:6.1f} s")
    tr.write_line(f"{'all notebooks':36} {sum(_seconds.values()):7.1f} s")

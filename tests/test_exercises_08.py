"""Notebook 08's "Your turn" exercises: each check accepts the solution hidden in the notebook
(read from its <details> cell and run as it stands), rejects typical wrong answers with the
hint that fits them, and the stored notebook shows every exercise unanswered."""
import json
import math
import re

import pytest

from conftest import ROOT
from helpers import learner as L
from helpers.exercises import Verdict
from helpers.exercises.nb08 import check_batch_counter, check_one_cycle_lr, check_stop_after

NOTEBOOK = ROOT / "notebooks" / "08_learner_from_scratch.ipynb"
CHECKS = {"BatchCounter": check_batch_counter, "StopAfter": check_stop_after,
          "one_cycle_lr": check_one_cycle_lr}


def cells():
    return json.loads(NOTEBOOK.read_text())["cells"]


def solutions() -> dict[str, str]:
    "name defined -> the code of the solution in the notebook's <details> cells."
    found = {}
    for cell in cells():
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "<summary>Show a solution</summary>" in text:
            code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
            name = re.search(r"^(?:class|def) (\w+)", code, re.M).group(1)
            found[name] = code
    return found


def namespace() -> dict:
    "What the notebook's cells have defined by the time of the exercises."
    return {"math": math, **{n: getattr(L, n) for n in L.__all__}}


def defined(code: str, name: str):
    ns = namespace()
    exec(code, ns)
    return ns[name]


def check(name, answer) -> Verdict:
    if name == "one_cycle_lr":
        return check_one_cycle_lr(answer)
    return CHECKS[name](answer, L.Learner)


def test_every_exercise_has_a_hidden_solution():
    assert set(solutions()) == set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_notebooks_solution_passes(name):
    verdict = check(name, defined(solutions()[name], name))
    assert verdict.ok, verdict
    assert str(verdict).startswith("✓ ")


def test_the_stored_notebook_shows_the_exercises_unanswered():
    "Each stub cell calls its check and stores the check's 'not yet' line, with no error."
    stubs = [c for c in cells() if c["cell_type"] == "code"
             and re.search(r"^check_\w+\(", "".join(c["source"]), re.M)]
    assert len(stubs) == len(CHECKS)
    for cell in stubs:
        out = "".join("".join(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in cell["outputs"])
        assert out.startswith("✗ Not yet: "), out
        assert all(o["output_type"] != "error" for o in cell["outputs"])


def test_the_stubs_as_written_are_not_accepted():
    ns = namespace()
    exec("class BatchCounter(Callback):\n    ...\n"
         "class StopAfter(Callback):\n    def __init__(self, n):\n        self.n = n\n"
         "def one_cycle_lr(pos, lr_max):\n    ...\n", ns)
    for name in CHECKS:
        assert not check(name, ns[name]).ok, name


# --- typical wrong answers, each with the hint that points at its mistake -----------------------

COUNTERS = {
    "counts validation batches too": ("""
class BatchCounter(Callback):
    def before_fit(self): self.count = 0
    def after_batch(self): self.count += 1
""", "validation batches too"),
    "never resets": ("""
class BatchCounter(Callback):
    count = 0
    def after_step(self): self.count += 1
""", "start again from 0 when a fit begins"),
    "resets every epoch": ("""
class BatchCounter(Callback):
    def before_epoch(self): self.count = 0
    def after_step(self): self.count += 1
""", "starts again at every epoch"),
    "an instance, not the class": ("BatchCounter = Callback()", "pass the class itself"),
}


@pytest.mark.parametrize("case", sorted(COUNTERS))
def test_batch_counter_hints(case):
    code, hint = COUNTERS[case]
    verdict = check("BatchCounter", defined(code, "BatchCounter"))
    assert not verdict.ok and hint in verdict.message, verdict


STOPPERS = {
    "never stops": ("""
class StopAfter(Callback):
    def __init__(self, n): self.n = n
""", "raise the exception that ends the whole fit"),
    "ends only the epoch": ("""
class StopAfter(Callback):
    def __init__(self, n): self.n = n
    def before_fit(self): self.done = 0
    def after_step(self):
        self.done += 1
        if self.done >= self.n: raise CancelEpochException()
""", "not the whole fit"),
    "skips batches instead": ("""
class StopAfter(Callback):
    def __init__(self, n): self.n = n
    def before_fit(self): self.done = 0
    def after_step(self): self.done += 1
    def before_batch(self):
        if self.done >= self.n: raise CancelBatchException()
""", "not the whole fit"),
    "off by one": ("""
class StopAfter(Callback):
    def __init__(self, n): self.n = n
    def before_fit(self): self.done = 0
    def after_step(self):
        if self.done >= self.n: raise CancelFitException()
        self.done += 1
""", "off by one"),
    "counts validation batches": ("""
class StopAfter(Callback):
    def __init__(self, n): self.n = n
    def before_fit(self): self.done = 0
    def before_batch(self):
        if self.done >= self.n: raise CancelFitException()
        self.done += 1
""", "validation batches too"),
    "never resets": ("""
class StopAfter(Callback):
    def __init__(self, n): self.n, self.done = n, 0
    def after_step(self):
        self.done += 1
        if self.done >= self.n: raise CancelFitException()
""", "second fit"),
}


@pytest.mark.parametrize("case", sorted(STOPPERS))
def test_stop_after_hints(case):
    code, hint = STOPPERS[case]
    verdict = check("StopAfter", defined(code, "StopAfter"))
    assert not verdict.ok and hint in verdict.message, verdict


SCHEDULES = {
    "a straight-line warm-up": ("""
def one_cycle_lr(pos, lr_max):
    if pos < 0.25:
        return lr_max / 25 + (lr_max - lr_max / 25) * pos / 0.25
    return lr_max / 1e5 + (lr_max - lr_max / 1e5) * (1 + math.cos(math.pi * (pos - 0.25) / 0.75)) / 2
""", "straight-line value"),
    "ends at zero": ("""
def one_cycle_lr(pos, lr_max):
    if pos < 0.25:
        return lr_max + (lr_max / 25 - lr_max) * (1 + math.cos(math.pi * pos / 0.25)) / 2
    return lr_max * (1 + math.cos(math.pi * (pos - 0.25) / 0.75)) / 2
""", "training ends at lr_max divided by 100,000"),
    "no warm-up": ("""
def one_cycle_lr(pos, lr_max):
    return lr_max / 1e5 + (lr_max - lr_max / 1e5) * (1 + math.cos(math.pi * pos)) / 2
""", "training starts at lr_max divided by 25"),
    "returns nothing": ("def one_cycle_lr(pos, lr_max):\n    pass\n", "it should return the learning rate"),
    "a number, not a function": ("one_cycle_lr = 0.01", "expected a function"),
}


@pytest.mark.parametrize("case", sorted(SCHEDULES))
def test_one_cycle_lr_hints(case):
    code, hint = SCHEDULES[case]
    verdict = check("one_cycle_lr", defined(code, "one_cycle_lr"))
    assert not verdict.ok and hint in verdict.message, verdict


def test_hints_do_not_give_the_solution_away():
    "No hint contains the exception or the event a solution needs."
    ns = namespace()
    exec(STOPPERS["never stops"][0] + COUNTERS["never resets"][0], ns)
    for verdict in (check("StopAfter", ns["StopAfter"]), check("BatchCounter", ns["BatchCounter"])):
        assert "CancelFitException" not in verdict.message and "before_fit" not in verdict.message

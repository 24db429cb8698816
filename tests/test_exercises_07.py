"""The "Your turn" exercises of notebook 07: each check accepts the worked solution that the
notebook hides under "Show a solution" (run here exactly as stored), accepts other correct
forms, and answers typical wrong answers with the hint that points at their mistake."""
import json

import pandas as pd
import pytest
import torch

from conftest import ROOT
from helpers.exercises import nb07
from support.exercises import hidden_solutions, run_solution

NOTEBOOK = ROOT / "notebooks" / "07_full_mnist.ipynb"


def test_every_hidden_solution_passes_its_check():
    blocks = hidden_solutions(NOTEBOOK.name)
    assert len(blocks) == 4
    for code in blocks:
        namespace = {"torch": torch, "pd": pd, **{n: getattr(nb07, n) for n in nb07.__all__}}
        verdict = run_solution(code, namespace)
        assert verdict.ok and str(verdict).startswith("✓ "), (code, str(verdict))


def test_the_stored_notebook_shows_the_exercises_unanswered():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    for name in nb07.__all__:
        found = [c for c in cells if c["cell_type"] == "code" and f"{name}(my_" in "".join(c["source"])]
        assert len(found) == 1, name
        text = "".join("".join(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in found[0]["outputs"])
        assert text.strip().startswith("✗ Not yet:") and "in place of the `...`" in text, (name, text)


def stub(*args):
    ...


# --- softmax ---

@pytest.mark.parametrize("fn", [
    lambda s: torch.softmax(s, dim=-1),
    lambda s: (s - s.max(1, keepdim=True).values).exp() / (s - s.max(1, keepdim=True).values).exp().sum(1, keepdim=True),
    lambda s: (s - s.logsumexp(1, keepdim=True)).exp(),
    lambda s: (s - s.max(1, keepdim=True).values).exp().numpy() / (s - s.max(1, keepdim=True).values).exp().sum(1, keepdim=True).numpy(),
])
def test_check_softmax_accepts_correct_forms(fn):
    assert nb07.check_softmax(fn).ok


@pytest.mark.parametrize("fn,hint", [
    (lambda s: s.exp() / s.exp().sum(1, keepdim=True), "overflow"),
    (lambda s: s.exp() / s.exp().sum(0, keepdim=True), "each column sums to 1"),
    (lambda s: s / s.sum(1, keepdim=True), "exponentiate them first"),
    (lambda s: s.exp(), "divide by the sum of its row"),
    (lambda s: s.exp().sum(1), "one row of probabilities per row"),
    (stub, "in place of the `...`"),
])
def test_check_softmax_names_the_mistake(fn, hint):
    verdict = nb07.check_softmax(fn)
    assert not verdict.ok and hint in verdict.message, str(verdict)
    assert str(verdict).startswith("✗ Not yet: ")


# --- the split ---

def split_sorted(n, pct):
    k = int(n * pct)
    return torch.arange(k, n), torch.arange(k)


def split_overlapping(n, pct):
    return torch.randperm(n), torch.randperm(n)[:int(n * pct)]


def split_swapped(n, pct):
    order = torch.randperm(n)
    k = int(n * pct)
    return order[:k], order[k:]


def split_lists(n, pct):
    import random
    order = list(range(n))
    random.shuffle(order)
    k = round(n * pct)
    return order[k:], order[:k]


def split_numpy(n, pct):
    import numpy as np
    order = np.random.default_rng().permutation(n)
    k = int(n * pct)
    return order[k:], order[:k]


@pytest.mark.parametrize("fn", [split_lists, split_numpy])
def test_check_split_accepts_correct_forms(fn):
    assert nb07.check_split(fn).ok


@pytest.mark.parametrize("fn,hint", [
    (split_sorted, "a block at one end"),
    (split_overlapping, "in both sets"),
    (split_swapped, "wrong way round"),
    (lambda n, p: torch.randperm(n), "return two things"),
    (stub, "in place of the `...`"),
])
def test_check_split_names_the_mistake(fn, hint):
    verdict = nb07.check_split(fn)
    assert not verdict.ok and hint in verdict.message, str(verdict)


# --- the confusion matrix ---

@pytest.mark.parametrize("fn", [
    lambda p, t: torch.bincount(t * 10 + p, minlength=100).view(10, 10),
    lambda p, t: torch.zeros(10, 10, dtype=torch.int64).index_put_((t, p), torch.ones_like(p), accumulate=True),
    lambda p, t: pd.crosstab(pd.Series(t.numpy()), pd.Series(p.numpy())).reindex(
        index=range(10), columns=range(10), fill_value=0).to_numpy(),
])
def test_check_confusion_accepts_correct_forms(fn):
    assert nb07.check_confusion(fn).ok


@pytest.mark.parametrize("fn,hint", [
    (lambda p, t: torch.bincount(p * 10 + t, minlength=100).view(10, 10), "rows and columns are swapped"),
    (lambda p, t: torch.zeros(10, 10).index_put_((t, p), torch.ones(len(p))), "add up to"),
    (lambda p, t: torch.bincount(t * 10 + t, minlength=100).view(10, 10), "some cells are not"),
    (lambda p, t: torch.zeros(10), "10x10 table"),
    (stub, "in place of the `...`"),
])
def test_check_confusion_names_the_mistake(fn, hint):
    verdict = nb07.check_confusion(fn)
    assert not verdict.ok and hint in verdict.message, str(verdict)


# --- the submission ---

@pytest.mark.parametrize("fn", [
    lambda l: pd.DataFrame({"ImageId": range(1, len(l) + 1), "Label": l.numpy()}),
    lambda l: pd.DataFrame({"ImageId": torch.arange(1, len(l) + 1).numpy(), "Label": l.tolist()}),
])
def test_check_submission_accepts_correct_forms(fn):
    assert nb07.check_submission(fn).ok


@pytest.mark.parametrize("fn,hint", [
    (lambda l: pd.DataFrame({"ImageId": range(len(l)), "Label": l.numpy()}), "start at 0"),
    (lambda l: pd.DataFrame({"Label": l.numpy(), "ImageId": range(1, len(l) + 1)}), "in that order"),
    (lambda l: pd.DataFrame({"id": range(1, len(l) + 1), "label": l.numpy()}), "exactly the columns"),
    (lambda l: {"ImageId": range(1, len(l) + 1), "Label": l.numpy()}, "return a pandas DataFrame"),
    (lambda l: pd.DataFrame({"ImageId": range(1, len(l) + 1), "Label": l.flip(0).numpy()}), "predicted digits, in order"),
    (stub, "in place of the `...`"),
])
def test_check_submission_names_the_mistake(fn, hint):
    verdict = nb07.check_submission(fn)
    assert not verdict.ok and hint in verdict.message, str(verdict)

"""The "Your turn" exercises of notebooks 01 to 04: each check accepts the worked solution that
the notebook hides under the exercise (parsed from the notebook itself, so the two cannot
drift apart), answers the unanswered stub with a friendly line, and rejects typical wrong
answers with a hint that points at the mistake."""
import json
import math
import re

import numpy as np
import pytest
import torch

from conftest import ROOT
from helpers import is_3, mnist_distance
from helpers.exercises import nb01, nb02, nb03, nb04

NOTEBOOKS = {"01": "01_pixel_similarity.ipynb", "02": "02_broadcasting_baseline.ipynb",
             "03": "03_gradients_sgd.ipynb", "04": "04_loss_and_minibatches.ipynb"}
SOLUTION = re.compile(r"<summary>Show a solution</summary>\s*```python\n(.*?)```", re.S)
CHECK_CALL = re.compile(r"^(check_\w+\(.*\))\s*$", re.M)


def cells(nb: str) -> list[dict]:
    return json.loads((ROOT / "notebooks" / NOTEBOOKS[nb]).read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def exercises(nb: str) -> list[tuple[str, str, dict]]:
    "(stub code, solution code, stub cell) for each exercise: a solution follows its stub cell."
    found, cs = [], cells(nb)
    for i, cell in enumerate(cs):
        m = SOLUTION.search(source(cell)) if cell["cell_type"] == "markdown" else None
        if m:
            stub = cs[i - 1]
            assert stub["cell_type"] == "code", f"notebook {nb}: a solution without a stub cell above it"
            found.append((source(stub), m.group(1), stub))
    return found


def namespace(nb: str) -> dict:
    """What the exercise cells see in the notebook: the check functions (from the notebook's own
    import cell), and small stand-ins for the notebook's data with the same names."""
    ns = {"torch": torch, "tensor": torch.tensor, "math": math, "is_3": is_3,
          "mnist_distance": mnist_distance}
    g = torch.Generator().manual_seed(0)
    mean3, mean7 = torch.rand(28, 28, generator=g), torch.rand(28, 28, generator=g)
    mix = torch.rand(150, 1, 1, generator=g)  # some images nearer each ideal, as in real data
    ns.update(mean3=mean3, mean7=mean7, a_3=torch.rand(28, 28, generator=g),
              valid_3_tens=mix * mean3 + (1 - mix) * mean7 + 0.1 * torch.rand(150, 28, 28, generator=g),
              stacked_threes=torch.rand(6131, 28, 28, generator=g))
    imports = [source(c) for c in cells(nb) if c["cell_type"] == "code"
               and f"from helpers.exercises.nb{nb} import" in source(c)]
    assert len(imports) == 1, f"notebook {nb} should import its checks in one cell"
    exec(imports[0], ns)
    return ns


def verdict_of(code: str, ns: dict):
    "Run an exercise cell; return the verdict of its check call."
    calls = CHECK_CALL.findall(code)
    assert len(calls) == 1, code
    exec(code, ns)
    return eval(calls[0], ns)


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_each_notebook_has_two_to_four_exercises_before_its_recap(nb):
    cs = cells(nb)
    found = exercises(nb)
    assert 2 <= len(found) <= 4, f"notebook {nb} has {len(found)} exercises"
    recap = next(i for i, c in enumerate(cs) if source(c).startswith("## Recap"))
    turn = next(i for i, c in enumerate(cs) if source(c).startswith("## Your turn"))
    last_solution = max(i for i, c in enumerate(cs) if "Show a solution" in source(c))
    assert turn < last_solution < recap


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_the_hidden_solutions_pass_their_checks(nb):
    for stub, solution, _ in exercises(nb):
        verdict = verdict_of(solution, namespace(nb))
        assert verdict.ok, (solution, str(verdict))
        assert str(verdict).startswith("✓ ")


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_the_stubs_run_and_say_not_yet(nb):
    "As stored (unanswered), each stub runs without an error and answers with a friendly line."
    for stub, _, cell in exercises(nb):
        verdict = verdict_of(stub, namespace(nb))
        assert not verdict.ok
        assert re.search(r"replace|returns None", verdict.message), verdict.message
        stored = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"])
        assert stored == str(verdict), f"notebook {nb}: re-run it, the stored verdict differs"


# ---- each check rejects typical wrong answers, with the right hint ---------------------------

def test_l1_distance():
    ok = nb01.check_l1_distance(lambda a, b: (a - b).abs().mean())
    assert ok and "L1" in ok.message
    assert nb01.check_l1_distance(lambda a, b: np.abs(np.asarray(a) - np.asarray(b)).mean())
    for wrong, hint in [(lambda a, b: (a - b).mean(), "cancel"),
                        (lambda a, b: (a - b).abs().sum(), "total"),
                        (lambda a, b: ((a - b) ** 2).mean().sqrt(), "squared"),
                        (lambda a, b: (a - b).abs().mean(0), "one axis"),
                        (lambda a, b: None, "returns None"),
                        (lambda a: a, "TypeError"),
                        ((lambda a, b: 0)(1, 2), "function")]:
        verdict = nb01.check_l1_distance(wrong)
        assert not verdict and hint in verdict.message, (hint, verdict.message)


def test_shape_and_rank():
    for shape in [(6131, 28), [6131, 28], torch.Size([6131, 28]), np.zeros((6131, 28)).shape]:
        assert nb01.check_shape_and_rank(shape, 2)
    assert nb01.check_shape_and_rank((6131, 28), np.int64(2))
    for shape, rank, hint in [((28, 28), 2, "single image"), ((6131, 28, 28), 3, "removes"),
                              ((6131, 28), 3, "number of axes"), ((6131, 28), 6131 * 28, "elements"),
                              ((28,), 1, "axis too few"), ("6131, 28", 2, "tuple"),
                              (None, 2, "replace")]:
        verdict = nb01.check_shape_and_rank(shape, rank)
        assert not verdict and hint in verdict.message, (shape, rank, verdict.message)


def test_broadcast_shape():
    assert nb02.check_broadcast_shape((10, 28, 28)) and nb02.check_broadcast_shape(torch.Size([10, 28, 28]))
    for shape, hint in [((10, 28), "never removes"), ((28, 28), "first axis"),
                        ((1010, 28, 28), "first ten"), ((5, 5), "line the two shapes")]:
        verdict = nb02.check_broadcast_shape(shape)
        assert not verdict and hint in verdict.message, (shape, verdict.message)


def test_is_7():
    assert nb02.check_is_7(lambda x, m3, m7: mnist_distance(x, m7) < mnist_distance(x, m3))
    assert nb02.check_is_7(lambda x, m3, m7: ~is_3(x, m3, m7))
    assert nb02.check_is_7(lambda x, m3, m7: (mnist_distance(x, m7) < mnist_distance(x, m3)).float())
    for wrong, hint in [(lambda x, m3, m7: (x - m7).abs().mean() < (x - m3).abs().mean(), "single value"),
                        (lambda x, m3, m7: is_3(x, m3, m7), "swap"),
                        (lambda x, m3, m7: mnist_distance(x, m7), "numbers, not True/False"),
                        (lambda x, m3, m7: (x - m7).abs().mean(-1) < (x - m3).abs().mean(-1), "shape")]:
        verdict = nb02.check_is_7(wrong)
        assert not verdict and hint in verdict.message, verdict.message


def test_first_hundred():
    ns = namespace("02")
    data = ns["valid_3_tens"], ns["mean3"], ns["mean7"]
    right = is_3(data[0][:100], *data[1:]).float().mean()
    for form in [right, right.item(), np.float32(right.item()), [right.item()]]:
        assert nb02.check_first_hundred(form, *data)
    everything = is_3(*data).float().mean()
    assert not torch.isclose(everything, right), "the stand-in data should tell the two apart"
    for wrong, hint in [(right * 100, "count"), (1 - right, "called a 7"), (everything, "first 100"),
                        (is_3(data[0][:100], *data[1:]), "one value per image"), (None, "replace")]:
        verdict = nb02.check_first_hundred(wrong, *data)
        assert not verdict and hint in verdict.message, verdict.message


def test_chain_rule():
    x = torch.tensor(3.).requires_grad_()
    ((2 * x - 1) ** 2).backward()
    for form in [20, 20.0, x.grad, np.float64(20)]:
        assert nb03.check_chain_rule(form)
    for wrong, hint in [(10, "outer step"), (25, "value"), (6, "x²"), (-20, "positive"),
                        ([20, 20], "single number"), (None, "replace")]:
        verdict = nb03.check_chain_rule(wrong)
        assert not verdict and hint in verdict.message, verdict.message


def test_one_step():
    for form in [[0.8, -1.6, 2.4], torch.tensor([0.8, -1.6, 2.4]), np.array([[0.8, -1.6, 2.4]])]:
        assert nb03.check_one_step(form)
    for wrong, hint in [([1.2, -2.4, 3.6], "away from the minimum"), ([2, -4, 6], "gradient"),
                        ([0.2, -0.4, 0.6], "step itself"), ([-1, 2, -3], "scale"),
                        ([0.9, -2.1, 2.9], "not 1"), ([0.9, -1.8, 2.7], "2x"), ([0.8, -1.6], "three"),
                        (None, "replace")]:
        verdict = nb03.check_one_step(wrong)
        assert not verdict and hint in verdict.message, (wrong, verdict.message)


def test_edge():
    assert nb03.check_edge(1) and nb03.check_edge(torch.tensor(1.0))
    for wrong, hint in [(0.5, "exactly on the minimum"), (1.1, "between them"), (2, "far past"),
                        (-1, "positive"), (0.7, "not that rate")]:
        verdict = nb03.check_edge(wrong)
        assert not verdict and hint in verdict.message, verdict.message


def test_mnist_loss():
    def right(p, t):
        p = torch.sigmoid(p)
        return torch.where(t == 1, 1 - p, p).mean()
    assert nb04.check_mnist_loss(right)
    assert nb04.check_mnist_loss(lambda p, t: (t * (1 - p.sigmoid()) + (1 - t) * p.sigmoid()).mean())
    for wrong, hint in [(lambda p, t: torch.where(t == 1, 1 - p, p).mean(), "sigmoid"),
                        (lambda p, t: torch.where(t == 1, p.sigmoid(), 1 - p.sigmoid()).mean(), "wrong answers"),
                        (lambda p, t: torch.where(t == 1, 1 - p.sigmoid(), p.sigmoid()).sum(), "mean"),
                        (lambda p, t: torch.where(t == 1, 1 - p.sigmoid(), p.sigmoid()), "one number"),
                        (lambda p, t: right(p, t).item(), "float"),
                        (lambda p, t: right(p.detach(), t), "no gradient"),
                        (lambda p, t: 1 - ((p.sigmoid() > 0.5).float() == t).float().mean(), "metric")]:
        verdict = nb04.check_mnist_loss(wrong)
        assert not verdict and hint in verdict.message, verdict.message


def test_batches():
    assert nb04.check_batches(49, 108) and nb04.check_batches(torch.tensor(49), 108.0)
    for n, last, hint in [(48, 108, "left over"), (48.42, 108, "whole numbers"), (49, 256, "left over"),
                          (49, 148, "lacks"), (50, 108, "partly filled"), (None, None, "replace")]:
        verdict = nb04.check_batches(n, last)
        assert not verdict and hint in verdict.message, (n, last, verdict.message)


# ---- what notebook 04 teaches about the sigmoid, as the helpers hold it ----------------------

def test_mnist_loss_keeps_a_finite_gradient_for_far_out_outputs():
    "Notebook 04: the hand-written sigmoid's gradient is NaN below about -88; mnist_loss's is not."
    from helpers import mnist_loss, sigmoid
    far = torch.tensor([-100., 100.], requires_grad=True)
    sigmoid(far).sum().backward()
    assert far.grad.isnan().any()
    far.grad = None
    mnist_loss(far, torch.tensor([1, 0])).backward()
    assert torch.isfinite(far.grad).all()

"""The "Your turn" exercises of notebooks 05 and 06: each check accepts the worked solution that
the notebook hides under "Show a solution" (run here exactly as stored), accepts other correct
forms, and answers typical wrong answers with the hint that points at their mistake."""
import json

import pytest
import torch

from conftest import ROOT
from helpers.exercises import nb05, nb06
from support.exercises import hidden_solutions, run_solution

def validation_targets():
    "A stand-in for notebook 05's valid_y: 1,010 3s (1) then 1,028 7s (0), as a column."
    return torch.tensor([1] * 1010 + [0] * 1028).unsqueeze(1)


@pytest.mark.parametrize("notebook,module,count", [("05_linear_model.ipynb", nb05, 3),
                                                   ("06_neural_net_resnet.ipynb", nb06, 3)])
def test_every_hidden_solution_passes_its_check(notebook, module, count):
    blocks = hidden_solutions(notebook)
    assert len(blocks) == count
    for code in blocks:
        namespace = {"torch": torch, "valid_y": validation_targets(),
                     **{name: getattr(module, name) for name in module.__all__}}
        verdict = run_solution(code, namespace)
        assert verdict.ok, (code, str(verdict))
        assert str(verdict).startswith("✓ ")


def test_stored_notebooks_show_the_exercises_unanswered():
    "Each exercise cell is stored with the check's 'Not yet' line: nothing is answered for the learner."
    for notebook, names in [("05_linear_model.ipynb", ("check_step", "check_batch_accuracy", "check_always_7")),
                            ("06_neural_net_resnet.ipynb", ("check_param_count", "check_relu", "check_momentum_lr"))]:
        nb = json.loads((ROOT / "notebooks" / notebook).read_text())
        for name in names:
            cells = [c for c in nb["cells"] if c["cell_type"] == "code" and f"{name}(" in "".join(c["source"])]
            assert len(cells) == 1, (notebook, name)
            text = "".join("".join(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in cells[0]["outputs"])
            assert text.strip().startswith("✗ Not yet:"), (notebook, name, text)


# --- notebook 05 ---

def step_plain(params, lr):
    with torch.no_grad():
        for p in params:
            p -= p.grad * lr
            p.grad = None


def step_data(params, lr):
    for p in params:
        p.data.sub_(lr * p.grad)
        p.grad.zero_()


def step_without_no_grad(params, lr):
    for p in params:
        p -= p.grad * lr
        p.grad = None


def step_uphill(params, lr):
    with torch.no_grad():
        for p in params:
            p += p.grad * lr
            p.grad = None


def step_without_lr(params, lr):
    with torch.no_grad():
        for p in params:
            p -= p.grad
            p.grad = None


def step_keeps_gradients(params, lr):
    with torch.no_grad():
        for p in params:
            p -= p.grad * lr


def step_rebinds(params, lr):
    for p in params:
        p = p - p.grad * lr


def step_stub(params, lr):
    ...


@pytest.mark.parametrize("fn", [step_plain, step_data])
def test_check_step_accepts_correct_forms(fn):
    assert nb05.check_step(fn).ok


@pytest.mark.parametrize("fn,hint", [
    (step_without_no_grad, "torch.no_grad()"),
    (step_uphill, "up the gradient"),
    (step_without_lr, "scale it by the learning rate"),
    (step_keeps_gradients, "gradients are still there"),
    (step_rebinds, "only rebinds the name"),
    (step_stub, "in place of the `...`"),
    (42, "expected a function"),
])
def test_check_step_names_the_mistake(fn, hint):
    verdict = nb05.check_step(fn)
    assert not verdict.ok and hint in verdict.message, str(verdict)
    assert str(verdict).startswith("✗ Not yet: ")


@pytest.mark.parametrize("fn", [
    lambda o, t: ((o.sigmoid() > 0.5) == t).float().mean(),
    lambda o, t: ((o > 0).long() == t).sum().item() / len(t),
    lambda o, t: float(((o.sigmoid() > 0.5).float() == t.float()).float().mean()),
])
def test_check_batch_accuracy_accepts_correct_forms(fn):
    assert nb05.check_batch_accuracy(fn).ok


def accuracy_without_return(outputs, targets):
    share = ((outputs.sigmoid() > 0.5) == targets).float().mean()


@pytest.mark.parametrize("fn,hint", [
    (lambda o, t: ((o > 0.5) == t).float().mean(), "sigmoid"),
    (lambda o, t: ((o.sigmoid() > 0.5) == t).sum(), "how many are right"),
    (lambda o, t: ((o.sigmoid() < 0.5) == t).float().mean(), "share the model gets wrong"),
    (lambda o, t: ((o.sigmoid() > 0.5).squeeze() == t).float(), "broadcast"),
    (accuracy_without_return, "returned nothing"),
])
def test_check_batch_accuracy_names_the_mistake(fn, hint):
    verdict = nb05.check_batch_accuracy(fn)
    assert not verdict.ok and hint in verdict.message, str(verdict)


@pytest.mark.parametrize("answer", [1028 / 2038, 0.5044, torch.tensor(0.5044), (validation_targets() == 0).float().mean()])
def test_check_always_7_accepts_correct_forms(answer):
    assert nb05.check_always_7(answer).ok


@pytest.mark.parametrize("answer,hint", [
    (1010 / 2038, "share of 3s"),
    (0.5, "not exactly equally many"),
    (1028, "count of images"),
    (..., "replace the `...`"),
])
def test_check_always_7_names_the_mistake(answer, hint):
    verdict = nb05.check_always_7(answer)
    assert not verdict.ok and hint in verdict.message, str(verdict)


# --- notebook 06 ---

@pytest.mark.parametrize("answer", [39301, 39301.0, torch.tensor(39301),
                                    sum(p.numel() for p in torch.nn.Sequential(
                                        torch.nn.Linear(784, 50), torch.nn.ReLU(), torch.nn.Linear(50, 1)).parameters())])
def test_check_param_count_accepts_correct_forms(answer):
    assert nb06.check_param_count(answer).ok


@pytest.mark.parametrize("answer,hint", [
    (784 * 50 + 50, "the weights and the biases of both layers"),
    (784 * 50, "first layer's weights only"),
    (784 * 50 + 50 + 50, "bias is missing"),
    (784 + 50 + 1, "own weight for every pixel"),
    (23581, "30 hidden units"),
    (..., "replace the `...`"),
])
def test_check_param_count_names_the_mistake(answer, hint):
    verdict = nb06.check_param_count(answer)
    assert not verdict.ok and hint in verdict.message, str(verdict)


@pytest.mark.parametrize("fn", [
    lambda x: x.clamp(min=0),
    lambda x: x.max(torch.tensor(0.0)),
    lambda x: torch.where(x > 0, x, 0.0),
    lambda x: x * (x > 0),
])
def test_check_relu_accepts_correct_forms(fn):
    assert nb06.check_relu(fn).ok


def relu_stub(x):
    ...


@pytest.mark.parametrize("fn,hint", [
    (lambda x: x.abs(), "became positive"),
    (lambda x: x.clamp(max=0), "reversed"),
    (lambda x: (x > 0).float(), "whether each number is positive"),
    (lambda x: x.max(), "one number for the whole tensor"),
    (lambda x: x.clamp_(min=0), "changed the tensor it was given"),
    (relu_stub, "in place of the `...`"),
])
def test_check_relu_names_the_mistake(fn, hint):
    verdict = nb06.check_relu(fn)
    assert not verdict.ok and hint in verdict.message, str(verdict)


@pytest.mark.parametrize("answer", [0.02, 0.1 * (1 - 0.8), 2e-2, torch.tensor(0.02)])
def test_check_momentum_lr_accepts_correct_forms(answer):
    assert nb06.check_momentum_lr(answer).ok


@pytest.mark.parametrize("answer,hint", [
    (0.1, "how many times larger"),
    (0.5, "larger still"),
    (0.01, "momentum 0.9"),
    (0.08, "not to 1 + 0.2"),
    (..., "replace the `...`"),
])
def test_check_momentum_lr_names_the_mistake(answer, hint):
    verdict = nb06.check_momentum_lr(answer)
    assert not verdict.ok and hint in verdict.message, str(verdict)

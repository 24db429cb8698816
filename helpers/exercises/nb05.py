"""Checks for the "Your turn" exercises at the end of notebook 05: an SGD step, a metric, and
the accuracy of a model that learned nothing."""
from __future__ import annotations

import torch

from .core import Verdict, as_tensor, not_yet, passed, run_safely
from .core import STUB_HINT as STUB, is_stub as _is_stub


__all__ = ["check_step", "check_batch_accuracy", "check_always_7"]


def _params_with_grads() -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    "Two small parameters (a weight matrix and a bias) with known gradients, and copies of both."
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(4, 1, generator=g).requires_grad_(), torch.randn(1, generator=g).requires_grad_()]
    grads = [torch.randn(4, 1, generator=g), torch.tensor([0.5])]
    for p, gr in zip(params, grads):
        p.grad = gr.clone()
    return params, [p.detach().clone() for p in params], grads


def check_step(step) -> Verdict:
    """(notebook 05) `step(params, lr)` moves each parameter against its gradient, scaled by the
    learning rate, and resets the gradients (to zeros or None) so the next batch starts afresh."""
    if _is_stub(step):
        return not_yet(STUB)
    lr = 0.1
    params, before, grads = _params_with_grads()
    _, problem = run_safely(step, params, lr)
    if problem is not None:
        if "in-place operation" in problem.message or "leaf Variable" in problem.message:
            return not_yet("PyTorch refused to change a parameter while autograd records: do the "
                           "update inside `with torch.no_grad():`.")
        return problem
    now = [p.detach() for p in params]
    moved = [not torch.equal(n, b) for n, b in zip(now, before)]
    if not any(moved) and all(p.grad is None or p.grad.abs().sum() == 0 for p in params):
        return not_yet("the parameters did not change, and the gradients are gone: reset them "
                       "after the update, not before it.")
    if not any(moved):
        return not_yet("the parameters did not change. Update each one in place (`p -= ...`): "
                       "`p = p - ...` only rebinds the name `p` inside your loop.")
    if not all(moved):
        return not_yet("some parameters moved and others did not: step every parameter in `params`.")
    deltas = [n - b for n, b in zip(now, before)]
    if all(torch.allclose(d, g * lr, atol=1e-6) for d, g in zip(deltas, grads)):
        return not_yet("the parameters moved up the gradient, which makes the loss larger: step "
                       "against it.")
    if all(torch.allclose(d, -g, atol=1e-6) for d, g in zip(deltas, grads)):
        return not_yet("the step is the whole gradient: scale it by the learning rate `lr`.")
    if not all(torch.allclose(d, -g * lr, atol=1e-6) for d, g in zip(deltas, grads)):
        return not_yet("the parameters moved, but not by the gradient times the learning rate.")
    if not all(p.requires_grad for p in params):
        return not_yet("after your step a parameter no longer requires a gradient, so the next "
                       "`backward()` would not reach it: change it in place, inside "
                       "`torch.no_grad()`.")
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in params):
        return not_yet("the step is right, but the gradients are still there: reset them, or the "
                       "next `backward()` adds the new gradients to these old ones.")
    return passed("each parameter moved by minus the learning rate times its gradient, and the "
                  "gradients are reset: one step of SGD, what `BasicOptim.step` and `zero_grad` do.")


def _accuracy_cases() -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    """(raw outputs, targets, share right) for a few batches shaped like the notebook's: a column
    of outputs before the sigmoid, and a column of targets, 1 for a 3 and 0 for a 7."""
    outputs = torch.tensor([[2.0], [0.3], [-0.2], [-3.0], [0.1], [-1.5], [4.0], [0.4]])
    targets = torch.tensor([[1], [1], [0], [1], [0], [0], [1], [0]])
    # right: 2.0->3 yes, 0.3->3 yes, -0.2->7 yes, -3.0->7 no, 0.1->3 no, -1.5->7 yes, 4.0->3 yes, 0.4->3 no
    return [(outputs, targets, 5 / 8),
            (outputs[:5], targets[:5], 3 / 5),
            (torch.tensor([[0.2], [-0.3], [1.0]]), torch.tensor([[1], [0], [0]]), 2 / 3)]


def check_batch_accuracy(fn) -> Verdict:
    """(notebook 05) `fn(outputs, targets)` gives the share of a batch that the model gets right,
    where `outputs` are the model's raw outputs (before the sigmoid) and `targets` 1 for a 3."""
    if _is_stub(fn):
        return not_yet(STUB)
    for outputs, targets, right in _accuracy_cases():
        result, problem = run_safely(fn, outputs.clone(), targets.clone())
        if problem is not None:
            return problem
        if result is None:
            return not_yet("your function returned nothing: `return` the share right.")
        value = as_tensor(result)
        if value is None or value.numel() != 1:
            shape = tuple(value.shape) if value is not None else type(result).__name__
            hint = ("a single number" if value is None else
                    f"a single number, not something of shape {shape} (did `==` broadcast a "
                    "column against a row? keep both columns, or take the mean)")
            return not_yet(f"the share right should be {hint}.")
        value = value.item()
        n = len(targets)
        if abs(value - right) < 1e-5:
            continue
        if abs(value - right * n) < 1e-5:
            return not_yet("that is how many are right; the metric is the share right, a number "
                           "between 0 and 1.")
        if abs(value - (1 - right)) < 1e-5:
            return not_yet("that is the share the model gets wrong: check which side of the "
                           "threshold means 'a 3'.")
        raw_half = ((outputs > 0.5).float() == targets).float().mean().item()
        if abs(value - raw_half) < 1e-5:
            return not_yet("the outputs are raw scores, not probabilities: turn them into "
                           "probabilities with the sigmoid before comparing with 0.5.")
        return not_yet(f"on a batch of {n} images with {round(right * n)} right, your function "
                       f"gives {value:.4f}.")
    return passed("the share of the batch on the right side of the threshold: that is "
                  "`batch_accuracy`, the metric the Learner printed.")


def check_always_7(answer) -> Verdict:
    """(notebook 05) the share of the validation set (1,010 3s and 1,028 7s) that a model answering
    "7" for every image gets right."""
    if answer is Ellipsis or answer is None:
        return not_yet("replace the `...` with your answer, a number between 0 and 1.")
    value = as_tensor(answer)
    if value is None or value.numel() != 1:
        return not_yet("the answer is one number, a share between 0 and 1.")
    value = value.item()
    threes, sevens = 1010, 1028
    if abs(value - sevens / (threes + sevens)) < 5e-4:
        return passed(f"{sevens}/{threes + sevens} = {sevens / (threes + sevens):.4f}. A model that "
                      "learned nothing scores about this much, so a floor for a trained model "
                      "must sit well above it.")
    if abs(value - threes / (threes + sevens)) < 5e-4:
        return not_yet("that is the share of 3s; the model always answers 7.")
    if abs(value - 0.5) < 5e-4:
        return not_yet("the two digits are not exactly equally many in the validation set: "
                       "count each.")
    if abs(value - sevens) < 0.5 or abs(value - threes) < 0.5:
        return not_yet("that is a count of images; the answer is a share, between 0 and 1.")
    return not_yet("count the 7s in the validation set, and divide by the number of images.")

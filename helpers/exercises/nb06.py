"""Checks for the "Your turn" exercises at the end of notebook 06: the parameter count of a wider
simple_net, a ReLU, and the learning rate that makes momentum a fair comparison."""
from __future__ import annotations

import torch

from .core import Verdict, as_tensor, not_yet, passed, run_safely
from .core import STUB_HINT as STUB, is_stub as _is_stub


__all__ = ["check_param_count", "check_relu", "check_momentum_lr"]


def _one_number(answer) -> float | None:
    value = as_tensor(answer)
    if value is None or value.numel() != 1:
        return None
    return value.item()


HIDDEN = 50  # the exercise's network: 784 -> 50 -> 1


def check_param_count(answer) -> Verdict:
    """(notebook 06) how many numbers a `simple_net` with 50 hidden units learns (784 -> 50 -> 1,
    a bias in each layer)."""
    if answer is Ellipsis or answer is None:
        return not_yet("replace the `...` with your answer, a whole number.")
    value = _one_number(answer)
    if value is None:
        return not_yet("the answer is one whole number.")
    w1, b1, w2, b2 = 28*28*HIDDEN, HIDDEN, HIDDEN*1, 1
    right = w1 + b1 + w2 + b2
    if value == right:
        return passed(f"{w1:,} + {b1} + {w2} + {b2} = {right:,}. Almost all of them are the first "
                      f"layer's weights: one per pixel for each of the {HIDDEN} hidden units.")
    if value == 28*28*30 + 30 + 30 + 1:
        return not_yet("that is the notebook's simple_net, with 30 hidden units; this one has 50.")
    if value == w1 + w2:  # also w1 + b1: both layers' weights, or the first layer alone
        return not_yet("that is either the weights without the biases, or the first layer "
                       "alone: count the weights and the biases of both layers.")
    if value in (w1 + b1 + w2, w1 + w2 + b2):
        return not_yet("one layer's bias is missing: each layer has one bias per output.")
    if value == w1:
        return not_yet("that is the first layer's weights only; its biases and the second "
                       "layer count too.")
    if value == 28*28 + HIDDEN + 1 or value == 28*28 + 1:
        return not_yet(f"each of the {HIDDEN} hidden units has its own weight for every pixel.")
    return not_yet("count the first layer's weights (inputs times outputs) and biases (one per "
                   "output), then the same for the second layer, and add them up.")


def check_relu(fn) -> Verdict:
    """(notebook 06) `fn(x)` returns a tensor like `x` with every negative number replaced by 0."""
    if _is_stub(fn):
        return not_yet(STUB)
    cases = [torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0]),
             torch.tensor([[1.5, -1.0], [-0.25, 2.0]]),
             torch.tensor([-1.0, -7.0])]
    for x in cases:
        original = x.clone()
        result, problem = run_safely(fn, x)
        if problem is not None:
            return problem
        if not torch.equal(x, original):
            return not_yet("your function changed the tensor it was given; leave the input alone "
                           "and return a new tensor.")
        if result is None:
            return not_yet("your function returned nothing: `return` the new tensor.")
        value = as_tensor(result)
        if value is None:
            return not_yet(f"your function returned a {type(result).__name__}; return a tensor.")
        expected = torch.where(x > 0, x, torch.zeros_like(x))
        if value.shape != x.shape:
            if value.numel() == 1:
                return not_yet("that is one number for the whole tensor; ReLU works on each "
                               "element, and the output has the input's shape.")
            return not_yet(f"the output has shape {tuple(value.shape)}, the input "
                           f"{tuple(x.shape)}; ReLU keeps the shape.")
        if torch.equal(value, expected):
            continue
        if torch.equal(value, x.abs()):
            return not_yet("negative numbers became positive; ReLU turns them into 0.")
        if torch.equal(value, torch.where(x < 0, x, torch.zeros_like(x))):
            return not_yet("it is reversed: the negative numbers survived and the positive ones "
                           "became 0.")
        if torch.equal(value, (x > 0).float()) or torch.equal(value, (x >= 0).float()):
            return not_yet("that says whether each number is positive; ReLU returns the number "
                           "itself when it is positive.")
        return not_yet(f"for {x.tolist()} your function gives {value.tolist()}.")
    return passed("negative numbers become 0, positive ones pass unchanged, element by element: "
                  "that is `F.relu`.")


def check_momentum_lr(answer) -> Verdict:
    """(notebook 06) the learning rate at which fastai's `SGD(mom=0.8)` takes steps about as large
    as plain SGD at 0.1 (its running sum of gradients grows to about 1/(1 - 0.8) = 5 gradients)."""
    if answer is Ellipsis or answer is None:
        return not_yet("replace the `...` with your answer, a learning rate.")
    value = _one_number(answer)
    if value is None:
        return not_yet("the answer is one number, a learning rate.")
    if abs(value - 0.02) <= 0.0005:
        return passed("0.02: momentum 0.8 adds up about 1/(1 - 0.8) = 5 gradients, so a fifth of "
                      "the learning rate gives steps about as large as plain SGD's at 0.1.")
    if abs(value - 0.01) <= 0.0005:
        return not_yet("that is the answer for momentum 0.9, which adds up about 10 gradients; "
                       "how many does 0.8 add up?")
    if abs(value - 0.1) <= 0.005:
        return not_yet("at the same learning rate, each momentum step adds up many past "
                       "gradients, so it is larger than a plain step: how many times larger?")
    if abs(value - 0.5) <= 0.01:
        return not_yet("that makes the steps larger still; momentum's steps are already larger "
                       "than plain SGD's at the same learning rate.")
    if abs(value - 0.08) <= 0.001 or abs(value - 0.12) <= 0.001 or abs(value - 0.1 / 1.2) <= 0.001:
        return not_yet("the sum of past gradients grows to about 1/(1 - 0.8) gradients, "
                       "not to 1 + 0.2: what learning rate undoes that factor?")
    return not_yet("in the long run the running sum holds about 1/(1 - 0.8) gradients; divide "
                   "plain SGD's learning rate by that.")

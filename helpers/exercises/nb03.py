"""Checks for the "Your turn" exercises at the end of notebook 03: a gradient by the chain
rule, one step of gradient descent by hand, and the edge of divergence on x²."""
from __future__ import annotations

import torch

from .core import Verdict, as_tensor, not_yet, passed
from .nb01 import unanswered

__all__ = ["check_chain_rule", "check_one_step", "check_edge"]


def _number(answer) -> tuple[float | None, Verdict | None]:
    "The answer as one float, or a verdict that says why it isn't one."
    if unanswered(answer):
        return None, not_yet("replace `None` with your answer, a number.")
    value = as_tensor(answer)
    if value is None or value.numel() != 1:
        return None, not_yet("give a single number (a Python number, or a tensor holding one).")
    return float(value.reshape(())), None


def _near(value: float, target: float) -> bool:
    return abs(value - target) <= 1e-4 * max(1.0, abs(target))


def check_chain_rule(answer) -> Verdict:
    """(notebook 03) The slope of y = (2x - 1)² at x = 3: the outer step's slope 2u at u = 5,
    times the inner step's slope 2, which is 20."""
    value, problem = _number(answer)
    if problem is not None:
        return problem
    if _near(value, 20):
        return passed("20: at x = 3 the inner step gives u = 5, the outer step's slope is 2u = 10, "
                      "and the inner step's slope is 2; multiplied, 20. `backward()` finds the same.")
    if _near(value, 10):
        return not_yet("that is the slope of the outer step alone (2u at u = 5); multiply it by the "
                       "slope of the inner step.")
    if _near(value, 25):
        return not_yet("that is the value of y at x = 3, not its slope.")
    if _near(value, 6):
        return not_yet("that is the slope of x² at 3; here the square is taken of u = 2x - 1.")
    if _near(value, 5):
        return not_yet("that is u, the inner step's result at x = 3; the slope multiplies the "
                       "slopes of the two steps.")
    if value < 0:
        return not_yet("the slope is positive here: at x = 3 the function grows when x grows.")
    return not_yet("not that number: split y into two steps, u = 2x - 1 and y = u², find each "
                   "step's slope at x = 3, and multiply them.")


def check_one_step(answer) -> Verdict:
    """(notebook 03) The weights after one step of gradient descent with learning rate 0.1 on
    loss = (x**2).sum(), from x = [1, -2, 3]: x - 0.1 * 2x = [0.8, -1.6, 2.4]."""
    if unanswered(answer):
        return not_yet("replace `None` with the three new weights, as a list or a tensor.")
    got = as_tensor(answer)
    if got is None:
        return not_yet(f"your answer is a {type(answer).__name__}; give three numbers, as a list or "
                       "a tensor.")
    got = got.flatten()
    if got.numel() != 3:
        return not_yet(f"give three numbers, one new value per weight; yours holds {got.numel()}.")
    x, lr = torch.tensor([1., -2., 3.]), 0.1
    grad = 2 * x

    def same(t):
        return bool(torch.allclose(got, t, atol=1e-4))

    if same(x - lr * grad):
        return passed("each weight moved against its gradient 2x by a tenth of it, so every weight "
                      "shrank by a fifth, towards the minimum at 0.")
    if same(x + lr * grad):
        return not_yet("your weights moved away from the minimum: step against the gradient, not "
                       "along it.")
    if same(grad):
        return not_yet("that is the gradient; the new weights are the old ones minus a step.")
    if same(lr * grad) or same(-lr * grad):
        return not_yet("that is the step itself; apply it to the old weights.")
    if same(x - grad):
        return not_yet("the whole gradient is too big a step: scale it by the learning rate first.")
    if same(x - lr):
        return not_yet("the step is the learning rate times the gradient, and the gradient of "
                       "x² is not 1.")
    if same(x - lr * x):
        return not_yet("check the gradient: the slope of x² is 2x, not x.")
    return not_yet("not those numbers: find the gradient of each weight, then subtract the "
                   "learning rate times it from the weight.")


def check_edge(answer) -> Verdict:
    """(notebook 03) The learning rate at the edge of divergence for gradient descent on x²:
    each step multiplies x by (1 - 2 lr), so rates above 1 make |x| grow."""
    value, problem = _number(answer)
    if problem is not None:
        return problem
    if _near(value, 1.0):
        return passed("1.0: a step multiplies x by 1 - 2·lr. At lr = 1 that is -1, so x bounces "
                      "between -1.8 and 1.8 forever; above 1 every bounce is bigger than the last, "
                      "as in the right-hand panel.")
    if _near(value, 0.5):
        return not_yet("at 0.5 a single step lands exactly on the minimum: the best rate for x², "
                       "not the edge. Try larger rates.")
    if _near(value, 0.9) or _near(value, 1.1):
        return not_yet("that is one of the rates in the figure; the edge lies between them.")
    if _near(value, 2.0):
        return not_yet("at 2 a step multiplies x by -3: far past the edge already.")
    if value <= 0:
        return not_yet("a learning rate is positive.")
    return not_yet("not that rate: write where one step takes x (x - lr·2x), and find the rate "
                   "at which that lands as far from 0 as it started.")

"""Checks for the "Your turn" exercises at the end of notebook 02: a shape that broadcasting
makes, a broadcast comparison written as a function, and the baseline's accuracy on a subset."""
from __future__ import annotations

import torch

from .core import Verdict, as_tensor, not_yet, passed, run_safely
from .nb01 import as_shape, unanswered

__all__ = ["check_broadcast_shape", "check_is_7", "check_first_hundred"]


def check_broadcast_shape(shape) -> Verdict:
    """(notebook 02) The shape of `valid_3_tens[:10] - mean3[14]`: ten images minus one row of
    the ideal 3, which broadcasting stretches over every row of every image: (10, 28, 28)."""
    if unanswered(shape):
        return not_yet("replace `None` with your answer, a shape such as (2, 3).")
    got = as_shape(shape)
    if got is None:
        return not_yet("give the shape as a tuple of whole numbers, such as (2, 3), or as a "
                       "`torch.Size`.")
    if got == (10, 28, 28):
        return passed("(10, 28, 28): the row of shape (28,) lines up with the last axis and is "
                      "stretched over the 28 rows of each of the 10 images, without being copied.")
    if got in {(10, 28), (10,)}:
        return not_yet("broadcasting never removes an axis: the missing axes of the smaller tensor "
                       "are stretched to match the larger one.")
    if got == (28,) or got == (28, 28):
        return not_yet("`valid_3_tens[:10]` keeps its first axis: ten images, each still 28 × 28.")
    if got == (1010, 28, 28):
        return not_yet("`[:10]` takes only the first ten images.")
    return not_yet("line the two shapes up from the right, (10, 28, 28) and (28,), and stretch the "
                   "missing axes.")


def _stack_and_ideals() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    "Eight made-up 28x28 images and two made-up ideals, the same on every call."
    g = torch.Generator().manual_seed(2)
    mean3, mean7 = torch.rand(28, 28, generator=g), torch.rand(28, 28, generator=g)
    mix = torch.rand(8, 1, 1, generator=g)
    noise = torch.rand(8, 28, 28, generator=g) * 0.3
    return mix * mean3 + (1 - mix) * mean7 + noise, mean3, mean7


def _l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().mean((-1, -2))


def check_is_7(is_7) -> Verdict:
    """(notebook 02) `is_7(x, mean3, mean7)` is True where `x` is closer to the ideal 7 than to
    the ideal 3 (mean absolute difference), for one image or a whole stack, in one broadcast."""
    stack, mean3, mean7 = _stack_and_ideals()
    expected = _l1(stack, mean7) < _l1(stack, mean3)
    result, problem = run_safely(is_7, stack, mean3, mean7)
    if problem is not None:
        return problem
    if result is None:
        return not_yet("your function returns None: finish it with a `return` line.")
    got = as_tensor(result)
    if got is None:
        return not_yet(f"your function returned a {type(result).__name__}; return a tensor of "
                       "True/False values.")
    if got.numel() == 1 and len(stack) > 1:
        return not_yet(f"for a stack of {len(stack)} images you returned a single value: average "
                       "over the last two axes only, so that each image keeps its own distance.")
    if got.shape != expected.shape:
        return not_yet(f"for a stack of {len(stack)} images the answer should have one value per "
                       f"image, shape {tuple(expected.shape)}; yours has shape {tuple(got.shape)}.")
    if not bool(((got == 0) | (got == 1)).all()):
        return not_yet("your function returns numbers, not True/False: compare the two distances.")
    got = got.bool()
    if torch.equal(got, ~expected):
        return not_yet("your answer is True where the image is closer to the ideal 3: swap the "
                       "comparison.")
    if not torch.equal(got, expected):
        return not_yet(f"{int((got != expected).sum())} of the {len(stack)} answers are wrong: an "
                       "image is a 7 when its distance to the ideal 7 is the smaller one.")
    single, problem = run_safely(is_7, stack[0], mean3, mean7)
    if problem is not None:
        return problem
    single = as_tensor(single)
    if single is None or single.numel() != 1 or bool(single.reshape(())) != bool(expected[0]):
        return not_yet("right for a stack, but not for a single image: average over the last two "
                       "axes, `(-1, -2)`, which works for both.")
    return passed("one True/False per image, computed for the whole stack at once. It is the "
                  "opposite of `is_3` (apart from exact ties, which never happen here).")


def check_first_hundred(answer, valid_3_tens: torch.Tensor, mean3: torch.Tensor,
                        mean7: torch.Tensor) -> Verdict:
    """(notebook 02) The baseline's accuracy on the first 100 validation 3s: the share of them
    that are closer to the ideal 3 than to the ideal 7 (mean absolute difference)."""
    if unanswered(answer):
        return not_yet("replace `None` with your answer, a number between 0 and 1.")
    called_3 = _l1(valid_3_tens, mean3) < _l1(valid_3_tens, mean7)
    expected = called_3[:100].float().mean()
    got = as_tensor(answer)
    if got is None:
        return not_yet(f"your answer is a {type(answer).__name__}; give a number between 0 and 1.")
    if got.numel() == 100:
        return not_yet("that is one value per image; the accuracy is a single number, the share "
                       "of True values.")
    if got.numel() != 1:
        return not_yet(f"give a single number; yours holds {got.numel()} values.")
    value = got.reshape(())
    if torch.isclose(value, expected, atol=1e-4):
        overall = called_3.float().mean()
        return passed(f"{expected:.2f}: {int(called_3[:100].sum())} of the first 100 3s are called a "
                      f"3, against {overall:.4f} over all {len(valid_3_tens)} of them. A small "
                      "subset can be luckier or unluckier than the whole set, which is why we "
                      "score on every validation image.")
    if torch.isclose(value, expected * 100, atol=1e-2):
        return not_yet("that looks like a count; the accuracy is a share, between 0 and 1.")
    if torch.isclose(value, 1 - expected, atol=1e-4):
        return not_yet("that is the share of these images called a 7, the baseline's mistakes.")
    if torch.isclose(value, called_3.float().mean(), atol=1e-4):
        return not_yet(f"that is the accuracy on all {len(valid_3_tens)} validation 3s; take only "
                       "the first 100.")
    return not_yet("not that number: call `is_3` on the first 100 validation 3s, then take the "
                   "share of True values.")

"""Checks for the "Your turn" exercises at the end of notebook 01: the distance between two
images, and the shape and rank of a slice of the stacked 3s."""
from __future__ import annotations

from typing import Any

import torch

from .core import Verdict, as_tensor, not_yet, passed, run_safely

__all__ = ["check_l1_distance", "check_shape_and_rank", "as_shape", "unanswered"]


def unanswered(answer: Any) -> bool:
    "True while the stub's placeholder (`None` or `...`) is still there (notebooks 01 to 04)."
    return answer is None or answer is Ellipsis


def as_shape(answer: Any) -> tuple[int, ...] | None:
    """A shape given as a tuple, a list, a `torch.Size` or a NumPy shape, as a tuple of ints;
    a single int counts as a shape of one axis; None when it is none of these (notebook 01)."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return (answer,)
    try:
        items = list(answer)
    except TypeError:
        return None
    shape = []
    for item in items:
        if isinstance(item, bool):
            return None
        try:
            value = int(item)
        except (TypeError, ValueError):
            return None
        if value != item:
            return None
        shape.append(value)
    return tuple(shape)


def _pairs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    "Two pairs of made-up 28x28 images with pixels between 0 and 1, the same on every call."
    g = torch.Generator().manual_seed(1)
    return [(torch.rand(28, 28, generator=g), torch.rand(28, 28, generator=g)) for _ in range(2)]


def _close(value: torch.Tensor, expected: torch.Tensor) -> bool:
    return bool(torch.allclose(value, expected.float(), rtol=1e-4, atol=1e-6))


def check_l1_distance(l1_distance) -> Verdict:
    """(notebook 01) `l1_distance(a, b)` returns the mean absolute difference between two
    images: one number, whatever the images."""
    for a, b in _pairs():
        result, problem = run_safely(l1_distance, a, b)
        if problem is not None:
            return problem
        if result is None:
            return not_yet("your function returns None: finish it with a `return` line that gives "
                           "one number.")
        value = as_tensor(result)
        if value is None:
            return not_yet(f"your function returned a {type(result).__name__}; return a number or a "
                           "tensor holding one.")
        diff = a - b
        if value.numel() != 1:
            if tuple(value.shape) in {(28,), (1, 28), (28, 1)}:
                return not_yet("you averaged over one axis only, so you got one number per row or "
                               "column; average over every pixel.")
            return not_yet(f"you returned {value.numel()} numbers ({tuple(value.shape)}); a distance "
                           "is a single number: average over every pixel.")
        value = value.reshape(())
        if _close(value, diff.abs().mean()):
            continue
        if _close(value, diff.mean()) or _close(value, -diff.mean()):
            return not_yet("positive and negative differences cancel out in your average; make "
                           "every difference positive before averaging.")
        if _close(value, diff.abs().sum()):
            return not_yet("that is the total over all 784 pixels (the L1 norm itself); the "
                           "distance of this notebook is the average, which doesn't depend on the "
                           "image size.")
        if _close(value, (diff ** 2).mean()) or _close(value, (diff ** 2).mean().sqrt()):
            return not_yet("you squared the differences, which leads to the (root) mean squared "
                           "error; this distance uses their absolute values.")
        return not_yet("your number is not the mean absolute difference of the two images: "
                       "subtract, make each difference positive, then average.")
    return passed("that is the mean absolute difference (the L1 distance). Notebook 02 turns it "
                  "into `mnist_distance`, which measures a whole stack of images at once.")


def check_shape_and_rank(shape, rank) -> Verdict:
    """(notebook 01) The shape and the rank of `stacked_threes[:, 10]`, row 10 of each of the
    6,131 training 3s: (6131, 28) and 2."""
    if unanswered(shape) or unanswered(rank):
        return not_yet("replace each `None` with your answer: the shape as a tuple such as (2, 3), "
                       "the rank as a whole number.")
    got = as_shape(shape)
    if got is None:
        return not_yet("give the shape as a tuple of whole numbers, such as (2, 3), or as a "
                       "`torch.Size`.")
    if got == (28, 28):
        return not_yet("(28, 28) is the shape of a single image. The `:` keeps every image; only "
                       "the 10 picks something.")
    if got == (6131, 28, 28):
        return not_yet("that is the shape of the whole stack. Indexing an axis with a single number "
                       "picks one position and removes that axis.")
    if got in {(28,), (6131,), (1, 28)}:
        return not_yet("one axis too few: `:` keeps the image axis whole, and a row of an image "
                       "still has 28 pixels.")
    if got != (6131, 28):
        return not_yet("not that shape: go through the index one axis at a time (`:` for the "
                       "images, 10 for the rows, nothing for the columns).")
    if isinstance(rank, bool) or not isinstance(rank, int):
        try:
            rank_value = int(rank)
        except (TypeError, ValueError):
            return not_yet("the shape is right; give the rank as a whole number.")
        if rank_value != rank:
            return not_yet("the shape is right; give the rank as a whole number.")
        rank = rank_value
    if rank == 6131 * 28:
        return not_yet("the shape is right, but that is the number of elements; the rank counts "
                       "axes.")
    if rank != 2:
        return not_yet("the shape is right, but not the rank: the rank is the number of axes, the "
                       "length of the shape.")
    return passed("(6131, 28), rank 2: row 10 of every 3, one row of 28 pixels per image. The "
                  "tensor confirms it: `stacked_threes[:, 10].shape` and `.ndim`.")

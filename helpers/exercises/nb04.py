"""Checks for the "Your turn" exercises at the end of notebook 04: `mnist_loss` written again,
and the batches a `DataLoader` makes of the training set."""
from __future__ import annotations

import torch

from .core import Verdict, as_tensor, not_yet, passed, run_safely
from .nb01 import unanswered

__all__ = ["check_mnist_loss", "check_batches"]


def _reference(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    p = predictions.sigmoid()
    return torch.where(targets == 1, 1 - p, p).mean()


def _cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    "Raw outputs and 0/1 targets (integers in one case, floats in the other)."
    g = torch.Generator().manual_seed(4)
    outputs = [torch.randn(12, generator=g) * 3, torch.randn(7, generator=g) * 3]
    targets = [torch.randint(0, 2, (12,), generator=g), torch.randint(0, 2, (7,), generator=g).float()]
    return list(zip(outputs, targets))


def check_mnist_loss(loss_fn) -> Verdict:
    """(notebook 04) `loss_fn(predictions, targets)` is `mnist_loss`: the sigmoid of each raw
    prediction, its distance from the 0/1 target, averaged, with a gradient for autograd."""
    for outputs, targets in _cases():
        predictions = outputs.clone().requires_grad_()
        result, problem = run_safely(loss_fn, predictions, targets)
        if problem is not None:
            return problem
        if result is None:
            return not_yet("your function returns None: finish it with a `return` line.")
        if not isinstance(result, torch.Tensor):
            return not_yet(f"your function returned a {type(result).__name__}; return a tensor, so "
                           "that autograd can follow it (no `.item()`).")
        if result.numel() != 1:
            return not_yet(f"the loss is one number for the whole batch; yours has shape "
                           f"{tuple(result.shape)}: average.")
        value = result.detach().float().reshape(())
        p = outputs.sigmoid()
        if torch.isclose(value, _reference(outputs, targets), atol=1e-5):
            if not result.requires_grad:
                return not_yet("the number is right, but it has no gradient: compute it from the "
                               "predictions with tensor operations only.")
            continue
        if torch.isclose(value, torch.where(targets == 1, 1 - outputs, outputs).mean(), atol=1e-5):
            return not_yet("raw outputs can be any number, far outside 0 to 1: squash them with "
                           "the sigmoid first.")
        if torch.isclose(value, torch.where(targets == 1, p, 1 - p).mean(), atol=1e-5):
            return not_yet("your loss is small for wrong answers and large for right ones: for a 3 "
                           "(target 1) it should be how far the prediction falls short of 1.")
        if torch.isclose(value, torch.where(targets == 1, 1 - p, p).sum(), atol=1e-4):
            return not_yet("you added the losses up, so the loss grows with the batch size; take "
                           "their mean.")
        if torch.isclose(value, 1 - ((p > 0.5).float() == targets).float().mean(), atol=1e-5):
            return not_yet("that is the share of wrong answers, a metric: it has no useful gradient.")
        return not_yet("not the value of mnist_loss: sigmoid, then `torch.where` on the targets, "
                       "then the mean.")
    return passed("the same values as `mnist_loss`, and a gradient that autograd can follow back "
                  "to every prediction.")


def check_batches(n_batches, last_size) -> Verdict:
    """(notebook 04) A `DataLoader` with `batch_size=256` over the 12,396 training images of
    the 3s and 7s: 49 batches per epoch, the last one holding the 108 images left over."""
    if unanswered(n_batches) or unanswered(last_size):
        return not_yet("replace each `None` with your answer: the number of batches, and the "
                       "number of images in the last one.")
    got = [as_tensor(n_batches), as_tensor(last_size)]
    if any(g is None or g.numel() != 1 for g in got):
        return not_yet("give two whole numbers.")
    n, last = (float(g.reshape(())) for g in got)
    if n != int(n) or last != int(last):
        return not_yet("batches and images come in whole numbers: a fraction of a batch is still "
                       "one batch.")
    n, last = int(n), int(last)
    if n == 48:
        return not_yet("48 batches hold 12,288 images; the images left over still make a batch.")
    if n != 49:
        return not_yet("not that many batches: divide the number of images by the batch size and "
                       "count the partly filled batch too.")
    if last == 256:
        return not_yet("49 is right. But the last batch gets only what is left over after 48 full "
                       "ones.")
    if last == 256 - 108:
        return not_yet("49 is right. That is how many images the last batch lacks, not how many "
                       "it holds.")
    if last != 108:
        return not_yet("49 is right; the last batch holds the images left after 48 full batches.")
    return passed("49 batches per epoch, 48 of 256 images and a last one of 108. "
                  "`len(DataLoader(...))` gives the 49, and `math.ceil(12396 / 256)` too.")

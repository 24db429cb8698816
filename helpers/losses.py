"""Losses and metrics: one number for the optimiser, one for people.

`sigmoid` and `mnist_loss` (notebook 04) and `batch_accuracy` (notebook 05) for the 3s and 7s;
`log_softmax`, `softmax` and `cross_entropy` for ten classes (notebook 07).
"""
from __future__ import annotations

import torch

__all__ = ["sigmoid", "mnist_loss", "batch_accuracy", "log_softmax", "softmax", "cross_entropy"]


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    "Squash any number into the range (0, 1) (notebook 04)."
    return 1 / (1 + torch.exp(-x))


def mnist_loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    "How far the sigmoid of each prediction is from its 0/1 target, averaged (notebook 04)."
    probs = predictions.sigmoid()  # PyTorch's own sigmoid: the same values, and no overflow
    miss = torch.where(targets == 1, 1 - probs, probs)  # for a 3, how far below 1; for a 7, above 0
    return miss.mean()


def batch_accuracy(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    "Share of a batch whose prediction is on the right side of 0.5 (notebook 05)."
    said_3 = xb.sigmoid() > 0.5  # the model's answer for each image: True means "a 3"
    return (said_3 == yb).float().mean()


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    "Log of the softmax over the last axis, computed without overflow (notebook 07)."
    m = x.max(-1, keepdim=True).values
    return x - m - (x - m).exp().sum(-1, keepdim=True).log()


def softmax(x: torch.Tensor) -> torch.Tensor:
    "Turn each row of scores into probabilities that sum to 1 (notebook 07)."
    return log_softmax(x).exp()


def cross_entropy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    "Mean negative log-likelihood of each row's right class: log-softmax, then pick (notebook 07)."
    return -log_softmax(x)[torch.arange(len(y)), y].mean()

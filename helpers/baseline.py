"""The pixel-similarity baseline: compare a digit with the 'ideal' 3 and 7 (notebook 02)."""
from __future__ import annotations

import torch

__all__ = ["mnist_distance", "is_3"]


def mnist_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    "Mean absolute difference over the last two axes: one number per image (notebook 02)."
    return (a - b).abs().mean((-1, -2))


def is_3(x: torch.Tensor, mean3: torch.Tensor, mean7: torch.Tensor) -> torch.Tensor:
    "True where `x` is closer to the mean 3 than to the mean 7 (notebook 02)."
    return mnist_distance(x, mean3) < mnist_distance(x, mean7)

"""Mini-batches straight from tensors in memory, and augmentation on whole batches (notebook 07).

Step three of the data path: `TensorLoader` slices batches out of the cached uint8 tensors of
`tensors.py`, on the course's device, with no per-image Python work; `random_shift` moves every
image of a batch by a few pixels at once. Both work in hand-written loops and in fastai's
`Learner`.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from .device import default_device
from .tensors import MNIST_MEAN, MNIST_STD

__all__ = ["TensorLoader", "random_shift"]


def random_shift(x: torch.Tensor, max_shift: int = 2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Move each image of a batch (b, 1, h, w) by its own random whole-pixel offset of up to
    `max_shift` in each direction, filling with zeros (notebook 07)."""
    b, c, h, w = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s))
    offs = torch.randint(0, 2*s + 1, (2, b), device=x.device, generator=generator)
    rows = offs[0][:, None] + torch.arange(h, device=x.device)  # (b, h)
    cols = offs[1][:, None] + torch.arange(w, device=x.device)  # (b, w)
    bi = torch.arange(b, device=x.device)[:, None, None]
    return padded[bi, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


class TensorLoader:
    """Mini-batches sliced from in-memory tensors (notebook 07).

    `x` holds uint8 images (n, 28, 28); each batch comes out as normalised floats (b, 1, 28, 28)
    on `device` (default: `default_device()`), with the labels. Shuffling draws a new order
    every epoch; `augment` (such as `random_shift`) is applied to these batches. Iterating twice
    gives two epochs. fastai's `Learner` accepts it inside `DataLoaders(train, valid)`.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, bs: int = 256, shuffle: bool = False,
                 augment: Callable | None = None, device: torch.device | str | None = None,
                 seed: int | None = None, flat: bool = False):
        self.device = torch.device(device) if device is not None else default_device()
        self.x, self.y = x.to(self.device), y.to(self.device)
        self.bs, self.shuffle, self.augment, self.flat = bs, shuffle, augment, flat
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(seed if seed is not None else torch.initial_seed() % 2**63)
        self.dataset = self.x  # for code that asks a loader for len(dl.dataset)

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.bs)

    def _prepare(self, xb: torch.Tensor) -> torch.Tensor:
        xb = xb.float().div_(255).unsqueeze(1)
        if self.augment is not None:
            xb = self.augment(xb)
        xb = (xb - MNIST_MEAN) / MNIST_STD
        return xb.flatten(1) if self.flat else xb

    def __iter__(self):
        n = len(self.x)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.device)
        for i in range(0, n, self.bs):
            if self.shuffle:
                idx = order[i:i + self.bs]
                yield self._prepare(self.x[idx]), self.y[idx]
            else:
                yield self._prepare(self.x[i:i + self.bs]), self.y[i:i + self.bs]

"""Mini-batches straight from tensors in memory, with random shifts as augmentation (notebook 07).

Step three of the data path: `TensorLoader` slices batches out of the cached uint8 tensors of
`tensors.py`, on the course's device, with no per-image Python work. Its `shift` moves every
image by a few pixels in the same indexing step that gathers the batch (`take_shifted`). It
works in hand-written loops and in fastai's `Learner`.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from .device import default_device
from .tensors import MNIST_MEAN, MNIST_STD

__all__ = ["TensorLoader", "take_shifted"]


def take_shifted(padded: torch.Tensor, idx: torch.Tensor, shift: int,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Images `idx` of `padded` (n, h + 2*shift, w + 2*shift), each cut back to (h, w) at its own
    random offset, so moved by up to `shift` pixels each way (notebook 07).

    One `take` does it: the flat position of every pixel of every crop is its image's start,
    plus the crop's corner, plus the pixel's place inside the crop."""
    n, hp, wp = padded.shape
    h, w = hp - 2*shift, wp - 2*shift
    dy, dx = torch.randint(0, 2*shift + 1, (2, len(idx)), generator=generator).to(padded.device)
    corner = idx*(hp*wp) + dy*wp + dx                                  # (b,)
    inside = torch.arange(h, device=padded.device)[:, None]*wp + torch.arange(w, device=padded.device)
    return padded.flatten().take(corner[:, None] + inside.flatten()).view(len(idx), h, w)


class TensorLoader:
    """Mini-batches sliced from in-memory tensors (notebook 07).

    `x` holds uint8 images (n, 28, 28); each batch comes out as normalised floats (b, 1, 28, 28)
    (rows of 784 with `flat`) on `device` (default: `default_device()`), with the labels.
    Shuffling draws a new order every epoch. `shift` moves each image by up to that many pixels,
    a new random offset every time (`take_shifted`); `augment`, a function, changes the float
    batches. `drop_last` leaves out a last, smaller batch. Iterating
    twice gives two epochs. fastai's `Learner` accepts it inside `DataLoaders(train, valid)`.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, bs: int = 256, shuffle: bool = False,
                 augment: Callable | None = None, device: torch.device | str | None = None,
                 seed: int | None = None, flat: bool = False, shift: int = 0,
                 drop_last: bool = False):
        self.device = torch.device(device) if device is not None else default_device()
        self.x, self.y = x.to(self.device), y.to(self.device)
        self.bs, self.shuffle, self.augment, self.flat = bs, shuffle, augment, flat
        self.shift, self.drop_last = shift, drop_last
        self.padded = F.pad(self.x, (shift,)*4) if shift else None   # zeros around every image
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(seed if seed is not None else torch.initial_seed() % 2**63)
        self.dataset = self.x  # for code that asks a loader for len(dl.dataset)

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.bs if self.drop_last else math.ceil(n / self.bs)

    def _prepare(self, xb: torch.Tensor) -> torch.Tensor:
        xb = xb.float().div_(255).unsqueeze(1)
        if self.augment is not None:
            xb = self.augment(xb)
        xb = xb.sub_(MNIST_MEAN).div_(MNIST_STD)   # in place: no new tensors per batch
        return xb.flatten(1) if self.flat else xb

    def __iter__(self):
        n = len(self.x)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.device)
        for i in range(0, len(self) * self.bs, self.bs):
            if self.shuffle:
                idx = order[i:i + self.bs]
            else:
                idx = torch.arange(i, min(i + self.bs, n), device=self.device)
            xb = take_shifted(self.padded, idx, self.shift, self.generator) if self.shift else self.x[idx]
            yield self._prepare(xb), self.y[idx]

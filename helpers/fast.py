"""The fast path for the full MNIST (taught in notebook 07).

* `load_mnist` decodes the 70,000 PNGs once into uint8 tensors (cached in ``data/cache/`` by
  `load_digits`), so later runs read them in well under a second.
* `TensorLoader` serves mini-batches as slices of those tensors, on the GPU when there is one,
  with no per-image work in the loop; it works in hand-written loops and in fastai's `Learner`.
* `random_shift` is the augmentation: every image moved by up to two pixels, on the whole batch
  at once.
* `mnist_cnn` is a small convolutional network that passes 99.5% on the test set.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import torch
from torch import nn
import torch.nn.functional as F

from .images import load_digits

__all__ = ["load_mnist", "split_train_valid", "TensorLoader", "random_shift", "mnist_cnn",
           "default_device", "MNIST_MEAN", "MNIST_STD", "fit_one_cycle_fast", "predict", "accuracy_of"]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # pixel statistics of the training set, scaled to 0..1


def default_device() -> torch.device:
    "The GPU when PyTorch sees one, else the CPU."
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_mnist(path: Path, split: str = "training") -> tuple[torch.Tensor, torch.Tensor]:
    """All images of one split (`training` or `testing`) of `URLs.MNIST` as uint8 (n, 28, 28)
    and their labels as int64, digit by digit in file-name order (notebook 07)."""
    xs, ys = [], []
    for digit in range(10):
        x = load_digits(Path(path)/split/str(digit))
        xs.append(x)
        ys.append(torch.full((len(x),), digit, dtype=torch.int64))
    return torch.cat(xs), torch.cat(ys)


def split_train_valid(x: torch.Tensor, y: torch.Tensor, valid_pct: float = 0.1,
                      seed: int = 42) -> tuple[torch.Tensor, ...]:
    "A seeded random split: (train_x, train_y, valid_x, valid_y) (notebook 07)."
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=g)
    n_valid = int(round(len(x) * valid_pct))
    v, t = idx[:n_valid], idx[n_valid:]
    return x[t], y[t], x[v], y[v]


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
    on `device`, with the labels. Shuffling draws a new order every epoch; `augment` (such as
    `random_shift`) is applied to training batches only. Iterating twice gives two epochs.
    fastai's `Learner` accepts it inside `DataLoaders(train, valid)`.
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

    @property
    def n(self) -> int:
        return len(self.x)

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


def _conv_block(ni: int, nf: int, stride: int, ks: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(ni, nf, ks, stride=stride, padding=ks//2, bias=False),
                         nn.BatchNorm2d(nf), nn.ReLU(inplace=True))


def mnist_cnn(widths: tuple[int, int, int] = (32, 64, 128), extra: bool = True) -> nn.Sequential:
    """A small convolutional network for 28x28 digits (notebook 07).

    A 5x5 convolution with stride 2 turns the image into `widths[0]` feature maps of 14x14;
    each further layer halves the size and widens the channels (14 -> 7 -> 4), with an `extra`
    layer at 7x7; global average pooling and a linear layer give the ten class scores. Every
    convolution is followed by batch normalisation and ReLU.
    """
    c0, c1, c2 = widths
    layers = [_conv_block(1, c0, 2, ks=5), _conv_block(c0, c1, 2)]
    if extra:
        layers.append(_conv_block(c1, c1, 1))
    layers += [_conv_block(c1, c2, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c2, 10)]
    return nn.Sequential(*layers)


def fit_one_cycle_fast(model: nn.Module, train_dl, epochs: int, lr_max: float = 1e-2,
                       weight_decay: float = 1e-4, label_smoothing: float = 0.1,
                       progress: bool = True) -> list[float]:
    """Train with AdamW under a one-cycle schedule: the learning rate warms up to `lr_max`, then
    anneals to almost zero (notebook 07). Returns the mean training loss of each epoch."""
    from fastprogress.fastprogress import master_bar, progress_bar
    device = train_dl.device
    model.to(device, memory_format=torch.channels_last).train()  # faster convolutions on CPUs
    opt = torch.optim.AdamW(model.parameters(), lr=lr_max, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr_max, epochs=epochs,
                                                steps_per_epoch=len(train_dl))
    losses = []
    mb = master_bar(range(epochs)) if progress else range(epochs)
    for epoch in mb:
        total, count = 0.0, 0
        batches = progress_bar(train_dl, parent=mb) if progress else train_dl
        for xb, yb in batches:
            loss = F.cross_entropy(model(xb), yb, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(yb)
            count += len(yb)
        losses.append(total / count)
    model.eval()
    return losses


@torch.no_grad()
def predict(model: nn.Module, dl) -> tuple[torch.Tensor, torch.Tensor]:
    "Class probabilities and targets for every batch of `dl`, on the CPU (notebook 07)."
    if isinstance(model, nn.Module):  # a plain function (a hand-written model) has no eval mode
        model.eval()
    probs, targs = [], []
    for xb, yb in dl:
        probs.append(model(xb).softmax(1).cpu())
        targs.append(yb.cpu())
    return torch.cat(probs), torch.cat(targs)


def accuracy_of(model: nn.Module, dl) -> float:
    "Share of `dl`'s images whose most probable class is right (notebook 07)."
    probs, targs = predict(model, dl)
    return (probs.argmax(1) == targs).float().mean().item()

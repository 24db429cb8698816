"""The models of the series, from a rule with nothing to learn to a convolutional network.

Step four: each takes a batch and gives scores. `mnist_distance` and `is_3` are the pixel-
similarity baseline (notebook 02); `init_params` and `linear1` the linear model by hand
(notebook 05); `simple_net` the two-layer network (notebook 06); `mnist_cnn` the small CNN of
the full MNIST (notebook 07).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["mnist_distance", "is_3", "init_params", "linear1", "simple_net", "conv_block", "mnist_cnn"]


def mnist_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    "Mean absolute difference over the last two axes: one number per image (notebook 02)."
    return (a - b).abs().mean((-1, -2))


def is_3(x: torch.Tensor, mean3: torch.Tensor, mean7: torch.Tensor) -> torch.Tensor:
    "True where `x` is closer to the mean 3 than to the mean 7 (notebook 02)."
    return mnist_distance(x, mean3) < mnist_distance(x, mean7)


def init_params(size, std: float = 1.0) -> torch.Tensor:
    "Random weights of the given size, tracked by autograd (notebook 05)."
    return (torch.randn(size)*std).requires_grad_()


def linear1(xb: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    "A linear model: each image's pixels times the weights, plus the bias (notebook 05)."
    return xb@weights + bias


def simple_net(xb: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
               b2: torch.Tensor) -> torch.Tensor:
    "Two linear layers with a ReLU between them (notebook 06)."
    hidden = (xb@w1 + b1).max(torch.tensor(0.0))  # 30 numbers per image, the negative ones set to 0
    return hidden@w2 + b2


def conv_block(ni: int, nf: int, stride: int = 1, ks: int = 3) -> nn.Sequential:
    """A `ks`x`ks` convolution from `ni` to `nf` feature maps, then batch normalisation and ReLU
    (notebook 07). The convolution has no bias: the batch norm that follows adds its own."""
    return nn.Sequential(nn.Conv2d(ni, nf, ks, stride=stride, padding=ks//2, bias=False),
                         nn.BatchNorm2d(nf), nn.ReLU(inplace=True))


def mnist_cnn(widths: tuple[int, int, int, int] = (32, 64, 64, 128), head: str = "pool") -> nn.Sequential:
    """A small convolutional network for 28x28 digits (notebook 07).

    Four `conv_block`s with `widths` feature maps: a 5x5 with stride 2 (28x28 -> 14x14), a 3x3
    with stride 2 (-> 7x7), a 3x3 at 7x7 and a 3x3 with stride 2 (-> 4x4). Then a linear layer
    gives the ten class scores, either from each map's average (`head='pool'`) or from all the
    4x4 maps flattened (`head='flat'`), which keeps where each feature was found.
    """
    c0, c1, c2, c3 = widths
    layers = [conv_block(1, c0, 2, ks=5), conv_block(c0, c1, 2), conv_block(c1, c2), conv_block(c2, c3, 2)]
    if head == "pool":
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c3, 10)]
    elif head == "flat":
        layers += [nn.Flatten(), nn.Linear(c3*4*4, 10)]
    else:
        raise ValueError(f"head must be 'pool' or 'flat', not {head!r}")
    return nn.Sequential(*layers)

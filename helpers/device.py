"""Where tensors and models live: the one place in the course that chooses the device.

Every loader, loop and learner in `helpers` asks `default_device()`, so a notebook runs on a
CUDA GPU when PyTorch sees one (Colab with a GPU runtime) and on the CPU otherwise.
"""
from __future__ import annotations

import torch

__all__ = ["default_device"]


def default_device() -> torch.device:
    "The GPU when PyTorch sees one, else the CPU (first used in notebook 07)."
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")

"""What the setup cell at the top of every notebook calls."""
from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

from .plotting import use_course_style

__all__ = ["course_setup", "seed_everything", "IN_COLAB"]

IN_COLAB = "google.colab" in __import__("sys").modules


def seed_everything(seed: int = 42) -> None:
    "Seed Python, NumPy and PyTorch so that a training run gives the same numbers again (notebook 01)."
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))


def course_setup(seed: int = 42) -> None:
    "Shared plot style, compact tensor printing, quiet library warnings, and a fixed seed (notebook 01)."
    # fastai 2.8 still calls torch.jit.script, which torch 2.14 marks deprecated; the warning
    # says nothing a learner can act on.
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
    use_course_style()
    torch.set_printoptions(precision=4, linewidth=110, sci_mode=False)
    import pandas as pd
    pd.set_option("display.precision", 4)
    seed_everything(seed)

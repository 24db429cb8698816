"""What the setup cell at the top of every notebook calls."""
from __future__ import annotations

import random
import sys
import warnings

import numpy as np
import torch

from .plotting import use_course_style

__all__ = ["course_setup", "seed_everything"]

# Colab's menu path to a GPU runtime, named by the one line the setup cell prints there.
COLAB_GPU_MENU = "Runtime → Change runtime type → T4 GPU"


def seed_everything(seed: int = 42) -> None:
    "Seed Python, NumPy and PyTorch so that a training run gives the same numbers again (notebook 01)."
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _helpers_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("mnist-basics-helpers")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def colab_status_line() -> str:
    "The one line the setup cell prints in Colab: what it installed, and whether there is a GPU."
    done = f"Course helpers {_helpers_version()} installed"
    if torch.cuda.is_available():
        return f"{done} · GPU: {torch.cuda.get_device_name(0)}"
    return f"{done} · no GPU, so training will be slow (to add one: {COLAB_GPU_MENU})"


def course_setup(seed: int = 42) -> None:
    """Shared plot style, compact tensor printing, quiet library warnings, and a fixed seed
    (what the setup cell of every notebook does, explained in notebook 01).

    In Colab it also prints one line: the helpers' version and whether a GPU is present.
    """
    # fastai 2.8 still calls torch.jit.script, which torch 2.14 marks deprecated; the warning
    # says nothing a learner can act on.
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
    use_course_style()
    torch.set_printoptions(precision=4, linewidth=110, sci_mode=False)
    import pandas as pd
    pd.set_option("display.precision", 4)
    seed_everything(seed)
    if "google.colab" in sys.modules:
        print(colab_status_line())

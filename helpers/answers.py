"""The models' answers for one digit: a line of text, and one bar chart per model (notebook 12)."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from .plotting import _as_array
from .widgets import new_figure

__all__ = ["summarise_answers", "plot_answers"]


def _as_numpy(p) -> np.ndarray:
    "A tensor, array or list as a flat NumPy array of floats."
    return _as_array(p).reshape(-1)


def summarise_answers(answers: Mapping[str, Sequence[float]]) -> str:
    """One line naming each model's most probable digit and its probability, e.g.
    ``pixel similarity 7 (31%) · linear 7 (88%) · ...`` (notebook 12)."""
    parts = []
    for name, probs in answers.items():
        p = _as_numpy(probs)
        parts.append(f"{name} {int(p.argmax())} ({p.max():.0%})")
    return " · ".join(parts)


def plot_answers(digit, answers: Mapping[str, Sequence[float]], title: str,
                 truth: int | None = None) -> Figure:
    """The digit the models read, then one bar chart per model of its ten probabilities, the
    chosen digit in colour: green when it equals `truth`, red when not, blue when no `truth`
    is given (notebook 12). Pyplot does not keep the figure (see `widgets.new_figure`)."""
    n = len(answers)
    fig = new_figure((2.3 + 2.45 * n, 2.7))
    axes = fig.subplots(1, n + 1, gridspec_kw={"width_ratios": [0.85] + [1] * n})
    img = digit.detach().cpu().numpy() if isinstance(digit, torch.Tensor) else np.asarray(digit)
    axes[0].imshow(img, cmap="Greys", vmin=0, vmax=255)
    axes[0].set_title("what they read")
    axes[0].set_xlabel("28 × 28 pixels")
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    axes[0].grid(False)
    for ax, (name, probs) in zip(axes[1:], answers.items()):
        p = _as_numpy(probs)
        best = int(p.argmax())
        colours = ["#c8c8c8"] * 10
        colours[best] = ("tab:blue" if truth is None else
                         "tab:green" if best == truth else "tab:red")
        ax.bar(range(10), p, color=colours)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(range(10))
        ax.set_title(f"{name}: {best} ({p.max():.0%})", fontsize=10)
        ax.set_xlabel("digit")
        ax.grid(axis="x", visible=False)
    axes[1].set_ylabel("probability")
    fig.suptitle(title)
    fig.tight_layout()
    return fig

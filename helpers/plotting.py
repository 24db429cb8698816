"""One look for every figure of the series: titled, labelled, readable.

`use_course_style` is called by `course_setup` at the top of each notebook. The drawing
helpers say in their docstrings which notebook first explains what they draw.
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["use_course_style", "show_digit", "show_digits", "pixel_table", "plot_function",
           "draw_broadcast", "show_preds", "draw_sgd_loop"]

DIGIT_CMAP = "Greys"


def use_course_style() -> None:
    "Set matplotlib defaults shared by all notebooks: size, grid, fonts (notebook 01's setup cell)."
    plt.rcParams.update({
        "figure.figsize": (6, 4), "figure.dpi": 90, "savefig.dpi": 90,
        "axes.titlesize": 12, "axes.titleweight": "bold", "axes.labelsize": 10,
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "figure.titlesize": 13, "figure.titleweight": "bold",
        "legend.frameon": False, "image.cmap": DIGIT_CMAP,
    })


def _as_array(img) -> np.ndarray:
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu().float().numpy()
    return np.asarray(img, dtype=float)


def show_digit(img, title: str, ax: plt.Axes | None = None, labels: bool = True) -> plt.Axes:
    """Draw one 28x28 digit in black on white with a title (notebook 01).

    Pixels between 0 and 1 (or 0 and 255) are drawn on that whole scale, 0 white and 1 (or 255)
    black, so two figures can be compared; an image with negative values is scaled to its own
    range. With `labels`, the axes say which way is a pixel row and which a column.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    pixels = _as_array(img)
    # One fixed scale for images that hold no negative values (bytes 0-255, or floats 0-1), so
    # that the darkness of two figures can be compared; other images use their own range.
    scale = {} if pixels.min() < 0 else {"vmin": 0, "vmax": 1 if pixels.max() <= 1 else 255}
    ax.imshow(pixels, cmap=DIGIT_CMAP, **scale)
    ax.set_title(title)
    ax.grid(False)
    if labels:
        ax.set_xlabel("pixel column")
        ax.set_ylabel("pixel row")
    else:
        ax.set_axis_off()  # the title stays; ticks and frame go
    return ax


def show_digits(imgs: Sequence, titles: Sequence[str], suptitle: str,
                ncols: int | None = None, size: float = 1.8) -> plt.Figure:
    "Draw several digits in a grid, each with its own title, under one overall title (notebook 01)."
    n = len(imgs)
    ncols = ncols or n
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.6),
                             squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for img, title, ax in zip(imgs, titles, axes.flat):
        show_digit(img, title, ax=ax, labels=False)
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def pixel_table(img, rows: slice = slice(4, 15), cols: slice = slice(4, 22),
                title: str | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw a piece of an image as a table of its pixel values, each cell shaded by its value
    (notebook 01). The cells are labelled with the image's own row and column numbers."""
    values = _as_array(img)[rows, cols].astype(int)
    n_rows, n_cols = values.shape
    if ax is None:
        _, ax = plt.subplots(figsize=(0.42 * n_cols + 1.2, 0.36 * n_rows + 1.2))
    ax.imshow(values, cmap=DIGIT_CMAP, vmin=0, vmax=255, aspect="auto")
    for r in range(n_rows):
        for c in range(n_cols):
            v = values[r, c]
            ax.text(c, r, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > 127 else "black")
    ax.set_xticks(range(n_cols), [str(i) for i in range(cols.start, cols.start + n_cols)], fontsize=7)
    ax.set_yticks(range(n_rows), [str(i) for i in range(rows.start, rows.start + n_rows)], fontsize=7)
    ax.grid(False)
    ax.set_xlabel("pixel column")
    ax.set_ylabel("pixel row")
    ax.set_title(title or f"Pixel values, rows {rows.start}-{rows.start + n_rows - 1}, "
                          f"columns {cols.start}-{cols.start + n_cols - 1}")
    return ax


def plot_function(f: Callable, xmin: float = -2.0, xmax: float = 2.0, title: str = "",
                  xlabel: str = "x", ylabel: str = "f(x)", mark: float | None = None,
                  ax: plt.Axes | None = None, steps: int = 200) -> plt.Axes:
    """Plot `f` over [xmin, xmax], optionally marking the point at x = `mark` (notebook 03)."""
    if ax is None:
        _, ax = plt.subplots()
    x = torch.linspace(xmin, xmax, steps)
    with torch.no_grad():
        ax.plot(x.numpy(), _as_array(f(x)), lw=2)
        if mark is not None:
            y = float(f(torch.tensor(float(mark))))
            ax.scatter([mark], [y], color="tab:red", zorder=3, label=f"x = {mark:g}, f(x) = {y:g}")
            ax.legend()
    ax.set_title(title or getattr(f, "__name__", "f"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def _draw_grid(ax, values, x0: float, y0: float, faded_rows=(), color="tab:blue") -> None:
    values = np.atleast_2d(values)
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            faded = r in faded_rows
            ax.add_patch(plt.Rectangle((x0 + c, y0 - r), 1, -1, fill=True, lw=1.2,
                                       facecolor=color, alpha=0.12 if faded else 0.35,
                                       edgecolor="grey" if faded else "black",
                                       linestyle="--" if faded else "-"))
            ax.text(x0 + c + 0.5, y0 - r - 0.5, f"{v:g}", ha="center", va="center",
                    fontsize=10, color="grey" if faded else "black")


def draw_broadcast(a, b) -> plt.Figure:
    """Picture `a + b` for a matrix `a` and a row vector `b`, with `b`'s virtual copies
    drawn dashed: broadcasting repeats it along the missing axis without copying (notebook 02)."""
    a, b = np.asarray(a), np.asarray(b)
    rows, cols = a.shape
    fig, ax = plt.subplots(figsize=(10, 2.8))
    gap = 1.6
    _draw_grid(ax, a, 0, 0)
    _draw_grid(ax, np.broadcast_to(b, a.shape), cols + gap, 0, faded_rows=range(1, rows),
               color="tab:orange")
    _draw_grid(ax, a + b, 2 * (cols + gap), 0, color="tab:green")
    for i, sym in enumerate("+="):
        ax.text((i + 1) * (cols + gap) - gap / 2, -rows / 2, sym, fontsize=20, ha="center", va="center")
    for i, label in enumerate([f"a, shape {a.shape}", f"b, shape {b.shape}\n(dashed rows are not stored)",
                               f"a + b, shape {(a + b).shape}"]):
        ax.text(i * (cols + gap) + cols / 2, -rows - 0.35, label, ha="center", va="top", fontsize=10)
    ax.set_xlim(-0.3, 3 * cols + 2 * gap + 0.3)
    ax.set_ylim(-rows - 1.4, 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Broadcasting: b is stretched over a's rows, element by element")
    return fig


def show_preds(t, actual, preds, title: str = "Predictions against measurements",
               ax: plt.Axes | None = None) -> plt.Axes:
    """Scatter the measured points and the model's predictions for them (notebook 03)."""
    if ax is None:
        _, ax = plt.subplots()
    ax.scatter(_as_array(t), _as_array(actual), label="measured", s=18)
    ax.scatter(_as_array(t), _as_array(preds), color="tab:red", label="predicted", s=18)
    ax.set_title(title)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("speed")
    ax.legend(fontsize=8)
    return ax


def draw_sgd_loop() -> plt.Figure:
    """The seven steps of stochastic gradient descent as a loop diagram (notebook 03)."""
    steps = ["1. initialise\nthe weights", "2. predict", "3. measure\nthe loss",
             "4. compute the\ngradients", "5. step the\nweights", "6. repeat", "7. stop"]
    xs = [0, 2.5, 5.0, 7.7, 10.4, 5.0, 13.0]
    ys = [0, 0, 0, 0, 0, -1.6, 0]
    half = [0.85, 0.65, 0.8, 1.05, 0.8, 0.65, 0.55]  # half-widths of the boxes, for the arrows
    fig, ax = plt.subplots(figsize=(11, 3))
    for (x, y, s) in zip(xs, ys, steps):
        ax.text(x, y, s, ha="center", va="center", fontsize=10,
                bbox=dict(boxstyle="round,pad=0.5", fc="#dbe9f6" if s[0] not in "67" else "#fde3c8",
                          ec="black"))

    def arrow(x0, y0, x1, y1, rad=0.0):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", lw=1.5, connectionstyle=f"arc3,rad={rad}"))
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6)]:
        arrow(xs[a] + half[a] + 0.1, 0, xs[b] - half[b] - 0.1, 0)
    arrow(xs[4], -0.45, xs[5] + half[5] + 0.1, -1.6, rad=-0.2)   # step -> repeat
    arrow(xs[5] - half[5] - 0.1, -1.6, xs[1], -0.4, rad=-0.2)    # repeat -> predict
    ax.text((xs[4] + xs[6]) / 2, 0.35, "good enough?", ha="center", fontsize=9, style="italic")
    ax.set_xlim(-1.2, 14.0)
    ax.set_ylim(-2.3, 0.8)
    ax.axis("off")
    ax.set_title("Stochastic gradient descent: seven steps, most of them in a loop")
    return fig


# fastai's progress as text moved to helpers/progress.py; notebooks 05 to 07 import it from here.
from .progress import text_progress  # noqa: E402,F401

"""Sliders that steer gradient descent on notebook 03's roller coaster (notebook 03).

`run_sgd` replays notebook 03's seven steps for any learning rate and number of steps;
`sgd_explorer` puts two sliders over its figure (`SgdExplorer`), and `sgd_regimes` draws the
still version, three settings side by side. The sliders are ipywidgets' own, which JupyterLab
and Colab both show without any setup; where widgets can't run, the explorer's plain text and
the still picture stand in for them.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import ipywidgets
import numpy as np
import torch
from matplotlib.figure import Figure

from .plotting import _as_array
from .widgets import figure_to_data_url, new_figure

__all__ = ["run_sgd", "sgd_verdict", "plot_sgd_run", "SgdExplorer", "sgd_explorer", "sgd_regimes"]


def _as_numpy(p) -> np.ndarray:
    "A tensor, array or list as a flat NumPy array of floats."
    return _as_array(p).reshape(-1)


def run_sgd(model: Callable, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
            params: torch.Tensor, lr: float, steps: int) -> tuple[torch.Tensor, list[float]]:
    """Notebook 03's steps 2 to 5, `steps` times, from a copy of `params`: returns the final
    weights and the loss before the first step and after each step (`steps + 1` numbers, fewer
    if the loss overflows). `params` itself is left untouched (notebook 03)."""
    p = params.detach().clone().requires_grad_()
    losses = []
    for i in range(steps + 1):
        loss = loss_fn(model(x, p), y)
        losses.append(loss.item())
        if i == steps or not math.isfinite(losses[-1]):
            break
        loss.backward()
        with torch.no_grad():
            p -= lr * p.grad
        p.grad = None
    return p.detach(), losses


def sgd_verdict(losses: Sequence[float]) -> str:
    """What a loss curve says about its learning rate, in a few words (notebook 03):
    it diverges (the loss ended higher than it started), it is still falling (by more than 5%
    over the last quarter of the steps, or 0.5% in the last step: too small a rate, or too few
    steps), or it has levelled off."""
    first, last = losses[0], losses[-1]
    if not math.isfinite(last) or last > first:
        return "diverges"
    quarter = losses[max(0, len(losses) * 3 // 4 - 1)]   # the loss three quarters of the way in
    if len(losses) > 1 and (quarter - last > 0.05 * last or losses[-2] - last > 0.005 * last):
        return "too small (or too few steps): still falling"
    return "levelled off"


def plot_sgd_run(model: Callable, x, y, w: torch.Tensor, losses: Sequence[float], lr: float,
                 axes=None, label: str | None = None) -> Figure | None:
    """Two panels for one run: the fitted curve against the data, and the loss after each step
    on a log scale (notebook 03). Draws on `axes` (two axes) if given, else on a new figure."""
    fig = None
    if axes is None:
        fig = new_figure((11, 3.6))
        axes = fig.subplots(1, 2)
    ax_fit, ax_loss = axes
    xs, ys = _as_numpy(x), _as_numpy(y)
    steps = len(losses) - 1
    verdict = label or sgd_verdict(losses)
    ax_fit.scatter(xs, ys, s=18, label="measured")
    pad = 0.25 * (ys.max() - ys.min())
    low, high = ys.min() - pad, ys.max() + pad      # a diverging curve leaves this range
    missing = None                                  # why the model's curve can't be seen, if so
    if bool(torch.isfinite(w).all()):
        with torch.no_grad():
            fine = torch.linspace(float(xs.min()), float(xs.max()), 100)
            curve = _as_numpy(model(fine, w))
        inside = (curve >= low) & (curve <= high)
        ax_fit.plot(fine.numpy(), curve, color="tab:red", lw=2,
                    label="model" if inside.all() else "model (partly off the chart)"
                    if inside.any() else "model (off the chart)")
        if not inside.any():
            missing = "the model's curve is off the chart"
    else:
        missing = "the model's numbers overflowed: no curve to draw"
    if missing:
        ax_fit.text(0.5, 0.06, missing, transform=ax_fit.transAxes, ha="center", fontsize=9,
                    color="tab:red")
    ax_fit.set_ylim(low, high)
    ax_fit.set(title=f"lr = {lr:.1e}, after {steps} steps: {verdict}", xlabel="time (s)",
               ylabel="speed")
    ax_fit.legend(fontsize=8, loc="upper center")
    shown = [v if math.isfinite(v) else np.nan for v in losses]
    ax_loss.plot(range(len(shown)), shown, "o-", ms=2.5, lw=1, color="tab:purple")
    ax_loss.set_yscale("log")
    last = losses[-1]
    size = lambda v: f"{v:,.0f}" if v < 1e7 else f"{v:.1e}"
    ax_loss.set(title=f"loss: {size(losses[0])} at the start, {size(last)} at the end"
                if math.isfinite(last) else f"loss: {size(losses[0])} at the start, then overflow",
                xlabel="step", ylabel="loss (MSE, log scale)")
    if fig is not None:
        fig.tight_layout()
    return fig


class SgdExplorer(ipywidgets.VBox):
    """Two sliders, the learning rate (on a log scale) and the number of steps, over a figure
    of the fit and the loss curve that is redrawn whenever a slider is released (notebook 03).

    Made by `sgd_explorer`. The figure is an image inside an HTML widget rather than the output
    of `interact`, so that running the notebook in a test gives the same outputs as running it
    in JupyterLab. `verdict` says what the last run did, in the words of `sgd_verdict`.
    """

    def __init__(self, model, loss_fn, x, y, params, lr=1e-5, steps=40, lr_range=(-7, -4),
                 max_steps=200):
        wide = ipywidgets.Layout(width="480px")
        style = {"description_width": "initial"}
        self.lr = ipywidgets.FloatLogSlider(value=lr, base=10, min=lr_range[0], max=lr_range[1],
                                            step=0.05, description="learning rate",
                                            readout_format=".1e", continuous_update=False,
                                            style=style, layout=wide)
        self.steps = ipywidgets.IntSlider(value=steps, min=1, max=max_steps, step=1,
                                          description="steps", continuous_update=False,
                                          style=style, layout=wide)
        self.figure = ipywidgets.HTML()
        super().__init__([self.lr, self.steps, self.figure])
        self.add_class("sgd-explorer")
        self._run = (model, loss_fn, x, y, params)
        self.verdict = ""
        self.lr.observe(lambda change: self.redraw(), names="value")
        self.steps.observe(lambda change: self.redraw(), names="value")
        self.redraw()

    def redraw(self) -> None:
        "Run gradient descent with the sliders' values and show the new figure."
        model, loss_fn, x, y, params = self._run
        lr, steps = self.lr.value, self.steps.value
        w, losses = run_sgd(model, loss_fn, x, y, params, lr, steps)
        self.verdict = sgd_verdict(losses)
        url = figure_to_data_url(plot_sgd_run(model, x, y, w, losses, lr), dpi=80)
        self.figure.value = (f'<img class="sgd-explorer-figure" src="{url}" '
                             f'alt="the fit and the loss after {steps} steps at learning rate {lr:.1e}">')

    def __repr__(self) -> str:
        return "SgdExplorer (two sliders and a figure: move them in JupyterLab or Colab)"


def sgd_explorer(model: Callable, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
                 params: torch.Tensor, lr: float = 1e-5, steps: int = 40,
                 lr_range: tuple[int, int] = (-7, -4), max_steps: int = 200) -> SgdExplorer:
    """Sliders that rerun gradient descent from `params` with the chosen learning rate (from
    10**lr_range[0] to 10**lr_range[1]) and number of steps, and redraw the fitted curve and the
    loss curve: `interact` made for this demo (notebook 03)."""
    return SgdExplorer(model, loss_fn, x, y, params, lr=lr, steps=steps, lr_range=lr_range,
                       max_steps=max_steps)


def sgd_regimes(model: Callable, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
                params: torch.Tensor, settings: Sequence[tuple[float, str]], steps: int = 40) -> Figure:
    """The still version of `sgd_explorer`: one column per (learning rate, label) in
    `settings`, the fit on top and the loss curve below, all after `steps` steps (notebook 03)."""
    fig = new_figure((4.1 * len(settings), 6.4))
    axes = fig.subplots(2, len(settings), squeeze=False)
    for col, (lr, label) in enumerate(settings):
        w, losses = run_sgd(model, loss_fn, x, y, params, lr, steps)
        plot_sgd_run(model, x, y, w, losses, lr, axes=(axes[0, col], axes[1, col]), label=label)
        axes[0, col].set_title(f"lr = {lr:.0e}: {label}", fontsize=11)
        axes[1, col].title.set_fontsize(10)
    fig.suptitle(f"{steps} steps of gradient descent from the same start, three learning rates")
    fig.tight_layout()
    return fig

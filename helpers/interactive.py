"""Pieces a learner can touch: a canvas to draw a digit on (notebook 12), and sliders that steer
gradient descent on notebook 03's roller coaster.

* `DigitCanvas` is a small custom widget made with anywidget: its browser code (the `_ESM`
  string below) travels to the browser with the widget itself, so it needs no download from a
  CDN and works offline in JupyterLab; in Colab, anywidget switches on Colab's support for
  custom widgets by itself. The learner draws with a mouse, a pen or a finger (pointer events);
  "predict" sends the drawing to Python, which answers in the widget.
* `plot_answers` draws each model's ten probabilities as bars beside the digit it read.
* `run_sgd`, `sgd_explorer` and `sgd_regimes` replay notebook 03's seven steps for any learning
  rate and number of steps: live with two sliders (`SgdExplorer`), or as a still picture of
  three settings.

Every figure here is let go by pyplot as soon as it is made, so that a figure made inside a
widget's callback never turns up later in some other cell's output.
"""
from __future__ import annotations

import base64
import io
import math
from typing import Callable, Mapping, Sequence

import anywidget
import ipywidgets
import numpy as np
import torch
import traitlets
from matplotlib.figure import Figure

from .drawing import EmptyDrawingError

__all__ = ["DigitCanvas", "ink_from_data_url", "ink_to_data_url", "figure_to_data_url",
           "plot_answers", "summarise_answers", "run_sgd", "sgd_verdict", "plot_sgd_run",
           "SgdExplorer", "sgd_explorer", "sgd_regimes"]


def _new_figure(figsize) -> Figure:
    """A figure that pyplot does not keep: shown when a cell returns it, never shown again by
    a later cell. Made through pyplot (then let go) so that pyplot picks its backend first:
    the notebook's inline backend is what teaches IPython to show a returned figure."""
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=figsize)
    plt.close(fig)
    return fig


# ---------------------------------------------------------------------------------------------
# Drawings and figures as data URLs: the form a browser sends and shows
# ---------------------------------------------------------------------------------------------

def ink_from_data_url(url: str, size: int | None = None) -> np.ndarray:
    """The ink of a canvas picture sent as a PNG data URL: 0 where it is white, 1 where it is
    black, float32 of shape (height, width); all zeros for an empty string (notebook 12)."""
    from PIL import Image
    if not url:
        return np.zeros((size or 280, size or 280), dtype=np.float32)
    _, _, payload = url.partition("base64,")
    img = Image.open(io.BytesIO(base64.b64decode(payload)))
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert("RGBA"))  # see-through counts as paper
    grey = np.asarray(img.convert("L"), dtype=np.float32)
    return 1 - grey / 255


def ink_to_data_url(ink: np.ndarray) -> str:
    "A PNG data URL showing `ink` (0 = blank, 1 = ink) as black on white, as the canvas draws it (notebook 12)."
    from PIL import Image
    grey = np.round((1 - np.clip(np.asarray(ink, dtype=np.float32), 0, 1)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_to_data_url(fig: Figure, dpi: int = 80) -> str:
    "A matplotlib figure as a PNG data URL, for showing inside a widget (notebook 12)."
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ---------------------------------------------------------------------------------------------
# The models' answers, as bars
# ---------------------------------------------------------------------------------------------

def _as_numpy(p) -> np.ndarray:
    if isinstance(p, torch.Tensor):
        p = p.detach().cpu().float().numpy()
    return np.asarray(p, dtype=float).reshape(-1)


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
    is given (notebook 12)."""
    n = len(answers)
    fig = _new_figure((2.3 + 2.45 * n, 2.7))
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


# ---------------------------------------------------------------------------------------------
# The canvas widget
# ---------------------------------------------------------------------------------------------

# The browser side, an ES module in anywidget's format: `render` builds the canvas, the two
# buttons and the answer area inside `el`, and talks to Python through the synced traits.
_ESM = r"""
function render({ model, el }) {
  const size = model.get("size");
  const root = document.createElement("div");
  root.className = "mnist-draw";

  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "mnist-draw-canvas";
  canvas.setAttribute("aria-label", "Draw a digit here");
  canvas.setAttribute("role", "img");
  const ctx = canvas.getContext("2d");

  const buttons = document.createElement("div");
  buttons.className = "mnist-draw-buttons";
  const clear = document.createElement("button");
  clear.textContent = "clear";
  clear.className = "mnist-draw-clear";
  const predict = document.createElement("button");
  predict.textContent = "predict";
  predict.className = "mnist-draw-predict";
  buttons.append(clear, predict);

  const answer = document.createElement("div");
  answer.className = "mnist-draw-answer";
  answer.setAttribute("aria-live", "polite");
  const result = document.createElement("div");   // holds the answer's picture, once there is one
  result.className = "mnist-draw-result";

  const left = document.createElement("div");
  left.className = "mnist-draw-left";
  left.append(canvas, buttons, answer);
  root.append(left, result);
  el.appendChild(root);

  let sent = model.get("drawing");   // the drawing Python has, as this view last sent or painted it
  let pen = null;                    // the last point of the stroke being drawn, or null

  function blank() {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size, size);
  }
  function paint(url) {
    blank();
    if (url) {
      const img = new Image();
      img.onload = () => ctx.drawImage(img, 0, 0, size, size);
      img.src = url;
    }
  }
  function show() {
    answer.textContent = model.get("answer");
    const url = model.get("result");
    result.replaceChildren();
    if (url) {
      const img = document.createElement("img");
      img.alt = "each model's probabilities for the digit drawn";
      img.src = url;
      result.appendChild(img);
    }
  }
  function send(extra) {
    sent = canvas.toDataURL("image/png");
    model.set("drawing", sent);
    for (const [k, v] of Object.entries(extra || {})) model.set(k, v);
    model.save_changes();
  }
  function point(e) {   // canvas pixels, whatever size the page shows it at (border excluded)
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left - canvas.clientLeft) * size / canvas.clientWidth,
            (e.clientY - r.top - canvas.clientTop) * size / canvas.clientHeight];
  }
  function dot([x, y]) {
    ctx.fillStyle = "#000000";
    ctx.beginPath();
    ctx.arc(x, y, model.get("line_width") / 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* keep drawing without it */ }
    pen = point(e);
    dot(pen);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!pen) return;
    e.preventDefault();
    const p = point(e);
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = model.get("line_width");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(pen[0], pen[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    pen = p;
  });
  const end = () => {
    if (!pen) return;
    pen = null;
    send();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  clear.addEventListener("click", () => {
    blank();
    sent = "";
    model.set("drawing", "");
    model.set("answer", "");
    model.set("result", "");
    model.save_changes();
  });
  predict.addEventListener("click", () => {
    answer.textContent = "reading…";
    send({ requests: model.get("requests") + 1 });
  });

  model.on("change:drawing", () => {
    const url = model.get("drawing");
    if (url !== sent) { sent = url; paint(url); }   // a drawing set from Python, or another view
  });
  model.on("change:answer", show);
  model.on("change:result", show);
  model.on("change:answered", show);   // the same answer again still replaces "reading…"
  paint(sent);
  show();
}
export default { render };
"""

_CSS = """
.mnist-draw { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.mnist-draw-left { display: flex; flex-direction: column; gap: 6px; }
.mnist-draw-canvas { border: 2px solid #888; border-radius: 4px; cursor: crosshair;
                     touch-action: none; background: #fff; width: 280px; height: 280px; }
.mnist-draw-buttons { display: flex; gap: 8px; }
.mnist-draw-buttons button { font-size: 14px; padding: 4px 14px; cursor: pointer; }
.mnist-draw-answer { font-family: monospace; font-size: 13px; max-width: 280px; min-height: 1.2em; }
.mnist-draw-result img { max-width: 100%; }
"""


class DigitCanvas(anywidget.AnyWidget):
    """A canvas to draw a digit on, with "clear" and "predict" buttons (notebook 12).

    `reader` is called with the drawing's ink, a float array (size, size) with 0 for paper
    and 1 for ink, whenever "predict" is pressed; it returns a line of text and a matplotlib
    figure (or None), which the widget shows. An empty canvas, or a reader that fails, is
    answered with the error's message instead. `ink`, if given, is a first drawing, already
    read when the widget appears.
    """
    _esm = _ESM
    _css = _CSS
    size = traitlets.Int(280).tag(sync=True)
    line_width = traitlets.Float(22.0).tag(sync=True)
    drawing = traitlets.Unicode("").tag(sync=True)   # the canvas as a PNG data URL ("" = empty)
    requests = traitlets.Int(0).tag(sync=True)       # how many times "predict" was pressed
    answer = traitlets.Unicode("").tag(sync=True)    # the reader's line of text
    result = traitlets.Unicode("").tag(sync=True)    # the reader's figure as a PNG data URL
    answered = traitlets.Int(0).tag(sync=True)       # how many times Python has answered

    def __init__(self, reader: Callable | None = None, ink: np.ndarray | None = None, **kwargs):
        super().__init__(**kwargs)
        self.reader = reader
        self.observe(lambda change: self.predict(), names="requests")
        if ink is not None:
            self.drawing = ink_to_data_url(ink)
            if reader is not None:
                self.predict()

    def ink(self) -> np.ndarray:
        "The drawing on the canvas: 0 for paper, 1 for ink, shape (size, size)."
        return ink_from_data_url(self.drawing, self.size)

    def predict(self) -> None:
        "Read the drawing with `reader` and show its answer, as the button does."
        if self.reader is None:
            self.answer, self.result = "No reader was given to this canvas.", ""
            self.answered += 1
            return
        try:
            text, fig = self.reader(self.ink())
        except EmptyDrawingError as e:
            text, fig = str(e), None
        except Exception as e:  # shown in the widget, where the learner is looking
            text, fig = f"{type(e).__name__}: {e}", None
        result = figure_to_data_url(fig) if fig is not None else ""
        with self.hold_sync():  # the text and its picture reach the browser in one message
            self.result = result
            self.answer = text
            self.answered += 1

    def __repr__(self) -> str:
        return "DigitCanvas (draw a digit here when the notebook runs in JupyterLab or Colab)"


# ---------------------------------------------------------------------------------------------
# Steering SGD on notebook 03's roller coaster
# ---------------------------------------------------------------------------------------------

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
        p.data -= lr * p.grad.data
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
        fig = _new_figure((11, 3.6))
        axes = fig.subplots(1, 2)
    ax_fit, ax_loss = axes
    xs, ys = _as_numpy(x), _as_numpy(y)
    steps = len(losses) - 1
    verdict = label or sgd_verdict(losses)
    ax_fit.scatter(xs, ys, s=18, label="measured")
    finite = bool(torch.isfinite(w).all())
    if finite:
        with torch.no_grad():
            fine = torch.linspace(float(xs.min()), float(xs.max()), 100)
            ax_fit.plot(fine.numpy(), _as_numpy(model(fine, w)), color="tab:red", lw=2,
                        label="model")
    pad = 0.25 * (ys.max() - ys.min())
    ax_fit.set_ylim(ys.min() - pad, ys.max() + pad)  # a diverging curve leaves the picture
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
    fig = _new_figure((4.1 * len(settings), 6.4))
    axes = fig.subplots(2, len(settings), squeeze=False)
    for col, (lr, label) in enumerate(settings):
        w, losses = run_sgd(model, loss_fn, x, y, params, lr, steps)
        plot_sgd_run(model, x, y, w, losses, lr, axes=(axes[0, col], axes[1, col]), label=label)
        axes[0, col].set_title(f"lr = {lr:.0e}: {label}", fontsize=11)
        axes[1, col].title.set_fontsize(10)
    fig.suptitle(f"{steps} steps of gradient descent from the same start, three learning rates")
    fig.tight_layout()
    return fig

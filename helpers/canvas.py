"""A canvas to draw a digit on, and pictures of digits turned into ink (notebook 12).

`DigitCanvas` is a small custom widget made with anywidget. Its browser code lives beside this
file, in `canvas.js` (the canvas, its buttons, pointer events for a mouse, a pen or a finger)
and `canvas.css` (its look); anywidget sends both to the browser with the widget itself, so
nothing is fetched from a CDN and it works offline in JupyterLab. In Colab it needs Colab's
manager for custom widgets, which `show_widget` switches on (see `helpers.widgets`).

Pictures travel between the browser and Python as PNG data URLs; `ink_from_data_url` and
`ink_to_data_url` turn them into *ink* (0 for paper, 1 for full ink, as in `helpers.drawing`)
and back. `ink_from_image` does the same for a photo or a scan of a digit, the way in when no
widget can run.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Callable

import anywidget
import numpy as np
import traitlets

from .drawing import EmptyDrawingError
from .widgets import enable_colab_widgets, figure_to_data_url

__all__ = ["DigitCanvas", "ink_from_data_url", "ink_to_data_url", "ink_from_image"]

_HERE = Path(__file__).resolve().parent
_ESM, _CSS = _HERE / "canvas.js", _HERE / "canvas.css"
for _part in (_ESM, _CSS):
    if not _part.is_file():
        raise ImportError(f"{_part.name} is missing beside helpers/canvas.py: reinstall the course's "
                          "helpers (the canvas's browser code ships as a file of the package).")


def _paper_white(img):
    "A PIL image with see-through pixels laid on white paper, in grey levels."
    from PIL import Image
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert("RGBA"))
    return img.convert("L")


def ink_from_data_url(url: str, size: int | None = None) -> np.ndarray:
    """The ink of a canvas picture sent as a PNG data URL: 0 where it is white, 1 where it is
    black, float32 of shape (height, width); all zeros for an empty string (notebook 12)."""
    from PIL import Image
    if not url:
        return np.zeros((size or 280, size or 280), dtype=np.float32)
    _, _, payload = url.partition("base64,")
    grey = np.asarray(_paper_white(Image.open(io.BytesIO(base64.b64decode(payload)))), dtype=np.float32)
    return 1 - grey / 255


def ink_to_data_url(ink: np.ndarray) -> str:
    "A PNG data URL showing `ink` (0 = blank, 1 = ink) as black on white, as the canvas draws it (notebook 12)."
    from PIL import Image
    grey = np.round((1 - np.clip(np.asarray(ink, dtype=np.float32), 0, 1)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def ink_from_image(source) -> np.ndarray:
    """The ink of a picture of one digit: a file name, the file's bytes (what Colab's upload
    gives) or a PIL image (notebook 12).

    The most common grey level is taken as the paper: dark ink on light paper, as in a photo or
    a scan, or light ink on a dark background, as MNIST stores its digits. The result is float32
    of the picture's shape, 0 for paper and 1 for the darkest ink, ready for `prepare_digit`.
    """
    from PIL import Image
    if isinstance(source, (bytes, bytearray)):
        img = Image.open(io.BytesIO(source))
    elif isinstance(source, (str, Path)):
        img = Image.open(source)
    else:
        img = source
    grey = np.asarray(_paper_white(img), dtype=np.float32) / 255
    levels = np.bincount(np.round(grey * 255).astype(np.int64).ravel(), minlength=256)
    paper = levels.argmax() / 255
    if paper < 0.5:                                # light on dark: turn it the other way round
        grey, paper = 1 - grey, 1 - paper
    depth = paper - grey.min()
    if depth <= 0:
        return np.zeros(grey.shape, dtype=np.float32)
    return np.clip((paper - grey) / depth, 0, 1).astype(np.float32)


class DigitCanvas(anywidget.AnyWidget):
    """A canvas to draw a digit on, with "clear" and "predict" buttons (notebook 12).

    `reader` is called with the drawing's ink, a float array (size, size) with 0 for paper
    and 1 for ink, whenever "predict" is pressed; it returns a line of text and a matplotlib
    figure (or None), which the widget shows. An empty canvas, or a reader that fails, is
    answered with the error's message instead. `ink`, if given, is a first drawing, already
    read when the widget appears. Show it with `show_widget(canvas)`, which also works in Colab.
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
        enable_colab_widgets()   # before the widget's first message to Colab's browser side
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

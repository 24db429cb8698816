"""A drawing, prepared the way MNIST's digits were, so that a model trained on MNIST can read it
(notebook 12).

MNIST's makers took each scanned digit, cropped it to its ink, scaled it to fit a 20x20 box
without changing its shape, and pasted it into a 28x28 square so that its centre of mass sits
on the middle pixel. A model trained on those images expects exactly that; a drawing from a
canvas has to go through the same steps:

    crop_to_ink      the smallest rectangle that holds the ink
    fit_in_box       longer side scaled to 20 pixels, aspect ratio kept
    centre_by_mass   pasted into 28x28 with its centre of mass on pixel (14, 14)
    prepare_digit    the three steps, then the darkest pixel set to 255, as in MNIST

Drawings are arrays of *ink*: 0 where the paper is blank, 1 where it is fully covered.
`draw_strokes` makes such a drawing from a list of pen strokes, the way the canvas of notebook
12 does, so that examples and tests need no browser; `arc` and `move_strokes` help to write
such strokes down.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["EmptyDrawingError", "crop_to_ink", "fit_in_box", "centre_by_mass", "prepare_digit",
           "draw_strokes", "arc", "move_strokes"]


class EmptyDrawingError(ValueError):
    """A drawing with no ink in it, so there is nothing to prepare or to read (notebook 12)."""


def crop_to_ink(ink, threshold=0.1):
    "The smallest rectangle of `ink` that holds every pixel above `threshold` (notebook 12)."
    inked = ink > threshold
    rows = np.flatnonzero(inked.any(1))
    cols = np.flatnonzero(inked.any(0))
    if len(rows) == 0:
        raise EmptyDrawingError("The canvas is empty: draw a digit first, then press predict.")
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def fit_in_box(ink, box=20):
    "Scale `ink` so that its longer side is `box` pixels, keeping its aspect ratio (notebook 12)."
    h, w = ink.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL counts width first
    small = Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.BILINEAR)
    return np.clip(np.asarray(small), 0, 1)


def centre_by_mass(ink, size=28, centre=14):
    "Paste `ink` into a `size`x`size` square with its centre of mass on pixel (`centre`, `centre`) (notebook 12)."
    h, w = ink.shape
    total = ink.sum()
    row = (ink.sum(1) * np.arange(h)).sum() / total
    col = (ink.sum(0) * np.arange(w)).sum() / total
    top = int(np.clip(np.floor(centre - row + 0.5), 0, size - h))
    left = int(np.clip(np.floor(centre - col + 0.5), 0, size - w))
    square = np.zeros((size, size), dtype=np.float32)
    square[top:top + h, left:left + w] = ink
    return square


def prepare_digit(ink):
    "A drawing as an MNIST digit: cropped, fitted in 20x20, centred by mass in 28x28, uint8 with 255 at its darkest (notebook 12)."
    digit = centre_by_mass(fit_in_box(crop_to_ink(np.asarray(ink, dtype=np.float32))))
    return np.round(digit / digit.max() * 255).astype(np.uint8)


def draw_strokes(strokes: Sequence[Sequence[tuple[float, float]]], size: int = 280,
                 width: float = 22.0) -> np.ndarray:
    """Draw pen strokes on a blank `size`x`size` canvas, as the canvas of notebook 12 does.

    Each stroke is a list of (x, y) points in canvas pixels, x to the right and y down; the pen
    is `width` pixels wide with round ends. Returns the ink (0 = blank, 1 = covered) as a
    float32 array of shape (size, size), with soft edges like a browser's canvas.
    """
    k = 4  # draw four times larger, then average down: anti-aliased edges
    img = Image.new("L", (size * k, size * k), 0)
    pen = ImageDraw.Draw(img)
    r = width * k / 2
    for stroke in strokes:
        pts = [(x * k, y * k) for x, y in stroke]
        if len(pts) > 1:
            pen.line(pts, fill=255, width=max(1, round(width * k)), joint="curve")
        for x, y in pts:
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    img = img.resize((size, size), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32) / 255


def arc(cx: float, cy: float, r: float, start: float, end: float, n: int = 16) -> list[tuple[float, float]]:
    """`n` points along a circle of radius `r` around (cx, cy), from angle `start` to `end` in
    degrees, measured clockwise from the right since canvas y points down: 0 is right, 90 is
    down, -90 is up (notebook 12)."""
    angles = np.radians(np.linspace(start, end, n))
    return [(float(cx + r * np.cos(a)), float(cy + r * np.sin(a))) for a in angles]


def move_strokes(strokes, dx: float = 0.0, dy: float = 0.0, scale: float = 1.0,
                 turn: float = 0.0, about: tuple[float, float] = (140.0, 140.0)):
    """The strokes scaled by `scale` and turned `turn` degrees clockwise around the point
    `about`, then shifted by (`dx`, `dy`) pixels (notebook 12)."""
    c, s = np.cos(np.radians(turn)), np.sin(np.radians(turn))
    ax, ay = about
    moved = []
    for stroke in strokes:
        points = []
        for x, y in stroke:
            x, y = (x - ax) * scale, (y - ay) * scale
            points.append((float(ax + c * x - s * y + dx), float(ay + s * x + c * y + dy)))
        moved.append(points)
    return moved

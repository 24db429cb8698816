"""Showing a widget wherever a notebook runs, and the small pieces the course's widgets share
(notebooks 03 and 12).

JupyterLab shows every widget by itself. Colab shows ipywidgets' own widgets (the sliders of
notebook 03) by itself too, but a widget from any other package, such as the drawing canvas of
notebook 12, only after `google.colab.output.enable_custom_widget_manager()` has been called in
the session, and only when the widget is shown with `display(...)`. `show_widget` does both, and
is harmless everywhere else. Where no widget can load at all (GitHub, a notebook viewer) each
widget's plain text stands in for it.
"""
from __future__ import annotations

import base64
import importlib
import io
import sys

from matplotlib.figure import Figure

__all__ = ["in_colab", "enable_colab_widgets", "show_widget", "figure_to_data_url"]

_colab_widgets_on = False


def in_colab() -> bool:
    "Whether this kernel runs in Google Colab (notebooks 03 and 12)."
    return "google.colab" in sys.modules


def enable_colab_widgets() -> bool:
    """In Colab, switch on its manager for widgets from outside ipywidgets, once per session;
    elsewhere do nothing. Returns whether it is on (notebook 12)."""
    global _colab_widgets_on
    if not in_colab():
        return False
    if not _colab_widgets_on:
        importlib.import_module("google.colab.output").enable_custom_widget_manager()
        _colab_widgets_on = True
    return True


def show_widget(widget) -> None:
    """Show `widget` below the cell with `display(...)`, the way Colab needs, after switching on
    Colab's manager for custom widgets when running there (notebook 12)."""
    from IPython.display import display
    enable_colab_widgets()
    display(widget)


def figure_to_data_url(fig: Figure, dpi: int = 80) -> str:
    "A matplotlib figure as a PNG data URL, for showing inside a widget (notebooks 03 and 12)."
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def new_figure(figsize) -> Figure:
    """A figure that pyplot does not keep: shown when a cell returns it, never shown again by
    a later cell, even when it was made inside a widget's callback. Made through pyplot (then
    let go) so that pyplot picks its backend first: the notebook's inline backend is what
    teaches IPython to show a returned figure."""
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=figsize)
    plt.close(fig)
    return fig

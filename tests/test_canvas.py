"""Notebook 12's canvas without a browser: its pictures as data URLs, its answers to "predict",
its browser code as files of the package, the way in for a photo or a scan when no widget can
run, the models' answers as bars, and showing widgets in Colab (with a stand-in for Colab's
own module, which exists only there)."""
import base64
import io
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import helpers.widgets as widgets
from helpers.answers import plot_answers, summarise_answers
from helpers.canvas import DigitCanvas, ink_from_data_url, ink_from_image, ink_to_data_url
from helpers.drawing import EmptyDrawingError, draw_strokes, prepare_digit

SEVEN = [[(40, 40), (120, 40), (80, 130)]]
HELPERS = Path(widgets.__file__).resolve().parent
EMPTY = "The canvas is empty: draw a digit first, then press predict."


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def fake_reader(ink):
    from matplotlib.figure import Figure
    digit = prepare_digit(ink)
    fig = Figure()
    fig.subplots().imshow(digit)
    return f"ink pixels {int((digit > 0).sum())}", fig


# ---- pictures as data URLs ------------------------------------------------------------------

def test_data_urls_carry_a_drawing_both_ways():
    ink = draw_strokes(SEVEN)
    url = ink_to_data_url(ink)
    assert url.startswith("data:image/png;base64,")
    back = ink_from_data_url(url)
    assert back.shape == ink.shape and np.abs(back - ink).max() <= 1 / 255 + 1e-6
    assert ink_from_data_url("", 280).sum() == 0


def test_see_through_pixels_count_as_paper():
    img = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    img.putpixel((3, 4), (0, 0, 0, 255))
    ink = ink_from_data_url("data:image/png;base64," + base64.b64encode(png(img)).decode())
    assert ink[4, 3] == 1 and ink.sum() == 1


# ---- a photo or a scan: the way in without widgets ------------------------------------------

def test_a_photo_of_dark_ink_on_grey_paper_becomes_ink():
    grey = np.full((60, 80), 200, dtype=np.uint8)       # greyish paper, as a phone photographs it
    grey[10:50, 38:42] = 40                              # a dark stroke
    grey[20, 5] = 120                                    # a faint smudge, half as dark
    ink = ink_from_image(png(Image.fromarray(grey)))
    assert ink.shape == (60, 80) and ink.dtype == np.float32
    assert ink[30, 40] == 1 and ink[0, 0] == 0
    assert ink[20, 5] == pytest.approx(0.5)
    assert prepare_digit(ink).shape == (28, 28)


def test_an_mnist_image_white_on_black_reads_as_it_is(tmp_path):
    digit = prepare_digit(draw_strokes(SEVEN))         # white ink on black, as MNIST stores it
    path = tmp_path / "seven.png"
    Image.fromarray(digit).save(path)
    assert np.array_equal(prepare_digit(ink_from_image(path)), digit)
    assert np.array_equal(prepare_digit(ink_from_image(str(path))), digit)


def test_colour_pictures_and_see_through_backgrounds_work():
    rgb = Image.new("RGB", (50, 50), (250, 245, 230))    # cream paper, blue ink
    for y in range(10, 40):
        rgb.putpixel((25, y), (20, 30, 160))
    assert ink_from_image(rgb)[20, 25] == 1 and ink_from_image(rgb)[20, 10] == 0
    clear = Image.new("RGBA", (50, 50), (0, 0, 0, 0))   # only the strokes are opaque
    for y in range(10, 40):
        clear.putpixel((25, y), (0, 0, 0, 255))
    ink = ink_from_image(png(clear))
    assert ink[20, 25] == 1 and ink.sum() == 30


def test_a_blank_picture_is_an_empty_drawing():
    ink = ink_from_image(Image.new("L", (40, 40), 255))
    assert ink.sum() == 0
    with pytest.raises(EmptyDrawingError):
        prepare_digit(ink)


# ---- the widget, without a browser ----------------------------------------------------------

def test_the_canvas_reads_its_first_drawing_and_each_request():
    canvas = DigitCanvas(fake_reader, ink=draw_strokes(SEVEN))
    assert canvas.answer.startswith("ink pixels ")
    assert canvas.result.startswith("data:image/png;base64,")
    first = canvas.answer
    canvas.drawing = ink_to_data_url(draw_strokes([[(140, 40), (140, 240)]]))
    canvas.requests += 1                           # what pressing "predict" does
    assert canvas.answer != first
    assert np.abs(canvas.ink() - draw_strokes([[(140, 40), (140, 240)]])).max() <= 1 / 255 + 1e-6


def test_predict_on_an_empty_canvas_gives_the_message_not_a_guess():
    canvas = DigitCanvas(fake_reader)
    canvas.requests += 1
    assert canvas.answer == EMPTY
    assert canvas.result == ""


def test_a_failing_reader_is_shown_in_the_widget():
    def broken(ink):
        raise RuntimeError("no model yet")
    canvas = DigitCanvas(broken, ink=draw_strokes(SEVEN))
    assert canvas.answer == "RuntimeError: no model yet"


def test_a_canvas_without_a_reader_says_so():
    canvas = DigitCanvas(ink=draw_strokes(SEVEN))
    assert canvas.answer == ""                     # nothing read yet, nothing claimed
    canvas.requests += 1
    assert canvas.answer == "No reader was given to this canvas."


def test_every_request_is_answered_even_with_the_same_answer():
    "The browser shows 'reading…' until Python answers; an unchanged answer must still count."
    canvas = DigitCanvas(fake_reader, ink=draw_strokes(SEVEN))
    answered, answer = canvas.answered, canvas.answer
    canvas.requests += 1
    assert canvas.answer == answer and canvas.answered == answered + 1


def test_the_browser_code_is_a_file_of_the_package_that_travels_with_the_widget():
    "Nothing for the browser to fetch: no imports, no addresses; the files are what it gets."
    canvas = DigitCanvas()
    esm, css = str(canvas._esm), str(canvas._css)
    assert esm == (HELPERS / "canvas.js").read_text() and css == (HELPERS / "canvas.css").read_text()
    assert "export default" in esm and "function render" in esm
    assert "import " not in esm and "http" not in esm and "http" not in css
    for event in ("pointerdown", "pointermove", "pointerup"):
        assert event in esm                         # mouse, pen and touch alike
    for name in ("mnist-draw", "mnist-draw-canvas", "mnist-draw-answer", "mnist-draw-result"):
        assert f'"{name}"' in esm and f".{name} " in css   # the style sheet styles what the code makes


def test_the_browser_files_ship_with_the_package():
    "pyproject.toml's package data must name canvas.js and canvas.css, or Colab's install lacks them."
    import tomllib
    config = tomllib.loads((HELPERS.parent / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["helpers"]
    shipped = {p.name for pattern in patterns for p in HELPERS.glob(pattern)}
    assert {"canvas.js", "canvas.css"} <= shipped


def test_its_text_stands_in_for_it_where_widgets_cannot_run():
    data, _ = DigitCanvas()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("DigitCanvas (draw a digit here")


# ---- showing widgets in Colab ----------------------------------------------------------------

@pytest.fixture
def colab(monkeypatch):
    """A stand-in for Colab's `google.colab.output`, recording the calls to
    `enable_custom_widget_manager`, and for IPython's `display`, recording what it shows."""
    calls = []
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enable")
    output._widgets = types.SimpleNamespace(_installed_url=None)   # what anywidget looks at
    google.colab, colab.output = colab, output
    for name, mod in [("google", google), ("google.colab", colab), ("google.colab.output", output)]:
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setattr(widgets, "_colab_widgets_on", False)
    import anywidget._util   # anywidget switches it on too, once per process: start afresh
    once = getattr(anywidget._util, "enable_custom_widget_manager_once", None)
    if once is not None:
        once.cache_clear()
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda obj: calls.append(("display", obj)))
    return calls


def test_in_colab_the_canvas_is_shown_with_display_after_switching_custom_widgets_on(colab):
    assert widgets.in_colab()
    canvas = DigitCanvas(fake_reader)
    assert colab and set(colab) == {"enable"}      # switched on as soon as the canvas exists
    widgets.show_widget(canvas)
    assert colab[-1] == ("display", canvas)       # shown through display(), as Colab needs
    second = DigitCanvas()
    widgets.show_widget(second)
    assert [c for c in colab if c != "enable"] == [("display", canvas), ("display", second)]


def test_our_switch_is_called_once_per_session(colab):
    assert widgets.enable_colab_widgets() and widgets.enable_colab_widgets()
    assert colab == ["enable"]


def test_outside_colab_nothing_is_switched_on(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    shown = []
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", shown.append)
    assert not widgets.in_colab() and widgets.enable_colab_widgets() is False
    canvas = DigitCanvas()
    widgets.show_widget(canvas)
    assert shown == [canvas]


def test_the_sliders_need_nothing_from_colab(colab):
    "ipywidgets' own widgets are shown by Colab as they are: the sliders never switch anything on."
    from helpers.sliders import sgd_explorer
    t = torch.arange(0, 20).float()
    sgd_explorer(lambda x, p: p[0] * x**2 + p[1] * x + p[2], lambda a, b: ((a - b)**2).mean(),
                 t, 0.75 * (t - 9.5)**2, torch.zeros(3), steps=2)
    assert colab == []


# ---- the models' answers as bars ------------------------------------------------------------

def test_summary_and_bars_name_each_models_choice():
    probs = torch.full((10,), 0.02)
    probs[7] = 0.82
    answers = {"linear": probs, "CNN": np.eye(10)[1]}
    assert summarise_answers(answers) == "linear 7 (82%) · CNN 1 (100%)"
    fig = plot_answers(prepare_digit(draw_strokes(SEVEN)), answers, "A seven", truth=7)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["what they read", "linear: 7 (82%)", "CNN: 1 (100%)"]
    assert fig._suptitle.get_text() == "A seven"
    assert all(ax.get_xlabel() for ax in fig.axes)
    assert fig.axes[1].get_ylabel() == "probability"
    colours = [tuple(round(c, 3) for c in bar.get_facecolor()[:3]) for bar in fig.axes[1].patches]
    assert colours[7] != colours[1]                # the chosen digit stands out


def test_figures_for_widgets_are_not_kept_by_pyplot():
    "A figure drawn in a widget's callback must not turn up in a later cell's output."
    import matplotlib.pyplot as plt
    open_before = plt.get_fignums()
    plot_answers(prepare_digit(draw_strokes(SEVEN)), {"CNN": np.eye(10)[7]}, "A seven")
    assert plt.get_fignums() == open_before


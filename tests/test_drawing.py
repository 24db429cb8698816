"""Preparing a drawing the way MNIST's digits were prepared (notebook 12), the canvas widget
without a browser, and the SGD sliders of notebook 03 without a front end."""
import math
import sys
import types

import numpy as np
import pytest
import torch

from helpers.drawing import (EmptyDrawingError, centre_by_mass, crop_to_ink, draw_strokes,
                             fit_in_box, prepare_digit)

SEVEN = [[(40, 40), (120, 40), (80, 130)]]


def centre_of_mass(img):
    m = np.asarray(img, dtype=float)
    rows = (m.sum(1) * np.arange(m.shape[0])).sum() / m.sum()
    cols = (m.sum(0) * np.arange(m.shape[1])).sum() / m.sum()
    return rows, cols


def ink_box(img, threshold=0):
    rows = np.flatnonzero((np.asarray(img) > threshold).any(1))
    cols = np.flatnonzero((np.asarray(img) > threshold).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def shifted(strokes, dx, dy):
    return [[(x + dx, y + dy) for x, y in s] for s in strokes]


# ---- preparation ---------------------------------------------------------------------------

def test_an_off_centre_stroke_is_centred_by_mass():
    ink = draw_strokes(SEVEN)                       # a 7 in the top-left corner of the canvas
    assert centre_of_mass(ink)[0] < 100 and centre_of_mass(ink)[1] < 100
    digit = prepare_digit(ink)
    rows, cols = centre_of_mass(digit)
    assert abs(rows - 14) <= 0.5 and abs(cols - 14) <= 0.5
    assert max(ink_box(digit)) == 20                # its longer side fills the 20-pixel box


def test_where_the_digit_was_drawn_does_not_matter():
    a = prepare_digit(draw_strokes(SEVEN))
    b = prepare_digit(draw_strokes(shifted(SEVEN, 130, 120)))   # bottom-right corner instead
    assert np.array_equal(a, b)


def test_a_wide_digit_keeps_its_aspect_ratio():
    # a flat loop, 200 pixels wide and 60 tall (plus the pen's width)
    loop = [[(40, 110), (240, 110), (240, 170), (40, 170), (40, 110)]]
    ink = draw_strokes(loop, width=20)
    h, w = ink_box(ink, 0.1)
    digit = prepare_digit(ink)
    dh, dw = ink_box(digit, 0)
    assert dw == 20
    assert abs(dh - 20 * h / w) <= 1.5             # 80/220 of 20 is about 7, not stretched to 20
    assert dh < 10


def test_a_tall_thin_one_stays_thin():
    digit = prepare_digit(draw_strokes([[(140, 40), (140, 240)]], width=20))
    dh, dw = ink_box(digit, 0)
    assert dh == 20 and dw <= 4


def test_an_empty_canvas_says_so_in_one_sentence():
    with pytest.raises(EmptyDrawingError) as info:
        prepare_digit(np.zeros((280, 280), dtype=np.float32))
    message = str(info.value)
    assert message == "The canvas is empty: draw a digit first, then press predict."
    assert isinstance(info.value, ValueError)


def test_faint_smudges_alone_count_as_empty():
    smudge = np.full((280, 280), 0.05, dtype=np.float32)
    with pytest.raises(EmptyDrawingError):
        prepare_digit(smudge)


def test_the_result_looks_like_an_mnist_image():
    digit = prepare_digit(draw_strokes(SEVEN))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit.max() == 255                      # every MNIST digit peaks at 254 or 255
    assert digit[0].sum() == 0 and digit[:, 0].sum() == 0   # a blank margin around the box


def test_preparing_twice_changes_nothing():
    once = prepare_digit(draw_strokes(SEVEN))
    twice = prepare_digit(once.astype(np.float32) / 255)
    assert np.array_equal(once, twice)


def test_the_steps_one_by_one():
    ink = np.zeros((50, 60), dtype=np.float32)
    ink[10:20, 5:45] = 1.0
    crop = crop_to_ink(ink)
    assert crop.shape == (10, 40)
    box = fit_in_box(crop)
    assert box.shape == (5, 20)
    square = centre_by_mass(box)
    assert square.shape == (28, 28)
    rows, cols = centre_of_mass(square)
    assert abs(rows - 14) <= 0.5 and abs(cols - 14) <= 0.5


def test_centring_never_pushes_ink_off_the_square():
    lopsided = np.zeros((20, 20), dtype=np.float32)
    lopsided[:, 0] = 1.0                           # all the mass on the left edge
    square = centre_by_mass(lopsided)
    assert square.sum() == lopsided.sum()


def test_draw_strokes_has_soft_edges_and_round_ends():
    ink = draw_strokes([[(100, 140), (180, 140)]], width=20)
    assert ink.shape == (280, 280) and ink.dtype == np.float32
    assert ink.max() == 1.0 and ink.min() == 0.0
    assert ((ink > 0) & (ink < 1)).any()            # anti-aliased edge pixels
    assert ink[140, 92] > 0.5 and ink[140, 188] > 0.5   # the round cap reaches past both ends
    assert ink[140, 75] == 0


# ---- the canvas, without a browser ------------------------------------------------------------

def test_data_urls_carry_a_drawing_both_ways():
    from helpers.interactive import ink_from_data_url, ink_to_data_url
    ink = draw_strokes(SEVEN)
    url = ink_to_data_url(ink)
    assert url.startswith("data:image/png;base64,")
    back = ink_from_data_url(url)
    assert back.shape == ink.shape and np.abs(back - ink).max() <= 1 / 255 + 1e-6
    assert ink_from_data_url("", 280).sum() == 0


def test_see_through_pixels_count_as_paper():
    import base64
    import io
    from PIL import Image
    from helpers.interactive import ink_from_data_url
    img = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    img.putpixel((3, 4), (0, 0, 0, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    ink = ink_from_data_url("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    assert ink[4, 3] == 1 and ink.sum() == 1


def fake_reader(ink):
    from matplotlib.figure import Figure
    digit = prepare_digit(ink)
    fig = Figure()
    fig.subplots().imshow(digit)
    return f"ink pixels {int((digit > 0).sum())}", fig


def test_the_canvas_reads_its_first_drawing_and_each_request():
    from helpers.interactive import DigitCanvas, ink_to_data_url
    canvas = DigitCanvas(fake_reader, ink=draw_strokes(SEVEN))
    assert canvas.answer.startswith("ink pixels ")
    assert canvas.result.startswith("data:image/png;base64,")
    first = canvas.answer
    canvas.drawing = ink_to_data_url(draw_strokes([[(140, 40), (140, 240)]]))
    canvas.requests += 1                           # what pressing "predict" does
    assert canvas.answer != first


def test_predict_on_an_empty_canvas_gives_the_message_not_a_guess():
    from helpers.interactive import DigitCanvas
    canvas = DigitCanvas(fake_reader)
    canvas.requests += 1
    assert canvas.answer == "The canvas is empty: draw a digit first, then press predict."
    assert canvas.result == ""


def test_a_failing_reader_is_shown_in_the_widget():
    from helpers.interactive import DigitCanvas

    def broken(ink):
        raise RuntimeError("no model yet")
    canvas = DigitCanvas(broken, ink=draw_strokes(SEVEN))
    assert canvas.answer == "RuntimeError: no model yet"


def test_the_front_end_code_travels_with_the_widget():
    "Nothing for the browser to fetch: no imports, no addresses, in the widget's own module."
    from helpers.interactive import DigitCanvas
    esm = DigitCanvas()._esm
    assert "export default" in esm and "render" in esm
    assert "import " not in esm and "http" not in esm
    for event in ("pointerdown", "pointermove", "pointerup"):
        assert event in esm                         # mouse, pen and touch alike


def test_its_text_stands_in_for_it_where_widgets_cannot_run():
    from helpers.interactive import DigitCanvas
    data, _ = DigitCanvas()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("DigitCanvas (draw a digit here")


def test_in_colab_the_custom_widget_manager_is_switched_on(monkeypatch):
    """Colab shows third-party widgets only after `enable_custom_widget_manager()`; anywidget
    calls it itself and names the manager in the output's metadata. Checked with a stand-in
    for Colab's module (the real one exists only in Colab)."""
    import anywidget._util as util
    from helpers.interactive import DigitCanvas
    calls = []
    url = "https://example.invalid/colab-widget-manager.js"

    def enable_custom_widget_manager():
        calls.append(True)
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = enable_custom_widget_manager
    output._widgets = types.SimpleNamespace(_installed_url=url)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    util.enable_custom_widget_manager_once.cache_clear()
    try:
        canvas = DigitCanvas()
        _, metadata = canvas._repr_mimebundle_()
    finally:
        util.enable_custom_widget_manager_once.cache_clear()
    assert calls == [True]
    assert metadata["application/vnd.jupyter.widget-view+json"]["colab"] == \
        {"custom_widget_manager": {"url": url}}


# ---- the models' answers as bars ------------------------------------------------------------

def test_summary_and_bars_name_each_models_choice():
    from helpers.interactive import plot_answers, summarise_answers
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


# ---- steering SGD (notebook 03) -------------------------------------------------------------

def roller_coaster():
    "Notebook 03's data and starting weights, made the same way."
    torch.manual_seed(42)
    time = torch.arange(0, 20).float()
    speed = torch.randn(20)*3 + 0.75*(time - 9.5)**2 + 1
    params = torch.randn(3)
    return time, speed, params


def quadratic(t, params):
    a, b, c = params
    return a*t**2 + b*t + c


def mse(preds, targets):
    return ((preds - targets)**2).mean()


def test_run_sgd_replays_notebook_03():
    from helpers.interactive import run_sgd
    time, speed, params = roller_coaster()
    before = params.clone()
    w, losses = run_sgd(quadratic, mse, time, speed, params, lr=1e-5, steps=140)
    assert torch.equal(params, before)             # the caller's weights are left alone
    assert len(losses) == 141
    assert round(losses[0], 2) == 25823.81         # notebook 03: the random weights' loss
    assert round(losses[1], 2) == 5435.54          # notebook 03: "loss after one step"
    assert round(losses[139], 2) == 676.39         # notebook 03: the loss printed at step 140
    assert w.shape == (3,)


def test_the_three_regimes():
    from helpers.interactive import run_sgd, sgd_verdict
    time, speed, params = roller_coaster()
    verdict = lambda lr, steps=40: sgd_verdict(run_sgd(quadratic, mse, time, speed, params, lr, steps)[1])
    assert verdict(1e-7).startswith("too small")
    assert verdict(1e-5) == "levelled off"
    assert verdict(4e-5) == "diverges"
    assert verdict(1e-6, steps=200) == "levelled off"   # a small rate needs more steps, not a bigger one
    assert verdict(1e-7, steps=5).startswith("too small")
    assert verdict(1e-7, steps=200).startswith("too small")
    assert verdict(1e-5, steps=5).startswith("too small")   # too few steps, here


def test_a_diverging_run_stops_at_overflow_and_still_plots():
    from helpers.interactive import plot_sgd_run, run_sgd
    time, speed, params = roller_coaster()
    w, losses = run_sgd(quadratic, mse, time, speed, params, lr=1e-3, steps=200)
    assert not math.isfinite(losses[-1]) and len(losses) < 201
    fig = plot_sgd_run(quadratic, time, speed, w, losses, 1e-3)
    assert "diverges" in fig.axes[0].get_title()
    assert "overflow" in fig.axes[1].get_title()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


@pytest.mark.slow
def test_the_explorer_has_two_sliders_that_redraw():
    from helpers.interactive import sgd_explorer
    time, speed, params = roller_coaster()
    ui = sgd_explorer(quadratic, mse, time, speed, params)
    assert [s.description for s in ui.children[:2]] == ["learning rate", "steps"]
    assert ui.lr.value == pytest.approx(1e-5) and ui.steps.value == 40
    first = ui.figure.value
    assert first.startswith('<img class="sgd-explorer-figure" src="data:image/png;base64,')
    assert ui.verdict == "levelled off"
    ui.lr.value = 4e-5                             # what moving the slider does
    assert ui.figure.value != first and ui.verdict == "diverges"
    ui.lr.value, ui.steps.value = 1e-7, 200
    assert ui.verdict.startswith("too small")


def test_the_explorer_prints_the_same_text_everywhere():
    "Its text stands in for it where widgets can't run, and never holds the figure's bytes."
    from helpers.interactive import sgd_explorer
    time, speed, params = roller_coaster()
    data = sgd_explorer(quadratic, mse, time, speed, params)._repr_mimebundle_()
    assert data["text/plain"] == "SgdExplorer (two sliders and a figure: move them in JupyterLab or Colab)"


def test_the_still_picture_has_a_column_per_setting():
    from helpers.interactive import sgd_regimes
    time, speed, params = roller_coaster()
    fig = sgd_regimes(quadratic, mse, time, speed, params,
                      [(1e-7, "too small"), (1e-5, "just right"), (4e-5, "diverges")])
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == \
        ["lr = 1e-07: too small", "lr = 1e-05: just right", "lr = 4e-05: diverges"]
    assert fig._suptitle.get_text().startswith("40 steps")
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


# ---- writing strokes down -------------------------------------------------------------------

def test_arc_goes_clockwise_from_the_right():
    from helpers.drawing import arc
    pts = arc(100, 100, 10, 0, 90, n=3)
    assert pts[0] == pytest.approx((110, 100)) and pts[-1] == pytest.approx((100, 110))


def test_move_strokes_scales_turns_and_shifts():
    from helpers.drawing import move_strokes
    line = [[(140, 100), (140, 180)]]              # vertical, centred on (140, 140)
    turned = move_strokes(line, turn=90)
    assert turned[0][0] == pytest.approx((180, 140)) and turned[0][1] == pytest.approx((100, 140))
    small = move_strokes(line, dx=-50, dy=10, scale=0.5)
    assert small[0] == [pytest.approx((90, 130)), pytest.approx((90, 170))]
    assert line == [[(140, 100), (140, 180)]]       # the original is left alone


def test_every_request_is_answered_even_with_the_same_answer():
    "The browser shows 'reading…' until Python answers; an unchanged answer must still count."
    from helpers.interactive import DigitCanvas
    canvas = DigitCanvas(fake_reader, ink=draw_strokes(SEVEN))
    answered, answer = canvas.answered, canvas.answer
    canvas.requests += 1
    assert canvas.answer == answer and canvas.answered == answered + 1


def test_figures_for_widgets_are_not_kept_by_pyplot():
    "A figure drawn in a widget's callback must not turn up in a later cell's output."
    import matplotlib.pyplot as plt
    from helpers.interactive import plot_answers
    open_before = plt.get_fignums()
    plot_answers(prepare_digit(draw_strokes(SEVEN)), {"CNN": np.eye(10)[7]}, "A seven")
    assert plt.get_fignums() == open_before


def test_huge_losses_are_written_short():
    from helpers.interactive import plot_sgd_run, run_sgd
    time, speed, params = roller_coaster()
    w, losses = run_sgd(quadratic, mse, time, speed, params, lr=4.5e-5, steps=40)
    fig = plot_sgd_run(quadratic, time, speed, w, losses, 4.5e-5)
    assert fig.axes[1].get_title().startswith("loss: 25,824 at the start, ")
    assert "e+" in fig.axes[1].get_title()

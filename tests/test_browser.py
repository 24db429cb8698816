"""The course as a learner meets it: JupyterLab from the course environment, in Chromium.

Each test opens a copy of a notebook (in JupyterLab's own temporary root), clears its outputs
and runs every cell through JupyterLab's menus (Edit → Clear Outputs of All Cells, then
Run → Run All Cells, on the fresh kernel the copy opened with), then reads and uses the page as a learner would:

* notebook 01: no error output, every figure the stored notebook has drawn again, the
  distances the book prints, and no pop-up asking about Jupyter news;
* notebook 12: a "1" and a "7" drawn with mouse strokes on the canvas, "predict" pressed,
  and the CNN's answers read in the page; nothing fetched from outside the server (the
  widget's front-end code travels with the notebook, as it must in Colab offline);
* notebook 03: the learning-rate slider dragged with the mouse, and the figure redrawn.

Screenshots go to build/browser/ (ignored by git); on a failure a Playwright trace too. A run
whose kernel is lost (the page shows its status as unknown, dead or starting) fails within a minute, with
what the server logged about its kernel connections. The machinery lives in
support/jupyterlab.py, for other browser tests to share. Notebook 12
trains its models in the browser's kernel (about a minute on two cores): the whole file
takes about three minutes.
"""
from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import ROOT
from support.jupyterlab import (browser, lab, learner_view, outside_requests, page,  # noqa: F401
                                run_as_learner, screenshot)

pytestmark = pytest.mark.slow

NOTEBOOK = ROOT / "notebooks" / "01_pixel_similarity.ipynb"
NOTEBOOK_12 = ROOT / "notebooks" / "12_draw_a_digit.ipynb"
NOTEBOOK_03 = ROOT / "notebooks" / "03_gradients_sgd.ipynb"
# The book's distances of one 3 from the ideal 3 and 7 (L1 and RMSE), as notebook 01 prints them.
BOOK_DISTANCES = ["0.1114", "0.2021", "0.1586", "0.3021"]
NEWS_PROMPT = "Jupyter news"
# The only address outside the server that a notebook's page asks for: the Colab badge's
# picture in the first cell (offline it fails, and the badge shows its text).
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def where(page, name: str) -> str:
    return f"(screenshot: {screenshot(page, name).relative_to(ROOT)})"


def run_with_no_new_errors(page, lab, notebook, timeout_s: int) -> tuple[dict, dict]:
    """Run `notebook` as a learner would; fail if the page shows other error outputs than the
    stored notebook has. Returns what the stored notebook holds and what the page shows."""
    stored = run_as_learner(page, lab, notebook, timeout_s=timeout_s)
    view = learner_view(page)
    if len(view["errors"]) != stored["errors"]:
        pytest.fail(f"error output on the page {where(page, notebook.stem)}:\n" + "\n---\n".join(view["errors"]))
    return stored, view


def assert_nothing_fetched_from_outside(outside_requests) -> None:
    outside = [u for u in outside_requests if u != BADGE]
    assert not outside, f"the page fetched from outside the server: {outside}"


def test_notebook_01_in_jupyterlab(lab, page):
    stored, view = run_with_no_new_errors(page, lab, NOTEBOOK, timeout_s=300)
    distances = page.locator(".jp-OutputArea-output", has_text=BOOK_DISTANCES[0])
    if distances.count():
        distances.first.scroll_into_view_if_needed()  # what the screenshot shows
    at = where(page, NOTEBOOK.stem)
    assert view["broken_figures"] == 0, f"{view['broken_figures']} figure(s) failed to load {at}"
    assert view["figures"] == stored["images"], \
        f"{view['figures']} figures drawn, the stored notebook has {stored['images']} {at}"
    missing = [d for d in BOOK_DISTANCES if d not in view["output_text"]]
    assert not missing, f"the book's distances {missing} are not in the outputs on the page {at}"
    assert NEWS_PROMPT not in view["page_text"], f"JupyterLab asks about Jupyter news {at}"


# ---- notebook 12: draw a digit -------------------------------------------------------------------

# Strokes in the canvas's own pixels (280 × 280, x to the right, y down).
ONE = [[(150, 45), (135, 235)]]
SEVEN = [[(75, 60), (205, 60), (115, 235)]]
CANVAS_BOX_JS = """el => { const r = el.getBoundingClientRect();
    return {x: r.left + el.clientLeft, y: r.top + el.clientTop,
            w: el.clientWidth, h: el.clientHeight, size: el.width}; }"""
ANSWER_JS = """el => { const t = el.textContent; return t && t !== 'reading…'; }"""


def draw_with_mouse(page, canvas, strokes) -> None:
    "Press, move and release the mouse along each stroke, as a learner draws."
    canvas.scroll_into_view_if_needed()
    box = canvas.evaluate(CANVAS_BOX_JS)  # where the canvas is now, its border left out

    def at(x, y):
        return box["x"] + x * box["w"] / box["size"], box["y"] + y * box["h"] / box["size"]

    for stroke in strokes:
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(*point), steps=12)
        page.mouse.up()  # ends the stroke: the drawing goes to the kernel


def test_notebook_12_reads_digits_drawn_with_the_mouse(lab, page, outside_requests):
    run_with_no_new_errors(page, lab, NOTEBOOK_12, timeout_s=600)
    page.locator(".jp-CodeCell", has_text="canvas = DigitCanvas(").first.scroll_into_view_if_needed()
    with contextlib.suppress(PlaywrightTimeout):      # the widget's code may still be loading
        page.wait_for_selector(".mnist-draw", timeout=30_000)
    widget = page.locator(".mnist-draw")
    assert widget.count() == 1, f"{widget.count()} drawing canvases on the page"
    canvas, answer = widget.locator("canvas.mnist-draw-canvas"), widget.locator(".mnist-draw-answer")
    answers = {}
    for digit, strokes in [(1, ONE), (7, SEVEN)]:
        widget.locator("button.mnist-draw-clear").click()
        page.wait_for_function("el => el.textContent === ''", arg=answer.element_handle(), timeout=10_000)
        draw_with_mouse(page, canvas, strokes)
        widget.locator("button.mnist-draw-predict").click()
        page.wait_for_function(ANSWER_JS, arg=answer.element_handle(), timeout=60_000)
        answers[digit] = answer.text_content()
        screenshot(page, f"{NOTEBOOK_12.stem}-drew-{digit}")
    at = where(page, NOTEBOOK_12.stem)
    for digit, text in answers.items():
        cnn = re.search(r"CNN (\d) \(\d+%\)", text)
        assert cnn and int(cnn.group(1)) == digit, f"drew a {digit}, the page answered {text!r} {at}"
    assert widget.locator(".mnist-draw-result img").count() == 1, f"no picture of the answers {at}"
    assert_nothing_fetched_from_outside(outside_requests)


# ---- notebook 03: steer SGD ----------------------------------------------------------------------

FIGURE = ".sgd-explorer img.sgd-explorer-figure"
CHANGED_JS = """([sel, before]) => { const i = document.querySelector(sel); return i && i.src !== before; }"""


def test_notebook_03_learning_rate_slider_redraws_the_figure(lab, page, outside_requests):
    _, view = run_with_no_new_errors(page, lab, NOTEBOOK_03, timeout_s=300)
    # bring the sliders' cell into view, where the mouse will drag them
    page.locator(".jp-CodeCell", has_text="sgd_explorer(quadratic").first.scroll_into_view_if_needed()
    ui = page.locator(".sgd-explorer")
    try:
        ui.first.wait_for(timeout=30_000)
    except Exception:
        pass   # the count below says what is missing
    assert ui.count() == 1, f"{ui.count()} SGD explorers (learning-rate sliders) on the page"
    ui.scroll_into_view_if_needed()
    figure = page.locator(FIGURE)
    figure.wait_for(timeout=30_000)
    before = figure.get_attribute("src")
    slider = ui.locator(".widget-hslider").first  # the learning rate
    readout = slider.locator(".widget-readout")
    rate_before = readout.text_content()
    for attempt, to in enumerate((0.88, 0.15)):  # a second drag if the first did not take
        slider.scroll_into_view_if_needed()
        page.wait_for_timeout(500)   # let the cells around it finish rendering, so nothing moves
        handle, track = slider.locator(".noUi-handle").bounding_box(), slider.locator(".noUi-base").bounding_box()
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        page.mouse.move(track["x"] + track["width"] * to, handle["y"] + handle["height"] / 2, steps=15)
        page.mouse.up()  # the figure is redrawn when the slider is let go
        try:
            page.wait_for_function(CHANGED_JS, arg=[FIGURE, before], timeout=45_000)
            break
        except Exception:
            if attempt == 1:
                raise
    at = where(page, NOTEBOOK_03.stem)
    assert readout.text_content() != rate_before, f"the learning rate still reads {rate_before} {at}"
    assert view["broken_figures"] == 0 and learner_view(page)["broken_figures"] == 0, \
        f"a figure failed to load {at}"
    assert_nothing_fetched_from_outside(outside_requests)

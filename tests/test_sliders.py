"""Notebook 03's sliders without a front end: gradient descent replayed for any learning rate and
number of steps, the verdict on each run, the figures, and the two-slider explorer."""
import math

import pytest
import torch

from helpers.sliders import plot_sgd_run, run_sgd, sgd_explorer, sgd_regimes, sgd_verdict


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
    time, speed, params = roller_coaster()
    before = params.clone()
    w, losses = run_sgd(quadratic, mse, time, speed, params, lr=1e-5, steps=140)
    assert torch.equal(params, before)             # the caller's weights are left alone
    assert len(losses) == 141
    assert round(losses[0], 2) == 25823.81         # notebook 03: the random weights' loss
    assert round(losses[1], 2) == 5435.54          # notebook 03: "loss after one step"
    assert round(losses[139], 2) == 676.39         # notebook 03: the loss printed at step 140
    assert w.shape == (3,) and not w.requires_grad


def test_the_three_regimes():
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
    time, speed, params = roller_coaster()
    w, losses = run_sgd(quadratic, mse, time, speed, params, lr=1e-3, steps=200)
    assert not math.isfinite(losses[-1]) and len(losses) < 201
    fig = plot_sgd_run(quadratic, time, speed, w, losses, 1e-3)
    assert "diverges" in fig.axes[0].get_title()
    assert "overflow" in fig.axes[1].get_title()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


def test_huge_losses_are_written_short():
    time, speed, params = roller_coaster()
    w, losses = run_sgd(quadratic, mse, time, speed, params, lr=4.5e-5, steps=40)
    fig = plot_sgd_run(quadratic, time, speed, w, losses, 4.5e-5)
    assert fig.axes[1].get_title().startswith("loss: 25,824 at the start, ")
    assert "e+" in fig.axes[1].get_title()


@pytest.mark.slow
def test_the_explorer_has_two_sliders_that_redraw():
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
    time, speed, params = roller_coaster()
    data = sgd_explorer(quadratic, mse, time, speed, params)._repr_mimebundle_()
    assert data["text/plain"] == "SgdExplorer (two sliders and a figure: move them in JupyterLab or Colab)"


def test_the_still_picture_has_a_column_per_setting():
    time, speed, params = roller_coaster()
    fig = sgd_regimes(quadratic, mse, time, speed, params,
                      [(1e-7, "too small"), (1e-5, "just right"), (4e-5, "diverges")])
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == \
        ["lr = 1e-07: too small", "lr = 1e-05: just right", "lr = 4e-05: diverges"]
    assert fig._suptitle.get_text().startswith("40 steps")
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


def test_a_curve_off_the_chart_is_said_to_be():
    "The fit panel keeps the data's range; when the model's curve has left it, the panel says so."
    time, speed, params = roller_coaster()
    w, losses = run_sgd(quadratic, mse, time, speed, params, lr=4.5e-5, steps=40)
    ax = plot_sgd_run(quadratic, time, speed, w, losses, 4.5e-5).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["measured", "model (off the chart)"]
    assert any("off the chart" in t.get_text() for t in ax.texts)
    w, losses = run_sgd(quadratic, mse, time, speed, params, lr=1e-5, steps=40)
    ax = plot_sgd_run(quadratic, time, speed, w, losses, 1e-5).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["measured", "model"] and not ax.texts

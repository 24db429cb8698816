"""The models, losses and training loop of notebooks 04-06, and the sanitizer patterns that let
their progress output be compared (the guards' floors are in test_guards.py)."""
import contextlib
import io
import re

import pytest
import torch
from torch import nn

from conftest import ROOT
from helpers import (BasicOptim, batch_accuracy, calc_grad, init_params, linear1, mnist_loss, sigmoid,
                     simple_net, train_epoch, train_model, validate_epoch)


def test_sigmoid_is_torchs():
    x = torch.linspace(-6, 6, 25)
    assert torch.allclose(sigmoid(x), torch.sigmoid(x))


def test_mnist_loss_on_the_chapters_example():
    "Notebook 04's predictions 0.9, 0.4, 0.2 for targets 3, 7, 3, fed in as raw outputs."
    trgts = torch.tensor([1, 0, 1])
    raw = torch.logit(torch.tensor([0.9, 0.4, 0.2]))
    assert mnist_loss(raw, trgts).item() == pytest.approx(0.4333, abs=1e-4)
    raw[2] = torch.logit(torch.tensor(0.8))
    assert mnist_loss(raw, trgts).item() == pytest.approx(0.2333, abs=1e-4)


def test_batch_accuracy_thresholds_at_one_half():
    raw = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]])
    assert batch_accuracy(raw, torch.tensor([[1], [0], [0], [1]])).item() == 0.5


def test_init_params_and_linear1():
    torch.manual_seed(0)
    w = init_params((784, 1), std=0.1)
    b = init_params(1)
    assert w.requires_grad and w.shape == (784, 1) and 0.05 < w.std().item() < 0.15
    x = torch.rand(3, 784)
    one_by_one = torch.stack([(xi*w.T).sum() + b for xi in x])
    assert torch.allclose(linear1(x, w, b), one_by_one, atol=1e-5)


def test_simple_net_is_linear_relu_linear():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(784, 30), nn.ReLU(), nn.Linear(30, 1))
    w1, b1, w2, b2 = (p.detach() for p in seq.parameters())
    x = torch.rand(4, 784)
    assert torch.allclose(simple_net(x, w1.T, b1, w2.T, b2), seq(x), atol=1e-6)


def test_calc_grad_accumulates():
    w, b = torch.zeros(784, 1, requires_grad=True), torch.zeros(1, requires_grad=True)
    x, y = torch.rand(8, 784), torch.randint(0, 2, (8, 1))
    model = lambda xb: linear1(xb, w, b)
    calc_grad(x, y, model)
    once = w.grad.clone()
    calc_grad(x, y, model)
    assert torch.allclose(w.grad, 2*once)


def test_basic_optim_steps_like_torch_sgd_without_recording():
    torch.manual_seed(0)
    a, b = nn.Linear(5, 1), nn.Linear(5, 1)
    b.load_state_dict(a.state_dict())
    x, y = torch.rand(16, 5), torch.randint(0, 2, (16, 1))
    ours, theirs = BasicOptim(a.parameters(), 0.5), torch.optim.SGD(b.parameters(), lr=0.5)
    for _ in range(3):
        for model, opt in ((a, ours), (b, theirs)):
            calc_grad(x, y, model)
            opt.step()
            opt.zero_grad()
    assert all(torch.allclose(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert all(p.grad is None and p.is_leaf for p in a.parameters())


def sanitize(text):
    "Apply tests/sanitize.cfg as nbval does, read by nbval's own parser."
    from nbval.plugin import get_sanitize_patterns
    for regex, replace in get_sanitize_patterns((ROOT / "tests" / "sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_train_model_prints_one_line_that_the_tests_can_compare():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    x, y = torch.rand(64, 4), (torch.rand(64, 1) > 0.5).long()
    dl, valid_dl = [(x[:32], y[:32]), (x[32:], y[32:])], [(x, y)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        accs = train_model(model, 3, dl, valid_dl, BasicOptim(model.parameters(), 0.1))
    assert len(accs) == 3 and accs[-1] == validate_epoch(model, valid_dl)
    assert out.getvalue() == "validation accuracy per epoch: " + " ".join(map(str, accs)) + "\n"
    assert sanitize(out.getvalue()) == "validation accuracy per epoch: FIGURES\n"
    with contextlib.redirect_stdout(io.StringIO()):
        train_epoch(model, dl, BasicOptim(model.parameters(), 0.1))  # prints nothing, returns nothing


@pytest.mark.slow
def test_text_progress_prints_lines_that_the_tests_can_compare():
    "fastai's progress as text (notebooks 05 and 06): after sanitizing, only the structure is left."
    import fastai.callback.progress as progress
    from fastai.vision.all import SGD, DataLoader, DataLoaders, Learner
    from helpers.plotting import text_progress
    saved = progress.master_bar, progress.progress_bar
    try:
        text_progress()
        torch.manual_seed(0)
        x = torch.rand(64, 4)
        ds = list(zip(x, (x.sum(1, keepdim=True) > 2).long()))
        dls = DataLoaders(DataLoader(ds, batch_size=16, shuffle=True), DataLoader(ds, batch_size=32))
        learn = Learner(dls, nn.Linear(4, 1), opt_func=SGD, loss_func=mnist_loss, metrics=batch_accuracy)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            learn.fit(3, 0.1)
    finally:
        progress.master_bar, progress.progress_bar = saved
    lines = sanitize(out.getvalue()).splitlines()
    assert lines[0].split() == ["epoch", "train_loss", "valid_loss", "batch_accuracy", "time"]
    assert [line.split() for line in lines[1:]] == [[str(i), "FIGURES", "MM:SS"] for i in range(3)]


def test_the_progress_patterns_leave_other_output_alone():
    "Only the time column of a progress row is blanked: a time or figure anywhere else is compared."
    text = ("3 0.123456 0.234567\n0.123456 0.234567 00:01 later\nvalidation accuracy: 0.9876\n"
            "finished at 12:30\n7 epochs in 01:02 s\n")
    assert sanitize(text) == text
    assert sanitize("2  0.123456  0.234567  00:03  \n") == "2  FIGURES  MM:SS  \n"

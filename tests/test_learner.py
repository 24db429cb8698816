"""The from-scratch Learner of notebook 08: events, skipping and stopping, weighted metrics, the
recorder, the optimiser against torch.optim.SGD, the schedules, and parity with fastai."""
import copy
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers import (CancelBatchException, CancelFitException, Callback, Learner, LRFinder, OneCycle,
                     SGDOptim, TensorLoader)
from helpers.learner import EVENTS


def make_data(n=64, n_valid=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n + n_valid, 10, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return (x[:n], y[:n]), (x[n:], y[n:])


def loaders(bs=16, valid_bs=16, n=64, n_valid=20):
    (tx, ty), (vx, vy) = make_data(n, n_valid)
    tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(tx, ty), batch_size=bs)
    vl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(vx, vy), batch_size=valid_bs)
    return tl, vl


def accuracy(preds, y):
    return (preds.argmax(1) == y).float().mean()


def model():
    torch.manual_seed(0)
    return nn.Linear(10, 2)


def learner(cbs=(), **kw):
    kw.setdefault("metrics", [accuracy])
    kw.setdefault("opt_func", SGDOptim)
    return Learner(loaders(**kw.pop("loader_kw", {})), model(), F.cross_entropy,
                   cbs=cbs, progress=False, device="cpu", **kw)


class Log(Callback):
    def __init__(self):
        self.events = []
    def __getattr__(self, name):
        if name in EVENTS:
            return lambda: self.events.append(name)
        raise AttributeError(name)


def test_every_event_in_order():
    log = Log()
    learn = learner([log], loader_kw=dict(bs=32, valid_bs=20))  # 2 training batches, 1 validation
    learn.fit(1, 0.1)
    train_batch = ["before_batch", "before_loss", "after_loss", "before_backward", "after_backward",
                   "before_step", "after_step", "after_batch", "cleanup_batch"]
    valid_batch = ["before_batch", "before_loss", "after_loss", "after_batch", "cleanup_batch"]
    assert log.events == (["before_fit", "before_epoch", "before_train"] + train_batch * 2 +
                          ["after_train", "cleanup_train", "before_validate"] + valid_batch +
                          ["after_validate", "cleanup_validate", "after_epoch", "cleanup_epoch",
                           "after_fit", "cleanup_fit"])
    assert set(EVENTS) == set(log.events)


def test_a_callback_can_skip_a_batch():
    class SkipFirst(Callback):
        def before_batch(self):
            if self.learn.training and self.learn.iter == 0:
                raise CancelBatchException()
    steps = []

    class CountSteps(Callback):
        def after_step(self):
            steps.append(self.learn.iter)
    learn = learner([SkipFirst(), CountSteps()])
    learn.fit(2, 0.1)
    assert steps == [1, 2, 3, 1, 2, 3]
    assert len(learn.recorder.losses) == 6  # skipped batches are not recorded


def test_a_callback_can_stop_training():
    class StopAfterFirstEpoch(Callback):
        order = 100  # after the recorder has written the epoch down
        def after_epoch(self):
            raise CancelFitException()
    log = Log()
    learn = learner([StopAfterFirstEpoch(), log])
    learn.fit(5, 0.1)
    assert len(learn.recorder.values) == 1
    assert log.events[-2:] == ["after_fit", "cleanup_fit"] and log.events.count("before_epoch") == 1


def test_metrics_are_weighted_by_batch_size():
    # validation batches of 16 and 4 images: the unweighted mean of batch means is wrong
    learn = learner(loader_kw=dict(valid_bs=16))
    learn.fit(1, 0.1)
    _, vl = loaders()
    with torch.no_grad():
        preds = torch.cat([learn.model(x) for x, _ in vl])
        y = torch.cat([y for _, y in vl])
        batch_means = [accuracy(learn.model(x), yb).item() for x, yb in vl]
    true_acc = accuracy(preds, y).item()
    assert learn.recorder.values[-1][2] == pytest.approx(true_acc, abs=1e-6)
    # float32 sums in another order: equal to a few parts in a million, not to the last digit
    assert learn.recorder.values[-1][1] == pytest.approx(F.cross_entropy(preds, y).item(), rel=1e-5)
    assert sum(batch_means) / len(batch_means) != pytest.approx(true_acc, abs=1e-6)


def test_recorder_shape_and_plot():
    import matplotlib
    matplotlib.use("Agg")
    learn = learner()
    learn.fit(3, 0.1)
    assert len(learn.recorder.values) == 3 and all(len(v) == 3 for v in learn.recorder.values)
    assert len(learn.recorder.losses) == 12 and learn.recorder.lrs == [0.1] * 12
    ax = learn.recorder.plot_loss()
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


@pytest.mark.slow
def test_progress_bar_can_be_on():
    learn = Learner(loaders(), model(), F.cross_entropy, metrics=[accuracy], device="cpu")
    learn.fit(1, 0.1)
    assert len(learn.recorder.values) == 1


@pytest.mark.parametrize("mom,wd", [(0.0, 0.0), (0.9, 0.0), (0.9, 1e-2), (0.0, 5e-2)])
def test_sgd_optim_matches_torch(mom, wd):
    a, b = model(), model()
    ours = SGDOptim(a.parameters(), lr=0.1, mom=mom, wd=wd)
    theirs = torch.optim.SGD(b.parameters(), lr=0.1, momentum=mom, weight_decay=wd)
    (x, y), _ = make_data()
    for i in range(5):
        for m, opt in ((a, ours), (b, theirs)):
            F.cross_entropy(m(x[i*8:(i+1)*8]), y[i*8:(i+1)*8]).backward()
            opt.step()
            opt.zero_grad()
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q, atol=1e-7)


@pytest.mark.slow
def test_parity_with_fastai_learner():
    "Same seed, weights, batches and plain SGD: the same losses, metric and weights as fastai."
    import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar)
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.learner import Learner as FastaiLearner
    from fastai.optimizer import SGD
    (tx, ty), (vx, vy) = make_data(96, 40)
    train = DataLoader(list(zip(tx, ty)), bs=16)
    valid = DataLoader(list(zip(vx, vy)), bs=16)
    dls = DataLoaders(train, valid)
    m0 = model()
    ours = Learner(dls, copy.deepcopy(m0), F.cross_entropy, opt_func=SGDOptim, metrics=[accuracy],
                   progress=False, device="cpu")
    ours.fit(4, 0.1)
    theirs = FastaiLearner(dls, copy.deepcopy(m0), loss_func=F.cross_entropy, opt_func=SGD,
                           metrics=[accuracy])
    with theirs.no_bar(), theirs.no_logging():
        theirs.fit(4, 0.1)
    for a, b in zip(ours.recorder.values, theirs.recorder.values):
        assert a[1] == pytest.approx(b[1], abs=1e-5)  # validation loss
        assert a[2] == pytest.approx(b[2], abs=1e-5)  # metric
    for p, q in zip(ours.model.parameters(), theirs.model.parameters()):
        assert torch.allclose(p, q, atol=1e-5)


def test_one_cycle_schedule_shape():
    oc = OneCycle(1.0, pct_start=0.25, div=25, div_final=1e4)
    assert oc.schedule(0.0)[0] == pytest.approx(1 / 25)
    assert oc.schedule(0.25)[0] == pytest.approx(1.0)
    assert oc.schedule(1.0)[0] == pytest.approx(1e-4)
    assert oc.schedule(0.0)[1] == pytest.approx(0.95) and oc.schedule(0.25)[1] == pytest.approx(0.85)
    learn = learner(loader_kw=dict(bs=8))
    learn.fit_one_cycle(2, 0.5)
    lrs = learn.recorder.lrs
    peak = lrs.index(max(lrs))
    assert 0 < peak < len(lrs) - 1 and lrs[0] < lrs[peak] and lrs[-1] < lrs[0]


def test_lr_finder_restores_the_model_and_suggests_a_rate():
    import matplotlib
    matplotlib.use("Agg")
    learn = learner(loader_kw=dict(bs=4))
    before = copy.deepcopy(learn.model.state_dict())
    learn.fit(1, 0.1)  # create the optimiser
    trained = copy.deepcopy(learn.model.state_dict())
    sug = learn.lr_find(start_lr=1e-4, end_lr=10, num_it=40, show_plot=True)
    finder = learn.lr_finder
    assert sug == finder.suggestion() and len(finder.lrs) == len(finder.losses) >= 3
    for k in trained:
        assert torch.equal(learn.model.state_dict()[k], trained[k])
    assert not all(torch.equal(before[k], trained[k]) for k in before)


def test_lr_finder_suggests_where_a_known_loss_curve_falls_fastest():
    """A made-up curve whose steepest descent is known: a smooth step down centred on 10**-1.5
    (about 0.032) on a grid of tenth-decades, flat before it and rising after 0.3, as a loss
    that diverges does. The rule must pick that learning rate, and nothing else."""
    import math
    finder = LRFinder(start_lr=1e-4, end_lr=10)
    finder.lrs = [10 ** (k / 10) for k in range(-40, 11)]
    centre = -1.5
    finder.losses = [2 - math.tanh(2 * (math.log10(lr) - centre)) + 5 * max(0.0, math.log10(lr) + 0.5) ** 2
                     for lr in finder.lrs]
    assert finder.suggestion() == pytest.approx(10 ** centre)
    # the same step moved to 10**-3: the answer moves with it
    finder.losses = [2 - math.tanh(2 * (math.log10(lr) + 3)) for lr in finder.lrs]
    assert finder.suggestion() == pytest.approx(1e-3)
    finder.lrs, finder.losses = finder.lrs[:2], finder.losses[:2]  # too short to have a slope
    assert finder.suggestion() == finder.start_lr


def test_works_with_the_tensor_loader():
    x = torch.randint(0, 256, (100, 28, 28), dtype=torch.uint8)
    y = torch.randint(0, 10, (100,))
    dls = (TensorLoader(x, y, bs=32, shuffle=True, device="cpu", seed=0, flat=True),
           TensorLoader(x[:30], y[:30], bs=32, device="cpu", flat=True))
    learn = Learner(dls, nn.Linear(784, 10), F.cross_entropy, metrics=[accuracy], progress=False,
                    device="cpu")
    learn.fit(2, 0.01)
    assert len(learn.recorder.values) == 2 and len(learn.recorder.losses) == 8


# --- bugs fixed in the rewrite of notebook 08; each test below failed on the earlier Learner ----

@pytest.mark.parametrize("opt_func", [SGDOptim, partial(torch.optim.AdamW, weight_decay=1e-4)],
                         ids=["SGDOptim", "AdamW"])
def test_lr_find_leaves_the_learning_rate_as_it_was(opt_func):
    from helpers.learner import get_hyper
    learn = learner(loader_kw=dict(bs=4), opt_func=opt_func, lr=0.05)
    learn.fit(1)
    assert get_hyper(learn.opt, "lr") == 0.05
    learn.lr_find(start_lr=1e-5, end_lr=1, num_it=20, show_plot=False)
    assert learn.lr == 0.05 and get_hyper(learn.opt, "lr") == 0.05
    learn.fit(1)  # the next fit trains at the learner's rate, not at the finder's start
    assert learn.recorder.lrs == [0.05] * len(learn.recorder.lrs)


def test_lr_given_to_fit_counts_for_that_fit_only():
    learn = learner(lr=0.05)
    learn.fit(1, lr=0.5)
    assert learn.recorder.lrs == [0.5] * 4 and learn.lr == 0.05
    learn.fit(1)
    assert learn.recorder.lrs == [0.05] * 4


@pytest.mark.parametrize("empty", ["train", "valid"])
def test_an_empty_loader_records_nan_not_zero(empty):
    import math
    (tx, ty), (vx, vy) = make_data()
    def dl(x, y):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    train = dl(tx[:0], ty[:0]) if empty == "train" else dl(tx, ty)
    valid = dl(vx[:0], vy[:0]) if empty == "valid" else dl(vx, vy)
    learn = Learner((train, valid), model(), F.cross_entropy, opt_func=SGDOptim, metrics=[accuracy],
                    progress=False, device="cpu")
    learn.fit(1, 0.1)
    train_loss, valid_loss, acc = learn.recorder.values[-1]
    if empty == "train":
        assert math.isnan(train_loss) and not math.isnan(valid_loss)
    else:
        assert math.isnan(valid_loss) and math.isnan(acc) and not math.isnan(train_loss)


class FakeBar:
    "Stands in for fastprogress's bars and remembers which are still open."
    open_bars = set()

    def __init__(self, gen, *args, **kwargs):
        self.total = len(gen)
        FakeBar.open_bars.add(self)

    def write(self, line, table=False):
        pass

    def update(self, val):
        pass

    def on_iter_begin(self):
        pass

    def on_iter_end(self):
        FakeBar.open_bars.discard(self)


@pytest.fixture
def fake_bars(monkeypatch):
    import fastprogress.fastprogress as fp
    FakeBar.open_bars = set()
    monkeypatch.setattr(fp, "master_bar", FakeBar)
    monkeypatch.setattr(fp, "progress_bar", FakeBar)
    return FakeBar


class RaiseIn(Callback):
    def __init__(self, event, exc):
        setattr(self, event, self.raise_it)
        self.exc = exc

    def raise_it(self):
        raise self.exc


@pytest.mark.parametrize("event,exc", [("before_fit", CancelFitException()),
                                       ("after_loss", CancelFitException()),
                                       ("before_validate", RuntimeError("boom")),
                                       ("after_step", KeyboardInterrupt())],
                         ids=["cancel-before_fit", "cancel-mid-batch", "error", "interrupt"])
def test_progress_bars_are_closed_on_every_exit(fake_bars, event, exc):
    learn = Learner(loaders(), model(), F.cross_entropy, opt_func=SGDOptim, metrics=[accuracy],
                    device="cpu", cbs=[RaiseIn(event, exc)])  # progress bar on
    if isinstance(exc, CancelFitException):
        learn.fit(2, 0.1)  # ends cleanly
    else:
        with pytest.raises(type(exc)):
            learn.fit(2, 0.1)
    assert fake_bars.open_bars == set()


def test_callbacks_of_one_fit_are_removed_even_when_the_optimiser_fails():
    def broken_opt(params, lr):
        raise ValueError("no optimiser today")
    learn = Learner(loaders(), model(), F.cross_entropy, opt_func=broken_opt, progress=False, device="cpu")
    before = list(learn.cbs)
    with pytest.raises(ValueError):
        learn.fit(1, 0.1, cbs=[Log()])
    assert learn.cbs == before


def test_cleanup_events_run_on_errors_and_after_events_do_not():
    log = Log()
    learn = learner([log, RaiseIn("after_loss", RuntimeError("boom"))])
    with pytest.raises(RuntimeError):
        learn.fit(1, 0.1)
    assert log.events[-4:] == ["cleanup_batch", "cleanup_train", "cleanup_epoch", "cleanup_fit"]
    assert "after_fit" not in log.events and "after_batch" not in log.events


def test_notebook_progress_output_holds_no_addresses_and_one_table(monkeypatch):
    "In a notebook the bars are HTML: check what would be stored, with IPython's display faked."
    import IPython.display
    import fastprogress.fastprogress as fp
    shown = []  # the latest content of every display

    class Handle:
        def __init__(self, i):
            self.i = i
        def update(self, obj):
            shown[self.i] = obj

    def display(obj, display_id=None, **kwargs):
        shown.append(obj)
        return Handle(len(shown) - 1)

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(fp, "master_bar", fp.NBMasterBar)
    monkeypatch.setattr(fp, "progress_bar", fp.NBProgressBar)
    monkeypatch.setattr(fp, "_style_shown", True)
    learn = Learner(loaders(), model(), F.cross_entropy, opt_func=SGDOptim, metrics=[accuracy], device="cpu")
    learn.fit(2, 0.1)
    html = [str(getattr(o, "__html__", lambda: o)()) for o in shown]
    assert not any(" object at 0x" in h for h in html), html
    tables = [h for h in html if "<table" in h]
    assert len(tables) == 1 and tables[0].count("<tr>") == 3  # header and two epochs


def test_stored_notebooks_show_no_object_addresses():
    import json
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    for name in ("08", "09", "10"):
        path = next((root / "notebooks").glob(f"{name}_*.ipynb"))
        text = json.dumps([c.get("outputs", []) for c in json.loads(path.read_text())["cells"]])
        assert " object at 0x" not in text, path.name


def test_lr_find_sets_the_progress_bar_aside_and_puts_it_back():
    "Its table would show epochs without a validation pass (NaN): the finder runs without a bar."
    from helpers.learner import ProgressCallback
    bars_seen = []

    class Spy(Callback):
        def before_fit(self):
            bars_seen.append(sum(isinstance(cb, ProgressCallback) for cb in self.learn.cbs))

    learn = Learner(loaders(bs=4), model(), F.cross_entropy, opt_func=SGDOptim, metrics=[accuracy],
                    cbs=[Spy()], device="cpu")  # progress=True: the learner has a bar
    learn.lr_find(start_lr=1e-4, end_lr=1, num_it=10, show_plot=False)
    assert bars_seen == [0]
    assert sum(isinstance(cb, ProgressCallback) for cb in learn.cbs) == 1

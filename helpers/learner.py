"""A `Learner` written from scratch, with callbacks, a recorder, an optimiser, one-cycle and a
learning-rate finder (notebook 08).

It grows out of the chapter's `train_epoch`/`validate_epoch` loop: `fit` runs epochs, each epoch
runs a training pass and a validation pass, and every stage of the loop announces *events* that
callbacks react to. Notebook 08 writes every definition below in its cells, one step at a time,
growing the `Learner` class with `add_to_class`; the test suite checks that this module holds the
very same code.

Each stage (fit, epoch, train, validate, batch) goes through `Learner._stage`: `before_<stage>`,
the work, `after_<stage>`; a cancel exception ends the stage early (`after_<stage>` still runs),
and `cleanup_<stage>` runs on every exit, errors included.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from .device import default_device

__all__ = ["add_to_class", "EVENTS", "CancelBatchException", "CancelEpochException",
           "CancelFitException", "Callback", "Learner", "DeviceCallback", "Recorder", "SGDOptim",
           "set_hyper", "get_hyper", "ProgressCallback", "OneCycle", "LRFinder"]


def add_to_class(cls: type) -> Callable:
    """Decorator: add the function below to `cls` as a method (replacing any of the same name),
    so that a class can grow cell by cell (notebook 08)."""
    def add(f):
        setattr(cls, f.__name__, f)
        return f
    return add


EVENTS = ("before_fit", "before_epoch", "before_train", "before_batch", "before_loss",
          "after_loss", "before_backward", "after_backward", "before_step", "after_step",
          "after_batch", "cleanup_batch", "after_train", "cleanup_train", "before_validate",
          "after_validate", "cleanup_validate", "after_epoch", "cleanup_epoch", "after_fit",
          "cleanup_fit")


class CancelBatchException(Exception):
    "Raise in a callback to skip the rest of the current batch (notebook 08)."


class CancelEpochException(Exception):
    "Raise in a callback to end the current epoch early (notebook 08)."


class CancelFitException(Exception):
    "Raise in a callback to stop training altogether (notebook 08)."


class Callback:
    """Base class of callbacks (notebook 08): define methods named after events (`before_fit`,
    `after_loss`, ...); `order` decides who runs first; `self.learn` is the learner."""
    order = 0


# --- the learner -------------------------------------------------------------------------------

class Learner:
    """Train `model` on `dls` (anything with `.train` and `.valid`, or a pair of loaders yielding
    `(x, y)` batches) with `loss_func`, an optimiser from `opt_func(params, lr=...)` and metrics
    averaged over all validation items; `cbs` are extra callbacks (notebook 08)."""

    def __init__(self, dls, model: nn.Module, loss_func: Callable, opt_func: Callable = torch.optim.SGD,
                 metrics: Sequence[Callable] = (), cbs: Sequence[Callback] = (), lr: float = 1e-2,
                 progress: bool = True, device: torch.device | str | None = None):
        self.dls, self.model, self.loss_func, self.opt_func, self.lr = dls, model, loss_func, opt_func, lr
        self.train_dl, self.valid_dl = (dls.train, dls.valid) if hasattr(dls, "train") else dls
        self.metrics = list(metrics)
        self.device = torch.device(device) if device is not None else default_device()
        self.opt = None
        self.cbs = []
        self.recorder = Recorder()
        self.add_cbs([DeviceCallback(), self.recorder, *cbs])
        if progress:
            self.add_cbs([ProgressCallback()])

    def add_cbs(self, cbs: Iterable[Callback]) -> None:
        for cb in cbs:
            cb.learn = self
            self.cbs.append(cb)
        self.cbs.sort(key=lambda cb: cb.order)  # sorted once here, not at every event

    def remove_cbs(self, cbs: Iterable[Callback]) -> None:
        for cb in cbs:
            self.cbs.remove(cb)

    def __call__(self, event: str) -> None:
        for cb in self.cbs:
            method = getattr(cb, event, None)
            if method is not None:
                method()

    def _stage(self, name: str, body: Callable[[], None], cancel) -> None:
        """Run `body` between the events `before_<name>` and `after_<name>`. A `cancel` exception
        ends the stage early, and `after_<name>` still runs; `cleanup_<name>` runs on every exit,
        errors included."""
        try:
            try:
                self(f"before_{name}")
                body()
            except cancel:
                pass
            self(f"after_{name}")
        finally:
            self(f"cleanup_{name}")

    def one_batch(self) -> None:
        self.preds = self.model(self.xb)
        self("before_loss")
        self.loss = self.loss_func(self.preds, self.yb)
        self("after_loss")
        if self.training:
            self("before_backward")
            self.loss.backward()
            self("after_backward")
            self("before_step")
            self.opt.step()
            self("after_step")
            self.opt.zero_grad()
        self.batch_done = True

    def all_batches(self) -> None:
        self.n_iter = len(self.dl)
        for self.iter, (self.xb, self.yb) in enumerate(self.dl):
            self.batch_done = False
            self._stage("batch", self.one_batch, CancelBatchException)

    def one_pass(self, training: bool) -> None:
        self.training = training
        self.model.train(training)
        self.dl = self.train_dl if training else self.valid_dl
        with torch.set_grad_enabled(training):
            self._stage("train" if training else "validate", self.all_batches, ())

    def one_epoch(self) -> None:
        self.one_pass(True)
        if self.valid_dl is not None:
            self.one_pass(False)

    def all_epochs(self) -> None:
        for self.epoch in range(self.n_epoch):
            self._stage("epoch", self.one_epoch, CancelEpochException)

    def fit(self, n_epoch: int, lr: float | None = None, cbs: Sequence[Callback] = ()) -> None:
        """Train for `n_epoch` epochs at learning rate `lr` (default: `self.lr`); `lr` and the
        callbacks `cbs` count for this call only: afterwards the optimiser is back at `self.lr`."""
        cbs = list(cbs)
        self.add_cbs(cbs)
        try:
            self.n_epoch = n_epoch
            if self.opt is None:
                self.opt = self.opt_func(self.model.parameters(), lr=self.lr)
            set_hyper(self.opt, "lr", self.lr if lr is None else lr)
            self._stage("fit", self.all_epochs, CancelFitException)
        finally:
            if self.opt is not None:
                set_hyper(self.opt, "lr", self.lr)
            self.remove_cbs(cbs)

    def fit_one_cycle(self, n_epoch: int, lr_max: float, **kwargs) -> None:
        "Train with the one-cycle schedule (`OneCycle`) peaking at `lr_max`."
        self.fit(n_epoch, lr_max, cbs=[OneCycle(lr_max, **kwargs)])

    def lr_find(self, start_lr: float = 1e-7, end_lr: float = 10, num_it: int = 100,
                show_plot: bool = True) -> float:
        """Run `LRFinder` (kept as `self.lr_finder`), which puts the model and the optimiser back
        as they were, and return its suggestion."""
        if len(self.train_dl) == 0:
            raise ValueError("lr_find needs training batches, and the training loader is empty")
        finder = self.lr_finder = LRFinder(start_lr, end_lr, num_it)
        bars = [cb for cb in self.cbs if isinstance(cb, ProgressCallback)]
        self.remove_cbs(bars)   # no bar, and no table of epochs without validation
        try:
            self.fit(math.ceil(num_it / len(self.train_dl)), start_lr, cbs=[finder])
        finally:
            self.add_cbs(bars)
        if show_plot:
            finder.plot()
        return finder.suggestion()


# --- the two callbacks every learner has -------------------------------------------------------

class DeviceCallback(Callback):
    """Move the model to the learner's device before training, and each batch as it comes
    (notebook 08)."""
    order = -10

    def before_fit(self):
        self.learn.model.to(self.learn.device)

    def before_batch(self):
        dev = self.learn.device
        if isinstance(self.learn.xb, torch.Tensor) and self.learn.xb.device != dev:
            self.learn.xb = self.learn.xb.to(dev, non_blocking=True)
        if isinstance(self.learn.yb, torch.Tensor) and self.learn.yb.device != dev:
            self.learn.yb = self.learn.yb.to(dev, non_blocking=True)


class Recorder(Callback):
    """Keep, per epoch, `[train_loss, valid_loss, *metrics]` in `values` (the layout of fastai's
    `recorder.values`), each a mean over all items, so every batch counts by its size; and every
    training batch's loss and learning rate in `losses` and `lrs` (notebook 08). A pass without
    a batch records NaN. Totals stay tensors until the pass ends, so a GPU never waits for them."""
    order = 50

    def __init__(self):
        self.values, self.losses, self.lrs = [], [], []

    def before_fit(self):
        self.values, self.losses, self.lrs = [], [], []

    def before_epoch(self):
        self.train_loss = self.valid_loss = float("nan")
        self.metric_values = [float("nan")] * len(self.learn.metrics)

    def start_pass(self):
        self.n, self.total, self.batch_losses = 0, 0.0, []
        self.totals = [0.0] * len(self.learn.metrics)

    before_train = before_validate = start_pass

    def after_batch(self):
        learn = self.learn
        if not learn.batch_done:  # a callback skipped this batch
            return
        bs = len(learn.yb)
        loss = learn.loss.detach()
        self.n += bs
        self.total = self.total + loss * bs
        if learn.training:
            self.batch_losses.append(loss)
            self.lrs.append(get_hyper(learn.opt, "lr"))
        else:
            for i, metric in enumerate(learn.metrics):
                self.totals[i] = self.totals[i] + torch.as_tensor(metric(learn.preds, learn.yb)).detach() * bs

    def mean(self, total) -> float:
        return float(total) / self.n if self.n else float("nan")

    def after_train(self):
        self.train_loss = self.mean(self.total)

    def cleanup_train(self):
        if self.batch_losses:  # one copy from the device per pass, not one per batch
            self.losses += torch.stack(self.batch_losses).tolist()
        self.batch_losses = []

    def after_validate(self):
        self.valid_loss = self.mean(self.total)
        self.metric_values = [self.mean(t) for t in self.totals]

    def after_epoch(self):
        self.values.append([self.train_loss, self.valid_loss, *self.metric_values])

    def plot_loss(self, ax=None):
        "Training loss per batch and validation loss per epoch, against batches seen."
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots()
        ax.plot(self.losses, alpha=0.6, label="training loss (per batch)")
        if self.values:
            per_epoch = len(self.losses) / len(self.values)
            ax.plot([per_epoch * (i + 1) for i in range(len(self.values))],
                    [v[1] for v in self.values], "o-", label="validation loss (per epoch)")
        ax.set(title="Losses while training", xlabel="batches seen", ylabel="loss (log scale)", yscale="log")
        ax.legend()
        return ax


# --- the optimiser -----------------------------------------------------------------------------

class SGDOptim:
    """`BasicOptim` grown up: SGD with momentum and (coupled) weight decay, the same update as
    `torch.optim.SGD` with dampening 0 (notebook 08)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, mom: float = 0.0, wd: float = 0.0):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.mom, self.wd = lr, mom, wd
        self.velocity = {}

    @torch.no_grad()
    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.wd:
                g = g + self.wd * p
            if self.mom:
                v = self.velocity.get(i)
                v = g.clone() if v is None else v.mul_(self.mom).add_(g)
                self.velocity[i] = v
                g = v
            p.sub_(self.lr * g)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict:
        return {"lr": self.lr, "mom": self.mom, "wd": self.wd,
                "velocity": {i: v.clone() for i, v in self.velocity.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.lr, self.mom, self.wd = state["lr"], state["mom"], state["wd"]
        self.velocity = {i: v.clone() for i, v in state["velocity"].items()}


def set_hyper(opt, name: str, value: float) -> None:
    """Set a hyper-parameter (`lr`, or `mom` for momentum) on our optimiser or on any torch
    optimiser (notebook 08)."""
    if hasattr(opt, "param_groups"):
        for g in opt.param_groups:
            if name == "mom" and "betas" in g:  # Adam-style: beta1 plays momentum's part
                g["betas"] = (value, g["betas"][1])
            elif name == "mom":
                g["momentum"] = value
            else:
                g[name] = value
    else:
        setattr(opt, name, value)


def get_hyper(opt, name: str) -> float | None:
    "Read a hyper-parameter (`lr` or `mom`) the way `set_hyper` writes it (notebook 08)."
    if hasattr(opt, "param_groups"):
        g = opt.param_groups[0]
        if name == "mom":
            return g["betas"][0] if "betas" in g else g.get("momentum")
        return g.get(name)
    return getattr(opt, name, None)


# --- a progress bar ----------------------------------------------------------------------------

class ProgressCallback(Callback):
    """A fastprogress bar over epochs and one over batches, with a table row per epoch; every
    bar is closed however training ends (notebook 08)."""
    order = 60
    mbar = pbar = None

    def before_fit(self):
        from fastprogress.fastprogress import master_bar
        self.mbar = master_bar(range(self.learn.n_epoch))
        names = [getattr(m, "__name__", "metric") for m in self.learn.metrics]
        self.mbar.write(["epoch", "train_loss", "valid_loss", *names], table=True)

    def before_epoch(self):
        self.mbar.update(self.learn.epoch)

    def start_bar(self):
        from fastprogress.fastprogress import progress_bar
        self.pbar = progress_bar(self.learn.dl, parent=self.mbar, leave=False)
        self.pbar.update(0)

    before_train = before_validate = start_bar

    def after_batch(self):
        self.pbar.update(self.learn.iter + 1)

    def close_bar(self):
        if self.pbar is not None:
            self.pbar.on_iter_end()
            self.pbar = None

    cleanup_train = cleanup_validate = close_bar

    def after_epoch(self):
        row = self.learn.recorder.values[-1]
        self.mbar.write([str(self.learn.epoch)] + [f"{v:.6f}" for v in row], table=True)

    def cleanup_fit(self):
        self.close_bar()
        if self.mbar is not None:
            self.mbar.on_iter_end()
            self.mbar = None


# --- schedules: one-cycle and the learning-rate finder -----------------------------------------

class OneCycle(Callback):
    """The one-cycle schedule, per batch (notebook 08): the learning rate rises from `lr_max/div`
    to `lr_max` over the first `pct_start` of training, then falls to `lr_max/div_final`, both
    along a cosine; momentum moves the opposite way between `moms[0]` and `moms[1]`."""
    order = 10

    def __init__(self, lr_max: float, pct_start: float = 0.25, div: float = 25.0,
                 div_final: float = 1e5, moms: tuple[float, float] = (0.95, 0.85)):
        self.lr_max, self.pct, self.div, self.div_final, self.moms = lr_max, pct_start, div, div_final, moms

    @staticmethod
    def _cos(start: float, end: float, pos: float) -> float:
        return end + (start - end) / 2 * (1 + math.cos(math.pi * pos))

    def schedule(self, pos: float) -> tuple[float, float]:
        "(learning rate, momentum) at `pos`, the fraction of training done (0 to 1)."
        lo, hi, fin = self.lr_max / self.div, self.lr_max, self.lr_max / self.div_final
        if pos < self.pct:
            p = pos / self.pct
            return self._cos(lo, hi, p), self._cos(self.moms[0], self.moms[1], p)
        p = (pos - self.pct) / (1 - self.pct)
        return self._cos(hi, fin, p), self._cos(self.moms[1], self.moms[0], p)

    def before_fit(self):
        self.total = self.learn.n_epoch * len(self.learn.train_dl)
        self.done = 0

    def before_batch(self):
        if not self.learn.training:
            return
        lr, mom = self.schedule(min(self.done / self.total, 1.0))
        set_hyper(self.learn.opt, "lr", lr)
        if get_hyper(self.learn.opt, "mom"):
            set_hyper(self.learn.opt, "mom", mom)

    def after_batch(self):
        if self.learn.training:
            self.done += 1


class LRFinder(Callback):
    """The learning-rate finder (notebook 08): raise the learning rate exponentially from
    `start_lr` to `end_lr` over `num_it` training batches, recording the loss smoothed by an
    exponential moving average (weight `1 - beta` on each new batch, bias-corrected); stop early
    when it passes four times its best; then put the model and the optimiser back as they were,
    on every exit."""
    order = 10

    def __init__(self, start_lr: float = 1e-7, end_lr: float = 10, num_it: int = 100, beta: float = 0.98):
        self.start_lr, self.end_lr, self.num_it, self.beta = start_lr, end_lr, num_it, beta
        self.model_state = self.opt_state = None

    def before_fit(self):
        self.model_state = copy.deepcopy(self.learn.model.state_dict())
        self.opt_state = copy.deepcopy(self.learn.opt.state_dict())
        self.lrs, self.losses = [], []
        self.best, self.avg, self.it = float("inf"), 0.0, 0

    def before_validate(self):
        raise CancelEpochException()  # no validation during the search

    def before_batch(self):
        if self.learn.training:
            lr = self.start_lr * (self.end_lr / self.start_lr) ** (self.it / self.num_it)
            set_hyper(self.learn.opt, "lr", lr)

    def after_loss(self):
        if not self.learn.training:
            return
        self.it += 1
        loss = self.learn.loss.detach().item()  # the finder must look at every loss to stop in time
        self.avg = self.beta * self.avg + (1 - self.beta) * loss
        smooth = self.avg / (1 - self.beta ** self.it)
        self.lrs.append(get_hyper(self.learn.opt, "lr"))
        self.losses.append(smooth)
        self.best = min(self.best, smooth)
        if self.it >= self.num_it or smooth > 4 * self.best or math.isnan(smooth):
            raise CancelFitException()

    def cleanup_fit(self):
        if self.model_state is not None:
            self.learn.model.load_state_dict(self.model_state)
            self.learn.opt.load_state_dict(self.opt_state)

    def suggestion(self) -> float:
        "Our rule: the learning rate where the smoothed loss falls fastest per decade (steepest slope)."
        if len(self.losses) < 3:
            return self.start_lr
        logs = [math.log10(lr) for lr in self.lrs]
        slopes = [(self.losses[i + 1] - self.losses[i - 1]) / (logs[i + 1] - logs[i - 1])
                  for i in range(1, len(self.losses) - 1)]
        return self.lrs[1 + min(range(len(slopes)), key=slopes.__getitem__)]

    def plot(self, ax=None):
        "The smoothed loss against the learning rate, with our suggestion marked."
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots()
        ax.plot(self.lrs, self.losses)
        ax.set_xscale("log")
        sug = self.suggestion()
        ax.axvline(sug, color="tab:red", ls="--", label=f"steepest descent: {sug:.2g}")
        ax.set(title="Learning-rate finder", xlabel="learning rate (log scale)",
               ylabel="smoothed training loss")
        ax.legend()
        return ax

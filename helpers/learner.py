"""A `Learner` written from scratch, with callbacks, a recorder, an optimiser, one-cycle and a
learning-rate finder (notebook 08).

It grows out of the chapter's `train_epoch`/`validate_epoch` loop: `fit` runs epochs, each epoch
runs a training pass and a validation pass, and every step of the loop announces an *event* that
callbacks can react to. Callbacks can skip a batch (`CancelBatchException`) or stop training
(`CancelFitException`); everything else (recording, progress bars, schedules, moving data to
the GPU) is itself a callback.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from .device import default_device

__all__ = ["EVENTS", "CancelBatchException", "CancelEpochException", "CancelFitException",
           "Callback", "Learner", "SGDOptim", "Recorder", "ProgressCallback", "DeviceCallback",
           "OneCycle", "LRFinder", "set_hyper", "get_hyper"]

EVENTS = ("before_fit", "before_epoch", "before_train", "before_batch", "before_loss",
          "after_loss", "before_backward", "after_backward", "before_step", "after_step",
          "after_batch", "after_train", "before_validate", "after_validate", "after_epoch",
          "after_fit")


class CancelBatchException(Exception):
    "Raise in a callback to skip the rest of the current batch (notebook 08)."


class CancelEpochException(Exception):
    "Raise in a callback to end the current epoch early (notebook 08)."


class CancelFitException(Exception):
    "Raise in a callback to stop training altogether (notebook 08)."


class Callback:
    """Base class: define methods named after events (`before_fit`, `after_loss`, ...).
    `order` decides who runs first; `self.learn` is the learner (notebook 08)."""
    order = 0
    learn: "Learner"


# --- the optimiser -----------------------------------------------------------------------------

class SGDOptim:
    """`BasicOptim` grown up: SGD with momentum and (coupled) weight decay, the same update as
    `torch.optim.SGD` with dampening 0 (notebook 08)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, mom: float = 0.0, wd: float = 0.0):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.mom, self.wd = lr, mom, wd
        self.velocity: dict[int, torch.Tensor] = {}

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
    "Set a hyper-parameter (`lr`, `mom`) on our optimiser or on any torch optimiser."
    if hasattr(opt, "param_groups"):
        key = {"mom": "momentum"}.get(name, name)
        for g in opt.param_groups:
            if key == "momentum" and "betas" in g:  # Adam-style: beta1 plays momentum's part
                g["betas"] = (value, g["betas"][1])
            elif key in g:
                g[key] = value
    elif hasattr(opt, name):
        setattr(opt, name, value)


def get_hyper(opt, name: str) -> float | None:
    if hasattr(opt, "param_groups"):
        g = opt.param_groups[0]
        if name == "mom":
            return g["betas"][0] if "betas" in g else g.get("momentum")
        return g.get(name)
    return getattr(opt, name, None)


# --- the learner -------------------------------------------------------------------------------

class Learner:
    """Train `model` on `dls` (anything with `.train` and `.valid`, or a pair of loaders yielding
    `(x, y)` batches) with `loss_func`, an optimiser from `opt_func(params, lr)` and weighted
    `metrics`; `cbs` are extra callbacks (notebook 08)."""

    def __init__(self, dls, model: nn.Module, loss_func: Callable, opt_func: Callable = SGDOptim,
                 metrics: Sequence[Callable] = (), cbs: Sequence[Callback] = (), lr: float = 1e-2,
                 progress: bool = True, device: torch.device | str | None = None):
        self.dls, self.model, self.loss_func, self.opt_func, self.lr = dls, model, loss_func, opt_func, lr
        self.train_dl, self.valid_dl = (dls.train, dls.valid) if hasattr(dls, "train") else dls
        self.metrics = list(metrics)
        self.device = torch.device(device) if device is not None else default_device()
        self.opt = None
        self.recorder = Recorder()
        self.cbs: list[Callback] = []
        self.add_cbs([DeviceCallback(), self.recorder, *cbs])
        if progress:
            self.add_cbs([ProgressCallback()])

    # callbacks
    def add_cbs(self, cbs: Iterable[Callback]) -> None:
        for cb in cbs:
            cb.learn = self
            self.cbs.append(cb)

    def remove_cbs(self, cbs: Iterable[Callback]) -> None:
        for cb in cbs:
            self.cbs.remove(cb)

    def __call__(self, event: str) -> None:
        for cb in sorted(self.cbs, key=lambda c: c.order):
            method = getattr(cb, event, None)
            if method is not None:
                method()

    # the loop
    def one_batch(self) -> None:
        self.batch_done = False
        self("before_batch")
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
            try:
                self.one_batch()
            except CancelBatchException:
                pass
            self("after_batch")

    def one_epoch(self, training: bool) -> None:
        self.training = training
        self.model.train(training)
        self.dl = self.train_dl if training else self.valid_dl
        self("before_train" if training else "before_validate")
        with torch.set_grad_enabled(training):
            self.all_batches()
        self("after_train" if training else "after_validate")

    def fit(self, n_epoch: int, lr: float | None = None, cbs: Sequence[Callback] = ()) -> None:
        "Train for `n_epoch` epochs at learning rate `lr`; `cbs` are added for this call only."
        cbs = list(cbs)
        self.add_cbs(cbs)
        self.n_epoch = n_epoch
        if lr is not None:
            self.lr = lr
        if self.opt is None:
            self.opt = self.opt_func(self.model.parameters(), self.lr)
        else:
            set_hyper(self.opt, "lr", self.lr)
        try:
            self("before_fit")
            for self.epoch in range(n_epoch):
                try:
                    self("before_epoch")
                    self.one_epoch(True)
                    if self.valid_dl is not None:
                        self.one_epoch(False)
                except CancelEpochException:
                    pass
                self("after_epoch")
        except CancelFitException:
            pass
        finally:
            self("after_fit")
            self.remove_cbs(cbs)

    # extras
    def fit_one_cycle(self, n_epoch: int, lr_max: float, **kwargs) -> None:
        "Train with the one-cycle schedule (`OneCycle`) peaking at `lr_max`."
        self.fit(n_epoch, lr_max, cbs=[OneCycle(lr_max, **kwargs)])

    def lr_find(self, start_lr: float = 1e-6, end_lr: float = 10, num_it: int = 100,
                show_plot: bool = True) -> float:
        "Run `LRFinder` (kept as `self.lr_finder`), restore the model, return its suggestion."
        finder = self.lr_finder = LRFinder(start_lr, end_lr, num_it)
        n_epoch = math.ceil(num_it / max(len(self.train_dl), 1))
        self.fit(n_epoch, start_lr, cbs=[finder])
        if show_plot:
            finder.plot()
        return finder.suggestion()


# --- the standard callbacks --------------------------------------------------------------------

class DeviceCallback(Callback):
    "Move the model to the learner's device before training, and every batch as it comes."
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
    """Keep, per epoch, `[train_loss, valid_loss, *metrics]` in `values` (the shape of fastai's
    `recorder.values`), each averaged over batches weighted by their size; and every training
    batch's loss and learning rate in `losses` and `lrs`."""
    order = 50

    def before_fit(self):
        self.values: list[list[float]] = []
        self.losses: list[float] = []
        self.lrs: list[float] = []

    def _reset(self):
        self.n = 0
        self.total_loss = 0.0
        self.totals = [0.0] * len(self.learn.metrics)

    before_train = before_validate = _reset

    def after_batch(self):
        learn = self.learn
        if not learn.batch_done:  # a callback skipped this batch
            return
        bs = len(learn.yb)
        loss = learn.loss.detach().item()
        self.n += bs
        self.total_loss += loss * bs
        if learn.training:
            self.losses.append(loss)
            self.lrs.append(get_hyper(learn.opt, "lr"))
        else:
            for i, m in enumerate(learn.metrics):
                self.totals[i] += float(m(learn.preds, learn.yb)) * bs

    def after_train(self):
        self.train_loss = self.total_loss / max(self.n, 1)

    def after_validate(self):
        self.valid_loss = self.total_loss / max(self.n, 1)
        self.metric_values = [t / max(self.n, 1) for t in self.totals]

    def before_epoch(self):
        self.train_loss = self.valid_loss = float("nan")
        self.metric_values = [float("nan")] * len(self.learn.metrics)

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
        ax.set(title="Losses while training", xlabel="batches seen", ylabel="loss")
        ax.legend()
        return ax


class ProgressCallback(Callback):
    "A fastprogress bar over epochs and batches, with a line per epoch."
    order = 60

    def before_fit(self):
        from fastprogress.fastprogress import master_bar
        self.mbar = master_bar(range(self.learn.n_epoch))
        self.mbar.on_iter_begin()
        names = ["epoch", "train_loss", "valid_loss"] + [getattr(m, "__name__", "metric")
                                                          for m in self.learn.metrics]
        self.mbar.write(names, table=True)

    def _bar(self):
        from fastprogress.fastprogress import progress_bar
        self.pbar = progress_bar(self.learn.dl, parent=self.mbar, leave=False)
        self.pbar.update(0)

    before_train = before_validate = _bar

    def after_batch(self):
        self.pbar.update(self.learn.iter + 1)

    def before_epoch(self):
        self.mbar.update(self.learn.epoch)

    def after_epoch(self):
        row = self.learn.recorder.values[-1]
        self.mbar.write([str(self.learn.epoch)] + [f"{v:.6f}" for v in row], table=True)

    def after_fit(self):
        self.mbar.on_iter_end()


class OneCycle(Callback):
    """The one-cycle schedule, per batch: the learning rate rises from `lr_max/div` to `lr_max`
    over the first `pct_start` of training, then falls to `lr_max/div_final`, both along a
    cosine; momentum moves the opposite way between `moms[0]` and `moms[1]`."""
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
    """Raise the learning rate exponentially from `start_lr` to `end_lr` over `num_it` batches,
    recording the (smoothed) loss; stop when the loss explodes; then put the model and the
    optimiser back as they were."""
    order = 10

    def __init__(self, start_lr: float = 1e-6, end_lr: float = 10, num_it: int = 100, beta: float = 0.98):
        self.start_lr, self.end_lr, self.num_it, self.beta = start_lr, end_lr, num_it, beta

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
        loss = self.learn.loss.detach().item()
        self.avg = self.beta * self.avg + (1 - self.beta) * loss
        smooth = self.avg / (1 - self.beta ** self.it)
        self.lrs.append(get_hyper(self.learn.opt, "lr"))
        self.losses.append(smooth)
        self.best = min(self.best, smooth)
        if self.it >= self.num_it or smooth > 4 * self.best or math.isnan(smooth):
            raise CancelFitException()

    def after_fit(self):
        self.learn.model.load_state_dict(self.model_state)
        self.learn.opt.load_state_dict(self.opt_state)

    def suggestion(self) -> float:
        "The learning rate where the loss fell fastest (the steepest downward slope)."
        if len(self.losses) < 3:
            return self.start_lr
        logs = [math.log10(lr) for lr in self.lrs]
        slopes = [(self.losses[i + 1] - self.losses[i - 1]) / (logs[i + 1] - logs[i - 1])
                  for i in range(1, len(self.losses) - 1)]
        return self.lrs[1 + min(range(len(slopes)), key=slopes.__getitem__)]

    def plot(self, ax=None):
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

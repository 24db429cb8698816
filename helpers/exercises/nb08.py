"""Checks for the "Your turn" exercises of notebook 08 (a Learner written from scratch).

Each check trains a tiny learner on a handful of random batches (a linear model on the CPU,
well under a second) with the learner's callback or function, and says what it saw. The
learner class is an argument, so the notebook passes the `Learner` it built in its own cells
(and the exceptions the callback raises are that notebook's own).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .core import Verdict, not_yet, passed, run_safely

__all__ = ["check_batch_counter", "check_stop_after", "check_one_cycle_lr"]

N_TRAIN, N_VALID = 3, 2   # batches per epoch in the tiny learner of the checks


def _tiny_learner(learner_cls, cbs=()):
    "A linear model on 3 training and 2 validation batches of 4 random items, on the CPU."
    if learner_cls is None:
        from ..learner import Learner as learner_cls
    g = torch.Generator().manual_seed(0)
    batch = lambda: (torch.randn(4, 5, generator=g), torch.randn(4, 1, generator=g))
    dls = ([batch() for _ in range(N_TRAIN)], [batch() for _ in range(N_VALID)])
    return learner_cls(dls, nn.Linear(5, 1), nn.functional.mse_loss, lr=0.01, cbs=list(cbs),
                       progress=False, device="cpu")


def _make(cls, *args) -> tuple[object, Verdict | None]:
    "An instance of the learner's callback class, or a verdict saying why there is none."
    if not isinstance(cls, type):
        return None, not_yet(f"pass the class itself (its name, without parentheses), not a "
                             f"{type(cls).__name__}.")
    return run_safely(cls, *args)


def check_batch_counter(cls, learner_cls=None) -> Verdict:
    """Exercise 1 of notebook 08: `cls()` is a callback that counts the training batches of a
    fit in `self.count` (validation batches not included), starting from 0 at every fit."""
    counter, problem = _make(cls)
    if problem is not None:
        return problem
    learn = _tiny_learner(learner_cls, [counter])
    for n_epoch in (2, 1):   # a second fit must start counting again
        _, problem = run_safely(learn.fit, n_epoch)
        if problem is not None:
            return problem
        if not hasattr(counter, "count"):
            return not_yet("after a fit your callback has no attribute `count`: set `self.count` "
                           "in the event that starts a fit, and add to it in an event every batch meets.")
        expected = n_epoch * N_TRAIN
        got = counter.count
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return not_yet(f"`count` should be a number, but it is a {type(got).__name__}.")
        if got == expected:
            continue
        if n_epoch == 1 and got == 2 * N_TRAIN + expected:
            return not_yet("the second fit went on from the first one's count: start again from 0 "
                           "when a fit begins, not when the callback is created.")
        if got == n_epoch * (N_TRAIN + N_VALID) or (n_epoch == 1 and got == 3 * (N_TRAIN + N_VALID)):
            return not_yet("you count the validation batches too: `self.learn.training` tells you "
                           "which pass a batch belongs to.")
        if got == N_TRAIN or got == N_TRAIN + N_VALID:
            return not_yet("the count starts again at every epoch: reset it once per fit instead.")
        return not_yet(f"a fit of {n_epoch} epoch(s) of {N_TRAIN} training batches gave count "
                       f"{got}, not {expected}: count each training batch exactly once.")
    return passed(f"your callback counted {2 * N_TRAIN} training batches in 2 epochs, then "
                  f"{N_TRAIN} in a new fit of 1 epoch.")


class _Spy:
    "Counts optimiser steps and epochs begun; it runs before any other callback (order -1000)."
    order = -1000

    def before_fit(self):
        self.steps = self.epochs = 0

    def before_epoch(self):
        self.epochs += 1

    def after_step(self):
        self.steps += 1


def check_stop_after(cls, learner_cls=None) -> Verdict:
    """Exercise 2 of notebook 08: `cls(n)` is a callback that stops training once `n` training
    batches have been done (`n` optimiser steps), in every fit, whatever the number of epochs."""
    n_epoch = 5
    for n in (2, 4):   # 4 crosses an epoch boundary (3 training batches per epoch); neither is a multiple of 3
        stopper, problem = _make(cls, n)
        if problem is not None:
            return problem
        spy = _Spy()
        learn = _tiny_learner(learner_cls, [stopper, spy])
        for fit_no in (1, 2):   # the same callback must stop a second fit too
            _, problem = run_safely(learn.fit, n_epoch)
            if problem is not None:
                return problem
            done, epochs = spy.steps, spy.epochs
            if done == n and epochs == math.ceil(n / N_TRAIN):
                continue
            if done == n_epoch * N_TRAIN:
                return not_yet(f"training ran all {done} batches of {n_epoch} epochs: when the count "
                               "reaches n, raise the exception that ends the whole fit.")
            if fit_no == 2 and done < n:
                return not_yet(f"the second fit with the same callback stopped after {done} "
                               f"batch(es), not {n}: start counting from 0 when a fit begins.")
            if epochs == n_epoch:
                return not_yet(f"with n={n} there were {done} training steps, but all {n_epoch} "
                               "epochs still ran: the exception you raise skips a batch or ends an "
                               "epoch, not the whole fit.")
            if n > N_TRAIN and done < n:   # right within the first epoch, short after a validation pass
                return not_yet(f"with n={n} training stopped after only {done} training batches: "
                               "do you count validation batches too? `self.learn.training` says.")
            if abs(done - n) == 1:
                return not_yet(f"with n={n} training stopped after {done} batches: off by one. "
                               "Check when you add to your count and when you compare it with n.")
            return not_yet(f"with n={n} training stopped after {done} training batches, not {n}.")
    return passed("it stops after exactly n training batches, across epochs and in every fit.")


def check_one_cycle_lr(fn) -> Verdict:
    """Exercise 3 of notebook 08: `fn(pos, lr_max)` is one-cycle's learning rate at `pos`, the
    fraction of training done: a cosine from lr_max/25 up to lr_max over the first quarter,
    then a cosine down to lr_max/1e5."""
    lr_max = 0.01
    lo, fin = lr_max / 25, lr_max / 1e5

    def cos(a, b, p):
        return b + (a - b) / 2 * (1 + math.cos(math.pi * p))

    def right(pos):
        return cos(lo, lr_max, pos / 0.25) if pos < 0.25 else cos(lr_max, fin, (pos - 0.25) / 0.75)

    points = [0.0, 0.05, 0.125, 0.2, 0.25, 0.3, 0.5, 0.625, 0.8, 0.95, 1.0]
    got = {}
    for p in points:
        value, problem = run_safely(fn, p, lr_max)
        if problem is not None:
            return problem
        try:
            got[p] = float(value)
        except (TypeError, ValueError):
            return not_yet(f"your function returned {value!r} at pos={p}; it should return the "
                           "learning rate, a number.")
    close = lambda a, b: math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-12)
    wrong = [p for p in points if not close(got[p], right(p))]
    if not wrong:
        return passed("your schedule matches one-cycle at every point checked, from the warm-up "
                      "to the last batch.")
    if not close(got[0.0], lo):
        return not_yet(f"at pos=0 you give {got[0.0]:.3g}; training starts at lr_max divided by "
                       "25, the warm-up's start.")
    if not close(got[0.25], lr_max):
        return not_yet(f"at pos=0.25 you give {got[0.25]:.3g}; the peak, lr_max, comes when the "
                       "first quarter of training is done.")
    if not close(got[1.0], fin):
        return not_yet(f"at pos=1 you give {got[1.0]:.3g}; training ends at lr_max divided by "
                       "100,000, not at 0 or at the starting rate.")
    linear_up = lo + (lr_max - lo) * 0.125 / 0.25
    if close(got[0.125], linear_up):
        return not_yet("halfway through the warm-up you give the straight-line value: both halves "
                       "follow a cosine, flat at either end and steepest in the middle.")
    if any(p < 0.25 for p in wrong):
        return not_yet(f"the warm-up is off (first at pos={min(wrong)}): inside it, how far along "
                       "are you? pos runs from 0 to 0.25 there, and the cosine wants 0 to 1.")
    return not_yet(f"the descent is off (first at pos={min(wrong)}): after the peak, rescale pos "
                   "so that it runs from 0 to 1 between 0.25 and 1.")

"""Training loops, each a version of the same seven steps of SGD (notebook 03).

* `calc_grad`, `train_epoch`, `validate_epoch`, `BasicOptim` and `train_model`: the chapter's
  loop, written by hand for the 3s and 7s (notebook 05);
* `train_model_one_cycle`: the same loop for the full MNIST with three changes, AdamW, the
  one-cycle schedule and label smoothing (notebook 07);
  `predict` and `accuracy_of` read a trained model's answers;
* notebook 08 turns the loop into a `Learner` with callbacks (`helpers.learner`).
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import nn
import torch.nn.functional as F

from .losses import batch_accuracy, mnist_loss

__all__ = ["calc_grad", "train_epoch", "validate_epoch", "BasicOptim", "train_model",
           "train_model_one_cycle", "predict", "accuracy_of"]


def calc_grad(xb: torch.Tensor, yb: torch.Tensor, model: Callable) -> torch.Tensor:
    "Predict, measure the loss, and add its gradients to the parameters' .grad (notebook 05)."
    loss = mnist_loss(model(xb), yb)
    loss.backward()  # adds this batch's gradients to each parameter's .grad
    return loss


def train_epoch(model: Callable, dl: Iterable, opt) -> None:
    "One pass over the training batches, stepping the optimiser after each (notebook 05)."
    for xb, yb in dl:
        calc_grad(xb, yb, model)
        opt.step()
        opt.zero_grad()


def validate_epoch(model: Callable, valid_dl: Iterable) -> float:
    "Mean of the batch accuracies over the validation set, rounded to 4 places (notebook 05)."
    per_batch = torch.stack([batch_accuracy(model(xb), yb) for xb, yb in valid_dl])
    return round(per_batch.mean().item(), 4)


class BasicOptim:
    "The simplest optimiser: step each parameter against its gradient (notebook 05)."
    def __init__(self, params, lr: float):
        self.params = list(params)  # kept as a list: a generator could be looped over only once
        self.lr = lr

    def step(self, *args, **kwargs):
        with torch.no_grad():
            for p in self.params:
                p -= p.grad * self.lr

    def zero_grad(self, *args, **kwargs):
        for p in self.params:
            p.grad = None


def train_model(model: Callable, epochs: int, dl: Iterable, valid_dl: Iterable, opt) -> list[float]:
    "Train for some epochs, printing and returning the validation accuracy after each (notebook 05)."
    accs = []
    print('validation accuracy per epoch:', end='')
    for i in range(epochs):
        train_epoch(model, dl, opt)
        accs.append(validate_epoch(model, valid_dl))
        print(f' {accs[-1]:.4f}', end='')
    print()
    return accs


def train_model_one_cycle(model: nn.Module, train_dl, epochs: int, lr_max: float = 2e-2,
                          weight_decay: float = 1e-4, label_smoothing: float = 0.1,
                          pct_start: float = 0.25, progress: bool = True) -> list[float]:
    """Notebook 05's `train_model` for the full MNIST, with three changes (notebook 07): AdamW
    instead of plain SGD, the one-cycle schedule (the learning rate warms up to `lr_max` for
    `pct_start` of the steps, then anneals to almost zero) and label smoothing. Convolutions get
    the channels-last memory layout, faster on CPUs. Returns the mean training loss of each epoch."""
    from fastprogress.fastprogress import master_bar, progress_bar
    model.to(train_dl.device, memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr_max, weight_decay=weight_decay, fused=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr_max, total_steps=epochs * len(train_dl),
                                                pct_start=pct_start, cycle_momentum=False)
    losses = []
    mb = master_bar(range(epochs)) if progress else range(epochs)
    for epoch in mb:
        total, count = 0.0, 0
        for xb, yb in (progress_bar(train_dl, parent=mb) if progress else train_dl):
            loss = F.cross_entropy(model(xb), yb, label_smoothing=label_smoothing)
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            total += loss.detach() * len(yb)   # stays on the device: no wait for the GPU here
            count += len(yb)
        losses.append(total.item() / count)
    model.eval()
    return losses


@torch.no_grad()
def predict(model: nn.Module, dl) -> tuple[torch.Tensor, torch.Tensor]:
    "Class probabilities and targets for every batch of `dl`, on the CPU (notebook 07)."
    if isinstance(model, nn.Module):  # a plain function (a hand-written model) has no eval mode
        model.eval()
    probs, targs = [], []
    for xb, yb in dl:
        probs.append(model(xb).softmax(1).cpu())
        targs.append(yb.cpu())
    return torch.cat(probs), torch.cat(targs)


def accuracy_of(model: nn.Module, dl) -> float:
    "Share of `dl`'s images whose most probable class is right (notebook 07)."
    probs, targs = predict(model, dl)
    return (probs.argmax(1) == targs).float().mean().item()

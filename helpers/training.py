"""The hand-written training pieces of the chapter, each taught in one notebook.

They take what they need as arguments (the book's versions read global variables), so that
they can be imported and combined freely.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import torch

from .images import load_digits

__all__ = ["sigmoid", "mnist_loss", "load_3s_and_7s", "init_params", "linear1", "calc_grad",
           "train_epoch", "batch_accuracy", "validate_epoch", "BasicOptim", "train_model",
           "simple_net", "log_softmax", "softmax", "cross_entropy"]


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    "Squash any number into the range (0, 1) (notebook 04)."
    return 1 / (1 + torch.exp(-x))


def mnist_loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    "How far the sigmoid of each prediction is from its 0/1 target, averaged (notebook 04)."
    predictions = sigmoid(predictions)
    return torch.where(targets == 1, 1 - predictions, predictions).mean()


def load_3s_and_7s(path: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MNIST_SAMPLE as flat float tensors: train_x (12396, 784), train_y (12396, 1), and the
    same for the validation set; targets are 1 for a 3 and 0 for a 7 (notebook 05)."""
    def split(name: str):
        threes = load_digits(path/name/'3').float()/255
        sevens = load_digits(path/name/'7').float()/255
        x = torch.cat([threes, sevens]).view(-1, 28*28)
        y = torch.tensor([1]*len(threes) + [0]*len(sevens)).unsqueeze(1)
        return x, y
    return (*split('train'), *split('valid'))


def init_params(size, std: float = 1.0) -> torch.Tensor:
    "Random weights of the given size, tracked by autograd (notebook 05)."
    return (torch.randn(size)*std).requires_grad_()


def linear1(xb: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    "A linear model: each image's pixels times the weights, plus the bias (notebook 05)."
    return xb@weights + bias


def calc_grad(xb: torch.Tensor, yb: torch.Tensor, model: Callable) -> torch.Tensor:
    "Predict, measure the loss, and add its gradients to the parameters' .grad (notebook 05)."
    preds = model(xb)
    loss = mnist_loss(preds, yb)
    loss.backward()
    return loss


def train_epoch(model: Callable, dl: Iterable, opt) -> None:
    "One pass over the training batches, stepping the optimiser after each (notebook 05)."
    for xb, yb in dl:
        calc_grad(xb, yb, model)
        opt.step()
        opt.zero_grad()


def batch_accuracy(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    "Share of a batch whose prediction is on the right side of 0.5 (notebook 05)."
    preds = xb.sigmoid()
    correct = (preds > 0.5) == yb
    return correct.float().mean()


def validate_epoch(model: Callable, valid_dl: Iterable) -> float:
    "Mean of the batch accuracies over the validation set, rounded to 4 places (notebook 05)."
    accs = [batch_accuracy(model(xb), yb) for xb, yb in valid_dl]
    return round(torch.stack(accs).mean().item(), 4)


class BasicOptim:
    "The simplest optimiser: step each parameter against its gradient (notebook 05)."
    def __init__(self, params, lr: float):
        self.params, self.lr = list(params), lr

    def step(self, *args, **kwargs):
        for p in self.params:
            p.data -= p.grad.data * self.lr

    def zero_grad(self, *args, **kwargs):
        for p in self.params:
            p.grad = None


def train_model(model: Callable, epochs: int, dl: Iterable, valid_dl: Iterable, opt) -> list[float]:
    "Train for some epochs, printing and returning the validation accuracy after each (notebook 05)."
    accs = []
    for i in range(epochs):
        train_epoch(model, dl, opt)
        accs.append(validate_epoch(model, valid_dl))
        print(accs[-1], end=' ')
    return accs


def simple_net(xb: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
               b2: torch.Tensor) -> torch.Tensor:
    "Two linear layers with a ReLU between them (notebook 06)."
    res = xb@w1 + b1
    res = res.max(torch.tensor(0.0))
    res = res@w2 + b2
    return res


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    "Log of the softmax over the last axis, computed without overflow (notebook 07)."
    m = x.max(-1, keepdim=True).values
    return x - m - (x - m).exp().sum(-1, keepdim=True).log()


def softmax(x: torch.Tensor) -> torch.Tensor:
    "Turn each row of scores into probabilities that sum to 1 (notebook 07)."
    return log_softmax(x).exp()


def cross_entropy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    "Mean negative log-likelihood of each row's right class: log-softmax, then pick (notebook 07)."
    return -log_softmax(x)[torch.arange(len(y)), y].mean()

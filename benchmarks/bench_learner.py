"""What does a Learner cost? A bare PyTorch loop, our `Learner` and fastai's `Learner` (notebook 08).

Run it with `python3 course.py bench learner`. In one process it trains the same model (a
two-layer net on the full MNIST training set, 784 -> 100 -> 10) from the same weights, on the
same tensor batches, with plain SGD, for the same number of epochs, three ways, and prints each
epoch's time, the median per way, and the ratios to the bare loop, ending with one JSON line.
Target: ours within 5% of the bare loop. It prints figures; it never fails on speed.
"""
from __future__ import annotations

import copy
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

EPOCHS = 4


def bare_loop(model, train_dl, valid_dl, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    times = []
    for _ in range(EPOCHS):
        start = time.perf_counter()
        model.train()
        for xb, yb in train_dl:
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        model.eval()
        with torch.no_grad():
            n = correct = 0
            total = 0.0
            for xb, yb in valid_dl:
                preds = model(xb)
                total += F.cross_entropy(preds, yb).item() * len(yb)
                correct += (preds.argmax(1) == yb).sum().item()
                n += len(yb)
        times.append(time.perf_counter() - start)
    return times


class EpochTimer:
    "Works as a callback for both learners: times each epoch."
    order = 100

    def __init__(self):
        self.times = []

    def before_epoch(self):
        self.start = time.perf_counter()

    def after_epoch(self):
        self.times.append(time.perf_counter() - self.start)


def ours(model, train_dl, valid_dl, lr):
    from helpers import Learner, SGDOptim, Callback
    timer = type("Timer", (EpochTimer, Callback), {})()
    learn = Learner((train_dl, valid_dl), model, F.cross_entropy, opt_func=SGDOptim,
                    metrics=[lambda p, y: (p.argmax(1) == y).float().mean()], cbs=[timer],
                    progress=False, device=train_dl.device)
    learn.fit(EPOCHS, lr)
    return timer.times


def fastai_learner(model, train_dl, valid_dl, lr):
    from fastai.vision.all import Callback, DataLoaders, Learner, SGD, accuracy
    timer = type("Timer", (EpochTimer, Callback), {"order": 100})()
    learn = Learner(DataLoaders(train_dl, valid_dl), model, loss_func=F.cross_entropy,
                    opt_func=SGD, metrics=accuracy, cbs=[timer])
    with learn.no_bar(), learn.no_logging():
        learn.fit(EPOCHS, lr)
    return timer.times


def main(argv: list[str]) -> int:
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)
    from fastai.vision.all import URLs
    from helpers import TensorLoader, get_mnist, load_mnist, seed_everything, split_train_valid
    x, y = load_mnist(get_mnist(URLs.MNIST), "training")
    tx, ty, vx, vy = split_train_valid(x, y)
    seed_everything(42)
    model0 = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    results = {}
    for name, run in [("bare", bare_loop), ("ours", ours), ("fastai", fastai_learner)]:
        train_dl = TensorLoader(tx, ty, bs=256, shuffle=True, flat=True, seed=0)
        valid_dl = TensorLoader(vx, vy, bs=1000, flat=True)
        times = run(copy.deepcopy(model0).to(train_dl.device), train_dl, valid_dl, 0.1)
        results[name] = statistics.median(times[1:])  # the first epoch warms caches up
        print(f"{name:7s} epochs: " + "  ".join(f"{t:.3f}s" for t in times)
              + f"   median (after the first) {results[name]:.3f}s", flush=True)
    summary = {f"{k}_epoch_s": round(v, 4) for k, v in results.items()}
    summary["ours_vs_bare"] = round(results["ours"] / results["bare"], 3)
    summary["fastai_vs_bare"] = round(results["fastai"] / results["bare"], 3)
    print(f"ours / bare: {summary['ours_vs_bare']:.3f}   fastai / bare: {summary['fastai_vs_bare']:.3f}"
          f"   (target for ours: <= 1.05)")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What does a Learner cost? A bare PyTorch loop, our `Learner` and fastai's `Learner` (notebook 08).

Run it with `python3 course.py bench learner`. In one process it trains the same model (a
two-layer net on the full MNIST training set, 784 -> 100 -> 10) from the same weights, on the
same tensor batches, with plain SGD, three ways taking turns epoch by epoch (so that anything
else running on the machine slows all three alike), and prints each epoch's time (training and
validation), the median per way after a warm-up epoch, and the ratios to the bare loop, ending
with one JSON line. `--epochs N` sets the epochs per way (default 5).
Target: ours within 5% of the bare loop. It prints figures; it never fails on speed.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

EPOCHS = 5  # per way; the first one warms caches up and is not counted


def bare_loop(model, train_dl, valid_dl, lr):
    "One epoch per call: a training pass and a validation pass, written out by hand."
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def epoch():
        model.train()
        for xb, yb in train_dl:
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        model.eval()
        with torch.no_grad():
            n, correct, total = 0, 0, 0.0
            for xb, yb in valid_dl:
                preds = model(xb)
                total += F.cross_entropy(preds, yb) * len(yb)
                correct += (preds.argmax(1) == yb).sum()
                n += len(yb)
            return total.item() / n, correct.item() / n
    return epoch


def ours(model, train_dl, valid_dl, lr):
    from helpers import Learner, SGDOptim
    learn = Learner((train_dl, valid_dl), model, F.cross_entropy, opt_func=SGDOptim,
                    metrics=[lambda p, y: (p.argmax(1) == y).float().mean()],
                    progress=False, device=train_dl.device)
    return lambda: learn.fit(1, lr)


def fastai_learner(model, train_dl, valid_dl, lr):
    import tempfile
    from fastai.vision.all import DataLoaders, Learner, SGD, accuracy
    learn = Learner(DataLoaders(train_dl, valid_dl), model, loss_func=F.cross_entropy,
                    opt_func=SGD, metrics=accuracy, path=tempfile.mkdtemp())

    def epoch():
        with learn.no_bar(), learn.no_logging():
            learn.fit(1, lr)
    return epoch


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench_learner.py", description=__doc__.split("\n", 1)[0])
    p.add_argument("--epochs", type=int, default=EPOCHS, metavar="N",
                   help=f"epochs per way, the first one not counted (default {EPOCHS})")
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error("--epochs must be at least 2: the first one only warms up")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)
    from fastai.vision.all import URLs
    from helpers import TensorLoader, get_mnist, load_mnist, seed_everything, split_train_valid
    x, y = load_mnist(get_mnist(URLs.MNIST), "training")
    tx, ty, vx, vy = split_train_valid(x, y)
    seed_everything(42)
    model0 = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    runs, times = {}, {}
    for name, make in [("bare", bare_loop), ("ours", ours), ("fastai", fastai_learner)]:
        train_dl = TensorLoader(tx, ty, bs=256, shuffle=True, flat=True, seed=0)
        valid_dl = TensorLoader(vx, vy, bs=1000, flat=True)
        runs[name] = make(copy.deepcopy(model0).to(train_dl.device), train_dl, valid_dl, 0.1)
        times[name] = []
    for _ in range(args.epochs):  # the three take turns, so a busy machine slows them alike
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    results = {name: statistics.median(t[1:]) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:7s} epochs: " + "  ".join(f"{x:.3f}s" for x in t)
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

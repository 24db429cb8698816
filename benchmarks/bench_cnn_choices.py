"""Why notebook 07's CNN is built the way it is: each choice against one alternative.

    python3 course.py bench cnn_choices              # every comparison, one seed
    python3 course.py bench cnn_choices --seeds 3    # three seeds each (42, 43, 44)
    python3 course.py bench cnn_choices --skip-slow  # without bfloat16 and torch.compile
    python3 course.py bench cnn_choices --shifts 5 --seeds 5   # random shifts or not, 5 epochs

Notebook 07's section "What makes it quick" lists the choices behind its CNN recipe: widths that
suit the hardware, a flat head, channels-last, label smoothing, batches of 256, two threads, and
what did not pay (bfloat16, torch.compile). This script measures each one as the notebook
describes it: one epoch of training without random shifts, from the same seed, changing one thing
at a time against the recipe (`mnist_cnn((16, 32, 32, 64), head='flat')`, batches of 256,
`train_model_one_cycle` with AdamW, one-cycle, label smoothing 0.1, channels-last), on the 6,000
validation images of the seeded split. The test set is not used.

`--shifts N` runs the other comparison of that notebook instead: the recipe trained for N
epochs with random shifts of up to 2 pixels and without them, for each seed, reporting the
lowest, median and highest validation accuracy of each and their median training time.

It prints, per variant, the training seconds (median over seeds), the ratio to the recipe's time
measured in the same run, and the validation accuracy (median), then one JSON line. Times depend
on the machine; the ratios are what the notebook quotes. It never fails on speed.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time

import torch

RECIPE = dict(widths=(16, 32, 32, 64), head="flat", bs=256, label_smoothing=0.1)


@contextlib.contextmanager
def default_layout():
    "Make `train_model_one_cycle` keep PyTorch's default memory layout instead of channels-last."
    saved = torch.channels_last
    torch.channels_last = torch.contiguous_format
    try:
        yield
    finally:
        torch.channels_last = saved


@contextlib.contextmanager
def threads(n: int):
    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


VARIANTS = {
    "recipe": ({}, contextlib.nullcontext, False),
    "widths 20, 40, 40, 80": ({"widths": (20, 40, 40, 80)}, contextlib.nullcontext, False),
    "averaging head": ({"head": "pool"}, contextlib.nullcontext, False),
    "default memory layout": ({}, default_layout, False),
    "no label smoothing": ({"label_smoothing": 0.0}, contextlib.nullcontext, False),
    "batches of 512": ({"bs": 512}, contextlib.nullcontext, False),
    "one thread": ({}, lambda: threads(1), False),
    "bfloat16 autocast": ({}, lambda: torch.autocast("cpu", dtype=torch.bfloat16), True),
    "torch.compile": ({"compile": True}, contextlib.nullcontext, True),
}


def run(data, seed: int, widths, head, bs, label_smoothing, compile=False, epochs=1,
        shift=0) -> tuple[float, float]:
    from helpers import TensorLoader, mnist_cnn, predict, seed_everything, train_model_one_cycle
    train_x, train_y, valid_x, valid_y = data
    seed_everything(seed)
    train_dl = TensorLoader(train_x, train_y, bs=bs, shuffle=True, drop_last=True, shift=shift)
    model = mnist_cnn(widths, head=head)
    if compile:
        model = torch.compile(model)
    start = time.perf_counter()
    train_model_one_cycle(model, train_dl, epochs=epochs, label_smoothing=label_smoothing, progress=False)
    seconds = time.perf_counter() - start
    probs, targs = predict(model, TensorLoader(valid_x, valid_y, bs=1000))
    return seconds, (probs.argmax(1) == targs).float().mean().item()


def compare_shifts(data, seeds, epochs: int) -> int:
    rows = []
    for shift in (2, 0):
        times, accs = zip(*(run(data, seed, **RECIPE, epochs=epochs, shift=shift) for seed in seeds))
        rows.append({"shift": shift, "epochs": epochs, "seconds": round(statistics.median(times), 1),
                     "valid_min": round(min(accs), 4), "valid_median": round(statistics.median(accs), 4),
                     "valid_max": round(max(accs), 4), "seeds": len(accs)})
        r = rows[-1]
        print(f"shifts of up to {shift} px, {epochs} epochs: validation {r['valid_min']:.4f} / "
              f"{r['valid_median']:.4f} / {r['valid_max']:.4f} (min / median / max of {len(accs)} seeds), "
              f"{r['seconds']:.1f} s", flush=True)
    print(json.dumps({"threads": torch.get_num_threads(), "shifts": rows}))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=1, help="seeds per variant, from 42 (default 1)")
    p.add_argument("--skip-slow", action="store_true", help="leave out bfloat16 and torch.compile")
    p.add_argument("--shifts", type=int, metavar="EPOCHS",
                   help="instead: EPOCHS epochs with and without random shifts, per seed")
    args = p.parse_args(argv)

    from fastai.data.external import URLs
    from helpers import get_mnist, load_mnist, split_train_valid
    data = split_train_valid(*load_mnist(get_mnist(URLs.MNIST), "training"), valid_pct=0.1, seed=42)
    seeds = range(42, 42 + args.seeds)
    if args.shifts:
        return compare_shifts(data, seeds, args.shifts)
    run(data, 42, **RECIPE)  # an untimed warm-up: the first epoch in a process pays for set-up
    rows = []
    for name, (change, context, slow) in VARIANTS.items():
        if slow and args.skip_slow:
            continue
        times, accs = [], []
        for seed in seeds:
            with context():
                t, a = run(data, seed, **{**RECIPE, **change})
            times.append(t)
            accs.append(a)
        rows.append({"variant": name, "seconds": round(statistics.median(times), 2),
                     "valid_accuracy": round(statistics.median(accs), 4), "seeds": len(accs)})
        base = rows[0]["seconds"]
        print(f"{name:24} {rows[-1]['seconds']:7.1f} s  ×{rows[-1]['seconds'] / base:4.2f}  "
              f"validation {rows[-1]['valid_accuracy']:.4f}", flush=True)
    print(json.dumps({"threads": torch.get_num_threads(), "variants": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How far does each training result of the notebooks move when only the seed changes?

    python benchmarks/seed_spread.py 05 06 --seeds 10     # every result of notebooks 05 and 06
    python benchmarks/seed_spread.py 06 --skip resnet18   # notebook 06 without its slowest result
    python benchmarks/seed_spread.py resnet18 --seeds 10  # the results whose name says resnet18
    python benchmarks/seed_spread.py --list               # what is registered

A notebook guards each training result with `helpers.guard(what, value, above=floor)`: the
check fails only below a floor set a margin under the worst healthy seed. This script is where
those floors come from. Each registered result is one function that repeats, for a given seed,
exactly what the notebook's cell does after its `seed_everything(42)`; the script runs it for
seeds 42, 43, ... and prints, per result, the lowest, median and highest value, the floor the
notebook uses, and whether every seed stayed above it; then one JSON line. It exits with status
1 if any seed fell to or below its floor. Run it under the same conditions you want the floors
to hold for (it reports the device it used).

To add the results of another notebook, write one function per result and decorate it:

    @result("07", "the CNN, 3 epochs", floor=0.99, book=None)
    def cnn(seed):
        seed_everything(seed)
        ...
        return accuracy

`what` must be the text the notebook passes to `guard`, and `floor` its `above` (the tests check
that they agree); `floor=None` registers a figure that is measured but not guarded.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Result:
    notebook: str           # "05"
    what: str               # the guard's text in the notebook, e.g. "simple_net, 40 epochs"
    run: Callable[[int], float]
    floor: float | None     # the guard's `above`, or None for a figure that is not guarded
    book: float | None      # the book's figure, for reference
    values: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.notebook} {self.what}"


REGISTRY: dict[str, Result] = {}


def result(notebook: str, what: str, floor: float | None, book: float | None = None):
    "Register `fn(seed) -> value` as the result `what` of `notebook`."
    def register(fn: Callable[[int], float]) -> Callable[[int], float]:
        r = Result(notebook, what, fn, floor, book)
        assert r.name not in REGISTRY, f"{r.name} is registered twice"
        REGISTRY[r.name] = r
        return fn
    return register


# ---------------------------------------------------------------------------------------------
# What the notebooks share: the 3s and 7s as flat tensors, loaded once.

@functools.cache
def sample():
    """MNIST_SAMPLE as in notebooks 05 and 06: the path, the training pairs, the validation inputs
    and loader. Call it before seeding: making the validation loader draws a random number, as
    it does in the notebooks before their training cells."""
    from fastai.vision.all import URLs, DataLoader
    from helpers import get_mnist, load_3s_and_7s
    path = get_mnist(URLs.MNIST_SAMPLE)
    train_x, train_y, valid_x, valid_y = load_3s_and_7s(path)
    dset = list(zip(train_x, train_y))
    valid_dl = DataLoader(list(zip(valid_x, valid_y)), batch_size=256)
    return path, dset, valid_x, valid_dl


def train_loader(shuffle: bool = True):
    from fastai.vision.all import DataLoader
    return DataLoader(sample()[1], batch_size=256, shuffle=shuffle)


def quietly(fn, *args, **kwargs):
    "Call `fn` with its printed progress swallowed."
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def fit_quietly(learn, *args, **kwargs):
    "`learn.fit` (or `fit_one_cycle`, via kwargs['method']) without progress bar or log."
    method = kwargs.pop("method", "fit")
    with learn.no_bar(), learn.no_logging():
        getattr(learn, method)(*args, **kwargs)
    return learn.recorder.values[-1][2]


# ---------------------------------------------------------------------------------------------
# Notebook 05: the linear model.

def train_epoch_by_hand(model, dl, lr, params):
    "Notebook 05's first epoch loop: the update written out, inside torch.no_grad()."
    import torch
    from helpers import calc_grad
    for xb, yb in dl:
        calc_grad(xb, yb, model)
        with torch.no_grad():
            for p in params:
                p -= p.grad * lr
                p.grad.zero_()


def by_hand(seed: int, epochs: int, shuffle: bool = True):
    "Notebook 05: init_params + linear1 trained with `train_epoch_by_hand` at lr 1."
    from helpers import init_params, linear1, seed_everything, validate_epoch
    sample()  # load the data first: its validation loader draws from the seeded generators
    seed_everything(seed)
    weights, bias = init_params((28*28, 1)), init_params(1)
    dl = train_loader(shuffle)
    model = lambda xb: linear1(xb, weights, bias)
    for _ in range(epochs):
        train_epoch_by_hand(model, dl, 1.0, (weights, bias))
    return model, validate_epoch(model, sample()[3])


def linear(seed: int, epochs: int, shuffle: bool = True, fastai_sgd: bool = False):
    "Notebook 05: nn.Linear trained with train_model and BasicOptim (or fastai's SGD) at lr 1."
    from fastai.vision.all import SGD, nn
    from helpers import BasicOptim, seed_everything, train_model
    sample()
    seed_everything(seed)
    model = nn.Linear(28*28, 1)
    dl = train_loader(shuffle)
    opt = (SGD if fastai_sgd else BasicOptim)(model.parameters(), 1.0)
    return model, quietly(train_model, model, epochs, dl, sample()[3], opt)[-1]


def learner_linear(seed: int, shuffle: bool = True) -> float:
    "Notebook 05: fastai's Learner, nn.Linear, SGD at lr 1, 10 epochs."
    from fastai.vision.all import SGD, DataLoaders, Learner, nn
    from helpers import batch_accuracy, mnist_loss, seed_everything
    sample()
    seed_everything(seed)
    dl = train_loader(shuffle)
    learn = Learner(DataLoaders(dl, sample()[3]), nn.Linear(28*28, 1), opt_func=SGD,
                    loss_func=mnist_loss, metrics=batch_accuracy)
    return fit_quietly(learn, 10, lr=1.0)


@result("05", "hand-written linear model, 1 epoch", floor=0.45, book=0.6883)
def hand_1(seed):
    return by_hand(seed, 1)[1]


@result("05", "hand-written linear model, 20 epochs", floor=0.96, book=0.9696)
def hand_20(seed):
    return by_hand(seed, 20)[1]


@result("05", "nn.Linear + BasicOptim, 20 epochs", floor=0.975, book=0.9785)
def basic_20(seed):
    return linear(seed, 20)[1]


@result("05", "nn.Linear + fastai's SGD, 20 epochs", floor=0.975, book=0.9785)
def sgd_20(seed):
    return linear(seed, 20, fastai_sgd=True)[1]


@result("05", "Learner, 10 epochs", floor=0.97, book=0.9676)
def learner_10(seed):
    return learner_linear(seed)


# The experiment at the end of notebook 05: the same recipes with the book's unshuffled loader.

@result("05", "hand-written linear model, 1 epoch in file order", floor=None, book=0.6883)
def hand_1_file_order(seed):
    return by_hand(seed, 1, shuffle=False)[1]


@result("05", "nn.Linear + BasicOptim, 1 epoch, shuffled", floor=0.96)
def basic_1(seed):
    return linear(seed, 1)[1]


@result("05", "nn.Linear + BasicOptim, 1 epoch in file order: share called a 3", floor=0.99)
def basic_1_file_order_threes(seed):
    model = linear(seed, 1, shuffle=False)[0]
    return (model(sample()[2]) > 0).float().mean().item()


@result("05", "nn.Linear + BasicOptim, 20 epochs in file order", floor=0.97, book=0.9785)
def basic_20_file_order(seed):
    return linear(seed, 20, shuffle=False)[1]


@result("05", "Learner, 10 epochs in file order", floor=0.96, book=0.9676)
def learner_10_file_order(seed):
    return learner_linear(seed, shuffle=False)


# ---------------------------------------------------------------------------------------------
# Notebook 06: simple_net and resnet18.

def simple_net_learner(seed: int, momentum: float | None = None) -> float:
    "Notebook 06: nn.Sequential simple_net, fastai's Learner, SGD (with momentum) at lr 0.1, 40 epochs."
    from fastai.vision.all import SGD, DataLoaders, Learner, nn, partial
    from helpers import batch_accuracy, mnist_loss, seed_everything
    sample()
    seed_everything(seed)
    net = nn.Sequential(nn.Linear(28*28, 30), nn.ReLU(), nn.Linear(30, 1))
    dl = train_loader()
    opt_func = SGD if momentum is None else partial(SGD, mom=momentum)
    learn = Learner(DataLoaders(dl, sample()[3]), net, opt_func=opt_func, loss_func=mnist_loss,
                    metrics=batch_accuracy)
    return fit_quietly(learn, 40, 0.1)


@result("06", "simple_net by hand, 5 epochs", floor=0.97)
def simple_net_raw(seed):
    from helpers import BasicOptim, init_params, seed_everything, simple_net, train_model
    sample()
    seed_everything(seed)
    w1 = init_params((28*28, 30), std=0.1)
    b1 = init_params(30, std=0.1)
    w2 = init_params((30, 1), std=0.1)
    b2 = init_params(1, std=0.1)
    dl = train_loader()
    model = lambda xb: simple_net(xb, w1, b1, w2, b2)
    return quietly(train_model, model, 5, dl, sample()[3], BasicOptim([w1, b1, w2, b2], lr=0.5))[-1]


@result("06", "simple_net, 40 epochs", floor=0.975, book=0.9828)
def simple_net_40(seed):
    return simple_net_learner(seed)


@result("06", "simple_net with momentum, 40 epochs", floor=0.975)
def simple_net_momentum(seed):
    return simple_net_learner(seed, momentum=0.9)


@result("06", "resnet18, 1 epoch", floor=0.985, book=0.9971)
def resnet18_1(seed):
    from fastai.vision.all import F, ImageDataLoaders, accuracy, resnet18, vision_learner
    from helpers import seed_everything
    path = sample()[0]
    seed_everything(seed)
    dls = ImageDataLoaders.from_folder(path)
    learn = vision_learner(dls, resnet18, pretrained=False, loss_func=F.cross_entropy, metrics=accuracy)
    return fit_quietly(learn, 1, 0.1, method="fit_one_cycle")


# ---------------------------------------------------------------------------------------------
# Notebook 07: the full MNIST, ten digits.

@functools.cache
def full_mnist():
    "Notebook 07's split of `training`: 54,000 training and 6,000 validation images (seed 42)."
    from fastai.vision.all import URLs
    from helpers import get_mnist, load_mnist, split_train_valid
    x, y = load_mnist(get_mnist(URLs.MNIST), "training")
    return split_train_valid(x, y, valid_pct=0.1, seed=42)


def linear_by_hand10(seed: int):
    """Notebook 07's linear model by hand, 3 epochs (notebook 12 trains it the same way):
    its validation accuracy, and the flat training and validation loaders it used."""
    import torch
    from helpers import (TensorLoader, accuracy_of, cross_entropy, default_device, init_params,
                         linear1, seed_everything)
    tx, ty, vx, vy = full_mnist()
    seed_everything(seed)
    device = default_device()
    train_dl = TensorLoader(tx, ty, bs=256, shuffle=True, flat=True)
    valid_dl = TensorLoader(vx, vy, bs=1000, flat=True)
    weights = init_params((28*28, 10), std=0.01).to(device).detach().requires_grad_()
    bias = init_params(10, std=0.0).to(device).detach().requires_grad_()
    model = lambda xb: linear1(xb, weights, bias)
    for _ in range(3):
        for xb, yb in train_dl:
            cross_entropy(model(xb), yb).backward()
            with torch.no_grad():
                for p in (weights, bias):
                    p -= p.grad * 0.1
                    p.grad = None
    return accuracy_of(model, valid_dl), train_dl, valid_dl


@result("07", "linear model by hand, 3 epochs", floor=0.9)
def linear07(seed):
    return linear_by_hand10(seed)[0]


@result("07", "simple_net with ten outputs, 5 epochs", floor=0.955)
def simple_net07(seed):
    from fastai.vision.all import SGD, DataLoaders, Learner, accuracy, nn, partial, F
    from helpers import TensorLoader, seed_everything
    tx, ty, vx, vy = full_mnist()
    seed_everything(seed)
    train_dl = TensorLoader(tx, ty, bs=256, shuffle=True, flat=True)
    net = nn.Sequential(nn.Linear(28*28, 30), nn.ReLU(), nn.Linear(30, 10))
    learn = Learner(DataLoaders(train_dl, TensorLoader(vx, vy, bs=1000, flat=True)), net,
                    loss_func=F.cross_entropy, metrics=accuracy, opt_func=partial(SGD, mom=0.9))
    return fit_quietly(learn, 5, 0.1, method="fit_one_cycle")


def cnn07(seed: int, shift: int) -> float:
    "Notebook 07's CNN: mnist_cnn((16, 32, 32, 64), head='flat'), 5 epochs of one-cycle at 2e-2."
    from helpers import TensorLoader, accuracy_of, mnist_cnn, seed_everything, train_model_one_cycle
    tx, ty, vx, vy = full_mnist()
    seed_everything(seed)
    train_dl = TensorLoader(tx, ty, bs=256, shuffle=True, shift=shift, drop_last=True)
    cnn = mnist_cnn((16, 32, 32, 64), head="flat")
    train_model_one_cycle(cnn, train_dl, epochs=5, lr_max=2e-2, progress=False)
    return accuracy_of(cnn, TensorLoader(vx, vy, bs=1000))


@result("07", "mnist_cnn, 5 epochs with random shifts", floor=0.99)
def cnn07_shifted(seed):
    return cnn07(seed, shift=2)


@result("07", "mnist_cnn, 5 epochs without random shifts", floor=None)
def cnn07_plain(seed):
    return cnn07(seed, shift=0)


@result("07", "resnet18 through fastai's route, 1 epoch", floor=0.965)
def resnet07(seed):
    "from_folder(path/'training', valid_pct=0.1, seed=42), resnet18 from scratch, fit_one_cycle(1, 0.1)."
    from fastai.vision.all import ImageDataLoaders, URLs, accuracy, resnet18, vision_learner
    from helpers import get_mnist, seed_everything
    seed_everything(seed)
    dls = ImageDataLoaders.from_folder(get_mnist(URLs.MNIST)/'training', valid_pct=0.1, seed=42)
    seed_everything(seed)
    learn = vision_learner(dls, resnet18, pretrained=False, metrics=accuracy)   # fastai's loss: cross-entropy
    return fit_quietly(learn, 1, 0.1, method="fit_one_cycle")


# ---------------------------------------------------------------------------------------------
# Notebook 08: the Learner written from scratch, and fastai's beside it on the CNN.

def loaders_37():
    "Notebook 08's loaders of the 3s and 7s: PyTorch DataLoaders over TensorDatasets, batches of 256."
    from torch.utils.data import DataLoader, TensorDataset
    from helpers import load_3s_and_7s, get_mnist
    from fastai.vision.all import URLs
    train_x, train_y, valid_x, valid_y = load_3s_and_7s(get_mnist(URLs.MNIST_SAMPLE))
    return (DataLoader(TensorDataset(train_x, train_y), batch_size=256, shuffle=True),
            DataLoader(TensorDataset(valid_x, valid_y), batch_size=256))


@result("08", "linear model, our Learner, 10 epochs", floor=0.975)
def learner08_linear(seed):
    from torch import nn
    from helpers import Learner, SGDOptim, batch_accuracy, mnist_loss, seed_everything
    seed_everything(seed)
    learn = Learner(loaders_37(), nn.Linear(28*28, 1), mnist_loss, opt_func=SGDOptim,
                    metrics=[batch_accuracy], progress=False)
    learn.fit(10, 1.0)
    return learn.recorder.values[-1][2]


@result("08", "simple_net, our Learner, 20 epochs", floor=0.978)
def learner08_simple_net(seed):
    from functools import partial
    from torch import nn
    from helpers import Learner, SGDOptim, batch_accuracy, mnist_loss, seed_everything
    seed_everything(seed)
    net = nn.Sequential(nn.Linear(28*28, 30), nn.ReLU(), nn.Linear(30, 1))
    learn = Learner(loaders_37(), net, mnist_loss, opt_func=partial(SGDOptim, mom=0.9),
                    metrics=[batch_accuracy], progress=False)
    learn.fit(20, 0.1)
    return learn.recorder.values[-1][2]


@functools.cache
def cnn08_data():
    "Notebook 08's CNN data: 12,000 of the 54,000 training images, all 6,000 validation images."
    from fastai.vision.all import URLs
    from helpers import get_mnist, load_mnist, split_train_valid
    x, y = load_mnist(get_mnist(URLs.MNIST), "training")
    tx, ty, vx, vy = split_train_valid(x, y, valid_pct=0.1, seed=42)
    return tx[:12000], ty[:12000], vx, vy


def cnn08(seed: int, fastai: bool) -> float:
    "Notebook 08: mnist_cnn, fit_one_cycle(2, 1e-2) with PyTorch's AdamW (wd 1e-4), ours or fastai's."
    import tempfile
    import torch
    import torch.nn.functional as F
    from functools import partial
    from fastai.vision.all import DataLoaders, Learner as FastaiLearner, OptimWrapper, accuracy
    from helpers import Learner, TensorLoader, mnist_cnn, random_shift, seed_everything
    tx, ty, vx, vy = cnn08_data()
    loaders = (TensorLoader(tx, ty, bs=256, shuffle=True, augment=random_shift, seed=0),
               TensorLoader(vx, vy, bs=1000))
    seed_everything(seed)
    if not fastai:
        learn = Learner(loaders, mnist_cnn(), F.cross_entropy, metrics=[accuracy], progress=False,
                        opt_func=partial(torch.optim.AdamW, weight_decay=1e-4))
        learn.fit_one_cycle(2, 1e-2)
        return learn.recorder.values[-1][2]
    learn = FastaiLearner(DataLoaders(*loaders), mnist_cnn(), loss_func=F.cross_entropy,
                          metrics=accuracy, path=tempfile.mkdtemp(),
                          opt_func=partial(OptimWrapper, opt=torch.optim.AdamW, weight_decay=1e-4))
    return float(fit_quietly(learn, 2, 1e-2, method="fit_one_cycle"))


@result("08", "mnist_cnn, our Learner's fit_one_cycle, 2 epochs on 12,000 images", floor=0.965)
def cnn08_ours(seed):
    return cnn08(seed, fastai=False)


@result("08", "mnist_cnn, fastai's fit_one_cycle, same setting", floor=0.965)
def cnn08_fastai(seed):
    return cnn08(seed, fastai=True)


# ---------------------------------------------------------------------------------------------

def matches(r: Result, pattern: str) -> bool:
    "A notebook number (05) picks that notebook's results; anything else, results named with it."
    if pattern.isdigit() and len(pattern) == 2:
        return pattern == r.notebook
    return pattern.lower() in r.name.lower()


# --- notebook 11: TGS salt, on the synthetic stand-in --------------------------------------------
# The notebook itself is the recipe: `benchmarks/seeds_tgs.py` runs it up to its guard with
# another `SEED`; both of the notebook's guards read the same run, so it is made once per seed.

@functools.lru_cache(maxsize=None)
def tgs_run(seed: int) -> dict:
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("seeds_tgs", Path(__file__).with_name("seeds_tgs.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.run_seed(seed, timeout=900)


@result("11", "our U-Net, competition score on validation", floor=0.6)
def tgs_unet(seed):
    return tgs_run(seed)["our U-Net"]


@result("11", "fastai unet_learner, competition score on validation", floor=0.6)
def tgs_fastai(seed):
    return tgs_run(seed)["fastai unet_learner"]


# ---------------------------------------------------------------------------------------------
# Notebook 12: notebook 07's models trained again, shorter, to read the learner's drawings.

@functools.cache
def nb12(seed: int) -> dict[str, float]:
    "Notebook 12's three trained models, as its cells train them (one seed for all three)."
    from torch import nn
    from helpers import (TensorLoader, accuracy_of, mnist_cnn, seed_everything,
                         train_model_one_cycle)
    tx, ty, vx, vy = full_mnist()
    out = {}
    out["linear"], train_dl_flat, valid_dl_flat = linear_by_hand10(seed)
    seed_everything(seed)
    net = nn.Sequential(nn.Linear(28*28, 30), nn.ReLU(), nn.Linear(30, 10))
    train_model_one_cycle(net, train_dl_flat, epochs=5, lr_max=1e-2, progress=False)
    out["simple_net"] = accuracy_of(net, valid_dl_flat)
    seed_everything(seed)
    cnn = mnist_cnn((16, 32, 32, 64), head="flat")
    train_dl = TensorLoader(tx, ty, bs=256, shuffle=True, shift=2, drop_last=True)
    train_model_one_cycle(cnn, train_dl, epochs=2, lr_max=2e-2, progress=False)
    out["cnn"] = accuracy_of(cnn, TensorLoader(vx, vy, bs=1000))
    return out


@result("12", "linear model, 3 epochs", floor=0.9)
def linear12(seed):
    return nb12(seed)["linear"]


@result("12", "simple_net, 5 epochs", floor=0.955)
def simple12(seed):
    return nb12(seed)["simple_net"]


@result("12", "CNN, 2 epochs", floor=0.988)
def cnn12(seed):
    return nb12(seed)["cnn"]


def select(patterns: list[str], skip: list[str] = ()) -> list[Result]:
    "Results that match any pattern (all, without patterns) and no skip pattern."
    chosen = [r for r in REGISTRY.values()
              if (not patterns or any(matches(r, p) for p in patterns))
              and not any(matches(r, p) for p in skip)]
    if not chosen:
        sys.exit(f"No registered result matches {patterns}: see --list.")
    return chosen


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


def table(results: list[Result]) -> str:
    w = max(len(r.name) for r in results)
    lines = [f"{'result':{w}}  seeds     min  median     max   floor  book    all above floor",
             "-" * (w + 64)]
    for r in results:
        vs = r.values
        below = sum(v <= r.floor for v in vs) if r.floor is not None else 0
        verdict = ("(not guarded)" if r.floor is None else "✓" if not below
                   else f"✗ {below} of {len(vs)} at or below")
        lines.append(f"{r.name:{w}}  {len(vs):5d}  {fmt(min(vs))}  {fmt(statistics.median(vs))}  "
                     f"{fmt(max(vs))}  {fmt(r.floor)}  {fmt(r.book)}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("patterns", nargs="*", help="notebook numbers (05) or parts of result names")
    ap.add_argument("--seeds", type=int, default=10, help="how many seeds per result (default 10)")
    ap.add_argument("--first-seed", type=int, default=42, help="the first seed (default 42, the notebooks' own)")
    ap.add_argument("--skip", action="append", default=[], metavar="PATTERN",
                    help="leave out the results that match (may be repeated)")
    ap.add_argument("--list", action="store_true", help="list the registered results and stop")
    args = ap.parse_args(argv)
    chosen = select(args.patterns, args.skip)
    if args.list:
        for r in chosen:
            print(f"{r.name}  (floor {fmt(r.floor)}, book {fmt(r.book)})")
        return 0

    warnings.filterwarnings("ignore", category=FutureWarning)
    import torch
    from helpers import default_device
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    print(f"seeds {seeds[0]}-{seeds[-1]} on {default_device()} (torch {torch.__version__})", flush=True)
    start = time.perf_counter()
    for r in chosen:
        t0 = time.perf_counter()
        print(f"{r.name}:", end="", flush=True)
        for s in seeds:
            r.values.append(float(r.run(s)))
            print(f" {r.values[-1]:.4f}", end="", flush=True)
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    print()
    print(table(chosen))
    failed = [r.name for r in chosen if r.floor is not None and min(r.values) <= r.floor]
    print(json.dumps({"device": str(default_device()), "seeds": seeds,
                      "seconds": round(time.perf_counter() - start, 1),
                      "results": {r.name: {"min": min(r.values), "median": statistics.median(r.values),
                                           "max": max(r.values), "floor": r.floor, "book": r.book}
                                  for r in chosen},
                      "all_above_floor": not failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

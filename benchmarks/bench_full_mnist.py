"""Full MNIST: accuracy against training time, the course's fast path and fastai's route (notebook 07).

Run it with `python3 course.py bench full_mnist`. In one process, on the same machine, it trains

  * the fast path of notebook 07 (`TensorLoader` on cached tensors, `mnist_cnn`,
    `train_model_one_cycle`) at several budgets: the recipe chosen for each target below, on
    three seeds, and a few budgets in between on one seed;
  * fastai's own route, set up as in notebook 07: `ImageDataLoaders.from_folder(path/'training',
    valid_pct=0.1, seed=42, img_cls=PILImageBW)` on the PNG files (batches made in the main
    process when there is no GPU), `vision_learner` with resnet18 from scratch and `n_in=1`,
    `fit_one_cycle(n, 0.1)`, for one and for two epochs;

All of them learn from the same 54,000 images of `training` (a seeded random 90%; fastai's
route picks its own 90% with the same seed) and are chosen and compared on the other 6,000:
the targets, the frontier and the times to a target are all in validation accuracy. The
`testing` folder is used once per route, for the final recipe only (the fast path's last recipe,
on each of its seeds; fastai's longest run), through `dls.test_dl(..., with_labels=True)` and
`learn.validate(dl=...)` on fastai's route. Training time is the time of the training itself,
with the data already in memory (the tensors) or listed (the files), after an untimed warm-up.

Targets on a 2-core CPU (median of three seeds, validation accuracy): 99.0% as fast as
possible, 99.5% within two minutes. Each recipe was chosen on the validation set only.

It prints every run, saves the frontier (validation accuracy against training time, both
routes) to `build/bench_full_mnist.png`, and ends with one JSON line: per route its points, the
time to 99.0% and to 99.5% (validation) and the ratio of fastai's time to the fast path's, the
seeds of each target recipe, and the test accuracy of each route's final recipe. Each run also
records how busy the machine's other processes kept the CPU (`others_cpu`, in cores): a run
above 0.1 was disturbed and its time is not a fair figure. It prints figures; it never fails on
speed. `--quick` (or `--skip-fastai`) runs the fast path only, `--skip-fast` fastai's route
only, `--seeds 1` each target recipe once. On two CPU cores `--quick` takes about 8 minutes;
fastai's route adds its one-epoch and two-epoch runs (three epochs of resnet18 on the PNG
files in all).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent

# The fast path's recipes: mnist_cnn(widths, head), TensorLoader(bs, shift), epochs, lr_max.
# Those with a target were chosen for it on the validation set; the others fill in the frontier.
RECIPES = [
    dict(name="1 epoch", target=0.990, widths=(16, 32, 32, 64), head="flat", epochs=1, shift=0, lr=2e-2),
    dict(name="2 epochs, shifts", target=None, widths=(16, 32, 32, 64), head="flat", epochs=2, shift=2, lr=2e-2),
    dict(name="5 epochs, shifts", target=None, widths=(16, 32, 32, 64), head="flat", epochs=5, shift=2, lr=2e-2),
    dict(name="12 epochs, shifts", target=0.995, widths=(16, 32, 32, 64), head="flat", epochs=12, shift=2, lr=2e-2),
]
TARGETS = (0.990, 0.995)   # the frontier's time-to-accuracy marks


class Contention:
    "CPU used by other processes while the block ran, in cores (Linux; None elsewhere)."
    def _read(self):
        try:
            fields = list(map(int, open("/proc/stat").readline().split()[1:]))
            mine = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
            return sum(fields) - fields[3] - fields[4], int(mine[11]) + int(mine[12])
        except OSError:
            return None

    def __enter__(self):
        self.start, self.t0, self.others = self._read(), time.perf_counter(), None
        return self

    def __exit__(self, *exc):
        end, seconds = self._read(), time.perf_counter() - self.t0
        if self.start and end:
            busy, mine = end[0] - self.start[0], end[1] - self.start[1]
            self.others = round((busy - mine) / os.sysconf("SC_CLK_TCK") / max(seconds, 1e-9), 2)


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def fast_run(recipe, seed, data, final=False):
    "Train one recipe with one seed: training seconds, validation accuracy (test too if final), others_cpu."
    from helpers import TensorLoader, accuracy_of, mnist_cnn, seed_everything, train_model_one_cycle
    tx, ty, vx, vy, test_x, test_y = data
    seed_everything(seed)
    with Contention() as busy:
        sync()
        start = time.perf_counter()
        train_dl = TensorLoader(tx, ty, bs=256, shuffle=True, shift=recipe["shift"], drop_last=True)
        model = mnist_cnn(recipe["widths"], head=recipe["head"])
        train_model_one_cycle(model, train_dl, recipe["epochs"], lr_max=recipe["lr"], progress=False)
        sync()
        seconds = time.perf_counter() - start
    valid = accuracy_of(model, TensorLoader(vx, vy, bs=2000))
    test = accuracy_of(model, TensorLoader(test_x, test_y, bs=2000)) if final else None
    return dict(seed=seed, train_s=round(seconds, 2), valid=round(valid, 4),
                test=None if test is None else round(test, 4), others_cpu=busy.others)


def fastai_run(path, epochs, seed=42, final=False):
    "fastai's route for `epochs` epochs: training seconds, validation accuracy (test too if final), others_cpu."
    from fastai.vision.all import (ImageDataLoaders, PILImageBW, accuracy, defaults, get_image_files,
                                   resnet18, vision_learner)
    from helpers import default_device, seed_everything
    seed_everything(seed)
    workers = 0 if default_device().type == "cpu" else min(8, defaults.cpus)   # as in notebook 07
    dls = ImageDataLoaders.from_folder(path/"training", valid_pct=0.1, seed=42, img_cls=PILImageBW,
                                       num_workers=workers)
    seed_everything(seed)
    learn = vision_learner(dls, resnet18, pretrained=False, n_in=1, metrics=accuracy)   # loss: cross-entropy
    with learn.no_bar(), learn.no_logging(), Contention() as busy:
        sync()
        start = time.perf_counter()
        learn.fit_one_cycle(epochs, 0.1)
        sync()
        seconds = time.perf_counter() - start
        valid = float(learn.recorder.values[-1][2])
    test = None
    if final:
        test_dl = dls.test_dl(get_image_files(path/"testing"), with_labels=True)
        with learn.no_bar(), learn.no_logging():
            test = round(float(learn.validate(dl=test_dl)[1]), 4)
    return dict(seed=seed, train_s=round(seconds, 2), valid=round(valid, 4), test=test,
                others_cpu=busy.others)


def median_point(name, runs):
    point = dict(name=name, seeds=len(runs),
                 **{k: round(statistics.median(r[k] for r in runs), 4) for k in ("train_s", "valid")})
    tests = [r["test"] for r in runs if r["test"] is not None]
    return dict(point, test=round(statistics.median(tests), 4) if tests else None)


def time_to(points, target):
    "The shortest training time among the points whose (median) validation accuracy reaches `target`."
    times = [p["train_s"] for p in points if p["valid"] >= target]
    return min(times) if times else None


def plot(routes, out: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from helpers import use_course_style
    use_course_style()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for (name, points), marker in zip(routes.items(), "os"):
        pts = sorted(points, key=lambda p: p["train_s"])
        ax.plot([p["train_s"] for p in pts], [100 * p["valid"] for p in pts], marker + "-", label=name)
        for p in pts:
            ax.annotate(p["name"], (p["train_s"], 100 * p["valid"]), textcoords="offset points",
                        xytext=(4, -11), fontsize=7)
    for t in TARGETS:
        ax.axhline(100 * t, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set(title="Full MNIST: validation accuracy against training time",
           xlabel="training time (s, log scale)", ylabel="validation accuracy (%)")
    ax.legend(loc="lower right")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench_full_mnist.py", description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", "--skip-fastai", dest="quick", action="store_true",
                   help="the fast path only (about 8 minutes on two CPU cores)")
    p.add_argument("--skip-fast", action="store_true", help="fastai's route only")
    p.add_argument("--seeds", type=int, default=3, metavar="N",
                   help="seeds per target recipe (default 3)")
    args = p.parse_args(argv)
    if args.seeds < 1:
        p.error("--seeds must be at least 1")
    if args.quick and args.skip_fast:
        p.error("--quick and --skip-fast together leave nothing to run")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    from fastai.vision.all import URLs
    from helpers import (default_device, get_mnist, load_mnist, mnist_cnn, split_train_valid,
                         train_model_one_cycle, TensorLoader)
    quick, skip_fast, n_seeds = args.quick, args.skip_fast, args.seeds
    device = default_device()
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"device {device}{' (' + torch.cuda.get_device_name(0) + ')' if device.type == 'cuda' else ''}, "
          f"torch {torch.__version__}", flush=True)

    path = get_mnist(URLs.MNIST)
    start = time.perf_counter()
    x, y = load_mnist(path, "training")
    test_x, test_y = load_mnist(path, "testing")
    tx, ty, vx, vy = split_train_valid(x, y, valid_pct=0.1, seed=42)
    data = [t.to(device) for t in (tx, ty, vx, vy, test_x, test_y)]   # on the GPU from the start
    print(f"loading 70,000 images from the tensor cache: {time.perf_counter() - start:.2f} s", flush=True)

    start = time.perf_counter()   # library start-up (kernels, allocator), not charged to any run
    train_model_one_cycle(mnist_cnn((16, 32, 32, 64), head="flat"),
                          TensorLoader(data[0][:2048], data[1][:2048], bs=256, shuffle=True, shift=2),
                          1, progress=False)
    sync()
    print(f"warm-up: {time.perf_counter() - start:.2f} s", flush=True)

    fast_points, target_runs, disturbed = [], {}, []
    recipes = [] if skip_fast else RECIPES
    for recipe in recipes:
        seeds = range(n_seeds) if recipe["target"] else range(1)
        runs = []
        for seed in seeds:
            runs.append(fast_run(recipe, seed, data, final=recipe is recipes[-1]))
            print(f"fast path, {recipe['name']}, seed {seed}: {json.dumps(runs[-1])}", flush=True)
            if (runs[-1]["others_cpu"] or 0) > 0.1:
                disturbed.append(f"fast path, {recipe['name']}, seed {seed}")
        fast_points.append(median_point(recipe["name"], runs))
        if recipe["target"]:
            target_runs[f"{100 * recipe['target']:.1f}%: {recipe['name']}"] = dict(
                recipe={k: v for k, v in recipe.items() if k not in ("name", "target")}, runs=runs,
                median=fast_points[-1])
    routes = {"fast path (mnist_cnn on tensors)": fast_points} if fast_points else {}

    if not quick:
        fastai_points = []
        for epochs in (1, 2):
            run = fastai_run(path, epochs, final=epochs == 2)
            print(f"fastai route, resnet18, {epochs} epoch(s): {json.dumps(run)}", flush=True)
            if (run["others_cpu"] or 0) > 0.1:
                disturbed.append(f"fastai route, {epochs} epoch(s)")
            fastai_points.append(dict(median_point(f"{epochs} epoch{'s' * (epochs > 1)}", [run]), seeds=1))
        routes["fastai route (resnet18 on PNG files)"] = fastai_points

    summary = {}
    for name, points in routes.items():
        summary[name] = dict(points=points, **{f"time_to_{100 * t:.1f}": time_to(points, t) for t in TARGETS})
        for p in points:
            test = f"  test {p['test']:.4f} (final recipe)" if p["test"] is not None else ""
            print(f"{name:38s} {p['name']:24s} {p['train_s']:7.1f} s  valid {p['valid']:.4f}"
                  f"{test}  ({p['seeds']} seed{'s' * (p['seeds'] > 1)})", flush=True)
    ratios = {}
    if len(routes) == 2:
        fast, slow = (summary[n] for n in routes)
        for t in TARGETS:
            key = f"time_to_{100 * t:.1f}"
            ratios[f"fastai_over_fast_{100 * t:.1f}"] = (round(slow[key] / fast[key], 1)
                                                        if slow[key] and fast[key] else None)
        print(f"time to 99.0% and 99.5% validation accuracy, fastai's route over the fast path: {ratios}",
              flush=True)
    out = ROOT / "build" / "bench_full_mnist.png"
    plot(routes, out)
    print(f"frontier saved to {out.relative_to(ROOT)}", flush=True)
    if disturbed:
        print(f"disturbed runs (others_cpu > 0.1; their times are not fair figures): {disturbed}", flush=True)
    print(json.dumps(dict(device=str(device), threads=torch.get_num_threads(), routes=summary,
                          ratios=ratios, targets=target_runs, disturbed=disturbed)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

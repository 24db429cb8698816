"""Full MNIST: fastai's default route against the course's fast path (notebook 07).

Run it with `python3 course.py bench full_mnist`. In one process, on the same machine, it trains

  (a) fastai's default route: `ImageDataLoaders.from_folder` on the PNG files, `vision_learner`
      with resnet18 (from scratch), `fit_one_cycle(1, 0.1)`;
  (b) the fast path at full strength: `mnist_cnn()` on cached tensors with random shifts, 10
      epochs of one-cycle (the notebook's recipe, here on all 60,000 training images);
  (c) the fast path in a hurry: a narrower `mnist_cnn`, two epochs, no augmentation;

and prints each one's accuracy on the `testing` set, its training time, and the speed-up of the
fast paths over (a), ending with one JSON line. It prints figures; it never fails on speed.
Targets on a 2-core CPU: (b) at least 99.5% in under 2 minutes, (c) 99.0% in under 10 seconds.
Pass `--skip-fastai` to leave out (a), which takes a few minutes on a CPU.
"""
from __future__ import annotations

import json
import platform
import sys
import time

import torch


def fastai_default(path) -> tuple[float, float]:
    from fastai.vision.all import (ImageDataLoaders, F, accuracy, resnet18, vision_learner)
    start = time.perf_counter()
    dls = ImageDataLoaders.from_folder(path, train="training", valid="testing")
    learn = vision_learner(dls, resnet18, pretrained=False, loss_func=F.cross_entropy,
                           metrics=accuracy)
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(1, 0.1)
    seconds = time.perf_counter() - start
    return float(learn.recorder.values[-1][2]), seconds


def fast_path(x, y, test_x, test_y, widths, extra, epochs, lr, augment, bs) -> tuple[float, float]:
    from helpers import (TensorLoader, accuracy_of, fit_one_cycle_fast, mnist_cnn,
                         seed_everything)
    seed_everything(42)
    start = time.perf_counter()
    train_dl = TensorLoader(x, y, bs=bs, shuffle=True, augment=augment, seed=0)
    model = mnist_cnn(widths, extra)
    fit_one_cycle_fast(model, train_dl, epochs, lr_max=lr, progress=False,
                       label_smoothing=0.1 if augment else 0.0)
    seconds = time.perf_counter() - start
    return accuracy_of(model, TensorLoader(test_x, test_y, bs=1000)), seconds


def main(argv: list[str]) -> int:
    from fastai.vision.all import URLs
    from helpers import get_mnist, load_mnist, random_shift, use_course_style
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)
    use_course_style()
    path = get_mnist(URLs.MNIST)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} "
          f"threads, device {device}, torch {torch.__version__}", flush=True)

    start = time.perf_counter()
    x, y = load_mnist(path, "training")
    test_x, test_y = load_mnist(path, "testing")
    load_s = time.perf_counter() - start
    print(f"loading 70,000 images from the tensor cache: {load_s:.2f} s", flush=True)

    results = {"device": device, "cache_load_s": round(load_s, 3)}
    if "--skip-fastai" not in argv:
        acc, secs = fastai_default(path)
        results.update(fastai_acc=round(acc, 4), fastai_s=round(secs, 1))
        print(f"(a) fastai default route (resnet18, 1 epoch): test accuracy {acc:.4f}, {secs:.1f} s",
              flush=True)
    acc, secs = fast_path(x, y, test_x, test_y, (32, 64, 128), True, 10, 2e-2, random_shift, 256)
    results.update(fast_acc=round(acc, 4), fast_s=round(secs, 1))
    print(f"(b) fast path, mnist_cnn, 10 epochs: test accuracy {acc:.4f}, {secs:.1f} s "
          f"(target: >= 0.995 in < 120 s)", flush=True)
    acc, secs = fast_path(x, y, test_x, test_y, (16, 32, 64), True, 2, 2e-2, None, 256)
    results.update(quick_acc=round(acc, 4), quick_s=round(secs, 1))
    print(f"(c) fast path, small mnist_cnn, 2 epochs: test accuracy {acc:.4f}, {secs:.1f} s "
          f"(target: >= 0.990 in < 10 s)", flush=True)
    if "fastai_s" in results:
        results["speedup_fast"] = round(results["fastai_s"] / results["fast_s"], 2)
        results["speedup_quick"] = round(results["fastai_s"] / results["quick_s"], 2)
        print(f"time ratio (a)/(b): {results['speedup_fast']:.2f}x, (a)/(c): "
              f"{results['speedup_quick']:.2f}x", flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

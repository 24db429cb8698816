"""How long the synthetic stand-in for the TGS salt data takes to make (notebook 11).

Run it with `python3 course.py bench synthetic_tgs`. When no Kaggle data is configured,
notebook 11 draws its own seismic images and salt masks (`make_synthetic_tgs`); this times
that, for a few sizes, in a temporary folder, and ends with one JSON line. The aim is a few
seconds for thousands of images (on two CPU cores, about 4 s for 100 training and 100 test
images was the bar this used to be held to). It prints figures; it never fails on speed.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench_synthetic_tgs.py", description=__doc__.split("\n", 1)[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], metavar="N",
                   help="numbers of training images to make, each with as many test images "
                        "(default: 100 1000)")
    p.add_argument("--repeats", type=int, default=3, metavar="R",
                   help="runs per size; the fastest counts (default 3)")
    args = p.parse_args(argv)
    if min(args.sizes) < 1 or args.repeats < 1:
        p.error("--sizes and --repeats must be at least 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from helpers.tgs import make_synthetic_tgs
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            times = []
            for r in range(args.repeats):
                start = time.perf_counter()
                make_synthetic_tgs(Path(tmp) / f"n{n}-run{r}", n=n, seed=0, n_test=n)
                times.append(time.perf_counter() - start)
            results[n] = min(times)
            print(f"{n} training + {n} test images: fastest of {args.repeats} runs {min(times):.2f} s "
                  f"({1000 * min(times) / (2 * n):.1f} ms per image)", flush=True)
    print(json.dumps({"seconds": {str(n): round(t, 3) for n, t in results.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A synthetic stand-in for the TGS Salt Identification Challenge's data (notebook 11).

`make_synthetic_tgs` writes seismic-looking images and salt bodies in the competition's own
layout, for machines without the competition data (and for CI). Its scores say nothing about
the real leaderboard, and its depths are random numbers.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .tgs_data import IMAGE_SIZE, TgsDataError
from .tgs_encoding import rle_encode

__all__ = ["make_synthetic_tgs"]

_SYNTHETIC_MARK = ".synthetic.json"  # written by make_synthetic_tgs into the sets it makes
_GENERATOR_VERSION = 1


def _smoothing(size: int, sigma: float) -> np.ndarray:
    "The Fourier transfer function of a Gaussian blur of width `sigma` on a periodic grid."
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    return np.exp(-2 * (np.pi * sigma) ** 2 * (fx ** 2 + fy ** 2))


def _smooth_noise(rng: np.random.Generator, transfer: np.ndarray, size: int) -> np.ndarray:
    "Gaussian noise blurred by `transfer` (on a 128x128 grid, fast to transform), cut to `size`."
    field = np.fft.irfft2(np.fft.rfft2(rng.standard_normal((_FFT, _FFT))) * transfer, s=(_FFT, _FFT))
    field = field[:size, :size]
    return field / (field.std() + 1e-9)


_S = IMAGE_SIZE
_YY, _XX = np.mgrid[0:_S, 0:_S].astype(np.float64)
_TRACE_T = np.arange(-120.0, 240.0)  # the depths (in pixels) a folded layer can come from
_FFT = 128
_FINE, _COARSE = _smoothing(_FFT, 1.1), _smoothing(_FFT, 14.0)
_KINDS = ("empty", "full", "dome", "blob", "flank")
_KIND_P = (0.34, 0.04, 0.28, 0.18, 0.16)


def _ricker(width: float) -> np.ndarray:
    "A Ricker ('Mexican hat') wavelet, the usual stand-in for a seismic pulse."
    t = np.arange(-12.0, 13.0) / width
    return (1 - 2 * t ** 2) * np.exp(-t ** 2)


def _salt_shape(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, np.ndarray]:
    "Distance to the salt's centre and the salt's (wobbly) radius there, for every pixel."
    if kind == "dome":      # rises from below the image, with a curved top
        cx, top = rng.uniform(5, 96), rng.uniform(10, 92)
        r0 = rng.uniform(40, 160)
        cy = top + r0
    elif kind == "blob":    # a body inside the image
        cx, cy, r0 = rng.uniform(15, 86), rng.uniform(15, 86), rng.uniform(8, 32)
    else:                   # a flank entering from the left or right
        r0 = rng.uniform(30, 90)
        reach = rng.uniform(4, 70)
        cx = (reach - r0) if rng.random() < 0.5 else (_S - reach + r0)
        cy = rng.uniform(0, _S)
    dy, dx = _YY - cy, _XX - cx
    dist = np.hypot(dx, dy)
    theta = np.arctan2(dy, dx)
    wobble = np.ones_like(theta)
    for k in range(2, 7):
        wobble += rng.uniform(0, 0.22) / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return dist, r0 * wobble


def _synthetic_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    "One seismic-looking image (uint8) and its salt mask (bool)."
    # Layers: a random reflectivity series, blurred by a seismic pulse, read along folded depths.
    spikes = rng.standard_normal(len(_TRACE_T)) * (rng.random(len(_TRACE_T)) < rng.uniform(0.15, 0.45))
    trace = np.convolve(spikes, _ricker(rng.uniform(1.2, 2.6)), mode="same")
    depth = _YY.copy()
    for k in range(3):
        amp = rng.uniform(0, 7) / (k + 1)
        wavelength = rng.uniform(70, 260) / (k + 1)
        growth = 1 + rng.uniform(-0.6, 0.6) * _YY / _S           # folds tighten or relax with depth
        depth += amp * growth * np.sin(2 * np.pi * _XX / wavelength + rng.uniform(0, 2 * np.pi))
    depth += rng.uniform(-0.35, 0.35) * (_XX - _S / 2)            # overall dip
    kind = _KINDS[rng.choice(len(_KINDS), p=_KIND_P)]
    if kind in ("dome", "blob", "flank"):
        dist, radius = _salt_shape(rng, kind)
        outside = np.clip(dist - radius, 0, None)
        depth += rng.uniform(0, 9) * np.exp(-outside / 10)        # layers dragged up by the salt
        soft = np.clip(radius - dist + 0.5, 0, 1)
        mask = dist < radius
        rim = np.exp(-((dist - radius) / 1.2) ** 2)
    else:
        full = kind == "full"
        soft = np.full((_S, _S), float(full))
        mask = np.full((_S, _S), full)
        rim = np.zeros((_S, _S))
    layers = np.interp(depth, _TRACE_T, trace)
    layers /= layers.std() + 1e-9
    layers *= 1 + 0.35 * _smooth_noise(rng, _COARSE, _S)          # reflectors fade in and out
    chaos = rng.uniform(0.2, 0.45) * _smooth_noise(rng, _FINE, _S)  # salt: weak, chaotic texture
    img = layers * (1 - soft) + chaos * soft
    img += rng.choice([-1, 1]) * rng.uniform(0, 1.2) * rim         # the salt's boundary reflector
    img += rng.uniform(0.1, 0.35) * rng.standard_normal((_S, _S))   # recording noise
    img = 128 + rng.uniform(-12, 12) + rng.uniform(22, 40) * img
    return np.clip(img, 0, 255).round().astype(np.uint8), mask


def _new_ids(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    "`n` fresh ten-character hexadecimal ids, like the competition's."
    ids = []
    while len(ids) < n:
        i = f"{int(rng.integers(16 ** 10)):010x}"
        if i not in taken:
            taken.add(i)
            ids.append(i)
    return ids


def _save_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image
    Image.fromarray(array, mode="L").save(path, compress_level=1)


def make_synthetic_tgs(folder: Path | str, n: int = 4000, seed: int = 0,
                       n_test: int | None = None) -> Path:
    """Write a synthetic stand-in for the competition data into `folder` and return it
    (notebook 11).

    The layout and files are the competition's: ``train/images/<id>.png`` (101x101 greyscale),
    ``train/masks/<id>.png`` (0 or 255), ``train.csv`` (id, rle_mask), ``depths.csv`` (id, z)
    and ``test/images/`` (`n_test` images, a fifth of `n` by default). The images show folded
    layers plus noise; salt bodies are smooth blobs of weak, chaotic texture that cut the
    layers. About a third of the images hold no salt and a few are all salt. The same `n`,
    `n_test` and `seed` always give the same files. A set already in `folder` with the same
    settings is kept; one made with other settings is replaced. These are not competition
    figures: scores on them say nothing about the real leaderboard.
    """
    folder = Path(folder)
    n_test = max(1, n // 5) if n_test is None else n_test
    if n < 1 or n_test < 0:
        raise ValueError(f"make_synthetic_tgs needs at least one training image, not n={n}, "
                         f"and n_test >= 0, not {n_test}.")
    settings = {"generator": _GENERATOR_VERSION, "n": n, "n_test": n_test, "seed": seed}
    mark = folder / _SYNTHETIC_MARK
    if folder.exists():
        if not mark.is_file():
            raise TgsDataError(f"{folder} already exists and is not a synthetic TGS set, so "
                               f"make_synthetic_tgs will not write into it: choose another folder.")
        if json.loads(mark.read_text()) == settings:
            return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-partial-", dir=folder.parent))
    try:
        for sub in ("train/images", "train/masks", "test/images"):
            (tmp / sub).mkdir(parents=True)
        master = np.random.default_rng([seed, 0])
        taken: set[str] = set()
        train_ids, test_ids = _new_ids(master, n, taken), _new_ids(master, n_test, taken)
        depths = master.integers(51, 960, n + n_test)
        rows = []
        for i, id_ in enumerate(train_ids):
            img, mask = _synthetic_pair(np.random.default_rng([seed, 1, i]))
            _save_png(img, tmp / "train" / "images" / f"{id_}.png")
            _save_png(mask.astype(np.uint8) * 255, tmp / "train" / "masks" / f"{id_}.png")
            rows.append((id_, rle_encode(mask)))
        for j, id_ in enumerate(test_ids):
            img, _ = _synthetic_pair(np.random.default_rng([seed, 2, j]))
            _save_png(img, tmp / "test" / "images" / f"{id_}.png")
        with open(tmp / "train.csv", "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([("id", "rle_mask"), *rows])
        with open(tmp / "depths.csv", "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(
                [("id", "z"), *zip(train_ids + test_ids, depths.tolist())])
        (tmp / _SYNTHETIC_MARK).write_text(json.dumps(settings))
        if folder.exists():  # an older synthetic set (checked above): replace it
            shutil.rmtree(folder)
        os.rename(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder

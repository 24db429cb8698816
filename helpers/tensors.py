"""From folders of PNG files to tensors, decoded once and cached.

Step two of the data path (after `data.py` has put the archives on disk):

* `image_files` and `load_digits` turn one folder of digits into one stacked uint8 tensor
  (notebook 01 does the same by hand with `Image.open` and `torch.stack`); the result is kept
  in ``data/cache/`` and decoded again only when the folder's files change;
* `load_3s_and_7s` gives the 3s and 7s as flat inputs and 0/1 targets (notebook 05);
* `load_mnist` and `split_train_valid` give the full MNIST and a seeded validation split
  (notebook 07).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .data import data_dir, png_names

__all__ = ["image_files", "load_digits", "load_3s_and_7s", "load_mnist", "split_train_valid",
           "MNIST_MEAN", "MNIST_STD"]

# Pixel statistics of the MNIST training images, scaled to 0..1 (used to normalise, notebook 07).
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def image_files(folder: Path) -> list[Path]:
    "The PNG files of `folder`, sorted by name, as `(path/'train'/'3').ls().sorted()` gives (notebook 01)."
    folder = Path(folder)
    return [folder / n for n in png_names(folder)]


def _folder_signature(folder: Path, names: list[str]) -> str:
    "A fingerprint of the files' names, sizes and modification times."
    h = hashlib.sha256()
    base = os.fspath(folder)
    for n in names:
        st = os.stat(os.path.join(base, n))
        h.update(f"{n}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _cache_file(folder: Path) -> Path:
    folder = folder.resolve()
    root = data_dir()
    try:
        key = "-".join(folder.relative_to(root).parts)
    except ValueError:
        key = f"{folder.name}-{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}"
    return root / "cache" / f"{key}.pt"


def load_digits(folder: Path, cache: bool = True) -> torch.Tensor:
    """All PNGs of `folder` as one uint8 tensor of shape (n, 28, 28), in file-name order.

    The same tensor as ``torch.stack([tensor(Image.open(o)) for o in files])`` (notebook 01),
    read from a cache in ``data/cache/`` when the folder has not changed since.
    """
    folder = Path(folder)
    names = png_names(folder)
    if not names:
        raise FileNotFoundError(f"{folder} holds no PNG images: check the path.")
    sig = _folder_signature(folder, names)
    target = _cache_file(folder)
    if cache and target.is_file():
        try:
            saved = torch.load(target, weights_only=True)
            if saved.get("signature") == sig:
                return saved["images"]
        except Exception:  # unreadable cache: rebuild it below
            pass
    images = torch.from_numpy(np.stack([np.asarray(Image.open(folder / n), dtype=np.uint8) for n in names]))
    if cache:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        torch.save({"signature": sig, "images": images}, tmp)
        os.replace(tmp, target)  # readers never see a half-written cache
    return images


def load_3s_and_7s(path: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MNIST_SAMPLE as flat float tensors: train_x (12396, 784), train_y (12396, 1), and the
    same for the validation set; targets are 1 for a 3 and 0 for a 7 (notebook 05)."""
    def split(name):
        threes = load_digits(path/name/'3').float()/255
        sevens = load_digits(path/name/'7').float()/255
        x = torch.cat([threes, sevens]).view(-1, 28*28)
        y = torch.tensor([1]*len(threes) + [0]*len(sevens)).unsqueeze(1)
        return x, y
    return (*split('train'), *split('valid'))


def load_mnist(path: Path, split: str = "training") -> tuple[torch.Tensor, torch.Tensor]:
    """All images of one split (`training` or `testing`) of `URLs.MNIST` as uint8 (n, 28, 28)
    and their labels as int64, digit by digit in file-name order (notebook 07)."""
    xs, ys = [], []
    for digit in range(10):
        x = load_digits(Path(path)/split/str(digit))
        xs.append(x)
        ys.append(torch.full((len(x),), digit, dtype=torch.int64))
    return torch.cat(xs), torch.cat(ys)


def split_train_valid(x: torch.Tensor, y: torch.Tensor, valid_pct: float = 0.1,
                      seed: int = 42) -> tuple[torch.Tensor, ...]:
    "A seeded random split: (train_x, train_y, valid_x, valid_y) (notebook 07)."
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=g)
    n_valid = int(round(len(x) * valid_pct))
    v, t = idx[:n_valid], idx[n_valid:]
    return x[t], y[t], x[v], y[v]

"""Turning folders of digit PNGs into one stacked tensor, decoded once and cached.

Notebook 01 shows the idea with a plain list comprehension over `Image.open`; `load_digits`
does the same work once and keeps the result in ``data/cache/``, so later notebooks start in
a fraction of a second. The cache notices when the folder changes (a file added, removed,
replaced or touched) and decodes again.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .data import data_dir

__all__ = ["image_files", "load_digits", "folder_signature"]


def _png_names(folder: Path) -> list[str]:
    with os.scandir(folder) as it:
        return sorted(e.name for e in it if e.name.endswith(".png"))


def image_files(folder: Path) -> list[Path]:
    "The PNG files of `folder`, sorted by name, as `(path/'train'/'3').ls().sorted()` gives (notebook 01)."
    folder = Path(folder)
    return [folder / n for n in _png_names(folder)]


def folder_signature(folder: Path, names: list[str]) -> str:
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

    Equivalent to ``torch.stack([tensor(Image.open(o)) for o in files])`` (notebook 01),
    read from a cache in ``data/cache/`` when the folder has not changed since.
    """
    folder = Path(folder)
    names = _png_names(folder)
    if not names:
        raise FileNotFoundError(f"{folder} holds no PNG images: check the path.")
    sig = folder_signature(folder, names)
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

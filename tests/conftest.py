import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import helpers.data as data

ROOT = Path(__file__).resolve().parent.parent

# A miniature "mnist_sample": two images per folder, so archives are tiny and fast.
TINY_SAMPLE = {"train/3": 2, "train/7": 2, "valid/3": 2, "valid/7": 2}


def png_bytes(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8), mode="L").save(buf, "PNG")
    return buf.getvalue()


def add_bytes(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def make_sample_archive(path: Path, top: str = "mnist_sample", extra=None) -> Path:
    "Write a tiny archive in the layout of fastai's mnist_sample.tgz."
    with tarfile.open(path, "w:gz") as tar:
        seed = 0
        for sub, n in TINY_SAMPLE.items():
            for i in range(n):
                seed += 1
                add_bytes(tar, f"{top}/{sub}/{seed}.png", png_bytes(seed))
        add_bytes(tar, f"{top}/labels.csv", b"name,label\n")
        if extra:
            extra(tar)
    return path


@pytest.fixture
def tiny_layout(monkeypatch):
    monkeypatch.setitem(data.LAYOUTS, "mnist_sample", dict(TINY_SAMPLE))


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    "An empty data folder and a mirror folder, with the environment pointing at them."
    home, mirror = tmp_path / "data", tmp_path / "mirror"
    home.mkdir()
    mirror.mkdir()
    monkeypatch.setenv(data.DATA_ENV, str(home))
    monkeypatch.setenv(data.MIRROR_ENV, str(mirror))
    return home, mirror

import functools
import io
import os
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import helpers.data as data

ROOT = Path(__file__).resolve().parent.parent

def one_sentence(msg: str) -> bool:
    "What a learner reads: one line, a cause and a remedy after a colon, and a full stop at the end."
    msg = msg.strip()
    return "\n" not in msg and ": " in msg and msg.endswith(".") and "Traceback" not in msg


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


# ---- tests that need the package index -------------------------------------------------------

PACKAGE_INDEX = os.environ.get("UV_DEFAULT_INDEX") or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"


@functools.lru_cache(maxsize=None)
def package_index_unreachable() -> str | None:
    "Why the package index cannot be reached (None when it can), asked once per test run."
    url = PACKAGE_INDEX.rstrip("/") + "/pip/"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=15):
            return None
    except urllib.error.HTTPError:  # an answer, even a refusal, means the index is there
        return None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", None) or e
        return f"the package index {PACKAGE_INDEX} cannot be reached ({reason}), and this test installs from it"


def pytest_runtest_setup(item):
    "A test marked `network` is skipped, with the reason, when the package index is out of reach."
    if item.get_closest_marker("network"):
        reason = package_index_unreachable()
        if reason:
            pytest.skip(reason)


@pytest.fixture
def no_kaggle_anywhere(tmp_path, monkeypatch):
    "No TGS_DATA, no Kaggle credentials of any kind, and an empty data folder; returns the home folder."
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("TGS_DATA", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR", "KAGGLE_API_TOKEN",
                "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "data"))
    return home

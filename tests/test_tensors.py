"""load_digits: the same tensor as stacking PIL images, cached, rebuilt when files change."""
import numpy as np
import pytest
import torch
from PIL import Image

import helpers.tensors as images
from helpers import load_digits
from conftest import png_bytes


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "data"))
    f = tmp_path / "data" / "mnist_sample" / "train" / "3"
    f.mkdir(parents=True)
    for i in (10, 2, 7):
        (f / f"{i}.png").write_bytes(png_bytes(i))
    return f


def by_hand(folder):
    files = sorted(folder.glob("*.png"))
    return torch.stack([torch.tensor(np.array(Image.open(p))) for p in files])


def test_matches_stacking_by_hand(folder):
    x = load_digits(folder)
    assert x.dtype == torch.uint8 and x.shape == (3, 28, 28)
    assert torch.equal(x, by_hand(folder))
    assert [p.name for p in images.image_files(folder)] == ["10.png", "2.png", "7.png"]


def test_second_call_reads_the_cache(folder, monkeypatch):
    first = load_digits(folder)
    assert (folder.parents[2] / "cache" / "mnist_sample-train-3.pt").is_file()
    monkeypatch.setattr(images.Image, "open", lambda *a: pytest.fail("decoded again"))
    assert torch.equal(load_digits(folder), first)


def test_cache_notices_a_new_file(folder):
    load_digits(folder)
    (folder / "99.png").write_bytes(png_bytes(99))
    x = load_digits(folder)
    assert x.shape[0] == 4 and torch.equal(x, by_hand(folder))


def test_cache_notices_a_replaced_file(folder):
    load_digits(folder)
    (folder / "2.png").write_bytes(png_bytes(1234))
    assert torch.equal(load_digits(folder), by_hand(folder))


def test_corrupt_cache_is_rebuilt(folder):
    load_digits(folder)
    (folder.parents[2] / "cache" / "mnist_sample-train-3.pt").write_bytes(b"garbage")
    assert torch.equal(load_digits(folder), by_hand(folder))


def test_empty_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no PNG"):
        load_digits(tmp_path)

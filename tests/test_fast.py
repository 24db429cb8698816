"""The fast path of notebook 07: tensor loading, batches, augmentation, the CNN, the losses."""
import torch
import torch.nn.functional as F

from helpers import (TensorLoader, cross_entropy, load_mnist, log_softmax, mnist_cnn, random_shift,
                     softmax, split_train_valid)
from conftest import png_bytes


def test_load_mnist_reads_every_digit_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))
    for d in range(10):
        f = tmp_path / "mnist_png" / "training" / str(d)
        f.mkdir(parents=True)
        for i in range(d % 3 + 1):
            (f / f"{d}{i}.png").write_bytes(png_bytes(d * 10 + i))
    x, y = load_mnist(tmp_path / "mnist_png", "training")
    assert x.dtype == torch.uint8 and x.shape[1:] == (28, 28)
    assert y.tolist() == [d for d in range(10) for _ in range(d % 3 + 1)]


def test_split_is_seeded_disjoint_and_complete():
    x = torch.arange(100).view(100, 1, 1).expand(100, 28, 28)
    y = torch.arange(100) % 10
    a = split_train_valid(x, y, 0.1, seed=1)
    b = split_train_valid(x, y, 0.1, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    tx, ty, vx, vy = a
    assert len(vx) == 10 and len(tx) == 90
    ids = set(tx[:, 0, 0].tolist()) | set(vx[:, 0, 0].tolist())
    assert ids == set(range(100))


def test_tensor_loader_batches_and_normalises():
    x = torch.full((10, 28, 28), 255, dtype=torch.uint8)
    y = torch.arange(10)
    dl = TensorLoader(x, y, bs=4, device="cpu")
    batches = list(dl)
    assert len(dl) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    xb, yb = batches[0]
    assert xb.shape == (4, 1, 28, 28) and xb.dtype == torch.float32
    assert torch.allclose(xb, torch.full_like(xb, (1 - 0.1307) / 0.3081))
    flat = next(iter(TensorLoader(x, y, bs=4, device="cpu", flat=True)))[0]
    assert flat.shape == (4, 784)


def test_tensor_loader_shuffles_every_epoch_reproducibly():
    x = torch.zeros(50, 28, 28, dtype=torch.uint8)
    y = torch.arange(50)
    dl = TensorLoader(x, y, bs=50, shuffle=True, device="cpu", seed=3)
    e1, e2 = next(iter(dl))[1], next(iter(dl))[1]
    assert sorted(e1.tolist()) == list(range(50)) and not torch.equal(e1, e2)
    again = TensorLoader(x, y, bs=50, shuffle=True, device="cpu", seed=3)
    assert torch.equal(next(iter(again))[1], e1)


def test_random_shift_moves_without_changing_the_digit():
    img = torch.zeros(1, 1, 28, 28)
    img[0, 0, 10:18, 12:16] = 1.0
    out = random_shift(img.repeat(64, 1, 1, 1), max_shift=2)
    assert out.shape == (64, 1, 28, 28)
    assert torch.all(out.sum((1, 2, 3)) == img.sum())  # nothing is lost near the middle
    rows = torch.nonzero(out[:, 0].sum(2))[:, 1].view(64, -1)[:, 0]
    assert set(rows.tolist()) <= set(range(8, 13)) and len(set(rows.tolist())) > 1


def test_mnist_cnn_gives_ten_scores():
    m = mnist_cnn().eval()
    assert m(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    assert mnist_cnn((8, 16, 32), extra=False)(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_hand_written_softmax_and_cross_entropy_match_pytorch():
    torch.manual_seed(0)
    x, y = torch.randn(64, 10) * 50, torch.randint(0, 10, (64,))
    assert torch.allclose(log_softmax(x), F.log_softmax(x, dim=1), atol=1e-5)
    assert torch.allclose(softmax(x), F.softmax(x, dim=1), atol=1e-6)
    assert torch.allclose(cross_entropy(x, y), F.cross_entropy(x, y), atol=1e-5)

"""The fast path of notebook 07: tensor loading, batches and shifts, the CNN, the one-cycle loop."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import helpers
from helpers import (TensorLoader, accuracy_of, conv_block, cross_entropy, load_mnist, log_softmax,
                     mnist_cnn, predict, softmax, split_train_valid, take_shifted,
                     train_model_one_cycle)
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
    dropped = TensorLoader(x, y, bs=4, device="cpu", drop_last=True)
    assert len(dropped) == 2 and [len(b[1]) for b in dropped] == [4, 4]


def test_tensor_loader_normalises_exactly_as_written_out():
    "The in-place normalisation gives the very numbers of (x/255 - mean)/std (notebook 09 compares them)."
    x = torch.randint(0, 256, (300, 28, 28), dtype=torch.uint8)
    got = torch.cat([xb for xb, _ in TensorLoader(x, torch.zeros(300, dtype=torch.long), bs=128, device="cpu")])
    assert torch.equal(got, ((x.float() / 255 - helpers.MNIST_MEAN) / helpers.MNIST_STD).unsqueeze(1))


def test_tensor_loader_shuffles_every_epoch_reproducibly():
    x = torch.zeros(50, 28, 28, dtype=torch.uint8)
    y = torch.arange(50)
    dl = TensorLoader(x, y, bs=50, shuffle=True, device="cpu", seed=3)
    e1, e2 = next(iter(dl))[1], next(iter(dl))[1]
    assert sorted(e1.tolist()) == list(range(50)) and not torch.equal(e1, e2)
    again = TensorLoader(x, y, bs=50, shuffle=True, device="cpu", seed=3)
    assert torch.equal(next(iter(again))[1], e1)


def test_take_shifted_cuts_each_image_at_its_own_offset():
    x = torch.randint(0, 256, (20, 6, 5), dtype=torch.uint8)
    s = 2
    padded = F.pad(x, (s, s, s, s))
    idx = torch.tensor([3, 0, 19, 3, 7] * 8)
    out = take_shifted(padded, idx, s, torch.Generator().manual_seed(0))
    assert out.shape == (40, 6, 5) and out.dtype == torch.uint8
    offsets = set()
    for k, i in enumerate(idx.tolist()):   # each crop is the padded image at one offset in 0..2s
        match = [(dy, dx) for dy in range(2*s + 1) for dx in range(2*s + 1)
                 if torch.equal(out[k], padded[i, dy:dy + 6, dx:dx + 5])]
        assert match, k
        offsets.add(match[0])
    assert len(offsets) > 5   # the offsets vary from image to image
    assert torch.equal(take_shifted(F.pad(x, (0,) * 4), idx, 0), x[idx])   # shift 0: the images as they are


def test_tensor_loader_shifts_without_losing_the_digit():
    img = torch.zeros(30, 28, 28, dtype=torch.uint8)
    img[:, 10:18, 12:16] = 255
    y = torch.arange(30)
    dl = TensorLoader(img, y, bs=30, shuffle=True, shift=2, device="cpu", seed=0)
    xb, yb = next(iter(dl))
    ink = xb > 0
    assert xb.shape == (30, 1, 28, 28) and torch.all(ink.sum((1, 2, 3)) == 8 * 4)   # nothing cut off
    rows = ink[:, 0].any(2).float().argmax(1)   # first inked row of each image
    assert set(rows.tolist()) <= set(range(8, 13)) and len(set(rows.tolist())) > 1
    again = next(iter(TensorLoader(img, y, bs=30, shuffle=True, shift=2, device="cpu", seed=0)))[0]
    assert torch.equal(again, xb)   # the loader's seed fixes the shifts too


def test_mnist_cnn_gives_ten_scores_with_either_head():
    m = mnist_cnn().eval()
    assert m(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    assert sum(p.numel() for p in m.parameters()) == 131_690   # the network notebooks 08 and 12 train
    small = mnist_cnn((16, 32, 32, 64), head="flat").eval()
    assert small(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert small[-1].in_features == 64 * 4 * 4
    assert isinstance(conv_block(1, 8, stride=2, ks=5)[0], nn.Conv2d)
    try:
        mnist_cnn(head="average")
    except ValueError as e:
        assert "pool" in str(e)
    else:
        raise AssertionError("an unknown head must be refused")


@pytest.fixture
def one_thread():
    "Tiny models train fastest on one thread, and a busy machine does not slow them down."
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.slow
def test_one_cycle_loop_learns_and_ends_in_eval_mode(one_thread):
    torch.manual_seed(0)
    x = torch.zeros(128, 28, 28, dtype=torch.uint8)
    y = torch.arange(128) % 2
    x[y == 1, 4:24, 13:15] = 255     # a vertical bar for class 1, nothing for class 0
    dl = TensorLoader(x, y, bs=32, shuffle=True, shift=2, drop_last=True, device="cpu", seed=0)
    model = mnist_cnn((8, 8, 8, 16), head="flat")
    losses = train_model_one_cycle(model, dl, epochs=3, lr_max=1e-2, progress=False)
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert not model.training and model[0][0].weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.slow
def test_one_cycle_loop_trains_a_flat_model_too(one_thread):
    "Notebook 12 trains simple_net with ten outputs through the same loop, on flat batches."
    torch.manual_seed(0)
    y = torch.arange(256) % 10
    x = torch.zeros(256, 28, 28, dtype=torch.uint8)
    for d in range(10):
        x[y == d, 2*d + 4:2*d + 6] = 255   # two inked rows, their height tells the class
    net = nn.Sequential(nn.Linear(784, 30), nn.ReLU(), nn.Linear(30, 10))
    losses = train_model_one_cycle(net, TensorLoader(x, y, bs=64, shuffle=True, flat=True, device="cpu"),
                                   epochs=5, lr_max=1e-2, progress=False)
    assert losses[-1] < losses[0]
    assert accuracy_of(net, TensorLoader(x, y, bs=256, flat=True, device="cpu")) > 0.9


def test_predict_gives_probabilities_for_modules_and_plain_functions():
    x = torch.randint(0, 256, (30, 28, 28), dtype=torch.uint8)
    y = torch.arange(30) % 10
    dl = TensorLoader(x, y, bs=8, flat=True, device="cpu")
    w = torch.randn(784, 10)
    probs, targs = predict(lambda xb: xb @ w, dl)
    assert probs.shape == (30, 10) and torch.allclose(probs.sum(1), torch.ones(30))
    assert torch.equal(targs, y)
    assert accuracy_of(lambda xb: xb @ w, dl) == (probs.argmax(1) == y).float().mean().item()


def test_hand_written_softmax_and_cross_entropy_match_pytorch():
    torch.manual_seed(0)
    x, y = torch.randn(64, 10) * 50, torch.randint(0, 10, (64,))
    assert torch.allclose(log_softmax(x), F.log_softmax(x, dim=1), atol=1e-5)
    assert torch.allclose(softmax(x), F.softmax(x, dim=1), atol=1e-6)
    assert torch.allclose(cross_entropy(x, y), F.cross_entropy(x, y), atol=1e-5)


def test_full_mnist_benchmark_reads_its_frontier_right(tmp_path):
    """The benchmark's time to a target is the quickest point whose validation accuracy reaches it
    (test accuracy plays no part); the plot is written."""
    import importlib.util
    from conftest import ROOT
    spec = importlib.util.spec_from_file_location("bench_full_mnist", ROOT / "benchmarks" / "bench_full_mnist.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    runs = [dict(train_s=7.0, valid=0.990, test=0.991), dict(train_s=6.0, valid=0.989, test=0.989),
            dict(train_s=8.0, valid=0.991, test=0.990)]
    point = bench.median_point("1 epoch", runs)
    assert point == dict(name="1 epoch", seeds=3, train_s=7.0, valid=0.99, test=0.99)
    points = [point, dict(name="5 epochs", seeds=3, train_s=37.0, valid=0.995, test=0.994),
              dict(name="3 epochs", seeds=1, train_s=20.0, valid=0.993, test=0.996)]
    assert bench.time_to(points, 0.990) == 7.0 and bench.time_to(points, 0.995) == 37.0
    assert bench.time_to(points, 0.996) is None
    bench.plot({"fast path": points}, tmp_path / "frontier.png")
    assert (tmp_path / "frontier.png").stat().st_size > 1000


def test_full_mnist_benchmark_measures_the_other_processes_load(monkeypatch):
    """Contention's figure on known counters: over 2 s, the machine was busy for 300 clock
    ticks and this process for 100 of them, so the others kept 1.0 core busy."""
    import importlib.util
    import types
    from conftest import ROOT
    spec = importlib.util.spec_from_file_location("bench_full_mnist", ROOT / "benchmarks" / "bench_full_mnist.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    counters = iter([(1000, 50), (1300, 150)])
    clock = iter([10.0, 12.0, 20.0, 21.0])
    monkeypatch.setattr(bench.Contention, "_read", lambda self: next(counters))
    monkeypatch.setattr(bench, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    monkeypatch.setattr(bench, "os", types.SimpleNamespace(sysconf=lambda name: 100))
    with bench.Contention() as busy:
        pass
    assert busy.others == 1.0
    unreadable = bench.Contention()
    monkeypatch.setattr(bench.Contention, "_read", lambda self: None)  # no /proc (macOS, Windows)
    with unreadable:
        pass
    assert unreadable.others is None

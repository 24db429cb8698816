"""The baseline functions and the figure helpers."""
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from helpers import draw_broadcast, is_3, mnist_distance, pixel_table, plot_function, show_digit, show_digits


def test_mnist_distance_broadcasts():
    ideal = torch.zeros(28, 28)
    stack = torch.ones(5, 28, 28) * torch.arange(5.).view(5, 1, 1) / 10
    d = mnist_distance(stack, ideal)
    assert d.shape == (5,)
    assert torch.allclose(d, torch.arange(5.) / 10)
    assert mnist_distance(stack[2], ideal).shape == ()


def test_is_3_picks_the_closer_ideal():
    mean3, mean7 = torch.zeros(28, 28), torch.ones(28, 28)
    x = torch.stack([torch.full((28, 28), 0.2), torch.full((28, 28), 0.9)])
    assert is_3(x, mean3, mean7).tolist() == [True, False]


def titled(ax):
    return bool(ax.get_title())


def test_show_digit_has_title_and_labels():
    ax = show_digit(torch.rand(28, 28), "a digit")
    assert ax.get_title() == "a digit" and ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")


def test_show_digits_titles_every_image():
    fig = show_digits([torch.rand(28, 28)] * 3, ["a", "b", "c"], "three digits", ncols=2)
    assert fig._suptitle.get_text() == "three digits"
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 3 and all(titled(ax) for ax in shown)
    plt.close("all")


def test_plot_function_labels_and_marks():
    ax = plot_function(lambda x: x**2, -2, 2, "square", "x", "x²", mark=1.5)
    assert ax.get_title() == "square" and ax.get_xlabel() == "x" and ax.get_ylabel() == "x²"
    assert ax.collections  # the marked point
    plt.close("all")


def test_draw_broadcast_is_titled():
    fig = draw_broadcast(torch.ones(2, 3), torch.arange(3))
    assert titled(fig.axes[0])
    plt.close("all")


def test_pixel_table_writes_every_value_and_labels_the_axes():
    img = torch.arange(784).view(28, 28) % 256
    ax = pixel_table(img, slice(2, 5), slice(3, 7))
    values = [int(t.get_text()) for t in ax.texts]
    assert values == (img[2:5, 3:7]).flatten().tolist()
    assert ax.get_title() == "Pixel values, rows 2-4, columns 3-6"
    assert ax.get_xlabel() == "pixel column" and ax.get_ylabel() == "pixel row"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "4", "5", "6"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2", "3", "4"]
    plt.close("all")

"""Preparing a drawing the way MNIST's digits were prepared (notebook 12), and the strokes that
stand in for a pen. The canvas itself is tested in test_canvas.py, notebook 03's sliders in
test_sliders.py."""
import numpy as np
import pytest

from helpers.drawing import (EmptyDrawingError, centre_by_mass, crop_to_ink, draw_strokes,
                             fit_in_box, prepare_digit)

SEVEN = [[(40, 40), (120, 40), (80, 130)]]


def centre_of_mass(img):
    m = np.asarray(img, dtype=float)
    rows = (m.sum(1) * np.arange(m.shape[0])).sum() / m.sum()
    cols = (m.sum(0) * np.arange(m.shape[1])).sum() / m.sum()
    return rows, cols


def ink_box(img, threshold=0):
    rows = np.flatnonzero((np.asarray(img) > threshold).any(1))
    cols = np.flatnonzero((np.asarray(img) > threshold).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def shifted(strokes, dx, dy):
    return [[(x + dx, y + dy) for x, y in s] for s in strokes]


# ---- preparation ---------------------------------------------------------------------------

def test_an_off_centre_stroke_is_centred_by_mass():
    ink = draw_strokes(SEVEN)                       # a 7 in the top-left corner of the canvas
    assert centre_of_mass(ink)[0] < 100 and centre_of_mass(ink)[1] < 100
    digit = prepare_digit(ink)
    rows, cols = centre_of_mass(digit)
    assert abs(rows - 14) <= 0.5 and abs(cols - 14) <= 0.5
    assert max(ink_box(digit)) == 20                # its longer side fills the 20-pixel box


def test_where_the_digit_was_drawn_does_not_matter():
    a = prepare_digit(draw_strokes(SEVEN))
    b = prepare_digit(draw_strokes(shifted(SEVEN, 130, 120)))   # bottom-right corner instead
    assert np.array_equal(a, b)


def test_a_wide_digit_keeps_its_aspect_ratio():
    # a flat loop, 200 pixels wide and 60 tall (plus the pen's width)
    loop = [[(40, 110), (240, 110), (240, 170), (40, 170), (40, 110)]]
    ink = draw_strokes(loop, width=20)
    h, w = ink_box(ink, 0.1)
    digit = prepare_digit(ink)
    dh, dw = ink_box(digit, 0)
    assert dw == 20
    assert abs(dh - 20 * h / w) <= 1.5             # 80/220 of 20 is about 7, not stretched to 20
    assert dh < 10


def test_a_tall_thin_one_stays_thin():
    digit = prepare_digit(draw_strokes([[(140, 40), (140, 240)]], width=20))
    dh, dw = ink_box(digit, 0)
    assert dh == 20 and dw <= 4


def test_an_empty_canvas_says_so_in_one_sentence():
    with pytest.raises(EmptyDrawingError) as info:
        prepare_digit(np.zeros((280, 280), dtype=np.float32))
    message = str(info.value)
    assert message == "The canvas is empty: draw a digit first, then press predict."
    assert isinstance(info.value, ValueError)


def test_faint_smudges_alone_count_as_empty():
    smudge = np.full((280, 280), 0.05, dtype=np.float32)
    with pytest.raises(EmptyDrawingError):
        prepare_digit(smudge)


def test_the_result_looks_like_an_mnist_image():
    digit = prepare_digit(draw_strokes(SEVEN))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit.max() == 255                      # every MNIST digit peaks at 254 or 255
    assert digit[0].sum() == 0 and digit[:, 0].sum() == 0   # a blank margin around the box


def test_preparing_twice_changes_nothing():
    once = prepare_digit(draw_strokes(SEVEN))
    twice = prepare_digit(once.astype(np.float32) / 255)
    assert np.array_equal(once, twice)


def test_the_steps_one_by_one():
    ink = np.zeros((50, 60), dtype=np.float32)
    ink[10:20, 5:45] = 1.0
    crop = crop_to_ink(ink)
    assert crop.shape == (10, 40)
    box = fit_in_box(crop)
    assert box.shape == (5, 20)
    square = centre_by_mass(box)
    assert square.shape == (28, 28)
    rows, cols = centre_of_mass(square)
    assert abs(rows - 14) <= 0.5 and abs(cols - 14) <= 0.5


def test_centring_never_pushes_ink_off_the_square():
    lopsided = np.zeros((20, 20), dtype=np.float32)
    lopsided[:, 0] = 1.0                           # all the mass on the left edge
    square = centre_by_mass(lopsided)
    assert square.sum() == lopsided.sum()


def test_draw_strokes_has_soft_edges_and_round_ends():
    ink = draw_strokes([[(100, 140), (180, 140)]], width=20)
    assert ink.shape == (280, 280) and ink.dtype == np.float32
    assert ink.max() == 1.0 and ink.min() == 0.0
    assert ((ink > 0) & (ink < 1)).any()            # anti-aliased edge pixels
    assert ink[140, 92] > 0.5 and ink[140, 188] > 0.5   # the round cap reaches past both ends
    assert ink[140, 75] == 0


# ---- writing strokes down -------------------------------------------------------------------

def test_arc_goes_clockwise_from_the_right():
    from helpers.drawing import arc
    pts = arc(100, 100, 10, 0, 90, n=3)
    assert pts[0] == pytest.approx((110, 100)) and pts[-1] == pytest.approx((100, 110))


def test_move_strokes_scales_turns_and_shifts():
    from helpers.drawing import move_strokes
    line = [[(140, 100), (140, 180)]]              # vertical, centred on (140, 140)
    turned = move_strokes(line, turn=90)
    assert turned[0][0] == pytest.approx((180, 140)) and turned[0][1] == pytest.approx((100, 140))
    small = move_strokes(line, dx=-50, dy=10, scale=0.5)
    assert small[0] == [pytest.approx((90, 130)), pytest.approx((90, 170))]
    assert line == [[(140, 100), (140, 180)]]       # the original is left alone

"""helpers.tgs_data and helpers.tgs_encoding (notebook 11): what they accept and what they refuse.
A train.csv saved with a byte-order mark and Kaggle's newer sign-in routes (an API token in
KAGGLE_API_TOKEN or ~/.kaggle/access_token) are accepted; half a username/key pair is not.
Probabilities, one mask where a batch belongs, and unsorted or overlapping runs are refused."""
import numpy as np
import pytest

import helpers.data as data
import helpers.tgs as tgs
from helpers.tgs import (TgsNotConfigured, check_tgs_folder, competition_metric, get_tgs, load_tgs,
                         make_synthetic_tgs, rle_decode, rle_encode)


def one_sentence(msg: str) -> bool:
    return msg.count(": ") >= 1 and msg.rstrip().endswith(".") and "\n" not in msg


# -- a train.csv saved with a byte-order mark -------------------------------------------------

def test_train_csv_with_a_byte_order_mark(tmp_path):
    import shutil
    folder = make_synthetic_tgs(tmp_path / "synthetic", n=6, seed=1)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    text = (copy / "train.csv").read_text()
    (copy / "train.csv").write_text("\ufeff" + text, encoding="utf-8")   # as Excel saves it
    assert check_tgs_folder(copy) == copy
    ids, _, masks = load_tgs(copy)
    ids0, _, masks0 = load_tgs(folder)
    assert ids == ids0 and np.array_equal(masks, masks0)


# -- Kaggle's ways of signing in ---------------------------------------------------------------

@pytest.fixture
def nobody(no_kaggle_anywhere):
    "No TGS_DATA, no Kaggle credentials of any kind, and an empty data folder: the home folder."
    return no_kaggle_anywhere


@pytest.mark.parametrize("how", ["api-token", "access-token-file", "access-token-txt", "xdg-config",
                                 "username-and-key", "kaggle-json"])
def test_every_sign_in_route_is_recognised(nobody, monkeypatch, how):
    home = nobody
    assert not tgs.kaggle_credentials()
    if how == "api-token":
        monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_0123")
    elif how in ("access-token-file", "access-token-txt"):
        (home / ".kaggle").mkdir()
        (home / ".kaggle" / ("access_token" if how == "access-token-file" else "access_token.txt")).write_text("KGAT_0123")
    elif how == "xdg-config":
        (home / "conf" / "kaggle").mkdir(parents=True)
        (home / "conf" / "kaggle" / "kaggle.json").write_text("{}")
        monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "conf"))
    elif how == "username-and-key":
        monkeypatch.setenv("KAGGLE_USERNAME", "someone")
        monkeypatch.setenv("KAGGLE_KEY", "0123")
    else:
        (home / ".kaggle").mkdir()
        (home / ".kaggle" / "kaggle.json").write_text("{}")
    assert tgs.kaggle_credentials()


def test_half_a_pair_is_not_credentials(nobody, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")   # without KAGGLE_KEY
    assert not tgs.kaggle_credentials()
    with pytest.raises(TgsNotConfigured) as e:
        get_tgs()
    assert one_sentence(str(e.value))


# --- masks the encoding and the metric refuse, rather than misread ---

def _square(n=10, filled=30):
    m = np.zeros((n, n), dtype=bool)
    m.flat[:filled] = True
    return m


def test_one_mask_where_a_batch_belongs_is_refused():
    "A 2-D mask would otherwise be read as n one-row images (50 and 60 full rows scored 0.901)."
    a, b = np.zeros((101, 101), bool), np.zeros((101, 101), bool)
    a[:50], b[:60] = True, True
    with pytest.raises(ValueError, match=r"batch of masks.*mask\[None\]"):
        competition_metric(a, b)
    assert competition_metric(a[None], b[None]) == pytest.approx(0.7)


@pytest.mark.parametrize("call", [lambda p, t: competition_metric(p[None], t[None]),
                                  lambda p, t: rle_encode(p)])
def test_probabilities_are_refused(call):
    probs = np.where(_square(), 0.9, 0.1)
    with pytest.raises(ValueError, match=r"0s and 1s.*such as 0\.[19].*probs > 0\.5"):
        call(probs, _square())


def test_masks_of_zeros_and_ones_in_any_number_type_are_accepted():
    for dtype in (bool, np.uint8, np.int64, np.float32):
        m = _square().astype(dtype)
        assert rle_encode(m) == rle_encode(_square())
        assert competition_metric(m[None], _square()[None]) == 1.0


def test_rle_encode_takes_one_mask_at_a_time():
    with pytest.raises(ValueError, match="one at a time"):
        rle_encode(np.stack([_square(), _square()]))


@pytest.mark.parametrize("rle", ["5 2 1 2", "1 5 3 2", "1 2 2 2"])
def test_rle_decode_refuses_unsorted_or_overlapping_runs(rle):
    with pytest.raises(ValueError, match="sorted and not overlapping"):
        rle_decode(rle, (10, 10))


def test_rle_decode_accepts_runs_that_touch():
    assert rle_decode("1 2 3 2", (3, 3)).sum() == 4

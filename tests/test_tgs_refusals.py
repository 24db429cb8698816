"""helpers.tgs_data (notebook 11): what it now accepts. A train.csv saved with a byte-order
mark and Kaggle's newer sign-in routes (an API token in KAGGLE_API_TOKEN or ~/.kaggle/access_token)
are accepted; half a username/key pair is not."""
import numpy as np
import pytest

import helpers.data as data
import helpers.tgs as tgs
from helpers.tgs import TgsNotConfigured, check_tgs_folder, get_tgs, load_tgs, make_synthetic_tgs


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

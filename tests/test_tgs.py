"""helpers.tgs (notebook 11): run-length encoding, the competition's metric, the synthetic
stand-in, and getting the data (TGS_DATA, or a Kaggle download extracted all or nothing).
The refusals of bad masks and Kaggle's newer sign-in routes are in test_tgs_refusals.py."""
import csv
import io
import sys
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import helpers.data as data
import helpers.tgs as tgs
import helpers.tgs_data as tgs_data
from helpers.tgs import (TgsDataError, TgsNotConfigured, check_tgs_folder, competition_metric,
                         get_tgs, load_tgs, make_synthetic_tgs, rle_decode, rle_encode)


def one_sentence(msg: str) -> bool:
    return msg.count(": ") >= 1 and msg.rstrip().endswith(".") and "\n" not in msg


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "partial" in p.name)


# -- run-length encoding --------------------------------------------------------------------

def test_rle_small_masks_by_hand():
    # Pixels are numbered down each column, then across: in a 3x3 mask
    #   1 4 7
    #   2 5 8
    #   3 6 9
    m = np.array([[1, 0, 0],
                  [1, 0, 1],
                  [0, 0, 1]], dtype=bool)
    assert rle_encode(m) == "1 2 8 2"
    # a run may carry on from the bottom of one column to the top of the next
    assert rle_encode(np.array([[0, 1], [1, 0]])) == "2 2"
    assert rle_encode(np.ones((2, 2))) == "1 4"
    assert rle_encode(np.zeros((3, 3))) == ""
    # on the competition's 101x101 images, the first pixel of the second column is pixel 102
    big = np.zeros((101, 101), dtype=bool)
    big[0:3, 0] = True
    big[0, 1] = True
    big[100, 100] = True
    assert rle_encode(big) == "1 3 102 1 10201 1"


def test_rle_decode_by_hand():
    expected = np.array([[1, 0, 0], [1, 0, 1], [0, 0, 1]], dtype=bool)
    assert np.array_equal(rle_decode("1 2 8 2", (3, 3)), expected)
    assert rle_decode("", (3, 3)).sum() == 0
    assert rle_decode("  ").shape == (101, 101)
    assert rle_decode("10201 1")[100, 100]


def test_rle_round_trips():
    rng = np.random.default_rng(0)
    for density in (0.0, 0.01, 0.3, 0.5, 0.9, 1.0):
        for shape in ((101, 101), (7, 5), (1, 1)):
            m = rng.random(shape) < density
            s = rle_encode(m)
            assert np.array_equal(rle_decode(s, shape), m)
            assert rle_encode(rle_decode(s, shape)) == s
    assert rle_decode("1 2 8 2", (3, 3)).dtype == bool


@pytest.mark.parametrize("bad,words", [
    ("1 2 3", "odd"),
    ("10200 5", "outside"),     # pixels 10200..10204 of a 10201-pixel image
    ("0 3", "outside"),         # pixels are numbered from 1
    ("5 0", "outside"),         # a run of length 0
    ("1 two", "whole numbers"),
    ("-1 3", "whole numbers"),
])
def test_rle_decode_refuses_bad_strings(bad, words):
    with pytest.raises(ValueError, match=words) as e:
        rle_decode(bad)
    assert one_sentence(str(e.value))


# -- the competition's metric ---------------------------------------------------------------

def masks_with_iou(inter: int, union: int, size: int = 20) -> tuple[np.ndarray, np.ndarray]:
    "A predicted and a true mask (1 x size x size) whose IoU is exactly inter/union."
    true = np.zeros((1, size, size), dtype=bool)
    pred = np.zeros_like(true)
    true.flat[:inter] = True
    pred.flat[:inter] = True
    true.flat[inter:union] = True  # the rest of the union: true pixels the prediction missed
    return pred, true


@pytest.mark.parametrize("inter,union,score", [
    (3, 4, 0.5),     # IoU exactly 0.75 clears 0.50..0.70 but not 0.75
    (1, 2, 0.0),     # IoU exactly 0.50 clears nothing: strictly greater is required
    (11, 20, 0.1),   # IoU exactly 0.55 clears 0.50 only
    (7, 10, 0.4),    # IoU exactly 0.70
    (19, 20, 0.9),   # IoU exactly 0.95 clears all but 0.95
    (20, 20, 1.0),
    (76, 100, 0.6),  # IoU 0.76 clears 0.75 too
])
def test_metric_at_the_thresholds(inter, union, score):
    pred, true = masks_with_iou(inter, union)
    assert competition_metric(pred, true) == pytest.approx(score)
    assert competition_metric(true, pred) == pytest.approx(score)  # IoU is symmetric


def test_metric_empty_masks():
    empty = np.zeros((1, 5, 5), dtype=bool)
    one = empty.copy()
    one[0, 2, 2] = True
    assert competition_metric(empty, empty) == 1.0      # nothing to find, nothing found
    assert competition_metric(one, empty) == 0.0        # one false pixel on an empty image
    assert competition_metric(empty, one) == 0.0        # one salt pixel missed
    assert competition_metric(one, one) == 1.0


def test_metric_is_the_mean_over_images():
    pred, true = masks_with_iou(3, 4)
    empty = np.zeros_like(true)
    preds = np.concatenate([pred, empty, empty])
    trues = np.concatenate([true, empty, true])
    assert competition_metric(preds, trues) == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    # any array-like of 0/1 or booleans will do
    assert competition_metric(preds.astype(np.uint8), trues.astype(np.float32)) == pytest.approx(0.5)


def test_metric_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="one prediction per true mask") as e:
        competition_metric(np.zeros((2, 5, 5)), np.zeros((3, 5, 5)))
    assert one_sentence(str(e.value))


# -- the synthetic stand-in -----------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return make_synthetic_tgs(tmp_path_factory.mktemp("tgs") / "synthetic", n=150, seed=3)


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_synthetic_layout(synthetic):
    rows = read_csv(synthetic / "train.csv")
    assert rows[0] == ["id", "rle_mask"] and len(rows) == 151
    ids = [r[0] for r in rows[1:]]
    assert len(set(ids)) == 150 and all(len(i) == 10 for i in ids)
    images = sorted(p.stem for p in (synthetic / "train" / "images").glob("*.png"))
    masks = sorted(p.stem for p in (synthetic / "train" / "masks").glob("*.png"))
    tests = sorted(p.stem for p in (synthetic / "test" / "images").glob("*.png"))
    assert images == masks == sorted(ids)
    assert len(tests) == 30 and not set(tests) & set(ids)
    depths = read_csv(synthetic / "depths.csv")
    assert depths[0] == ["id", "z"] and {r[0] for r in depths[1:]} == set(ids) | set(tests)
    with Image.open(synthetic / "train" / "images" / f"{ids[0]}.png") as im:
        assert im.size == (101, 101) and im.mode == "L"
    with Image.open(synthetic / "train" / "masks" / f"{ids[0]}.png") as im:
        assert im.size == (101, 101) and set(np.unique(np.asarray(im))) <= {0, 255}
    assert check_tgs_folder(synthetic) == synthetic


def test_synthetic_masks_match_the_csv_and_vary(synthetic):
    ids, images, masks = load_tgs(synthetic)
    rles = dict(r for r in read_csv(synthetic / "train.csv")[1:])
    assert all(np.array_equal(rle_decode(rles[i]), m) for i, m in zip(ids, masks))
    coverage = masks.mean((1, 2))
    assert 0.2 < (coverage == 0).mean() < 0.5      # about a third without salt
    assert (coverage == 1).sum() >= 1               # a few all salt
    assert ((coverage > 0) & (coverage < 1)).mean() > 0.4
    assert images.dtype == np.uint8 and images.std() > 10
    # salt is weak, chaotic texture: less local contrast inside the salt than in the layers
    rough = np.abs(np.diff(images.astype(float), axis=1))
    inside = masks[:, 1:] & masks[:, :-1]
    outside = ~masks[:, 1:] & ~masks[:, :-1]
    assert rough[inside].mean() < 0.8 * rough[outside].mean()
    test_ids, test_images, test_masks = load_tgs(synthetic, "test")
    assert test_images.shape == (30, 101, 101) and test_masks is None and test_ids == sorted(test_ids)


@pytest.mark.slow
def test_synthetic_is_deterministic_and_reused(tmp_path):
    first = make_synthetic_tgs(tmp_path / "first", n=30, seed=3)
    again = make_synthetic_tgs(tmp_path / "again", n=30, seed=3)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) == 30 + 30 + 6 + 3  # images, masks, test images, two CSVs and the settings
    for f in files:
        assert (again / f).read_bytes() == (first / f).read_bytes(), f
    other = make_synthetic_tgs(tmp_path / "other", n=30, seed=4)
    assert read_csv(other / "train.csv")[1] != read_csv(again / "train.csv")[1]
    # the first images do not depend on how many are made
    fewer = make_synthetic_tgs(tmp_path / "fewer", n=10, seed=3)
    assert read_csv(fewer / "train.csv")[1:] == read_csv(first / "train.csv")[1:11]
    stamp = (again / "train.csv").stat().st_mtime_ns
    assert make_synthetic_tgs(again, n=30, seed=3) == again         # same settings: kept
    assert (again / "train.csv").stat().st_mtime_ns == stamp
    make_synthetic_tgs(again, n=10, seed=3)                          # new settings: replaced
    assert len(read_csv(again / "train.csv")) == 11
    assert leftovers(tmp_path) == []


def test_synthetic_will_not_overwrite_other_folders(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(TgsDataError, match="not a synthetic TGS set") as e:
        make_synthetic_tgs(tmp_path / "mine", n=5)
    assert one_sentence(str(e.value))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


# -- checking and loading a folder ----------------------------------------------------------

def copy_of(src: Path, dest: Path) -> Path:
    import shutil
    shutil.copytree(src, dest)
    return dest


def test_folder_without_train_csv(tmp_path, synthetic):
    folder = copy_of(synthetic, tmp_path / "tgs")
    (folder / "train.csv").unlink()
    with pytest.raises(TgsDataError, match="has no train.csv") as e:
        check_tgs_folder(folder)
    assert one_sentence(str(e.value)) and "TGS_DATA" in str(e.value)


def test_folder_missing_masks_or_test(tmp_path, synthetic):
    folder = copy_of(synthetic, tmp_path / "tgs")
    next((folder / "train" / "masks").glob("*.png")).unlink()
    with pytest.raises(TgsDataError, match="lacks 1 of the 150") as e:
        check_tgs_folder(folder)
    assert one_sentence(str(e.value))
    import shutil
    shutil.rmtree(folder / "test")
    with pytest.raises(TgsDataError, match="no test/images/ folder"):
        check_tgs_folder(folder)


def test_folder_with_wrong_counts(synthetic):
    with pytest.raises(TgsDataError, match="instead of the competition's 4000"):
        check_tgs_folder(synthetic, expected=tgs.COMPETITION_COUNTS)
    assert check_tgs_folder(synthetic, expected={"train": 150, "test": 30}) == synthetic


def test_csv_with_the_wrong_header(tmp_path, synthetic):
    folder = copy_of(synthetic, tmp_path / "tgs")
    (folder / "train.csv").write_text("name,label\n")
    with pytest.raises(TgsDataError, match="id,rle_mask"):
        check_tgs_folder(folder)


def test_mask_of_the_wrong_size(tmp_path, synthetic):
    folder = copy_of(synthetic, tmp_path / "tgs")
    first = read_csv(folder / "train.csv")[3][0]
    Image.fromarray(np.zeros((100, 101), dtype=np.uint8)).save(folder / "train" / "masks" / f"{first}.png")
    with pytest.raises(TgsDataError, match=f"train/masks/{first}.png is 101x100 pixels") as e:
        load_tgs(folder)
    assert one_sentence(str(e.value))


def test_load_reads_16_bit_and_rgb_masks(tmp_path, synthetic):
    "The real download's masks need not be 8-bit: any non-zero value is salt."
    folder = copy_of(synthetic, tmp_path / "tgs")
    ids, _, masks = load_tgs(synthetic)
    k = int(np.argmax(masks.sum((1, 2)) > 100))
    m = masks[k]
    Image.fromarray(m.astype(np.uint16) * 65535).save(folder / "train" / "masks" / f"{ids[k]}.png")
    Image.fromarray(np.stack([m.astype(np.uint8) * 255] * 3, -1)).save(
        folder / "train" / "masks" / f"{ids[k + 1]}.png")
    _, _, again = load_tgs(folder)
    assert np.array_equal(again[k], m) and np.array_equal(again[k + 1], m)


# -- get_tgs: TGS_DATA, the download, and neither --------------------------------------------

@pytest.fixture
def no_kaggle(no_kaggle_anywhere, tmp_path):
    "No TGS_DATA, no Kaggle credentials, and an empty data folder: that folder."
    return tmp_path / "data"


def test_tgs_data_is_used_after_checking(no_kaggle, monkeypatch, synthetic, tmp_path):
    monkeypatch.setenv("TGS_DATA", str(synthetic))
    assert get_tgs() == synthetic
    monkeypatch.setenv("TGS_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(TgsDataError, match="is not a folder") as e:
        get_tgs()
    assert one_sentence(str(e.value))
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TGS_DATA", str(empty))
    with pytest.raises(TgsDataError, match="has no train.csv"):
        get_tgs()


def test_neither_way_names_both(no_kaggle):
    with pytest.raises(TgsNotConfigured) as e:
        get_tgs()
    msg = str(e.value)
    assert "TGS_DATA" in msg and "KAGGLE_API_TOKEN" in msg and "kaggle.json" in msg and "rules" in msg
    assert one_sentence(msg)
    assert not tgs.kaggle_credentials()


@pytest.mark.parametrize("how", ["env", "file", "config_dir"])
def test_credentials_are_found(no_kaggle, monkeypatch, tmp_path, how):
    if how == "env":
        monkeypatch.setenv("KAGGLE_USERNAME", "someone")
        monkeypatch.setenv("KAGGLE_KEY", "0123")
    elif how == "file":
        (tmp_path / "home" / ".kaggle").mkdir()
        (tmp_path / "home" / ".kaggle" / "kaggle.json").write_text("{}")
    else:
        (tmp_path / "conf").mkdir()
        (tmp_path / "conf" / "kaggle.json").write_text("{}")
        monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "conf"))
    assert tgs.kaggle_credentials()


def zip_folder(folder: Path, zf: zipfile.ZipFile, prefix: str = "") -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            zf.write(p, prefix + p.relative_to(folder).as_posix())


def competition_zip(synthetic: Path, path: Path, nested: bool = True, train_top: str = "") -> Path:
    """The competition's download made from a synthetic set: a zip holding train.zip and
    test.zip (each with images/ and masks/ at its top, or under `train_top`) and the CSVs; or,
    `nested=False`, one zip with every file in place."""
    with zipfile.ZipFile(path, "w") as zf:
        for name in ("train.csv", "depths.csv"):
            zf.write(synthetic / name, name)
        zf.writestr("sample_submission.csv", "id,rle_mask\n")
        if not nested:
            zip_folder(synthetic / "train", zf, "train/")
            zip_folder(synthetic / "test", zf, "test/")
            return path
        for split in ("train", "test"):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as inner:
                zip_folder(synthetic / split, inner, train_top and f"{split}/")
            zf.writestr(f"{split}.zip", buf.getvalue())
    return path


class FakeKaggle:
    "Stands in for the kaggle package: 'downloads' a prepared zip, or fails like Kaggle does."
    def __init__(self, make_zip=None, error=None):
        self.make_zip, self.error, self.calls = make_zip, error, []

    def install(self, monkeypatch):
        fake = self

        class KaggleApi:
            def authenticate(self):
                pass

            def competition_download_files(self, competition, path=None, force=False, quiet=True):
                fake.calls.append(competition)
                if fake.error:
                    raise fake.error
                fake.make_zip(Path(path) / f"{competition}.zip")
        extended = types.ModuleType("kaggle.api.kaggle_api_extended")
        extended.KaggleApi = KaggleApi
        monkeypatch.setitem(sys.modules, "kaggle", types.ModuleType("kaggle"))
        monkeypatch.setitem(sys.modules, "kaggle.api", types.ModuleType("kaggle.api"))
        monkeypatch.setitem(sys.modules, "kaggle.api.kaggle_api_extended", extended)
        return self


@pytest.fixture
def with_credentials(no_kaggle, monkeypatch, synthetic):
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "0123")
    monkeypatch.setattr(tgs_data, "COMPETITION_COUNTS", {"train": 150, "test": 30})
    return no_kaggle


@pytest.mark.parametrize("nested,train_top", [(True, ""), (True, "train/"), (False, "")],
                         ids=["nested", "nested-with-folders", "flat"])
def test_download_is_extracted_and_reused(with_credentials, monkeypatch, synthetic, nested, train_top):
    home = with_credentials
    fake = FakeKaggle(lambda p: competition_zip(synthetic, p, nested, train_top)).install(monkeypatch)
    path = get_tgs()
    assert path == home / "tgs_salt" and fake.calls == [tgs.COMPETITION]
    ids, images, masks = load_tgs(path)
    ids0, images0, masks0 = load_tgs(synthetic)
    assert ids == ids0 and np.array_equal(images, images0) and np.array_equal(masks, masks0)
    assert (path / "depths.csv").is_file() and (path / "sample_submission.csv").is_file()
    assert len(list((path / "test" / "images").glob("*.png"))) == 30
    assert get_tgs() == path and len(fake.calls) == 1       # the second call downloads nothing
    assert leftovers(home) == []


def test_interrupted_download_leaves_nothing_behind(with_credentials, monkeypatch, synthetic):
    home = with_credentials

    def truncated(p):
        competition_zip(synthetic, p)
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    FakeKaggle(truncated).install(monkeypatch)
    with pytest.raises(TgsDataError, match="damaged or incomplete") as e:
        get_tgs()
    assert one_sentence(str(e.value))
    assert not (home / "tgs_salt").exists() and leftovers(home) == []


def test_corrupt_inner_zip_leaves_nothing_behind(with_credentials, monkeypatch, synthetic):
    home = with_credentials

    def corrupt(p):
        competition_zip(synthetic, p)
        with zipfile.ZipFile(p) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        inner = bytearray(members["test.zip"])
        inner[200:260] = b"\x00" * 60               # damage a file's compressed bytes
        members["test.zip"] = bytes(inner)
        with zipfile.ZipFile(p, "w") as zf:
            for n, b in members.items():
                zf.writestr(n, b)
    FakeKaggle(corrupt).install(monkeypatch)
    with pytest.raises(TgsDataError, match="damaged or incomplete|not a complete copy"):
        get_tgs()
    assert not (home / "tgs_salt").exists() and leftovers(home) == []


def test_incomplete_download_is_refused(with_credentials, monkeypatch, synthetic):
    home = with_credentials
    monkeypatch.setattr(tgs_data, "COMPETITION_COUNTS", {"train": 150, "test": 31})
    FakeKaggle(lambda p: competition_zip(synthetic, p)).install(monkeypatch)
    with pytest.raises(TgsDataError, match="not a complete copy") as e:
        get_tgs()
    assert one_sentence(str(e.value))
    assert not (home / "tgs_salt").exists() and leftovers(home) == []


def test_member_escaping_the_folder_is_refused(with_credentials, monkeypatch, synthetic, tmp_path):
    def evil(p):
        competition_zip(synthetic, p)
        with zipfile.ZipFile(p, "a") as zf:
            zf.writestr("../../evil.txt", "x")
    FakeKaggle(evil).install(monkeypatch)
    with pytest.raises(TgsDataError, match="outside"):
        get_tgs()
    assert not (tmp_path / "evil.txt").exists() and not (with_credentials / "tgs_salt").exists()


def test_rules_not_accepted(with_credentials, monkeypatch):
    FakeKaggle(error=RuntimeError("(403)\nReason: Forbidden")).install(monkeypatch)
    with pytest.raises(TgsDataError, match="accept the competition's rules") as e:
        get_tgs()
    msg = str(e.value)
    assert tgs.RULES_URL in msg and "403" in msg and one_sentence(msg)


def test_credentials_without_the_kaggle_package(with_credentials, monkeypatch):
    monkeypatch.setitem(sys.modules, "kaggle", None)  # makes `import kaggle` fail
    with pytest.raises(TgsDataError, match="pip install kaggle") as e:
        get_tgs()
    assert one_sentence(str(e.value))


def test_kaggle_is_not_imported_by_the_helpers():
    "kaggle is only needed on the download route: no module-level import of it in helpers/."
    import ast
    for path in Path(tgs.__file__).parent.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.split(".")[0] == "kaggle" for n in names), path.name

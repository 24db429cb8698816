"""The TGS Salt Identification Challenge's data on disk (notebook 11).

* `get_tgs`: the competition data, from the folder ``TGS_DATA`` names (an unzipped Kaggle
  download) or downloaded with the official ``kaggle`` package where Kaggle credentials exist,
  extracted all or nothing like MNIST (see `helpers.data`);
* `kaggle_credentials`: whether one of Kaggle's ways of signing in is set up;
* `check_tgs_folder` / `load_tgs`: a folder in the competition's layout, checked, and a split's
  images and masks as arrays.

Every failure ends in one sentence that says what is wrong and how to fix it.
"""
from __future__ import annotations

import csv
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from .data import _lock, data_dir

__all__ = ["TGS_ENV", "COMPETITION", "RULES_URL", "IMAGE_SIZE", "COMPETITION_COUNTS",
           "TgsDataError", "TgsNotConfigured", "get_tgs", "check_tgs_folder", "load_tgs",
           "kaggle_credentials"]

TGS_ENV = "TGS_DATA"
COMPETITION = "tgs-salt-identification-challenge"
RULES_URL = f"https://www.kaggle.com/competitions/{COMPETITION}/rules"
IMAGE_SIZE = 101
_S = IMAGE_SIZE
# What a complete download holds: images in train/images (each with a mask) and test/images.
COMPETITION_COUNTS = {"train": 4000, "test": 18000}
_FOLDER = "tgs_salt"                 # where the download is extracted, inside the data folder


class TgsDataError(RuntimeError):
    """The TGS data could not be made ready; the message says what to do (notebook 11)."""


class TgsNotConfigured(TgsDataError):
    """Neither ``TGS_DATA`` nor Kaggle credentials are set up (notebook 11)."""


# ----------------------------------------------------------------------------------------------
# Checking and loading a folder in the competition's layout.

def _pngs(folder: Path) -> set[str] | None:
    try:
        with os.scandir(folder) as it:
            return {e.name[:-4] for e in it if e.name.endswith(".png")}
    except OSError:
        return None


def _train_ids(csv_path: Path, fix: str) -> list[str]:
    with open(csv_path, newline="", encoding="utf-8-sig") as f:  # a BOM (Excel) is fine
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or [h.strip() for h in header[:2]] != ["id", "rle_mask"]:
            raise TgsDataError(f"{csv_path.name} in {csv_path.parent} does not start with the "
                               f"header 'id,rle_mask', so it is not the competition's train.csv: {fix}.")
        return [row[0] for row in reader if row]


def _check(folder: Path, expected: dict[str, int] | None, fix: str) -> Path:
    if not folder.is_dir():
        raise TgsDataError(f"{folder} is not a folder: {fix}.")
    if not (folder / "train.csv").is_file():
        raise TgsDataError(f"{folder} has no train.csv, so it is not an unzipped download of the "
                           f"TGS competition: {fix}.")
    ids = _train_ids(folder / "train.csv", fix)
    found = {sub: _pngs(folder / sub) for sub in ("train/images", "train/masks", "test/images")}
    for sub, names in found.items():
        if names is None:
            raise TgsDataError(f"{folder} has no {sub}/ folder of PNG files (unzip train.zip into "
                               f"train/ and test.zip into test/): {fix}.")
    for sub in ("train/images", "train/masks"):
        missing = set(ids) - found[sub]
        if missing:
            raise TgsDataError(f"{folder}/{sub} lacks {len(missing)} of the {len(ids)} images "
                               f"train.csv lists (such as {min(missing)}.png): {fix}.")
    counts = {"train": len(ids), "test": len(found["test/images"])}
    for split, want in (expected or {}).items():
        if counts[split] != want:
            raise TgsDataError(f"{folder} holds {counts[split]} {split} images instead of the "
                               f"competition's {want}, so it is not a complete copy: {fix}.")
    return folder


def check_tgs_folder(folder: Path | str, expected: dict[str, int] | None = None) -> Path:
    """Return `folder` if it is in the competition's layout, else raise `TgsDataError`
    (notebook 11): a train.csv, an image and a mask in train/ for each of its ids, and a
    test/images/ folder; with `expected` (such as `COMPETITION_COUNTS`) the counts must match."""
    return _check(Path(folder), expected,
                  f"point {TGS_ENV} at the folder that holds train.csv, train/ and test/")


def load_tgs(folder: Path | str, split: str = "train") -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """The ids, images (uint8, n x 101 x 101) and masks (bool, or None for the test split) of
    a folder in the competition's layout (notebook 11). Training images come in train.csv's
    order, test images sorted by id. An image or mask that is not 101x101 raises `TgsDataError`."""
    from PIL import Image
    folder = Path(folder)
    if split == "train":
        ids = _train_ids(folder / "train.csv", "use the competition's own train.csv")
    elif split == "test":
        ids = sorted(_pngs(folder / "test" / "images") or [])
    else:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}.")
    images = np.zeros((len(ids), _S, _S), dtype=np.uint8)
    masks = np.zeros((len(ids), _S, _S), dtype=bool) if split == "train" else None
    for i, id_ in enumerate(ids):
        for kind, out in (("images", images), ("masks", masks)):
            if out is None:
                continue
            path = folder / split / kind / f"{id_}.png"
            with Image.open(path) as im:
                if im.size != (_S, _S):
                    raise TgsDataError(f"{split}/{kind}/{id_}.png is {im.size[0]}x{im.size[1]} "
                                       f"pixels instead of {_S}x{_S}: replace it with the file "
                                       f"from the competition's download.")
                if kind == "images":
                    out[i] = np.asarray(im.convert("L"))
                else:  # masks come as 8-bit (0/255), 16-bit (0/65535) or RGB: salt is non-zero
                    m = np.asarray(im)
                    out[i] = (m.max(-1) if m.ndim == 3 else m) > 0
    return ids, images, masks


# ----------------------------------------------------------------------------------------------
# Getting the competition data: TGS_DATA, or a download with the official kaggle package.

def kaggle_credentials() -> bool:
    """Whether one of Kaggle's ways of signing in is set up (notebook 11): an API token in
    ``KAGGLE_API_TOKEN`` or in ``~/.kaggle/access_token`` (Kaggle's current tokens), or the
    older pair ``KAGGLE_USERNAME`` and ``KAGGLE_KEY``, or a kaggle.json in ``KAGGLE_CONFIG_DIR``,
    ``~/.kaggle`` or ``~/.config/kaggle``."""
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    home = Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "kaggle"
    places = [home / ".kaggle", config]
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        places.insert(0, Path(os.environ["KAGGLE_CONFIG_DIR"]).expanduser())
    files = [p / "kaggle.json" for p in places]
    files += [home / ".kaggle" / "access_token", home / ".kaggle" / "access_token.txt"]
    return any(f.is_file() for f in files)


def _one_line(e: BaseException, limit: int = 160) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _kaggle_download(archive_dir: Path) -> Path:
    "Download the competition's zip into `archive_dir` with the official kaggle package."
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi  # importing kaggle reads the credentials
    except ImportError:
        raise TgsDataError("Kaggle credentials are set up but the kaggle package is not installed: "
                           "run `pip install kaggle` (in a notebook, `%pip install kaggle`) and run "
                           "this cell again.") from None
    except Exception as e:
        raise TgsDataError(f"The kaggle package could not read your credentials ({_one_line(e)}): "
                           f"create a new API token in your Kaggle account settings.") from None
    archive_dir.mkdir(parents=True, exist_ok=True)
    try:
        api = KaggleApi()
        api.authenticate()
        api.competition_download_files(COMPETITION, path=str(archive_dir), quiet=False)
    except Exception as e:  # 403: rules not accepted; no network; a bad key
        raise TgsDataError(f"Kaggle did not let us download {COMPETITION} ({_one_line(e)}): accept "
                           f"the competition's rules at {RULES_URL} with the account of your "
                           f"token and check the connection, or set {TGS_ENV} to an unzipped "
                           f"download.") from None
    archive = archive_dir / f"{COMPETITION}.zip"
    if not archive.is_file():
        raise TgsDataError(f"The kaggle package finished without writing {archive.name}: delete "
                           f"the folder {archive_dir.name}/ in the data folder and run this cell again.")
    return archive


def _unzip(archive: Path, dest: Path) -> None:
    "Extract `archive` into `dest`, refusing members that would land outside it or are links."
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            p = PurePosixPath(info.filename)
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            if p.is_absolute() or ".." in p.parts or is_link or ":" in info.filename:
                raise TgsDataError(f"{archive.name} holds {info.filename!r}, which is a link or "
                                   f"lies outside the archive's folder, so it is not the "
                                   f"competition's download: delete it and download it again.")
        zf.extractall(dest)


def _assemble(raw: Path, out: Path, archive: Path) -> None:
    "Find train.csv and the splits in the unzipped download (nested zips or not) and lay them out."
    csvs = sorted(raw.rglob("train.csv"), key=lambda p: len(p.parts))
    if not csvs:
        raise TgsDataError(f"{archive.name} holds no train.csv, so it is not the competition's "
                           f"download: delete it and download it again.")
    base = csvs[0].parent
    out.mkdir()
    for split in ("train", "test"):
        if not (base / split / "images").is_dir() and (base / f"{split}.zip").is_file():
            _unzip(base / f"{split}.zip", base / split)    # the download nests one zip per split
            inner = base / split / split
            if (inner / "images").is_dir():                # a zip whose files sit in a split/ folder
                base_split = inner
            else:
                base_split = base / split
        else:
            base_split = base / split
        if base_split.is_dir():
            os.rename(base_split, out / split)
    for name in ("train.csv", "depths.csv", "sample_submission.csv"):
        if (base / name).is_file():
            os.rename(base / name, out / name)


def _extract_tgs(archive: Path, root: Path, expected: dict[str, int]) -> Path:
    """Extract the download into `root/tgs_salt`, all or nothing: everything happens in a
    hidden partial folder that is renamed into place only once checked."""
    dest = root / _FOLDER
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{_FOLDER}-partial-", dir=root))
    fix = f"delete {archive.name} from the data folder's archive/ and run this cell again"
    try:
        try:
            _unzip(archive, tmp / "raw")
            _assemble(tmp / "raw", tmp / _FOLDER, archive)
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, NotImplementedError) as e:
            raise TgsDataError(f"{archive.name} is damaged or incomplete ({type(e).__name__}: "
                               f"{_one_line(e)}): {fix}.") from None
        _check(tmp / _FOLDER, expected, fix)
        try:
            os.rename(tmp / _FOLDER, dest)
        except OSError:
            if not dest.exists():
                raise
            _check(dest, expected, fix)  # another process got there first
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def get_tgs() -> Path:
    """The folder of the TGS Salt Identification Challenge's data, checked (notebook 11).

    * ``TGS_DATA`` set: that folder (an unzipped Kaggle download) after checking its layout;
    * else a copy already extracted into the data folder (``tgs_salt/``), checked;
    * else, with Kaggle credentials (see `kaggle_credentials`),
      a download with the official ``kaggle`` package (the competition's rules must have been
      accepted on kaggle.com), extracted all or nothing into the data folder;
    * else `TgsNotConfigured`, whose one sentence names both ways.
    """
    if os.environ.get(TGS_ENV):
        return check_tgs_folder(Path(os.environ[TGS_ENV]).expanduser())
    root = data_dir()
    dest = root / _FOLDER
    with _lock(root / f".{_FOLDER}.lock"):
        if dest.exists():
            return _check(dest, COMPETITION_COUNTS, f"delete the folder {_FOLDER}/ in the data "
                                                    f"folder and run this cell again")
        if not kaggle_credentials():
            raise TgsNotConfigured(
                f"The TGS competition data is not on this machine: set {TGS_ENV} to the folder of "
                f"an unzipped Kaggle download, or sign in to Kaggle by setting KAGGLE_API_TOKEN to "
                f"a token from your account's settings (or with a kaggle.json in ~/.kaggle/) after "
                f"accepting the competition's rules on kaggle.com.")
        archive = _kaggle_download(root / "archive")
        return _extract_tgs(archive, root, COMPETITION_COUNTS)

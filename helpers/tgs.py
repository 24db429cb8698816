"""The TGS Salt Identification Challenge, the segmentation homework (notebook 11).

* `rle_encode` / `rle_decode`: the competition's run-length encoding of masks;
* `competition_metric`: the competition's score, a mean over images of the share of IoU
  thresholds 0.50, 0.55, ..., 0.95 that a predicted mask clears;
* `get_tgs`: the competition data on disk, from the folder ``TGS_DATA`` names (an unzipped
  Kaggle download) or downloaded with the official ``kaggle`` package where Kaggle credentials
  exist, extracted all or nothing like MNIST (see `helpers.data`);
* `make_synthetic_tgs`: a synthetic stand-in in the very same layout, with seismic-looking
  images and salt bodies, for machines without the competition data (and for CI);
* `load_tgs`: a split's images and masks as arrays, with size checks.

Every failure ends in one sentence that says what is wrong and how to fix it.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from .data import _lock, data_dir

__all__ = ["TGS_ENV", "COMPETITION", "RULES_URL", "IMAGE_SIZE", "COMPETITION_COUNTS",
           "TgsDataError", "TgsNotConfigured", "rle_encode", "rle_decode", "competition_metric",
           "make_synthetic_tgs", "get_tgs", "check_tgs_folder", "load_tgs", "kaggle_credentials"]

TGS_ENV = "TGS_DATA"
COMPETITION = "tgs-salt-identification-challenge"
RULES_URL = f"https://www.kaggle.com/competitions/{COMPETITION}/rules"
IMAGE_SIZE = 101
# What a complete download holds: images in train/images (each with a mask) and test/images.
COMPETITION_COUNTS = {"train": 4000, "test": 18000}
_FOLDER = "tgs_salt"                 # where the download is extracted, inside the data folder
_SYNTHETIC_MARK = ".synthetic.json"  # written by make_synthetic_tgs into the sets it makes
_GENERATOR_VERSION = 1


class TgsDataError(RuntimeError):
    """The TGS data could not be made ready; the message says what to do (notebook 11)."""


class TgsNotConfigured(TgsDataError):
    """Neither ``TGS_DATA`` nor Kaggle credentials are set up (notebook 11)."""


# ----------------------------------------------------------------------------------------------
# Run-length encoding and the competition's metric: taught in notebook 11, written there the same.

def rle_encode(mask: np.ndarray) -> str:
    """Kaggle's run-length encoding of a mask (notebook 11): pixels are numbered from 1, top to
    bottom then left to right (column by column), and each run of salt pixels is written as
    'start length'; an empty mask gives an empty string."""
    pixels = np.asarray(mask, dtype=bool).flatten(order='F')        # column by column
    edges = np.concatenate([[False], pixels, [False]])
    changes = np.flatnonzero(edges[1:] != edges[:-1]) + 1            # 1-based starts and ends
    starts, ends = changes[0::2], changes[1::2]
    return ' '.join(f'{s} {e - s}' for s, e in zip(starts, ends))


def rle_decode(rle: str, shape: tuple[int, int] = (101, 101)) -> np.ndarray:
    """Turn Kaggle's run-length encoding back into a boolean mask of `shape` (notebook 11);
    a string that is not pairs of whole numbers inside the image raises a ValueError."""
    fields = rle.split()
    if not all(f.isdecimal() for f in fields):
        raise ValueError(f'{rle[:40]!r} is not a run-length encoding: it should hold only whole '
                         f'numbers, in pairs of start and length.')
    if len(fields) % 2:
        raise ValueError(f'{rle[:40]!r} holds {len(fields)} numbers, an odd count: a run-length '
                         f'encoding is pairs of start and length.')
    starts, lengths = np.array(fields[0::2], dtype=np.int64), np.array(fields[1::2], dtype=np.int64)
    size = shape[0] * shape[1]
    bad = (starts < 1) | (lengths < 1) | (starts + lengths - 1 > size)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f'the run {starts[i]} {lengths[i]} reaches outside pixels 1 to {size}: '
                         f'this encoding does not belong to a {shape[0]}x{shape[1]} mask.')
    flat = np.zeros(size, dtype=bool)
    for s, n in zip(starts, lengths):
        flat[s - 1:s - 1 + n] = True
    return flat.reshape(shape, order='F')


def competition_metric(pred_masks: np.ndarray, true_masks: np.ndarray) -> float:
    """The competition's score for boolean masks of shape (n, height, width) (notebook 11).

    Per image: 1 if both masks are empty, 0 if only one is; otherwise the share of the
    thresholds 0.50, 0.55, ..., 0.95 that the IoU is strictly greater than. The score is the
    mean over images. Integer arithmetic keeps an IoU of exactly 0.75 from clearing 0.75."""
    pred, true = np.asarray(pred_masks, dtype=bool), np.asarray(true_masks, dtype=bool)
    if pred.shape != true.shape:
        raise ValueError(f'predicted masks of shape {pred.shape} cannot be scored against true '
                         f'masks of shape {true.shape}: give one prediction per true mask.')
    pred, true = pred.reshape(len(pred), -1), true.reshape(len(true), -1)
    inter, union = (pred & true).sum(1), (pred | true).sum(1)
    percents = np.arange(50, 100, 5)                                 # the thresholds, x 100
    hits = 100 * inter[:, None] > percents * union[:, None]          # IoU > threshold
    scores = np.where(union == 0, 1.0, hits.mean(1))
    return float(scores.mean())


# ----------------------------------------------------------------------------------------------
# The synthetic stand-in.

def _smoothing(size: int, sigma: float) -> np.ndarray:
    "The Fourier transfer function of a Gaussian blur of width `sigma` on a periodic grid."
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    return np.exp(-2 * (np.pi * sigma) ** 2 * (fx ** 2 + fy ** 2))


def _smooth_noise(rng: np.random.Generator, transfer: np.ndarray, size: int) -> np.ndarray:
    "Gaussian noise blurred by `transfer` (on a 128x128 grid, fast to transform), cut to `size`."
    field = np.fft.irfft2(np.fft.rfft2(rng.standard_normal((_FFT, _FFT))) * transfer, s=(_FFT, _FFT))
    field = field[:size, :size]
    return field / (field.std() + 1e-9)


_S = IMAGE_SIZE
_YY, _XX = np.mgrid[0:_S, 0:_S].astype(np.float64)
_TRACE_T = np.arange(-120.0, 240.0)  # the depths (in pixels) a folded layer can come from
_FFT = 128
_FINE, _COARSE = _smoothing(_FFT, 1.1), _smoothing(_FFT, 14.0)
_KINDS = ("empty", "full", "dome", "blob", "flank")
_KIND_P = (0.34, 0.04, 0.28, 0.18, 0.16)


def _ricker(width: float) -> np.ndarray:
    "A Ricker ('Mexican hat') wavelet, the usual stand-in for a seismic pulse."
    t = np.arange(-12.0, 13.0) / width
    return (1 - 2 * t ** 2) * np.exp(-t ** 2)


def _salt_shape(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, np.ndarray]:
    "Distance to the salt's centre and the salt's (wobbly) radius there, for every pixel."
    if kind == "dome":      # rises from below the image, with a curved top
        cx, top = rng.uniform(5, 96), rng.uniform(10, 92)
        r0 = rng.uniform(40, 160)
        cy = top + r0
    elif kind == "blob":    # a body inside the image
        cx, cy, r0 = rng.uniform(15, 86), rng.uniform(15, 86), rng.uniform(8, 32)
    else:                   # a flank entering from the left or right
        r0 = rng.uniform(30, 90)
        reach = rng.uniform(4, 70)
        cx = (reach - r0) if rng.random() < 0.5 else (_S - reach + r0)
        cy = rng.uniform(0, _S)
    dy, dx = _YY - cy, _XX - cx
    dist = np.hypot(dx, dy)
    theta = np.arctan2(dy, dx)
    wobble = np.ones_like(theta)
    for k in range(2, 7):
        wobble += rng.uniform(0, 0.22) / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return dist, r0 * wobble


def _synthetic_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    "One seismic-looking image (uint8) and its salt mask (bool)."
    # Layers: a random reflectivity series, blurred by a seismic pulse, read along folded depths.
    spikes = rng.standard_normal(len(_TRACE_T)) * (rng.random(len(_TRACE_T)) < rng.uniform(0.15, 0.45))
    trace = np.convolve(spikes, _ricker(rng.uniform(1.2, 2.6)), mode="same")
    depth = _YY.copy()
    for k in range(3):
        amp = rng.uniform(0, 7) / (k + 1)
        wavelength = rng.uniform(70, 260) / (k + 1)
        growth = 1 + rng.uniform(-0.6, 0.6) * _YY / _S           # folds tighten or relax with depth
        depth += amp * growth * np.sin(2 * np.pi * _XX / wavelength + rng.uniform(0, 2 * np.pi))
    depth += rng.uniform(-0.35, 0.35) * (_XX - _S / 2)            # overall dip
    kind = _KINDS[rng.choice(len(_KINDS), p=_KIND_P)]
    if kind in ("dome", "blob", "flank"):
        dist, radius = _salt_shape(rng, kind)
        outside = np.clip(dist - radius, 0, None)
        depth += rng.uniform(0, 9) * np.exp(-outside / 10)        # layers dragged up by the salt
        soft = np.clip(radius - dist + 0.5, 0, 1)
        mask = dist < radius
        rim = np.exp(-((dist - radius) / 1.2) ** 2)
    else:
        full = kind == "full"
        soft = np.full((_S, _S), float(full))
        mask = np.full((_S, _S), full)
        rim = np.zeros((_S, _S))
    layers = np.interp(depth, _TRACE_T, trace)
    layers /= layers.std() + 1e-9
    layers *= 1 + 0.35 * _smooth_noise(rng, _COARSE, _S)          # reflectors fade in and out
    chaos = rng.uniform(0.2, 0.45) * _smooth_noise(rng, _FINE, _S)  # salt: weak, chaotic texture
    img = layers * (1 - soft) + chaos * soft
    img += rng.choice([-1, 1]) * rng.uniform(0, 1.2) * rim         # the salt's boundary reflector
    img += rng.uniform(0.1, 0.35) * rng.standard_normal((_S, _S))   # recording noise
    img = 128 + rng.uniform(-12, 12) + rng.uniform(22, 40) * img
    return np.clip(img, 0, 255).round().astype(np.uint8), mask


def _new_ids(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    "`n` fresh ten-character hexadecimal ids, like the competition's."
    ids = []
    while len(ids) < n:
        i = f"{int(rng.integers(16 ** 10)):010x}"
        if i not in taken:
            taken.add(i)
            ids.append(i)
    return ids


def _save_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image
    Image.fromarray(array, mode="L").save(path, compress_level=1)


def make_synthetic_tgs(folder: Path | str, n: int = 4000, seed: int = 0,
                       n_test: int | None = None) -> Path:
    """Write a synthetic stand-in for the competition data into `folder` and return it
    (notebook 11).

    The layout and files are the competition's: ``train/images/<id>.png`` (101x101 greyscale),
    ``train/masks/<id>.png`` (0 or 255), ``train.csv`` (id, rle_mask), ``depths.csv`` (id, z)
    and ``test/images/`` (`n_test` images, a fifth of `n` by default). The images show folded
    layers plus noise; salt bodies are smooth blobs of weak, chaotic texture that cut the
    layers. About a third of the images hold no salt and a few are all salt. The same `n`,
    `n_test` and `seed` always give the same files. A set already in `folder` with the same
    settings is kept; one made with other settings is replaced. These are not competition
    figures: scores on them say nothing about the real leaderboard.
    """
    folder = Path(folder)
    n_test = max(1, n // 5) if n_test is None else n_test
    if n < 1 or n_test < 0:
        raise ValueError(f"make_synthetic_tgs needs at least one training image, not n={n}, "
                         f"and n_test >= 0, not {n_test}.")
    settings = {"generator": _GENERATOR_VERSION, "n": n, "n_test": n_test, "seed": seed}
    mark = folder / _SYNTHETIC_MARK
    if folder.exists():
        if not mark.is_file():
            raise TgsDataError(f"{folder} already exists and is not a synthetic TGS set, so "
                               f"make_synthetic_tgs will not write into it: choose another folder.")
        if json.loads(mark.read_text()) == settings:
            return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-partial-", dir=folder.parent))
    try:
        for sub in ("train/images", "train/masks", "test/images"):
            (tmp / sub).mkdir(parents=True)
        master = np.random.default_rng([seed, 0])
        taken: set[str] = set()
        train_ids, test_ids = _new_ids(master, n, taken), _new_ids(master, n_test, taken)
        depths = master.integers(51, 960, n + n_test)
        rows = []
        for i, id_ in enumerate(train_ids):
            img, mask = _synthetic_pair(np.random.default_rng([seed, 1, i]))
            _save_png(img, tmp / "train" / "images" / f"{id_}.png")
            _save_png(mask.astype(np.uint8) * 255, tmp / "train" / "masks" / f"{id_}.png")
            rows.append((id_, rle_encode(mask)))
        for j, id_ in enumerate(test_ids):
            img, _ = _synthetic_pair(np.random.default_rng([seed, 2, j]))
            _save_png(img, tmp / "test" / "images" / f"{id_}.png")
        with open(tmp / "train.csv", "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([("id", "rle_mask"), *rows])
        with open(tmp / "depths.csv", "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(
                [("id", "z"), *zip(train_ids + test_ids, depths.tolist())])
        (tmp / _SYNTHETIC_MARK).write_text(json.dumps(settings))
        if folder.exists():  # an older synthetic set (checked above): replace it
            shutil.rmtree(folder)
        os.rename(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


# ----------------------------------------------------------------------------------------------
# Checking and loading a folder in the competition's layout.

def _pngs(folder: Path) -> set[str] | None:
    try:
        with os.scandir(folder) as it:
            return {e.name[:-4] for e in it if e.name.endswith(".png")}
    except OSError:
        return None


def _train_ids(csv_path: Path, fix: str) -> list[str]:
    with open(csv_path, newline="") as f:
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
    """Whether Kaggle credentials are set up (notebook 11): ``KAGGLE_USERNAME`` and
    ``KAGGLE_KEY``, or a kaggle.json in ``KAGGLE_CONFIG_DIR``, ``~/.kaggle`` or ``~/.config/kaggle``."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    places = [Path.home() / ".kaggle", Path.home() / ".config" / "kaggle"]
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        places.insert(0, Path(os.environ["KAGGLE_CONFIG_DIR"]).expanduser())
    return any((p / "kaggle.json").is_file() for p in places)


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
                           f"download a fresh kaggle.json from your Kaggle account settings.") from None
    archive_dir.mkdir(parents=True, exist_ok=True)
    try:
        api = KaggleApi()
        api.authenticate()
        api.competition_download_files(COMPETITION, path=str(archive_dir), quiet=False)
    except Exception as e:  # 403: rules not accepted; no network; a bad key
        raise TgsDataError(f"Kaggle did not let us download {COMPETITION} ({_one_line(e)}): accept "
                           f"the competition's rules at {RULES_URL} with the account of your "
                           f"kaggle.json and check the connection, or set {TGS_ENV} to an unzipped "
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
    * else, with Kaggle credentials (kaggle.json, or ``KAGGLE_USERNAME`` and ``KAGGLE_KEY``),
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
                f"an unzipped Kaggle download, or put your kaggle.json in ~/.kaggle/ (or set "
                f"KAGGLE_USERNAME and KAGGLE_KEY) after accepting the competition's rules on "
                f"kaggle.com.")
        archive = _kaggle_download(root / "archive")
        return _extract_tgs(archive, root, COMPETITION_COUNTS)

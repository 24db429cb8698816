"""Getting MNIST onto disk, safely, online or offline (taught in notebook 01).

`get_mnist(URLs.MNIST_SAMPLE)` does what fastai's `untar_data` does -- download the archive
with fastai's own size and hash checks, extract it, return the folder -- with three additions:

* when the environment variable ``MNIST_MIRROR`` names a folder holding the archives
  (``mnist_sample.tgz``, ``mnist_png.tgz``, optionally a ``SHA256SUMS`` file), nothing is
  downloaded: the archive is checked and extracted from there;
* extraction happens in a hidden folder beside the destination, which is renamed into place
  only once it is complete, so a half-extracted folder is never mistaken for a good one;
* every failure ends in one sentence that says what is wrong and how to fix it.

Three small tools here serve the other modules too: `png_names` (the PNG files of a folder),
`build_beside` (build a folder under a hidden name, then rename it into place, all or nothing)
and `file_lock` (one process at a time, on every platform, through the `filelock` package).

The data lands in the course's ``data/`` folder, or wherever ``MNIST_DATA`` points.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Iterator

__all__ = ["MnistDataError", "MIRROR_ENV", "DATA_ENV", "LAYOUTS", "data_dir", "get_mnist",
           "check_mnist_folder", "extract_archive", "sha256"]

MIRROR_ENV = "MNIST_MIRROR"
DATA_ENV = "MNIST_DATA"

# What a complete copy of each archive holds: PNG files per folder.
_TRAIN = {0: 5923, 1: 6742, 2: 5958, 3: 6131, 4: 5842, 5: 5421, 6: 5918, 7: 6265, 8: 5851, 9: 5949}
_TEST = {0: 980, 1: 1135, 2: 1032, 3: 1010, 4: 982, 5: 892, 6: 958, 7: 1028, 8: 974, 9: 1009}
LAYOUTS: dict[str, dict[str, int]] = {
    "mnist_sample": {"train/3": 6131, "train/7": 6265, "valid/3": 1010, "valid/7": 1028},
    "mnist_png": {**{f"training/{d}": n for d, n in _TRAIN.items()},
                  **{f"testing/{d}": n for d, n in _TEST.items()}},
}


class MnistDataError(RuntimeError):
    """The data could not be made ready; the message says what to do about it (notebook 01)."""


def _project_root() -> Path | None:
    "The course checkout this package was installed from (editable install), if any."
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def data_dir() -> Path:
    "Where MNIST goes: `MNIST_DATA` if set, else the course's `data/` folder, else fastai's (notebook 01)."
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser().resolve()
    root = _project_root()
    if root is not None:
        return root / "data"
    from fastai.data.external import fastai_cfg
    return fastai_cfg().path("data")


def _name_of(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".tgz", ".tar.gz"):
        name = name.removesuffix(suffix)
    if name not in LAYOUTS:
        raise ValueError(f"get_mnist knows {sorted(LAYOUTS)}, not {url!r}: "
                         "pass URLs.MNIST_SAMPLE or URLs.MNIST.")
    return name


def png_names(folder: Path) -> list[str]:
    "The names of the PNG files in `folder`, sorted (raises OSError if it cannot be listed)."
    with os.scandir(folder) as it:
        return sorted(e.name for e in it if e.name.endswith(".png") and e.is_file())


def _count_pngs(folder: Path) -> int:
    try:
        return len(png_names(folder))
    except OSError:
        return -1


def check_mnist_folder(folder: Path, name: str | None = None) -> Path:
    "Raise `MnistDataError` unless `folder` holds every image of the archive `name` (notebook 01)."
    folder = Path(folder)
    name = name or folder.name
    for sub, expected in LAYOUTS[name].items():
        found = _count_pngs(folder / sub)
        if found != expected:
            what = "is missing" if found < 0 else f"holds {found} images instead of {expected}"
            raise MnistDataError(
                f"{folder.name}/{sub} {what}, so {folder} is not a complete copy of {name}: "
                f"delete that folder and run this cell again.")
    if name == "mnist_sample" and not (folder / "labels.csv").is_file():
        raise MnistDataError(f"{folder} has no labels.csv, so it is not a complete copy of "
                             f"mnist_sample: delete that folder and run this cell again.")
    return folder


def sha256(path: Path, chunk: int = 1 << 20) -> str:
    "The SHA-256 hex digest of a file, as `SHA256SUMS` lists it (notebook 01's offline mirror)."
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _expected_sums(folder: Path) -> dict[str, str]:
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return {}
    out = {}
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[1].lstrip("*")] = parts[0].lower()
    return out


def _safe_members(tar: tarfile.TarFile, top: str, archive: Path) -> Iterator[tarfile.TarInfo]:
    "Every member, refusing anything that would land outside `top/` or is not a plain entry."
    for m in tar:
        p = PurePosixPath(m.name)
        if p.is_absolute() or ".." in p.parts or p.parts[:1] != (top,):
            raise MnistDataError(f"{archive.name} holds {m.name!r}, which lies outside its "
                                 f"{top}/ folder, so it is not an MNIST archive: replace it.")
        if not (m.isfile() or m.isdir()):
            raise MnistDataError(f"{archive.name} holds {m.name!r}, which is not a plain file "
                                 f"or folder, so it is not an MNIST archive: replace it.")
        yield m


def extract_archive(archive: Path, dest_parent: Path, name: str) -> Path:
    """Extract `archive` (whose top folder is `name`) into `dest_parent/name`, all or nothing
    (what `get_mnist` does after fetching, notebook 01).

    The archive is unpacked into a hidden `.name-partial-*` folder next to the destination,
    checked, and only then renamed into place; whatever goes wrong, the partial folder is
    removed. If another process finished first, its (checked) copy is used.
    """
    archive, dest_parent = Path(archive), Path(dest_parent)
    dest = dest_parent / name
    try:
        with build_beside(dest) as build:
            try:
                with tarfile.open(archive, "r:*") as tar:
                    members = list(_safe_members(tar, name, archive))
                    if hasattr(tarfile, "data_filter"):
                        tar.extractall(build.parent, members=members, filter="data")
                    else:  # Python < 3.11.4: members were checked above
                        tar.extractall(build.parent, members=members)
            except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
                raise MnistDataError(f"{archive} is damaged or incomplete ({type(e).__name__}: {e}): "
                                     f"delete it and fetch it again.") from None
            if not build.is_dir():
                raise MnistDataError(f"{archive} has no {name}/ folder, so it is not the MNIST "
                                     f"archive it is named after: replace it.")
            check_mnist_folder(build, name)
    except FileExistsError:
        check_mnist_folder(dest, name)  # someone else got there first
    return dest


@contextlib.contextmanager
def build_beside(dest: Path, replace: bool = False) -> Iterator[Path]:
    """Build the folder `dest` all or nothing: the block fills the path it is given, a folder of
    that name inside a hidden `.NAME-partial-*` folder beside `dest`; when the block ends
    without error, it is renamed to `dest`, and whatever happens the hidden folder is removed.

    If `dest` exists by then, FileExistsError is raised (another process finished first),
    unless `replace`, which deletes the old `dest` just before the rename.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-partial-", dir=dest.parent))
    try:
        yield tmp / dest.name
        if replace and dest.exists():
            shutil.rmtree(dest)
        try:
            os.rename(tmp / dest.name, dest)
        except OSError:
            if dest.exists():  # renaming onto a folder fails differently on each platform
                raise FileExistsError(errno.EEXIST, "already there", str(dest)) from None
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def file_lock(path: Path):
    "Hold an exclusive lock on the file `path` for the block (two notebooks starting at once)."
    from filelock import FileLock
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path):
        yield


_lock = file_lock  # the name helpers/tgs.py still imports


def _from_mirror(mirror: Path, name: str) -> Path:
    if not mirror.is_dir():
        raise MnistDataError(f"{MIRROR_ENV} is set to {mirror}, which is not a folder: point it "
                             f"at the folder that holds {name}.tgz, or unset it to download.")
    archive = mirror / f"{name}.tgz"
    if not archive.is_file():
        raise MnistDataError(f"{MIRROR_ENV} is set to {mirror}, but that folder has no "
                             f"{name}.tgz: copy the archive there, or unset {MIRROR_ENV} to download.")
    expected = _expected_sums(mirror).get(archive.name)
    if expected is not None:
        actual = sha256(archive)
        if actual != expected:
            raise MnistDataError(f"{archive} does not match SHA256SUMS (expected {expected}, got "
                                 f"{actual}): copy the archive into the mirror again.")
    return archive


def _download(url: str, archive_dir: Path) -> Path:
    """fastai's own download, followed by the size and hash check `untar_data` uses.

    The two can fail for different reasons, and each gets its own sentence: no connection
    (connect, or use the mirror) or a download that arrived damaged (it is deleted; try again).
    """
    import fastai.data
    from fastdownload import check, checks_module, download_url
    from fastcore.net import urldest
    archive_dir.mkdir(parents=True, exist_ok=True)
    dest = urldest(url, archive_dir)
    checks = checks_module(fastai.data)
    if dest.exists() and check(checks, url, dest):
        return dest  # an earlier, complete download
    try:
        download_url(url, dest, show_progress=False)
    except OSError as e:  # no network, DNS failure, HTTP error (URLError is an OSError), full disk
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            dest.unlink(missing_ok=True)
            raise MnistDataError(f"The disk filled up while downloading {url}: free some space "
                                 f"(the archive goes to {archive_dir.name}/) and run this cell again.") from None
        reason = getattr(e, "reason", None) or e
        raise MnistDataError(f"Could not download {url} ({reason}): connect to the internet, or set "
                             f"{MIRROR_ENV} to a folder holding {Path(url).name} "
                             f"(see the README's offline section).") from None
    except http.client.HTTPException as e:  # a transfer cut off half-way, a garbled answer
        reason = f"{type(e).__name__}: {e}"
        raise MnistDataError(f"Could not download {url} ({reason}): connect to the internet, or set "
                             f"{MIRROR_ENV} to a folder holding {Path(url).name} "
                             f"(see the README's offline section).") from None
    if not check(checks, url, dest):
        dest.unlink(missing_ok=True)
        raise MnistDataError(f"The download of {url} is corrupt (its size or checksum differs from "
                             f"the one fastai records), so it was deleted: run this cell again, or "
                             f"set {MIRROR_ENV} to a folder holding a good copy.")
    return dest


def get_mnist(url: str) -> Path:
    """Make `URLs.MNIST_SAMPLE` or `URLs.MNIST` ready on disk and return its folder.

    Like fastai's `untar_data(url)`, plus the offline mirror `MNIST_MIRROR`, all-or-nothing
    extraction and one-sentence errors. Taught in notebook 01.
    """
    name = _name_of(url)
    root = data_dir()
    dest = root / name
    with file_lock(root / f".{name}.lock"):
        if dest.exists():
            return check_mnist_folder(dest, name)
        mirror = os.environ.get(MIRROR_ENV)
        if mirror:
            archive = _from_mirror(Path(mirror).expanduser(), name)
        else:
            archive = _download(url, root / "archive")
        return extract_archive(archive, root, name)

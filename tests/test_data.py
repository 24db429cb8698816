"""get_mnist: mirror, checksums, safe all-or-nothing extraction, one-sentence errors."""
import hashlib
import subprocess
import sys
import tarfile
import urllib.error

import pytest

import helpers.data as data
from helpers import MnistDataError, get_mnist
from conftest import ROOT, TINY_SAMPLE, add_bytes, make_sample_archive, one_sentence

URL = "https://s3.amazonaws.com/fast-ai-sample/mnist_sample.tgz"


def leftovers(home):
    return sorted(p.name for p in home.iterdir() if "partial" in p.name)


def test_extracts_from_mirror_and_reuses(tiny_layout, data_home):
    home, mirror = data_home
    make_sample_archive(mirror / "mnist_sample.tgz")
    path = get_mnist(URL)
    assert path == home / "mnist_sample"
    assert len(list((path / "train" / "3").glob("*.png"))) == 2
    assert (path / "labels.csv").is_file()
    (mirror / "mnist_sample.tgz").unlink()  # a second call must not need the archive
    assert get_mnist(URL) == path
    assert leftovers(home) == []


def test_checksum_verified(tiny_layout, data_home):
    home, mirror = data_home
    arch = make_sample_archive(mirror / "mnist_sample.tgz")
    good = hashlib.sha256(arch.read_bytes()).hexdigest()
    (mirror / "SHA256SUMS").write_text(f"{good}  mnist_sample.tgz\n")
    assert get_mnist(URL).is_dir()


def test_checksum_mismatch_names_file_and_both_sums(tiny_layout, data_home):
    home, mirror = data_home
    arch = make_sample_archive(mirror / "mnist_sample.tgz")
    actual = hashlib.sha256(arch.read_bytes()).hexdigest()
    (mirror / "SHA256SUMS").write_text(f"{'0' * 64}  mnist_sample.tgz\n")
    with pytest.raises(MnistDataError) as e:
        get_mnist(URL)
    msg = str(e.value)
    assert "mnist_sample.tgz" in msg and "0" * 64 in msg and actual in msg
    assert one_sentence(msg)
    assert not (home / "mnist_sample").exists()


def test_no_network_and_no_mirror(tiny_layout, data_home, monkeypatch):
    home, _ = data_home
    monkeypatch.delenv(data.MIRROR_ENV)

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr("fastdownload.download_url", offline)
    with pytest.raises(MnistDataError) as e:
        get_mnist(URL)
    msg = str(e.value)
    assert "MNIST_MIRROR" in msg and URL in msg and one_sentence(msg)
    assert "connect to the internet" in msg
    assert not (home / "mnist_sample").exists()


def test_corrupt_download_says_corrupt_not_offline(tiny_layout, data_home, monkeypatch):
    "fastai's size/hash check fails: the message says 'corrupt', and the bad file is gone."
    home, _ = data_home
    monkeypatch.delenv(data.MIRROR_ENV)
    saved = []

    def truncated(url, dest, **kwargs):
        dest.write_bytes(b"half an archive")
        saved.append(dest)
        return dest
    monkeypatch.setattr("fastdownload.download_url", truncated)
    monkeypatch.setattr("fastdownload.check", lambda fmod, url, fpath: fpath.read_bytes() != b"half an archive")
    with pytest.raises(MnistDataError) as e:
        get_mnist(URL)
    msg = str(e.value)
    assert "corrupt" in msg and "connect to the internet" not in msg and one_sentence(msg)
    assert saved and not saved[0].exists()
    assert not (home / "mnist_sample").exists()


def test_mirror_not_a_folder(tiny_layout, data_home, monkeypatch, tmp_path):
    monkeypatch.setenv(data.MIRROR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(MnistDataError, match="not a folder"):
        get_mnist(URL)


def test_mirror_without_the_archive(tiny_layout, data_home):
    with pytest.raises(MnistDataError, match="has no mnist_sample.tgz") as e:
        get_mnist(URL)
    assert one_sentence(str(e.value))


def test_truncated_archive_leaves_nothing_behind(tiny_layout, data_home):
    home, mirror = data_home
    arch = make_sample_archive(mirror / "mnist_sample.tgz")
    arch.write_bytes(arch.read_bytes()[: arch.stat().st_size // 2])
    with pytest.raises(MnistDataError, match="damaged or incomplete") as e:
        get_mnist(URL)
    assert one_sentence(str(e.value))
    assert not (home / "mnist_sample").exists()
    assert leftovers(home) == []


def test_archive_with_too_few_images_is_refused(tiny_layout, data_home, monkeypatch):
    home, mirror = data_home
    make_sample_archive(mirror / "mnist_sample.tgz")
    monkeypatch.setitem(data.LAYOUTS["mnist_sample"], "valid/7", 3)  # expect one more than there is
    with pytest.raises(MnistDataError, match="not a complete copy"):
        get_mnist(URL)
    assert not (home / "mnist_sample").exists()
    assert leftovers(home) == []


def test_member_escaping_the_folder_is_refused(tiny_layout, data_home, tmp_path):
    home, mirror = data_home
    make_sample_archive(mirror / "mnist_sample.tgz",
                        extra=lambda tar: add_bytes(tar, "mnist_sample/../../evil.txt", b"x"))
    with pytest.raises(MnistDataError, match="outside"):
        get_mnist(URL)
    assert not (tmp_path / "evil.txt").exists()
    assert not (home / "mnist_sample").exists()


def test_link_member_is_refused(tiny_layout, data_home):
    home, mirror = data_home

    def link(tar):
        info = tarfile.TarInfo("mnist_sample/train/3/link.png")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    make_sample_archive(mirror / "mnist_sample.tgz", extra=link)
    with pytest.raises(MnistDataError, match="not a plain file"):
        get_mnist(URL)


def test_archive_of_something_else(tiny_layout, data_home):
    home, mirror = data_home
    make_sample_archive(mirror / "mnist_sample.tgz", top="cats_and_dogs")
    with pytest.raises(MnistDataError, match="not an MNIST archive"):
        get_mnist(URL)


def test_existing_incomplete_folder_is_not_trusted(tiny_layout, data_home):
    home, mirror = data_home
    (home / "mnist_sample" / "train" / "3").mkdir(parents=True)
    make_sample_archive(mirror / "mnist_sample.tgz")
    with pytest.raises(MnistDataError, match="delete that folder") as e:
        get_mnist(URL)
    assert one_sentence(str(e.value))


def test_unknown_url():
    with pytest.raises(ValueError, match="URLs.MNIST_SAMPLE"):
        get_mnist("https://example.com/imagenette.tgz")


@pytest.mark.slow
def test_two_processes_at_once(tiny_layout, data_home):
    "Two notebooks starting together both get a complete folder, and nothing is left half-done."
    home, mirror = data_home
    make_sample_archive(mirror / "mnist_sample.tgz")
    code = ("import helpers.data as d; "
            f"d.LAYOUTS['mnist_sample'] = {TINY_SAMPLE!r}; "
            f"print(d.get_mnist({URL!r}))")
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert {o.strip() for o, _ in outs} == {str(home / "mnist_sample")}
    assert leftovers(home) == []


def test_extract_archive_loses_the_race_gracefully(tiny_layout, tmp_path):
    "If another process renamed its copy into place first, ours is dropped and theirs used."
    arch = make_sample_archive(tmp_path / "mnist_sample.tgz")
    first = data.extract_archive(arch, tmp_path / "out", "mnist_sample")
    second = data.extract_archive(arch, tmp_path / "out", "mnist_sample")
    assert first == second
    assert leftovers(tmp_path / "out") == []


def test_real_mirror_has_every_image():
    "The mirror CI uses holds exactly the images of fastai's archives (skipped without one)."
    import os
    mirror = os.environ.get(data.MIRROR_ENV)
    if not mirror:
        pytest.skip("MNIST_MIRROR is not set")
    path = get_mnist(URL)
    assert data.check_mnist_folder(path, "mnist_sample") == path


def test_full_disk_while_downloading_says_so(tiny_layout, data_home, monkeypatch):
    "A full disk is not a missing connection: the message says which it is."
    import errno
    home, _ = data_home
    monkeypatch.delenv(data.MIRROR_ENV)

    def full(url, dest, **kwargs):
        dest.write_bytes(b"the first half")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("fastdownload.download_url", full)
    with pytest.raises(MnistDataError) as e:
        get_mnist(URL)
    msg = str(e.value)
    assert "disk filled up" in msg and "connect to the internet" not in msg and one_sentence(msg)
    assert not list((home / "archive").glob("*.tgz"))


def test_a_transfer_cut_off_half_way_is_a_connection_problem(tiny_layout, data_home, monkeypatch):
    import http.client
    monkeypatch.delenv(data.MIRROR_ENV)

    def cut(url, dest, **kwargs):
        raise http.client.IncompleteRead(b"half", 100)
    monkeypatch.setattr("fastdownload.download_url", cut)
    with pytest.raises(MnistDataError, match="IncompleteRead.*connect to the internet") as e:
        get_mnist(URL)
    assert one_sentence(str(e.value))


def test_a_bug_is_not_reported_as_a_missing_connection(tiny_layout, data_home, monkeypatch):
    "An error of another kind (a library's API changed, say) is shown as it is."
    monkeypatch.delenv(data.MIRROR_ENV)

    def changed(url, dest, **kwargs):
        raise TypeError("download_url() got an unexpected keyword argument 'show_progress'")
    monkeypatch.setattr("fastdownload.download_url", changed)
    with pytest.raises(TypeError, match="show_progress"):
        get_mnist(URL)


def test_build_beside_is_all_or_nothing(tmp_path):
    dest = tmp_path / "out" / "made"
    with pytest.raises(RuntimeError):
        with data.build_beside(dest) as build:
            build.mkdir()
            (build / "half.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert not dest.exists() and leftovers(tmp_path / "out") == []
    with data.build_beside(dest) as build:
        build.mkdir()
        (build / "done.txt").write_text("done")
    assert (dest / "done.txt").read_text() == "done"
    with pytest.raises(FileExistsError):  # someone else's copy is not overwritten...
        with data.build_beside(dest) as build:
            build.mkdir()
    with data.build_beside(dest, replace=True) as build:  # ...unless asked
        build.mkdir()
        (build / "new.txt").write_text("new")
    assert sorted(p.name for p in dest.iterdir()) == ["new.txt"]
    assert leftovers(tmp_path / "out") == []


def test_file_lock_keeps_another_process_out(tmp_path):
    "While one process holds the lock, another cannot take it (filelock, so on Windows too)."
    lock = tmp_path / "sub" / ".x.lock"
    code = ("import sys, filelock; l = filelock.FileLock(sys.argv[1], timeout=0.2)\n"
            "try:\n    l.acquire()\nexcept filelock.Timeout:\n    print('waited')\nelse:\n    print('got it')")
    with data.file_lock(lock):
        inside = subprocess.run([sys.executable, "-c", code, str(lock)], capture_output=True, text=True)
    after = subprocess.run([sys.executable, "-c", code, str(lock)], capture_output=True, text=True)
    assert (inside.stdout.strip(), after.stdout.strip()) == ("waited", "got it"), inside.stderr + after.stderr


def test_png_names_lists_only_png_files_in_order(tmp_path):
    for name in ("b.png", "a.png", "notes.txt", "c.PNG.bak"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "folder.png").mkdir()
    assert data.png_names(tmp_path) == ["a.png", "b.png"]
    with pytest.raises(OSError):
        data.png_names(tmp_path / "missing")

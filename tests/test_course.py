"""The launcher, course.py: where it runs, how it checks and mends the environment, how it
passes options on, and the one sentence a learner reads for each failure. Nothing here
installs anything: pip, venv and the disk are stood in for."""
import errno
import importlib.util
import json
import subprocess
import sys
import types
import venv
from pathlib import Path

import pytest

from conftest import ROOT, one_sentence


def load_course():
    spec = importlib.util.spec_from_file_location("course_under_test", ROOT / "course.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


course = load_course()


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    "A course checkout of its own: the real lock and pyproject.toml, and no environment yet."
    for name in ("requirements-lock.txt", "pyproject.toml"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    monkeypatch.setattr(course, "ROOT", tmp_path)
    monkeypatch.setattr(course, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(course, "LOCK", tmp_path / "requirements-lock.txt")
    monkeypatch.setattr(course, "STAMP", tmp_path / ".venv" / "course-installed.txt")
    monkeypatch.setattr(course, "check_disk", lambda variant, where=None: None)
    return tmp_path


class FakeRun:
    """Stands in for subprocess.run: records each command, answers with `answers(cmd)`
    (returncode, stdout, stderr), by default success with no output."""
    def __init__(self, answers=None):
        self.calls, self.answers = [], answers or (lambda cmd: (0, "", ""))

    def __call__(self, cmd, *args, **kwargs):
        self.calls.append([str(c) for c in cmd])
        code, out, err = self.answers(self.calls[-1])
        return subprocess.CompletedProcess(cmd, code, out, err)

    def pip(self, verb):
        return [c for c in self.calls if "pip" in c and verb in c]


def fake_venv(path: Path) -> None:
    "What venv would leave behind, minus the real interpreter."
    py = course.venv_python(path)
    py.parent.mkdir(parents=True, exist_ok=True)
    py.write_text("")


# ---- where it runs ---------------------------------------------------------------------------

@pytest.mark.parametrize("version,system,machine", [
    ((3, 11, 5), "Linux", "x86_64"), ((3, 12, 1), "Windows", "AMD64"), ((3, 13, 0), "Darwin", "arm64"),
    ((3, 11, 7), "Linux", "aarch64")])
def test_supported_pythons_and_platforms_pass(version, system, machine):
    course.check_platform(version, system, machine, 64)


@pytest.mark.parametrize("version,system,machine,bits,words", [
    ((3, 10, 13), "Linux", "x86_64", 64, "Python 3.10.13"),
    ((3, 11, 4), "Linux", "x86_64", 64, "Python 3.11.4"),
    ((3, 14, 0), "Linux", "x86_64", 64, "Python 3.14.0"),
    ((3, 12, 1), "Windows", "x86", 32, "32-bit"),
    ((3, 12, 1), "Darwin", "x86_64", 64, "Intel Macs"),
])
def test_unsupported_python_or_platform_is_one_sentence(version, system, machine, bits, words):
    with pytest.raises(course.CourseError) as e:
        course.check_platform(version, system, machine, bits)
    assert words in str(e.value) and one_sentence(str(e.value))
    assert "Colab" in str(e.value)


def test_the_launchers_range_is_the_locks():
    "course.py's oldest Python is the one tools/lock.py resolves for, and the lock says so."
    spec = importlib.util.spec_from_file_location("lock_tool", ROOT / "tools" / "lock.py")
    lock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock)
    assert lock.PYTHON == ".".join(map(str, course.OLDEST))
    assert f"Python {lock.PYTHON} to {course.NEWEST[0]}.{course.NEWEST[1]}" in lock.header("[project]\n")


# ---- one sentence for each failure -----------------------------------------------------------

def test_full_disk_before_installing(monkeypatch, tmp_path):
    monkeypatch.setattr(course.shutil, "disk_usage", lambda p: types.SimpleNamespace(free=1.5e9))
    with pytest.raises(course.CourseError) as e:
        course.check_disk("cuda", tmp_path)
    msg = str(e.value)
    assert "1.5 GB" in msg and "--cpu" in msg and one_sentence(msg)


def test_no_venv_module(monkeypatch, tmp_path):
    "Debian's Python without python3-venv has no ensurepip."
    monkeypatch.setitem(sys.modules, "ensurepip", None)  # makes `import ensurepip` fail
    with pytest.raises(course.CourseError) as e:
        course.create_venv(tmp_path / ".venv")
    assert "python3-venv" in str(e.value) and one_sentence(str(e.value))


def test_full_disk_while_creating_the_environment(monkeypatch, tmp_path):
    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(venv.EnvBuilder, "create", full)
    with pytest.raises(course.CourseError) as e:
        course.create_venv(tmp_path / ".venv")
    assert "disk is full" in str(e.value) and one_sentence(str(e.value))


@pytest.mark.parametrize("output,words", [
    ("WARNING: Retrying ... Failed to establish a new connection: [Errno -3] Temporary failure in "
     "name resolution\nERROR: Could not find a version that satisfies the requirement torch==2.14.1",
     "internet connection"),
    ("ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device",
     "disk filled up"),
    ("ERROR: something nobody foresaw", "report those lines"),
])
def test_pip_failures_are_told_apart(output, words):
    msg = str(course.explain_pip_failure(output, "installing the pinned packages"))
    assert words in msg and one_sentence(msg)


def test_first_run_without_internet_ends_in_one_sentence(checkout, monkeypatch, capsys):
    "The whole first run, offline: pip's own last lines, then the launcher's sentence, exit 1."
    monkeypatch.setattr(course, "create_venv", lambda venv_dir=None: fake_venv(checkout / ".venv"))
    run = FakeRun(lambda cmd: (1, "", "WARNING: Retrying (Retry(total=4)) after connection broken by "
                               "'NewConnectionError: Failed to establish a new connection'\nERROR: "
                               "No matching distribution found for annotated-doc==0.0.7")
                  if "install" in cmd else (0, "[]", ""))
    monkeypatch.setattr(course.subprocess, "run", run)
    assert course.main(["lab"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "No matching distribution" in "\n".join(err)  # pip's reason stays visible
    assert one_sentence(err[-1]) and "internet" in err[-1]
    assert not (checkout / ".venv" / "course-installed.txt").exists()


def test_unknown_benchmark_fails_before_installing(monkeypatch, capsys):
    monkeypatch.setattr(course, "ensure_env", lambda **kw: pytest.fail("nothing should be installed"))
    assert course.main(["bench", "no_such_benchmark"]) == 1
    err = capsys.readouterr().err.strip()
    assert one_sentence(err) and "full_mnist" in err


# ---- the environment: checked, rebuilt, in step with the lock --------------------------------

def healthy(checkout):
    return {"python": list(sys.version_info[:3]), "helpers": str(checkout / "helpers" / "__init__.py"),
            "torch": "2.14.1", "pip": "24.0"}


def test_a_working_environment_in_step_with_the_lock_is_used_as_it_is(checkout, monkeypatch):
    fake_venv(checkout / ".venv")
    course.STAMP.write_text(json.dumps(course.wanted_state("cuda")))
    monkeypatch.setattr(course, "probe", lambda venv_dir=None: (healthy(checkout), ""))
    run = FakeRun()
    monkeypatch.setattr(course.subprocess, "run", run)
    assert course.ensure_env() == course.venv_python(checkout / ".venv")
    assert run.calls == []


def test_a_lock_change_reinstalls_and_removes_what_the_lock_dropped(checkout, monkeypatch):
    fake_venv(checkout / ".venv")
    course.STAMP.write_text(json.dumps({**course.wanted_state("cuda"), "inputs": "an older lock"}))
    monkeypatch.setattr(course, "probe", lambda venv_dir=None: (healthy(checkout), ""))
    run = FakeRun(lambda cmd: (0, json.dumps(["pip", "left-over-package"]), "") if "-c" in cmd
                  and "packaging" in cmd[cmd.index("-c") + 1] else (0, "", ""))
    monkeypatch.setattr(course.subprocess, "run", run)
    course.ensure_env()
    (install, helpers), (uninstall,) = run.pip("install"), run.pip("uninstall")
    assert "-r" in install and "-e" in helpers
    assert uninstall[-1] == "left-over-package" and "pip" not in uninstall[uninstall.index("-y"):]
    assert json.loads(course.STAMP.read_text()) == course.wanted_state("cuda")


def test_a_broken_environment_is_rebuilt(checkout, monkeypatch, capsys):
    fake_venv(checkout / ".venv")
    (checkout / ".venv" / "stale-file").write_text("from the broken environment")
    monkeypatch.setattr(course, "probe", lambda venv_dir=None: (None, "its Python does not start (libpython3.11.so.1.0: cannot open shared object file)"))
    created = []
    monkeypatch.setattr(course, "create_venv", lambda venv_dir=None: (created.append(1), fake_venv(checkout / ".venv")))
    monkeypatch.setattr(course.subprocess, "run", FakeRun(lambda cmd: (0, "[]", "")))
    course.ensure_env()
    assert created and not (checkout / ".venv" / "stale-file").exists()
    assert "does not work (its Python does not start" in capsys.readouterr().out


def test_recreate_starts_from_nothing(checkout, monkeypatch):
    fake_venv(checkout / ".venv")
    (checkout / ".venv" / "stale-file").write_text("")
    course.STAMP.write_text(json.dumps(course.wanted_state("cuda")))
    monkeypatch.setattr(course, "probe", lambda venv_dir=None: (healthy(checkout), ""))
    created = []
    monkeypatch.setattr(course, "create_venv", lambda venv_dir=None: (created.append(1), fake_venv(checkout / ".venv")))
    monkeypatch.setattr(course.subprocess, "run", FakeRun(lambda cmd: (0, "[]", "")))
    course.ensure_env(recreate=True)
    assert created and not (checkout / ".venv" / "stale-file").exists()


def test_installed_but_helpers_do_not_import(checkout, monkeypatch, capsys):
    monkeypatch.setattr(course, "create_venv", lambda venv_dir=None: fake_venv(checkout / ".venv"))
    run = FakeRun(lambda cmd: (1, "", "ModuleNotFoundError: No module named 'torch'") if cmd[-1] == "import helpers"
                  else (0, "[]", ""))
    monkeypatch.setattr(course.subprocess, "run", run)
    assert course.main(["env"]) == 1
    err = capsys.readouterr().err.strip()
    assert "--recreate" in err and "No module named 'torch'" in err and one_sentence(err)


def test_probe_and_health_of_real_environments(tmp_path):
    "A real (pip-less, so quick) environment: it runs, and the missing pip is noticed."
    venv.EnvBuilder(with_pip=False).create(tmp_path / "env")
    info, why = course.probe(tmp_path / "env")
    assert info["python"] == list(sys.version_info[:3]) and why == ""
    assert course.health(info, why) == "it has no pip"
    course.venv_python(tmp_path / "env").unlink()
    info, why = course.probe(tmp_path / "env")
    assert info is None and "missing" in course.health(info, why)


def test_the_sync_script_lists_what_the_lock_does_not(tmp_path):
    "Run for real by this Python: every installed distribution but the listed ones (markers applied)."
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("pytest==0.0\nnot-installed-anywhere==1.0\ntorch==0.0 ; sys_platform == 'nowhere'\n")
    r = subprocess.run([sys.executable, "-c", course.SYNC, str(reqs)], capture_output=True, text=True)
    extra = json.loads(r.stdout)
    assert "pytest" not in extra and "torch" in extra and "pip" in extra


def test_cpu_only_leaves_out_the_cuda_libraries():
    everything = course.locked_requirements("cuda")
    cpu = course.locked_requirements("cpu")
    names = {course.canonical(r.split("==")[0]) for r in cpu}
    assert "torch" in names and "torchvision" in names
    assert not [n for n in names if n.startswith(("nvidia-", "cuda-", "triton"))]
    assert len(cpu) < len(everything) and all(r in everything for r in cpu)


# ---- passing options on ----------------------------------------------------------------------

def test_bench_passes_options_and_their_values_on():
    (cmd,) = course.bench_commands("py", ["full_mnist", "--seeds", "1", "--quick"])
    assert Path(cmd[1]).name == "bench_full_mnist.py" and cmd[2:] == ["--seeds", "1", "--quick"]
    every = course.bench_commands("py", [])
    assert {Path(c[1]).name for c in every} >= {"bench_full_mnist.py", "bench_learner.py"}


def load_benchmark(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks").glob("bench_*.py")), ids=lambda p: p.stem)
def test_every_benchmark_refuses_an_option_it_does_not_know(path, capsys):
    "Each benchmark reads its options before any work, and stops at one it does not know."
    with pytest.raises(SystemExit) as e:
        load_benchmark(path.stem).main(["--no-such-option"])
    assert e.value.code == 2 and "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_benchmarks_honour_their_options():
    full = load_benchmark("bench_full_mnist")
    args = full.parse_args(["--seeds", "1", "--skip-fastai"])
    assert args.seeds == 1 and args.quick and not args.skip_fast
    assert full.parse_args([]).seeds == 3
    with pytest.raises(SystemExit):
        full.parse_args(["--seeds", "0"])
    learner = load_benchmark("bench_learner")
    assert learner.parse_args(["--epochs", "3"]).epochs == 3 and learner.parse_args([]).epochs == learner.EPOCHS
    tgs = load_benchmark("bench_synthetic_tgs")
    assert tgs.parse_args(["--sizes", "10", "20", "--repeats", "1"]).sizes == [10, 20]


def test_launcher_options_are_taken_out_of_what_is_passed_on():
    assert course.launcher_options(["--port", "8890", "--recreate", "--cpu"]) == (["--port", "8890"], True, True)
    assert course.launcher_options(["-k", "data"]) == (["-k", "data"], False, False)



def test_a_network_test_is_skipped_with_its_reason_when_the_index_is_out_of_reach(monkeypatch):
    "Offline, a test marked `network` is skipped, saying why; it does not fail."
    import conftest
    monkeypatch.setattr(conftest, "PACKAGE_INDEX", "http://127.0.0.1:9/simple")  # nothing listens there
    conftest.package_index_unreachable.cache_clear()
    try:
        item = types.SimpleNamespace(get_closest_marker=lambda name: name == "network" or None)
        with pytest.raises(pytest.skip.Exception, match=r"the package index http://127\.0\.0\.1:9/simple "
                                                          r"cannot be reached \(.+\)"):
            conftest.pytest_runtest_setup(item)
    finally:
        conftest.package_index_unreachable.cache_clear()

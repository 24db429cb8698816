"""What the course is made of and installed from: the lock made from pyproject.toml, one
Python range everywhere, the license, and a helpers wheel (what Colab installs) that holds
every subpackage and data file of helpers/."""
import importlib.util
import re
import tomllib
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def load_tool(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


lock_tool = load_tool("lock_tool", ROOT / "tools" / "lock.py")
course = load_tool("course_for_packaging", ROOT / "course.py")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins():
    "name -> (version, marker) of every line of the lock."
    found = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{line}: the lock pins exact versions"
            assert canonical(req.name) not in found, f"{req.name} is pinned twice"
            found[canonical(req.name)] = (Version(spec.version), req.marker)
    return found


def test_the_lock_was_made_from_this_pyproject():
    "Editing pyproject.toml's dependencies without relocking fails here."
    first = (ROOT / "requirements-lock.txt").read_text().splitlines()[0]
    assert first == lock_tool.FINGERPRINT + lock_tool.fingerprint((ROOT / "pyproject.toml").read_text()), \
        "requirements-lock.txt is out of date: run `python tools/lock.py` (see its docstring)"


def test_every_requirement_is_pinned_within_its_bounds():
    project = PYPROJECT["project"]
    wanted = list(project["dependencies"])
    for extra in lock_tool.EXTRAS:
        wanted += [r for r in project["optional-dependencies"][extra] if not r.startswith(project["name"])]
    locked = pins()
    for text in wanted:
        req = Requirement(text)
        assert canonical(req.name) in locked, f"{req.name} is required but not in the lock"
        version, _ = locked[canonical(req.name)]
        assert req.specifier.contains(version, prereleases=True), f"the lock's {req.name} {version} is outside {req.specifier}"


def test_one_python_range_everywhere():
    "3.11 to 3.13: pyproject.toml, the launcher, the lock, environment.yml and the README agree."
    project = PYPROJECT["project"]
    assert project["requires-python"] == ">=3.11"
    tested = sorted(c.rsplit(":: ", 1)[1] for c in project["classifiers"] if c.startswith("Programming Language :: Python :: 3."))
    assert tested == ["3.11", "3.12", "3.13"]
    assert course.OLDEST[:2] == (3, 11) and course.NEWEST == (3, 13)
    assert lock_tool.PYTHON == ".".join(map(str, course.OLDEST))
    assert re.search(r"^\s*- python>=3\.11,<3\.14\b", (ROOT / "environment.yml").read_text(), re.M)
    assert "Python 3.11, 3.12 or 3.13" in (ROOT / "README.md").read_text()


def test_license_matches_pyproject():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]


def shipped_files():
    "What the helpers wheel must hold: every module of every package under helpers/, and data files."
    want = set()
    for path in (ROOT / "helpers").rglob("*"):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        package = path.parent
        if path.suffix == ".py" and (package / "__init__.py").is_file():
            want.add(path.relative_to(ROOT).as_posix())
        elif path.suffix in {".js", ".css", ".json"}:
            want.add(path.relative_to(ROOT).as_posix())
    return want


@pytest.mark.slow
def test_the_wheel_holds_every_subpackage_and_data_file(tmp_path):
    "Colab installs the helpers from a wheel: nothing of helpers/ may be left out of it."
    from support import colab
    wheel = colab.build_helpers_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = shipped_files() - names
    assert not missing, f"the wheel lacks {sorted(missing)}: see [tool.setuptools] in pyproject.toml"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.split("/")[0] not in {"helpers"} and ".dist-info/" not in n]

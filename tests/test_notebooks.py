"""The notebooks as learners see them: clean stored runs, shared cells in step, no drift
between a function taught in a notebook and its copy in helpers/."""
import ast
import copy
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ids = [p.name for p in NOTEBOOKS]


def load(path):
    return json.loads(path.read_text())


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def output_text(cell):
    parts = []
    for o in cell.get("outputs", []):
        parts.append("".join(o.get("text", "")))
        for key, value in o.get("data", {}).items():
            if key.startswith("text/") or key.endswith("json"):
                parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_outputs_are_a_clean_run(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "re-run the notebook from a fresh kernel"
    errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, "a stored output is an error"
    assert any(c.get("outputs") for c in cells), "no stored outputs"


# Absolute paths of the machine the notebook ran on must not be stored.
LEAKS = re.compile(r"(/home/|/root/|/Users/|/tmp/|/work/|/private/|[A-Z]:\\\\)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_outputs_hold_no_machine_paths(path):
    here = {str(ROOT), str(Path.home())}
    for i, cell in enumerate(code_cells(load(path))):
        text = output_text(cell)
        assert not LEAKS.search(text), f"code cell {i + 1} prints an absolute path"
        assert not any(h in text for h in here), f"code cell {i + 1} prints an absolute path"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_shape(path):
    "Badge, title with 'What you will learn', setup cell, ..., recap, navigation."
    cells = load(path)["cells"]
    assert "colab.research.google.com" in "".join(cells[0]["source"])
    head = "".join(cells[1]["source"])
    assert head.startswith("# ") and "**What you will learn:**" in head
    assert "course-setup" in cells[2]["metadata"].get("tags", [])
    assert "".join(cells[-2]["source"]).startswith("## Recap")
    assert "course-nav" in cells[-1]["metadata"].get("tags", [])


def test_badges_setup_cells_and_navigation_are_in_sync():
    r = subprocess.run([sys.executable, "tools/sync_notebooks.py", "--check"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_repository_address_is_configured_once():
    "No notebook or the README names the repository except through the generated cells."
    url = re.search(r'repository = "([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    owner_repo = url.split("github.com/", 1)[1]
    for path in NOTEBOOKS:
        for cell in load(path)["cells"]:
            tags = cell.get("metadata", {}).get("tags", [])
            if owner_repo in "".join(cell["source"]):
                assert tags and tags[0] in {"course-badge", "course-setup", "course-nav"}, path.name


class _Normalise(ast.NodeTransformer):
    "Drop what may differ between a notebook's teaching copy and helpers/: docstrings, type hints."
    def _strip(self, node):
        self.generic_visit(node)
        body = node.body
        if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:]
        if hasattr(node, "returns"):
            node.returns = None
        return node
    visit_FunctionDef = visit_ClassDef = _strip

    def visit_arg(self, node):
        node.annotation = None
        return node


def normalised(node) -> str:
    return ast.dump(_Normalise().visit(copy.deepcopy(node)), annotate_fields=False)


def taught_definitions():
    """(notebook, name, node) for each function or class a notebook defines that helpers also
    has; when a notebook improves a definition step by step, its last version counts."""
    found = {}
    for path in NOTEBOOKS:
        for cell in code_cells(load(path)):
            src = "".join(cell["source"])
            src = "\n".join(l for l in src.splitlines() if not l.lstrip().startswith(("%", "!")))
            for node in ast.parse(src).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and hasattr(helpers, node.name):
                    found[(path.name, node.name)] = node
    return [(nb, name, node) for (nb, name), node in found.items()]


def test_some_functions_are_taught():
    assert {name for _, name, _ in taught_definitions()} >= {"mnist_distance", "is_3"}


@pytest.mark.parametrize("nb,name,node", taught_definitions(),
                         ids=[f"{nb}:{name}" for nb, name, _ in taught_definitions()])
def test_taught_code_matches_helpers(nb, name, node):
    "A notebook teaches the code; helpers/ holds the same code, and its docstring names that notebook."
    obj = getattr(helpers, name)
    lib = ast.parse(inspect.getsource(obj)).body[0]
    assert normalised(node) == normalised(lib), f"{name} drifted from helpers/"
    assert f"notebook {nb[:2]}" in (obj.__doc__ or ""), f"{name}'s docstring should name {nb}"


def public_names():
    "(module, name) for every name a helpers module exports, and the package's own exports."
    import importlib
    import pkgutil
    found = {("helpers", n) for n in helpers.__all__}
    for info in pkgutil.iter_modules(helpers.__path__):
        mod = importlib.import_module(f"helpers.{info.name}")
        found |= {(mod.__name__, n) for n in getattr(mod, "__all__", [])}
    return sorted(found)


@pytest.mark.parametrize("module,name", public_names(), ids=[f"{m}.{n}" for m, n in public_names()])
def test_each_public_name_says_which_notebook_teaches_it(module, name):
    "Its own docstring must name the notebook (a module docstring does not count)."
    import importlib
    obj = getattr(importlib.import_module(module), name)
    if not callable(obj) or not hasattr(obj, "__doc__"):
        return  # constants (MNIST_MEAN, EVENTS) carry no docstring of their own
    doc = obj.__doc__ if (inspect.isfunction(obj) or inspect.isclass(obj)) else None
    if inspect.isclass(obj) and obj.__doc__ == inspect.getdoc(obj.__mro__[1]):
        doc = None  # inherited, not its own
    assert doc and re.search(r"notebooks? \d\d", doc), f"{module}.{name}: its docstring should name its notebook"


def test_colab_branch_of_the_setup_cell(tmp_path):
    """With the Colab check forced and the install source pointed at this checkout, the setup
    cell installs the helpers and nothing else: torch and fastai are left alone."""
    setup = "".join(load(NOTEBOOKS[0])["cells"][2]["source"])
    report = tmp_path / "report.json"
    script = tmp_path / "setup_cell.ipy"
    script.write_text(setup)
    # The dry run's report is asked for on the command line, not through PIP_* variables,
    # which pip's build step would inherit and overwrite the report with its own.
    env = dict(os.environ, COURSE_FORCE_COLAB="1", MPLBACKEND="Agg",
               COURSE_HELPERS_SOURCE=f"{ROOT} --dry-run --report {report}")
    r = subprocess.run([sys.executable, "-m", "IPython", "--quick", "--no-banner", str(script)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    installs = {i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]}
    assert installs == {"mnist-basics-helpers"}


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 course.py test" in readme
    assert re.search(r"^\s*python3 course\.py test\b", ci, re.M)


def test_sync_tool_notices_drift(tmp_path):
    "Edit a badge, a setup cell or the README table by hand, and the check fails."
    import importlib.util
    import shutil
    spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "tools" / "sync_notebooks.py")
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    (tmp_path / "notebooks").mkdir()
    for p in NOTEBOOKS[:2]:
        shutil.copy(p, tmp_path / "notebooks" / p.name)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    sync.ROOT, sync.NB_DIR, sync.README = tmp_path, tmp_path / "notebooks", tmp_path / "README.md"
    sync.sync(check=False)              # regenerate for these two notebooks
    assert sync.sync(check=True) == []
    nb_path = tmp_path / "notebooks" / NOTEBOOKS[0].name
    nb = load(nb_path)
    nb["cells"][2]["source"] = ["import helpers  # a hand-edited setup cell\n"]
    nb_path.write_text(json.dumps(nb))
    problems = sync.sync(check=True)
    assert any("course-setup" in p for p in problems)
    sync.sync(check=False)
    assert sync.sync(check=True) == []

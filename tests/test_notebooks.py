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


def helpers_objects():
    "name -> object for every name that helpers, or one of its modules, exports."
    import importlib
    import pkgutil
    found = {n: getattr(helpers, n) for n in helpers.__all__}
    for info in pkgutil.iter_modules(helpers.__path__):
        mod = importlib.import_module(f"helpers.{info.name}")
        for n in getattr(mod, "__all__", []):
            found.setdefault(n, getattr(mod, n))
    return found


def added_to(node):
    "The class name in `@add_to_class(Name)` above a function, else None."
    for d in node.decorator_list:
        if isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "add_to_class" \
                and len(d.args) == 1 and isinstance(d.args[0], ast.Name):
            return d.args[0].id
    return None


def without_add_to_class(node):
    node = copy.deepcopy(node)
    node.decorator_list = [d for d in node.decorator_list
                           if not (isinstance(d, ast.Call) and getattr(d.func, "id", None) == "add_to_class")]
    return node


def taught_definitions():
    """(notebook, name, node) for each function, class or constant a notebook defines that helpers
    also exports; when a notebook improves a definition step by step, its last version counts.
    A class may grow across cells: its methods are those of its last `class` statement, replaced
    or joined by the functions decorated with `@add_to_class(TheClass)` in later cells."""
    public = helpers_objects()
    found, methods = {}, {}
    for path in NOTEBOOKS:
        for cell in code_cells(load(path)):
            src = "".join(cell["source"])  # a magic line (%pip, !pip) becomes `pass`, indentation kept
            src = "\n".join(l[:len(l) - len(l.lstrip())] + "pass" if l.lstrip().startswith(("%", "!")) else l
                            for l in src.splitlines())
            for node in ast.parse(src).body:
                key = (path.name, getattr(node, "name", None))
                if isinstance(node, ast.ClassDef) and node.name in public:
                    found[key] = node
                    methods[key] = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
                elif isinstance(node, ast.FunctionDef) and added_to(node):
                    cls_key = (path.name, added_to(node))
                    if cls_key[1] in public:  # a class of the notebook's own is not checked
                        assert cls_key in methods, f"{path.name}: add_to_class({cls_key[1]}) before the class"
                        methods[cls_key][node.name] = without_add_to_class(node)
                elif isinstance(node, ast.FunctionDef) and node.name in public:
                    found[key] = node
                elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                        and isinstance(node.targets[0], ast.Name) and node.targets[0].id in public \
                        and not callable(public[node.targets[0].id]):
                    found[(path.name, node.targets[0].id)] = node
    result = []
    for (nb, name), node in found.items():
        if isinstance(node, ast.ClassDef):  # the class as the notebook leaves it
            node = copy.deepcopy(node)
            body = [n for n in node.body if not isinstance(n, ast.FunctionDef)]
            node.body = body + list(methods[(nb, name)].values())
        result.append((nb, name, node))
    return result


def class_parts(node):
    "A normalised class: its header and other statements, and its methods by name."
    node = _Normalise().visit(copy.deepcopy(node))
    meths = {n.name: ast.dump(n, annotate_fields=False) for n in node.body if isinstance(n, ast.FunctionDef)}
    node.body = [n for n in node.body if not isinstance(n, ast.FunctionDef)]
    return ast.dump(node, annotate_fields=False), meths


def test_some_functions_are_taught():
    assert {name for _, name, _ in taught_definitions()} >= {"mnist_distance", "is_3"}


@pytest.mark.parametrize("nb,name,node", taught_definitions(),
                         ids=[f"{nb}:{name}" for nb, name, _ in taught_definitions()])
def test_taught_code_matches_helpers(nb, name, node):
    """A notebook teaches the code; helpers/ holds the same code, and its docstring names that
    notebook. A class is compared method by method: none may differ, be missing or be extra."""
    obj = helpers_objects()[name]
    if isinstance(node, ast.Assign):  # a constant, such as the list of events
        assert ast.literal_eval(node.value) == obj, f"{name} drifted from helpers/"
        return
    lib = ast.parse(inspect.getsource(obj)).body[0]
    if isinstance(node, ast.ClassDef):
        (head, meths), (lib_head, lib_meths) = class_parts(node), class_parts(lib)
        assert head == lib_head, f"{name}: the class statement or its attributes drifted from helpers/"
        assert not set(lib_meths) - set(meths), f"{name}: the notebook never writes {sorted(set(lib_meths) - set(meths))}"
        assert not set(meths) - set(lib_meths), f"{name}: helpers/ lacks {sorted(set(meths) - set(lib_meths))}"
        drifted = sorted(m for m in meths if meths[m] != lib_meths[m])
        assert not drifted, f"{name}: {drifted} drifted from helpers/"
    else:
        assert normalised(node) == normalised(lib), f"{name} drifted from helpers/"
    assert f"notebook {nb[:2]}" in (obj.__doc__ or ""), f"{name}'s docstring should name {nb}"


def public_names(callables: bool):
    """(module, name) for every name a helpers module exports, and the package's own exports:
    the functions and classes, or else the constants."""
    import importlib
    import pkgutil
    found = {("helpers", n) for n in helpers.__all__}
    for info in pkgutil.iter_modules(helpers.__path__):
        mod = importlib.import_module(f"helpers.{info.name}")
        found |= {(mod.__name__, n) for n in getattr(mod, "__all__", [])}
    return sorted((m, n) for m, n in found
                  if callable(getattr(importlib.import_module(m), n)) == callables)


def test_what_the_docstring_check_leaves_out_is_plain_data():
    """The docstring check below covers every function and class; what it leaves out must be
    plain data (names of settings, figures, the list of events), which has no docstring of its own."""
    import importlib
    constants = public_names(callables=False)
    assert {n for _, n in constants} >= {"MNIST_MEAN", "MNIST_STD", "EVENTS"}
    for module, name in constants:
        value = getattr(importlib.import_module(module), name)
        assert isinstance(value, (str, int, float, tuple, list, dict)), f"{module}.{name}: {type(value)}"


@pytest.mark.parametrize("module,name", public_names(callables=True),
                         ids=[f"{m}.{n}" for m, n in public_names(callables=True)])
def test_each_public_name_says_which_notebook_teaches_it(module, name):
    "Its own docstring must name the notebook (a module docstring does not count)."
    import importlib
    obj = getattr(importlib.import_module(module), name)
    doc = obj.__doc__ if (inspect.isfunction(obj) or inspect.isclass(obj)) else None
    if inspect.isclass(obj) and obj.__doc__ == inspect.getdoc(obj.__mro__[1]):
        doc = None  # inherited, not its own
    assert doc and re.search(r"notebooks? \d\d", doc), f"{module}.{name}: its docstring should name its notebook"


@pytest.mark.slow
def test_colab_branch_of_the_setup_cell(tmp_path):
    """In the course environment, with the Colab branch taken (a temporary IPYTHONDIR whose
    startup script stands in for google.colab, see support/colab_startup.py) and its install
    pointed at a freshly built helpers wheel as a dry run, the setup cell would install the
    helpers and nothing else: torch and fastai are left alone."""
    from support import colab
    setup = "".join(load(NOTEBOOKS[0])["cells"][2]["source"])
    assert "COURSE_" not in setup and "os.environ" not in setup, "the setup cell holds a test hook"
    wheel = colab.build_helpers_wheel(tmp_path / "wheel")
    report, log = tmp_path / "report.json", tmp_path / "colab-like.log"
    # The dry run's report is asked for on the command line, not through PIP_* variables,
    # which pip's build step would inherit and overwrite the report with its own.
    ipython_dir = colab.colab_ipython_dir(tmp_path / "ipython", f"{wheel} --dry-run --report {report}",
                                          log, audit=False)  # helpers is an editable install here
    script = tmp_path / "setup_cell.ipy"
    script.write_text(setup)
    bin_dir = Path(sys.executable).parent  # `!pip` is the pip of the kernel's environment
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir), MPLBACKEND="Agg",
               PATH=os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]))
    r = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", str(script)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["kind"] for e in colab.read_log(log)] == ["pip"], (colab.read_log(log), r.stdout, r.stderr)
    installs = {i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]}
    assert installs == {"mnist-basics-helpers"}
    assert r.stdout.strip().startswith("Course helpers "), r.stdout


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 course.py test" in readme
    assert re.search(r"^\s*python3 course\.py test\b", ci, re.M)


def test_sync_tool_notices_drift(tmp_path):
    "Edit a badge, a setup cell, a navigation cell or the README table by hand, and the check fails."
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
    for index, tag, hand_edit in [
            (2, "course-setup", "import helpers  # a hand-edited setup cell\n"),
            (0, "course-badge", "[![Open In Colab](x.svg)](https://example.org/01.ipynb)"),
            (-1, "course-nav", "---\n[All notebooks](../README.md#the-notebooks) · "
                               f"Next: [02]({NOTEBOOKS[1].name}) →")]:
        nb = load(nb_path)
        nb["cells"][index]["source"] = [hand_edit]
        nb_path.write_text(json.dumps(nb))
        problems = sync.sync(check=True)
        assert any(tag in p for p in problems), (tag, problems)
        sync.sync(check=False)
        assert sync.sync(check=True) == []
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text().replace("| notebook |", "| notebooks |", 1))
    assert any("README" in p for p in sync.sync(check=True))


LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_navigation_links_work_in_jupyterlab_and_colab(path):
    """Each relative link of the navigation cell (what JupyterLab and GitHub follow) leads to a
    file of the checkout, and has beside it the absolute link that Colab needs: the notebook
    in Colab, the README on GitHub, both made from the one configured address."""
    import tomllib
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mnist-course"]
    url, branch = cfg["repository"].rstrip("/"), cfg.get("branch", "main")
    colab = f"https://colab.research.google.com/github/{url.split('github.com/', 1)[1]}/blob/{branch}/notebooks/"
    nav = "".join(load(path)["cells"][-1]["source"])
    links = [target for _, target in LINK.findall(nav)]
    i = NOTEBOOKS.index(path)
    expected = []
    if i > 0:
        expected += [NOTEBOOKS[i - 1].name, colab + NOTEBOOKS[i - 1].name]
    expected += ["../README.md#the-notebooks", f"{url}/blob/{branch}/README.md#the-notebooks"]
    if i + 1 < len(NOTEBOOKS):
        expected += [NOTEBOOKS[i + 1].name, colab + NOTEBOOKS[i + 1].name]
    assert links == expected, nav
    for target in links:
        if not target.startswith("https://"):
            file, _, anchor = target.partition("#")
            assert (path.parent / file).is_file(), target
            if anchor:
                headings = re.findall(r"^#+ (.+)$", (path.parent / file).read_text(), re.M)
                assert anchor in {h.strip().lower().replace(" ", "-") for h in headings}, target
    # ../README.md opens in JupyterLab only if `course.py lab` serves the whole checkout.
    sys.path.insert(0, str(ROOT))
    try:
        import course
    finally:
        sys.path.remove(str(ROOT))
    assert f"--ServerApp.root_dir={ROOT}" in course.lab_args()

#!/usr/bin/env python3
"""Keep the series' shared cells in step: Colab badges, the setup cell, navigation links.

    python3 tools/sync_notebooks.py          # rewrite what drifted
    python3 tools/sync_notebooks.py --check  # only report drift (exit 1); the tests run this

The repository address lives in one place, `[tool.mnist-course]` in pyproject.toml: a fork
changes it there and runs this script. Three cells of each notebook are generated from it and
from the list of notebooks, and found by their cell tag: `course-badge` (first cell),
`course-setup` (the setup cell, whose Colab branch installs the helpers from that address) and
`course-nav` (last cell: previous/next and "All notebooks", each with a Colab or GitHub link
beside the relative one). The README's table of notebooks, between the markers
`<!-- notebooks:start -->` and `<!-- notebooks:end -->`, is generated too.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
README = ROOT / "README.md"
BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"

SETUP_CELL = '''\
# Setup, the same in every notebook. In Colab it first installs the course's helpers.
import sys
if "google.colab" in sys.modules:
    !pip install -qq --no-warn-conflicts {install}
from helpers import course_setup
course_setup()'''


def config() -> dict:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mnist-course"]
    url = cfg["repository"].rstrip("/")
    owner_repo = url.split("github.com/", 1)[1]
    return {"url": url, "owner_repo": owner_repo, "branch": cfg.get("branch", "main")}


def notebooks() -> list[Path]:
    return sorted(p for p in NB_DIR.glob("[0-9][0-9]_*.ipynb"))


def title_of(nb: dict, path: Path) -> str:
    "The notebook's first level-one heading, e.g. '01 · Pixel similarity'."
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^# (.+)$", "".join(cell["source"]), re.M)
            if m:
                return m.group(1).strip()
    return path.stem


def colab_url(cfg: dict, path: Path) -> str:
    return (f"https://colab.research.google.com/github/{cfg['owner_repo']}/blob/"
            f"{cfg['branch']}/notebooks/{path.name}")


def badge(cfg: dict, path: Path) -> str:
    return f"[![Open In Colab]({BADGE_IMG})]({colab_url(cfg, path)})"


def github_url(cfg: dict, rel: str) -> str:
    "A file of the repository on GitHub, e.g. 'README.md#the-notebooks'."
    return f"{cfg['url']}/blob/{cfg['branch']}/{rel}"


def nav(cfg: dict, paths: list[Path], titles: dict[Path, str], i: int) -> str:
    """Previous, all, next. Each relative link (for JupyterLab and GitHub) has an absolute one
    beside it, because in Colab a relative link leads nowhere: a notebook opens in Colab, the
    README on GitHub."""
    def to(p: Path) -> str:
        return f"[{titles[p]}]({p.name}) ([in Colab]({colab_url(cfg, p)}))"
    parts = []
    if i > 0:
        parts.append(f"← Previous: {to(paths[i - 1])}")
    parts.append(f"[All notebooks](../README.md#the-notebooks) "
                 f"([on GitHub]({github_url(cfg, 'README.md#the-notebooks')}))")
    if i + 1 < len(paths):
        parts.append(f"Next: {to(paths[i + 1])} →")
    else:
        parts.append("This is the last notebook of the series.")
    return "---\n" + " · ".join(parts)


def lines(text: str) -> list[str]:
    out = text.splitlines(keepends=True)
    return out


def find_tagged(nb: dict, tag: str):
    for cell in nb["cells"]:
        if tag in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def expected_cells(cfg: dict, paths: list[Path], titles: dict[Path, str], i: int) -> dict[str, str]:
    install = f"git+{cfg['url']}@{cfg['branch']}"
    return {"course-badge": badge(cfg, paths[i]),
            "course-setup": SETUP_CELL.format(install=install),
            "course-nav": nav(cfg, paths, titles, i)}


def readme_table(cfg: dict, paths: list[Path], titles: dict[Path, str], blurbs: dict[Path, str]) -> str:
    rows = ["| notebook | what you will learn | open |", "| --- | --- | --- |"]
    for p in paths:
        rows.append(f"| [{titles[p]}](notebooks/{p.name}) | {blurbs[p]} | "
                    f"[![Open In Colab]({BADGE_IMG})]({colab_url(cfg, p)}) |")
    return "\n".join(rows)


def blurb_of(nb: dict) -> str:
    "The one-line 'What you will learn' of a notebook."
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"\*\*What you will learn:\*\*\s*(.+)", "".join(cell["source"]))
            if m:
                return m.group(1).strip()
    return ""


def sync(check: bool) -> list[str]:
    cfg = config()
    paths = notebooks()
    nbs = {p: json.loads(p.read_text()) for p in paths}
    titles = {p: title_of(nbs[p], p) for p in paths}
    problems = []
    for i, p in enumerate(paths):
        nb = nbs[p]
        changed = False
        for tag, text in expected_cells(cfg, paths, titles, i).items():
            cell = find_tagged(nb, tag)
            if cell is None:
                problems.append(f"{p.name}: no cell tagged {tag!r}")
                continue
            if "".join(cell["source"]) != text:
                problems.append(f"{p.name}: the {tag} cell differs from the generated one")
                cell["source"] = lines(text)
                changed = True
        if nb["cells"][0].get("metadata", {}).get("tags", []) != ["course-badge"]:
            problems.append(f"{p.name}: the first cell is not the Colab badge")
        if "course-nav" not in nb["cells"][-1].get("metadata", {}).get("tags", []):
            problems.append(f"{p.name}: the last cell is not the navigation cell")
        if changed and not check:
            p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    text = README.read_text()
    table = readme_table(cfg, paths, titles, {p: blurb_of(nbs[p]) for p in paths})
    start, end = "<!-- notebooks:start -->", "<!-- notebooks:end -->"
    if start not in text or end not in text:
        problems.append("README.md: the markers of the table of notebooks are missing")
        return problems
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    new = f"{head}{start}\n{table}\n{end}{tail}"
    if new != text:
        problems.append("README.md: the table of notebooks differs from the generated one")
        if not check:
            README.write_text(new)
    return problems


def main() -> int:
    check = "--check" in sys.argv[1:]
    problems = sync(check)
    for line in problems:
        print(line)
    if check and problems:
        print("Run `python3 tools/sync_notebooks.py` to regenerate them.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the tests of the "Your turn" exercises share: the worked solutions hidden in a notebook's
"Show a solution" blocks, and running one of them to get its check's verdict."""
import ast
import json
import re
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SOLUTION = re.compile(r"<details><summary>Show a solution</summary>\s*```python\n(.*?)```", re.S)


def hidden_solutions(notebook: str) -> list[str]:
    "The code of every hidden solution of a notebook, in order."
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    return [code for c in cells if c["cell_type"] == "markdown"
            for code in SOLUTION.findall("".join(c["source"]))]


def run_solution(code: str, namespace: dict):
    "Execute a solution block; its last line calls a check, whose verdict is returned."
    *body, last = ast.parse(code).body
    assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call), "a solution ends with its check"
    exec(compile(ast.Module(body=body, type_ignores=[]), "<solution>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<solution>", "eval"), namespace)

"""The machinery shared by every exercise check (the exercises start in notebook 01)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

__all__ = ["Verdict", "as_tensor", "passed", "not_yet", "run_safely", "is_stub", "STUB_HINT"]


@dataclass(frozen=True)
class Verdict:
    """What a check says about an answer: right or not, and one sentence about it (the
    exercises of notebooks 01 to 08).

    It is truthy when the answer is right, and shows as one line in a notebook."""
    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"✓ {self.message}" if self.ok else f"✗ Not yet: {self.message}"

    __repr__ = __str__


def passed(message: str = "Correct.") -> Verdict:
    "A right answer, with a sentence that adds something (exercises from notebook 01 on)."
    return Verdict(True, message)


def not_yet(hint: str) -> Verdict:
    "A wrong answer, with a hint at the mistake, not the solution (exercises from notebook 01 on)."
    return Verdict(False, hint)


def as_tensor(answer: Any) -> torch.Tensor | None:
    """The answer as a float tensor, whatever reasonable form it came in (tensor, NumPy array,
    list, Python number); None when it cannot be one (exercises from notebook 01 on)."""
    if answer is None or isinstance(answer, str):  # NumPy would make None a NaN
        return None
    if isinstance(answer, torch.Tensor):
        return answer.detach().float().cpu()
    try:
        return torch.as_tensor(np.asarray(answer, dtype=np.float64)).float()
    except (TypeError, ValueError):
        return None


def run_safely(fn: Callable, *args, **kwargs) -> tuple[Any, Verdict | None]:
    """Call the learner's function; on an error, return a verdict that names the error instead
    of a traceback; calling the function directly shows the full one (notebook 01 on)."""
    if not callable(fn):
        return None, not_yet(f"expected a function, got a {type(fn).__name__}; pass the function "
                             "itself, without calling it (no parentheses).")
    try:
        return fn(*args, **kwargs), None
    except Exception as e:  # the learner's code may fail in any way; say how, in one line
        return None, not_yet(f"calling your function raised {type(e).__name__}: {e}")


# What a check answers while the learner's function is still the stub the notebook stores.
STUB_HINT = "write the body of the function in place of the `...`, then run the cell again."


def is_stub(fn) -> bool:
    """True for a function whose body is still only `...` or `pass`, as the exercises of
    notebooks 05 to 07 store it (so a check can answer with STUB_HINT)."""
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_code == (lambda: None).__code__.co_code

""""Your turn" exercises: one module per notebook (`nb01`, `nb02`, ...), each with check functions.

A check takes the learner's answer (a value, a tensor, or a function to call) and returns a
`Verdict`: it shows as one line, "✓ ..." for a right answer, or "✗ Not yet: <hint>" pointing
at the mistake without giving the solution away. The shared machinery lives in `core`.
"""
from .core import Verdict, as_tensor, passed, not_yet, run_safely

__all__ = ["Verdict", "as_tensor", "passed", "not_yet", "run_safely"]

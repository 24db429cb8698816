"""Checks for the "Your turn" exercises at the end of notebook 07: softmax, a validation split,
a confusion matrix, and a Kaggle submission."""
from __future__ import annotations

import torch

from .core import Verdict, as_tensor, not_yet, passed, run_safely
from .core import STUB_HINT as STUB, is_stub as _is_stub

__all__ = ["check_softmax", "check_split", "check_confusion", "check_submission"]


def check_softmax(softmax) -> Verdict:
    """(notebook 07) `softmax(scores)` turns each row of scores into probabilities that sum to 1,
    and does not overflow on large scores."""
    if _is_stub(softmax):
        return not_yet(STUB)
    scores = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [-1.0, 0.5, 1.0], [3.0, 3.0, 3.0]])
    want = torch.softmax(scores, dim=1)
    got, problem = run_safely(softmax, scores.clone())
    if problem is not None:
        return problem
    got = as_tensor(got)
    if got is None or got.shape != want.shape:
        return not_yet(f"expected one row of probabilities per row of scores, shape {tuple(want.shape)}, "
                       f"got {None if got is None else tuple(got.shape)}.")
    if torch.allclose(got, torch.softmax(scores, dim=0), atol=1e-5):
        return not_yet("each column sums to 1 instead of each row: sum over the last axis "
                       "(`dim=-1` or `dim=1`), keeping it (`keepdim=True`) so the division broadcasts.")
    if torch.allclose(got, scores / scores.sum(1, keepdim=True), atol=1e-5):
        return not_yet("dividing the scores by their sum is not enough (scores can be negative): "
                       "exponentiate them first.")
    if not torch.allclose(got, want, atol=1e-5):
        return not_yet("the rows do not match softmax: exponentiate every score, then divide by "
                       "the sum of its row.")
    big = scores * 400
    got_big, problem = run_safely(softmax, big.clone())
    if problem is not None:
        return problem
    got_big = as_tensor(got_big)
    if got_big is None or not torch.allclose(got_big, torch.softmax(big, dim=1), atol=1e-5):
        return not_yet("right on small scores, but scores in the hundreds overflow `exp` to "
                       "infinity. Subtracting each row's largest score first changes nothing in "
                       "the result and keeps every `exp` at most 1.")
    return passed("every row sums to 1, large scores included: the same probabilities as "
                  "`torch.softmax(scores, dim=1)`.")


def check_split(split) -> Verdict:
    """(notebook 07) `split(n, valid_pct)` returns (train_idx, valid_idx): a random share
    `valid_pct` of the n positions for validation, the rest for training, no position in both."""
    if _is_stub(split):
        return not_yet(STUB)
    n, pct = 1000, 0.2
    result, problem = run_safely(split, n, pct)
    if problem is not None:
        return problem
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return not_yet("return two things, the training positions and the validation positions: "
                       "`return train_idx, valid_idx`.")
    train, valid = (as_tensor(r) for r in result)
    if train is None or valid is None:
        return not_yet("each half should be a list or tensor of positions (whole numbers).")
    train, valid = train.long().flatten(), valid.long().flatten()
    if len(train) == 200 and len(valid) == 800:
        return not_yet("the two are the wrong way round: the validation set is the small share, "
                       "`valid_pct` of the images.")
    if len(valid) != 200:
        return not_yet(f"with n={n} and valid_pct={pct} the validation set should hold "
                       f"{int(n * pct)} positions, not {len(valid)}.")
    both = set(train.tolist()) & set(valid.tolist())
    if both:
        return not_yet(f"{len(both)} positions are in both sets: a validation image the model "
                       "trains on tells us nothing. Take the two sets from one shuffled order.")
    if len(set(train.tolist()) | set(valid.tolist())) != n or len(train) + len(valid) != n:
        return not_yet("together the two sets should hold every position from 0 to n-1 exactly once.")
    if valid.sort().values.equal(torch.arange(len(valid))) or valid.sort().values.equal(torch.arange(n - len(valid), n)):
        return not_yet("the validation set is a block at one end. Files are often sorted by "
                       "label, so that block would hold only some digits: shuffle the positions "
                       "first (`torch.randperm`).")
    return passed("a random 20% for validation, the rest for training, none in both: what "
                  "`split_train_valid` and fastai's `valid_pct` do.")


def check_confusion(confusion) -> Verdict:
    """(notebook 07) `confusion(preds, targets)` counts, in a 10x10 tensor, how often each true
    digit (row) was predicted as each digit (column)."""
    if _is_stub(confusion):
        return not_yet(STUB)
    targets = torch.tensor([0, 0, 1, 1, 1, 2, 7, 7, 9, 9, 9, 4])
    preds = torch.tensor([0, 6, 1, 7, 7, 2, 1, 7, 9, 4, 9, 9])
    want = torch.zeros(10, 10, dtype=torch.int64)
    for t, p in zip(targets.tolist(), preds.tolist()):
        want[t, p] += 1
    got, problem = run_safely(confusion, preds.clone(), targets.clone())
    if problem is not None:
        return problem
    got = as_tensor(got)
    if got is None or tuple(got.shape) != (10, 10):
        return not_yet(f"expected a 10x10 table, one row per true digit, got "
                       f"{None if got is None else tuple(got.shape)}.")
    if torch.equal(got.long(), want.T):
        return not_yet("rows and columns are swapped: the row is the true digit, the column the "
                       "predicted one.")
    if got.sum() != len(targets):
        return not_yet(f"the counts add up to {got.sum().item():g}, but there are {len(targets)} "
                       "predictions: each one adds 1 to exactly one cell.")
    if not torch.equal(got.long(), want):
        return not_yet("the total is right but some cells are not: add 1 at (true digit, "
                       "predicted digit) for each image.")
    return passed("rows are true digits, columns predictions, and the diagonal holds the right "
                  "answers: the confusion matrix of the notebook.")


def check_submission(make_submission) -> Verdict:
    """(notebook 07) `make_submission(labels)` returns a pandas DataFrame in Kaggle's format:
    columns `ImageId` (1, 2, 3, ...) and `Label`."""
    if _is_stub(make_submission):
        return not_yet(STUB)
    import pandas as pd
    labels = torch.tensor([3, 0, 9, 9, 1, 7])
    got, problem = run_safely(make_submission, labels.clone())
    if problem is not None:
        return problem
    if not isinstance(got, pd.DataFrame):
        return not_yet(f"return a pandas DataFrame (`pd.DataFrame({{...}})`), not a {type(got).__name__}.")
    if list(got.columns) != ["ImageId", "Label"]:
        return not_yet(f"Kaggle wants exactly the columns ['ImageId', 'Label'], in that order; "
                       f"yours are {list(got.columns)}.")
    if len(got) != len(labels):
        return not_yet(f"one row per image: {len(labels)} labels should make {len(labels)} rows, "
                       f"not {len(got)}.")
    ids = got["ImageId"].tolist()
    if ids == list(range(len(labels))):
        return not_yet("the ids start at 0, but Kaggle counts images from 1.")
    if ids != list(range(1, len(labels) + 1)):
        return not_yet("`ImageId` should count 1, 2, 3, ... in the order of the rows of test.csv.")
    if [int(v) for v in got["Label"].tolist()] != labels.tolist():
        return not_yet("the `Label` column should hold the predicted digits, in order, as whole numbers.")
    return passed("the right columns, ids from 1 and one digit per row: ready for "
                  "`to_csv('submission.csv', index=False)`.")

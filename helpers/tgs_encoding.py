"""The TGS Salt Identification Challenge's masks as Kaggle reads them, and its score (notebook 11).

* `check_masks`: refuses probabilities, and one mask where a batch belongs (or the reverse);
* `rle_encode` / `rle_decode`: the competition's run-length encoding of masks;
* `competition_metric`: the competition's score, a mean over images of the share of IoU
  thresholds 0.50, 0.55, ..., 0.95 that a predicted mask clears.
"""
from __future__ import annotations

import numpy as np

__all__ = ["check_masks", "rle_encode", "rle_decode", "competition_metric"]


def check_masks(masks, ndim: int, who: str) -> np.ndarray:
    """`masks` as booleans, once it is sure they have `ndim` axes and hold only 0s and 1s
    (notebook 11). Probabilities, or one mask where a batch belongs, raise a ValueError."""
    arr = np.asarray(masks)
    if arr.ndim != ndim:
        wanted = 'one mask, of shape (height, width)' if ndim == 2 else 'a batch of masks, of shape (n, height, width)'
        hint = {(3, 2): ': for a single mask, add the batch axis with mask[None]',
                (2, 3): ': encode the masks one at a time'}.get((ndim, arr.ndim), '')
        raise ValueError(f'{who} takes {wanted}, not an array of shape {arr.shape}{hint}.')
    others = arr[~np.isin(arr, (0, 1))] if arr.dtype != bool else arr[:0]
    if others.size:
        other = others.flat[0]
        raise ValueError(f'{who} takes masks of 0s and 1s (or booleans), but these hold other '
                         f'values, such as {other}: turn probabilities into a mask first, for '
                         f'example with probs > 0.5.')
    return arr.astype(bool)


def rle_encode(mask: np.ndarray) -> str:
    """Kaggle's run-length encoding of a mask (notebook 11): pixels are numbered from 1, top to
    bottom then left to right (column by column), and each run of salt pixels is written as
    'start length'; an empty mask gives an empty string."""
    pixels = check_masks(mask, 2, 'rle_encode').flatten(order='F')  # column by column
    edges = np.concatenate([[False], pixels, [False]])
    changes = np.flatnonzero(edges[1:] != edges[:-1]) + 1            # 1-based starts and ends
    starts, ends = changes[0::2], changes[1::2]
    return ' '.join(f'{s} {e - s}' for s, e in zip(starts, ends))


def rle_decode(rle: str, shape: tuple[int, int] = (101, 101)) -> np.ndarray:
    """Turn Kaggle's run-length encoding back into a boolean mask of `shape` (notebook 11);
    a string that is not sorted, non-overlapping pairs of whole numbers inside the image raises
    a ValueError."""
    fields = rle.split()
    if not all(f.isdecimal() for f in fields):
        raise ValueError(f'{rle[:40]!r} is not a run-length encoding: it should hold only whole '
                         f'numbers, in pairs of start and length.')
    if len(fields) % 2:
        raise ValueError(f'{rle[:40]!r} holds {len(fields)} numbers, an odd count: a run-length '
                         f'encoding is pairs of start and length.')
    starts, lengths = np.array(fields[0::2], dtype=np.int64), np.array(fields[1::2], dtype=np.int64)
    size = shape[0] * shape[1]
    bad = (starts < 1) | (lengths < 1) | (starts + lengths - 1 > size)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f'the run {starts[i]} {lengths[i]} reaches outside pixels 1 to {size}: '
                         f'this encoding does not belong to a {shape[0]}x{shape[1]} mask.')
    clash = starts[1:] <= (starts + lengths - 1)[:-1]    # a run starting inside or before the last
    if clash.any():
        i = int(np.argmax(clash)) + 1
        raise ValueError(f'the run {starts[i]} {lengths[i]} does not start after the run before it '
                         f'({starts[i - 1]} {lengths[i - 1]}) ends: Kaggle wants the runs sorted '
                         f'and not overlapping.')
    flat = np.zeros(size, dtype=bool)
    for s, n in zip(starts, lengths):
        flat[s - 1:s - 1 + n] = True
    return flat.reshape(shape, order='F')


def competition_metric(pred_masks: np.ndarray, true_masks: np.ndarray) -> float:
    """The competition's score for boolean masks of shape (n, height, width) (notebook 11).

    Per image: 1 if both masks are empty, 0 if only one is; otherwise the share of the
    thresholds 0.50, 0.55, ..., 0.95 that the IoU is strictly greater than. The score is the
    mean over images. Integer arithmetic keeps an IoU of exactly 0.75 from clearing 0.75."""
    pred = check_masks(pred_masks, 3, 'competition_metric')
    true = check_masks(true_masks, 3, 'competition_metric')
    if pred.shape != true.shape:
        raise ValueError(f'predicted masks of shape {pred.shape} cannot be scored against true '
                         f'masks of shape {true.shape}: give one prediction per true mask.')
    pred, true = pred.reshape(len(pred), -1), true.reshape(len(true), -1)
    inter, union = (pred & true).sum(1), (pred | true).sum(1)
    percents = np.arange(50, 100, 5)                                 # the thresholds, x 100
    hits = 100 * inter[:, None] > percents * union[:, None]          # IoU > threshold
    scores = np.where(union == 0, 1.0, hits.mean(1))
    return float(scores.mean())

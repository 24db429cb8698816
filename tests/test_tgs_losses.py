"""helpers.tgs_losses (notebook 11): the Lovász hinge against a direct computation of 1 − IoU."""
import itertools

import pytest
import torch

from helpers.tgs_losses import lovasz_hinge


def iou_loss(pred: torch.Tensor, truth: torch.Tensor) -> float:
    "1 − IoU of two boolean masks, 0 when both are empty."
    union = (pred | truth).sum().item()
    return 0.0 if union == 0 else 1 - (pred & truth).sum().item() / union


def scores_for(truth: torch.Tensor, wrong: torch.Tensor) -> torch.Tensor:
    """Scores whose hinge errors are exactly 1 on the `wrong` pixels (score 0) and 0 elsewhere
    (score +1 on salt, -1 on background): the prediction they describe is truth XOR wrong."""
    sign = 2 * truth.float() - 1
    return torch.where(wrong, torch.zeros_like(sign), sign)


def test_equals_one_minus_iou_for_every_error_set_of_a_small_image():
    "All 2^6 error sets on each of three 2 x 3 truths, salt and empty alike."
    for truth_bits in [(1, 1, 0, 0, 1, 0), (0, 0, 0, 0, 0, 0), (1, 1, 1, 1, 1, 1)]:
        truth = torch.tensor(truth_bits, dtype=torch.bool).view(2, 3)
        for bits in itertools.product([0, 1], repeat=6):
            wrong = torch.tensor(bits, dtype=torch.bool).view(2, 3)
            if not wrong.any() and not truth.any():
                continue  # nothing to lose: the hinge is 0, and 1 − IoU is undefined (0/0)
            value = lovasz_hinge(scores_for(truth, wrong)[None], truth[None].long()).item()
            assert value == pytest.approx(iou_loss(truth ^ wrong, truth), abs=1e-6), (truth_bits, bits)


def test_is_a_mean_over_images_not_over_pixels():
    "A small body missed costs its image as much as a large body missed: the per-image view."
    small, large = torch.zeros(10, 10, dtype=torch.bool), torch.zeros(10, 10, dtype=torch.bool)
    small[0, :3], large[:6] = True, True
    truths = torch.stack([small, large])
    both_missed = torch.stack([scores_for(small, small), scores_for(large, large)])
    assert lovasz_hinge(both_missed, truths.long()).item() == pytest.approx(1.0)
    one_missed = torch.stack([scores_for(small, small), scores_for(large, torch.zeros_like(large))])
    assert lovasz_hinge(one_missed, truths.long()).item() == pytest.approx(0.5)


def test_scales_with_the_errors_and_has_gradients():
    truth = torch.zeros(1, 4, 4, dtype=torch.long)
    truth[0, :2] = 1
    wrong = torch.zeros(4, 4, dtype=torch.bool)
    wrong[0, 0] = True
    base = scores_for(truth[0].bool(), wrong)
    one = lovasz_hinge(base[None], truth).item()
    worse = base.clone()
    worse[0, 0] = -1.0                                   # the wrong pixel now confidently wrong: error 2
    assert lovasz_hinge(worse[None], truth).item() == pytest.approx(2 * one)
    scores = torch.zeros(1, 4, 4, requires_grad=True)
    lovasz_hinge(scores, truth).backward()
    assert scores.grad[0, :2].lt(0).all() and scores.grad[0, 2:].ge(0).all()  # salt pushed up, none of the rest

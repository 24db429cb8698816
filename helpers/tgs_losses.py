"""A loss for the TGS Salt challenge that follows its score image by image (notebook 11).

* `lovasz_hinge`: the Lovász hinge of Berman, Rannen Triki and Blaschko (2018), computed per
  image and averaged: a convex surrogate of 1 − IoU, for fine-tuning after cross-entropy + Dice.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["lovasz_hinge"]


def lovasz_hinge(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-image Lovász hinge, averaged over the images (notebook 11). `scores`: (n, h, w) salt
    scores, positive for salt; `targets`: (n, h, w) of 0s and 1s. For hinge errors of exactly 0
    or 1 it equals 1 − IoU of the prediction those errors describe."""
    losses = []
    for score, truth in zip(scores.flatten(1), targets.flatten(1).float()):
        errors = 1 - score * (2 * truth - 1)            # hinge: above 0 where a pixel isn't safely right
        errors, order = errors.sort(descending=True)
        truth = truth[order]
        # 1 - IoU once the k worst pixels are counted wrong, for k = 1, 2, ...; its steps weigh the errors
        kept = truth.sum() - truth.cumsum(0)            # salt pixels still right
        union = truth.sum() + (1 - truth).cumsum(0)     # salt, plus background counted as salt
        iou_loss = 1 - kept / union
        steps = torch.diff(iou_loss, prepend=iou_loss.new_zeros(1))
        losses.append((F.relu(errors) * steps).sum())
    return torch.stack(losses).mean()

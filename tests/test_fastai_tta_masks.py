"""What fastai's `learn.tta()` does with masks (notebook 11 says it, this test shows it).

`tta` predicts the validation images again with the *training* transforms switched on and
averages those predictions. For a classifier that is fine: a mirrored "3" is still a "3". For
a segmentation model the prediction made on a mirrored image is a mirrored mask, and `tta`
averages it as it is, without flipping it back. With a flip that always happens, the averaged
"augmented" predictions are exactly the plain ones mirrored."""
import numpy as np
import pytest
import torch

fastai_vision = pytest.importorskip("fastai.vision.all")
from fastai.vision.all import (CrossEntropyLossFlat, DataBlock, Flip, ImageBlock, Learner,  # noqa: E402
                               MaskBlock, PILImageBW, PILMask)


class EchoSegmenter(torch.nn.Module):
    "A stand-in for a trained U-Net: calls a pixel salt exactly where the image is bright."

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))   # a Learner wants parameters

    def forward(self, x):
        return torch.cat([-(x - 0.5), x - 0.5], dim=1) * 10 + self.unused


def lopsided_learner(flip_p: float) -> Learner:
    "Four 16x16 images, each bright on its left side only, so a mirror image is easy to tell apart."
    rng = np.random.default_rng(0)
    images = np.zeros((4, 16, 16), dtype=np.uint8)
    for k in range(4):
        images[k, :, : 3 + k] = 255                         # a bright band of a different width
    images[:, :, 12:] = rng.integers(0, 100, size=(4, 16, 4))  # and some dim noise on the right
    block = DataBlock(blocks=(ImageBlock(cls=PILImageBW), MaskBlock(['background', 'salt'])),
                      get_x=lambda k: PILImageBW.create(images[k]),
                      get_y=lambda k: PILMask.create((images[k] > 127).astype(np.uint8)),
                      splitter=lambda items: (list(range(2)), list(range(2, 4))),
                      batch_tfms=Flip(p=flip_p))
    dls = block.dataloaders(list(range(4)), bs=2, num_workers=0, device=torch.device('cpu'))
    return Learner(dls, EchoSegmenter(), loss_func=CrossEntropyLossFlat(axis=1))


def test_plain_predictions_follow_the_image():
    learn = lopsided_learner(flip_p=1.0)
    preds, targets = learn.get_preds()                     # validation set: no flip
    salt = preds.argmax(1)
    assert torch.equal(salt, targets), "the echo model should reproduce the masks"


def test_tta_averages_mirrored_masks_without_flipping_them_back():
    learn = lopsided_learner(flip_p=1.0)
    (augmented, plain), _ = learn.tta(n=2, beta=None)      # beta=None: both parts, not blended
    assert augmented.shape == plain.shape == (2, 2, 16, 16)
    assert not torch.allclose(augmented, plain)            # not the same masks...
    assert torch.allclose(augmented, plain.flip(-1))       # ...their mirror images, never flipped back


def test_tta_blend_mixes_a_mask_with_its_mirror_image():
    learn = lopsided_learner(flip_p=1.0)
    blended, targets = learn.tta(n=2)                       # the default: 0.75 augmented + 0.25 plain
    (augmented, plain), _ = learn.tta(n=2, beta=None)
    assert torch.allclose(blended, torch.lerp(augmented, plain, 0.25))
    # the left-hand band is bright, so after blending with its mirror image the far right
    # column is called salt too, which the true mask is not
    wrong = (blended.argmax(1) != targets).float().mean().item()
    assert wrong > 0.1

"""Why fastai's U-Net trails ours in notebook 11: the model, or the way it is trained?

Notebook 11 trains two U-Nets on the same images for the same epochs at the same learning rate:
our hand-written `UNet` with our own loop (`fit_segmenter`), and fastai's `unet_learner` (a
`DynamicUnet` around a small encoder) with `Learner.fit_one_cycle`. On the synthetic stand-in
ours scores clearly higher on every seed. This script crosses the two: it runs the notebook up to
the fastai model (skipping its two trainings), then trains

* our `UNet` with fastai's `Learner.fit_one_cycle`, on the `DataBlock`'s loaders, and
* fastai's `DynamicUnet` with our `fit_segmenter` loop,

and scores both as the notebook does (threshold and minimum size chosen on validation). If our
U-Net stays ahead under fastai's training, the gap is the model; if fastai's model catches up
under our loop, it is the training. Together with the notebook's own two results (from
`seed_sweep.json`, which holds seeds 43 and up; seed 42's are in the stored notebook's results
table) that is a 2 x 2 table per seed. `--variants` instead trains three changed `unet_learner`s
with fastai's training: an encoder whose first stage keeps the full 128 x 128, batch norm in the
decoder, and batch norm with fastai's default `last_cross=True`. A maintainer's tool, not part of
the suite: about two minutes a seed (four with `--variants`) on two CPU cores. Ends with one JSON
line.

    python benchmarks/tgs_gap.py --seeds 42 43 44
    python benchmarks/tgs_gap.py --variants --seeds 42
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from seed_sweep import RECORD_FILE, load_record, with_seed   # beside this script

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "11_tgs_salt.ipynb"
FIRST_SKIPPED = "learn.fit_one_cycle(EPOCHS, LR)"          # the notebook's fastai training: stop here
ALSO_SKIPPED = "fit_segmenter(unet,"                        # the notebook's own U-Net training

SCORING = r'''
import json as _json
# the notebook's grid of thresholds and minimum sizes: its cell comes after the cut
thresholds, min_sizes = np.round(np.arange(0.3, 0.71, 0.05), 2), (0, 25, 50, 100, 200, 400, 800)
def _best(probs):
    return float(tune(probs, valid_masks, thresholds, min_sizes)[2].max())
valid_files = [files[i] for i in valid_idx]
'''

EXPERIMENT = SCORING + r'''
_res = {}
seed_everything(SEED)
_ours = Learner(dls, UNet(), loss_func=seg_loss)
with _ours.no_bar(), _ours.no_logging():
    _ours.fit_one_cycle(EPOCHS, LR)
_res['our UNet, fastai fit_one_cycle'] = _best(fastai_salt_probs(_ours, valid_files))
seed_everything(SEED)
_theirs = unet_learner(dls, small_encoder, pretrained=False, n_in=1, n_out=2, loss_func=seg_loss,
                       last_cross=False)
fit_segmenter(_theirs.model, as_input(images[train_idx]), as_target(masks[train_idx]),
              epochs=EPOCHS, lr=LR, bs=BS, seed=SEED)
_res['fastai DynamicUnet, our fit_segmenter'] = _best(salt_probs(_theirs.model, images[valid_idx]))
print('TGS-GAP ' + _json.dumps(_res))
'''

VARIANTS = SCORING + r'''
def _full_size_encoder(pretrained=False):
    widths, ins, strides = (8, 16, 32, 64), (3, 8, 16, 32), (1, 2, 2, 2)
    return nn.Sequential(*[nn.Sequential(ConvLayer(i, w, stride=s), ConvLayer(w, w)) for i, w, s in zip(ins, widths, strides)],
                         nn.AdaptiveAvgPool2d(1))
_res = {}
for _name, _enc, _kw in [('first stage at full size', _full_size_encoder, dict(last_cross=False)),
                         ('batch norm in the decoder', small_encoder, dict(norm_type=NormType.Batch, last_cross=False)),
                         ('batch norm and last_cross', small_encoder, dict(norm_type=NormType.Batch))]:
    seed_everything(SEED)
    _l = unet_learner(dls, _enc, pretrained=False, n_in=1, n_out=2, loss_func=seg_loss, **_kw)
    _start = time.perf_counter()
    with _l.no_bar(), _l.no_logging():
        _l.fit_one_cycle(EPOCHS, LR)
    _res[_name + ' (s)'] = round(time.perf_counter() - _start, 1)
    _res[_name] = _best(fastai_salt_probs(_l, valid_files))
print('TGS-GAP ' + _json.dumps(_res))
'''


def prepared(seed: int, experiment: str = EXPERIMENT):
    "Notebook 11 with `seed`, cut before its fastai training, without its U-Net training, plus the experiment."
    import nbformat
    nb = with_seed(nbformat.read(NOTEBOOK, as_version=4), seed)
    cut = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and FIRST_SKIPPED in c.source)
    cells = []
    for c in nb.cells[:cut]:
        if c.cell_type == "code" and ALSO_SKIPPED in c.source:   # keep only its settings line
            c = nbformat.v4.new_code_cell("\n".join(l for l in c.source.splitlines() if l.startswith("EPOCHS, LR, BS =")))
        cells.append(c)
    src = nb.cells[cut].source                                    # keep its prediction function
    cells.append(nbformat.v4.new_code_cell(src[src.index("def fastai_salt_probs"):src.index("\nfastai_probs =")]))
    nb.cells = cells
    nb.cells.append(nbformat.v4.new_code_cell(experiment))
    return nb


def run(seed: int, timeout: int, experiment: str = EXPERIMENT) -> dict:
    from nbclient import NotebookClient
    nb = prepared(seed, experiment)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("name") == "stdout")
    line = next(l for l in text.splitlines() if l.startswith("TGS-GAP "))
    return json.loads(line[len("TGS-GAP "):])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    p.add_argument("--timeout", type=int, default=1800, help="seconds one cell may take")
    p.add_argument("--variants", action="store_true", help="train the three changed unet_learners instead")
    args = p.parse_args(argv)
    swept = load_record(RECORD_FILE)["notebooks"].get("11", {})
    notebook_own = {"our UNet, our fit_segmenter": "our U-Net, competition score on validation",
                    "fastai DynamicUnet, fastai fit_one_cycle": "fastai unet_learner, competition score on validation"}
    start, table = time.perf_counter(), {}
    for seed in args.seeds:
        t0 = time.perf_counter()
        res = run(seed, args.timeout, VARIANTS if args.variants else EXPERIMENT)
        for name, guard in ({} if args.variants else notebook_own).items():
            value = swept.get(guard, {}).get("values", {}).get(str(seed))
            if value is not None:
                res[name] = value
        table[seed] = res
        print(f"seed {seed} ({time.perf_counter() - t0:.0f} s): "
              + ", ".join(f"{k} {v:.4f}" for k, v in sorted(res.items())), flush=True)
    names = sorted({k for r in table.values() for k in r})
    print(f"\n{'model, training':45} {'seeds':>5} {'min':>7} {'median':>7} {'max':>7}")
    for name in names:
        vals = sorted(r[name] for r in table.values() if name in r)
        print(f"{name:45} {len(vals):5d} {vals[0]:7.4f} {statistics.median(vals):7.4f} {vals[-1]:7.4f}")
    total = time.perf_counter() - start
    print(f"{total:.0f} s in all")
    print(json.dumps({"seconds": round(total, 1), "scores": {str(s): r for s, r in table.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

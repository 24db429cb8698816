"""How fastai reports training in the notebooks: plain text lines instead of progress bars.

fastai draws its training table as HTML with moving bars, updated in place; `text_progress`
makes it print the same table as text, one line per epoch (taught in notebook 05).
"""
from __future__ import annotations

__all__ = ["text_progress"]


def text_progress() -> None:
    """Make fastai report training as plain text: the table's header, then one line per epoch,
    printed as each epoch ends, the way fastai does in a terminal (notebook 05).

    In a notebook fastai draws its table with moving progress bars, as HTML that it keeps
    updating; the notebook tests only see the first version of such an output, an empty bar.
    Printed lines hold the same figures, can be compared, and are stored once. Only the bars go.
    """
    import fastai.callback.progress as progress
    from fastprogress.fastprogress import ConsoleMasterBar, MasterBar, ProgressBar

    class EpochLines(ConsoleMasterBar):
        "fastprogress's console master bar without its bars: it only prints the table."
        def __init__(self, gen, total=None, **kwargs):
            MasterBar.__init__(self, gen, ProgressBar, total)  # ProgressBar itself draws nothing
            self.total_time = False

    progress.master_bar, progress.progress_bar = EpochLines, ProgressBar

"""The old home of the course's widgets, kept so that `from helpers.interactive import ...` still
works while the notebooks move to the modules that now hold them, one per job:

    helpers.canvas    the drawing canvas and its picture codecs (notebook 12)
    helpers.answers   the models' answers as bars (notebook 12)
    helpers.sliders   the SGD sliders and still pictures (notebook 03)
    helpers.widgets   showing a widget in JupyterLab and Colab

It exports nothing of its own; import from the modules above in new code.
"""
from .answers import plot_answers, summarise_answers  # noqa: F401
from .canvas import DigitCanvas, ink_from_data_url, ink_to_data_url  # noqa: F401
from .sliders import (SgdExplorer, plot_sgd_run, run_sgd, sgd_explorer, sgd_regimes,  # noqa: F401
                      sgd_verdict)
from .widgets import figure_to_data_url  # noqa: F401

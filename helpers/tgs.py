"""The TGS Salt Identification Challenge, the segmentation homework (notebook 11).

Notebook 11 imports everything from here; the code lives in one module per job:

    tgs_encoding   masks as Kaggle reads them (run-length encoding) and the competition's score
    tgs_data       the competition's data on disk: TGS_DATA, or a Kaggle download, checked and loaded
    tgs_synthetic  a synthetic stand-in in the competition's layout, for machines without the data
"""
from .tgs_data import (COMPETITION, COMPETITION_COUNTS, IMAGE_SIZE, RULES_URL, TGS_ENV, TgsDataError,
                       TgsNotConfigured, check_tgs_folder, get_tgs, kaggle_credentials, load_tgs)
from .tgs_encoding import competition_metric, rle_decode, rle_encode
from .tgs_synthetic import make_synthetic_tgs

__all__ = ["TGS_ENV", "COMPETITION", "RULES_URL", "IMAGE_SIZE", "COMPETITION_COUNTS",
           "TgsDataError", "TgsNotConfigured", "rle_encode", "rle_decode", "competition_metric",
           "make_synthetic_tgs", "get_tgs", "check_tgs_folder", "load_tgs", "kaggle_credentials"]

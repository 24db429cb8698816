"""Helpers for the 'MNIST basics' notebook series.

Each function is taught in one notebook and imported from here by the later ones; its
docstring names the notebook that explains it.
"""
from .baseline import is_3, mnist_distance
from .data import MnistDataError, check_mnist_folder, data_dir, get_mnist
from .images import image_files, load_digits
from .plotting import (draw_broadcast, draw_sgd_loop, pixel_table, plot_function, show_digit,
                       show_digits, show_preds, use_course_style)
from .setup import course_setup, seed_everything
from .training import (BasicOptim, batch_accuracy, calc_grad, cross_entropy, init_params, linear1,
                       load_3s_and_7s, log_softmax, mnist_loss, sigmoid, simple_net, softmax,
                       train_epoch, train_model, validate_epoch)
from .learner import (CancelBatchException, CancelEpochException, CancelFitException, Callback,
                      Learner, LRFinder, OneCycle, Recorder, SGDOptim)
from .fast import (TensorLoader, accuracy_of, default_device, fit_one_cycle_fast, load_mnist,
                   mnist_cnn, predict, random_shift, split_train_valid)

__version__ = "0.1.0"
__all__ = ["is_3", "mnist_distance", "MnistDataError", "check_mnist_folder", "data_dir",
           "get_mnist", "image_files", "load_digits", "pixel_table", "plot_function",
           "show_digit", "show_digits", "use_course_style", "draw_broadcast", "draw_sgd_loop",
           "show_preds", "course_setup",
           "seed_everything", "BasicOptim", "batch_accuracy", "calc_grad", "init_params", "linear1",
           "load_3s_and_7s", "mnist_loss", "sigmoid", "simple_net", "train_epoch", "train_model",
           "validate_epoch", "cross_entropy", "log_softmax", "softmax", "TensorLoader",
           "accuracy_of", "default_device", "fit_one_cycle_fast", "load_mnist", "mnist_cnn",
           "predict", "random_shift", "split_train_valid", "CancelBatchException",
           "CancelEpochException", "CancelFitException", "Callback", "Learner", "LRFinder",
           "OneCycle", "Recorder", "SGDOptim"]

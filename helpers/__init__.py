"""Helpers for the 'MNIST basics' notebook series.

Each public name is taught in one notebook and imported from here by the later ones; its
docstring names that notebook. The modules follow the data's path through the series:

    notebook_setup  the setup cell at the top of every notebook
    device    where tensors and models live (the GPU when there is one)
    data      the MNIST archives on disk: download or offline mirror, all-or-nothing extraction
    tensors   folders of PNG files to cached tensors, and the validation split
    batches   mini-batches sliced from tensors, with random shifts
    models    from the pixel-similarity baseline to a convolutional network
    losses    losses and metrics
    loops     training loops written by hand
    learner   the Learner written from scratch (notebook 08)
    checks    guards for training results that hold on any healthy run
    plotting  the figures
    progress  fastai's training table printed as text lines (notebook 05)

Modules for one notebook's hands-on parts, imported by module (`from helpers.canvas import ...`):

    drawing   a drawing prepared the way MNIST's digits were (notebook 12)
    canvas    the canvas to draw a digit on, and pictures of digits as ink (notebook 12)
    answers   the models' answers for one digit, as a line of text and as bars (notebook 12)
    sliders   sliders that steer gradient descent (notebook 03)
    widgets   showing a widget in JupyterLab and in Colab (notebooks 03 and 12)
"""
from .notebook_setup import course_setup, seed_everything
from .device import default_device
from .data import MnistDataError, check_mnist_folder, data_dir, get_mnist
from .tensors import (MNIST_MEAN, MNIST_STD, image_files, load_3s_and_7s, load_digits, load_mnist,
                      split_train_valid)
from .batches import TensorLoader, take_shifted
from .models import conv_block, init_params, is_3, linear1, mnist_cnn, mnist_distance, simple_net
from .losses import batch_accuracy, cross_entropy, log_softmax, mnist_loss, sigmoid, softmax
from .loops import (BasicOptim, accuracy_of, calc_grad, predict, train_epoch,
                    train_model, train_model_one_cycle, validate_epoch)
from .learner import (CancelBatchException, CancelEpochException, CancelFitException, Callback,
                      Learner, LRFinder, OneCycle, Recorder, SGDOptim)
from .checks import guard
from .plotting import (draw_broadcast, draw_sgd_loop, pixel_table, plot_function, show_digit,
                       show_digits, show_preds, use_course_style)

__version__ = "0.2.0"
__all__ = [
    # setup, device, data on disk
    "course_setup", "seed_everything", "default_device", "MnistDataError", "check_mnist_folder",
    "data_dir", "get_mnist",
    # tensors, batches
    "MNIST_MEAN", "MNIST_STD", "image_files", "load_digits", "load_3s_and_7s", "load_mnist",
    "split_train_valid", "TensorLoader", "take_shifted",
    # models, losses
    "mnist_distance", "is_3", "init_params", "linear1", "simple_net", "conv_block", "mnist_cnn",
    "sigmoid", "mnist_loss", "batch_accuracy", "log_softmax", "softmax", "cross_entropy",
    # loops, learner
    "calc_grad", "train_epoch", "validate_epoch", "BasicOptim", "train_model",
    "train_model_one_cycle", "predict", "accuracy_of",
    "Callback", "CancelBatchException", "CancelEpochException", "CancelFitException", "Learner",
    "Recorder", "SGDOptim", "OneCycle", "LRFinder",
    # checks, plotting
    "guard",
    "use_course_style", "show_digit", "show_digits", "pixel_table", "plot_function",
    "draw_broadcast", "show_preds", "draw_sgd_loop",
]

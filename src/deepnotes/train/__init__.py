"""deepnotes.train: the training loop, callbacks, history and safe checkpoints."""
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .checkpoint import CheckpointError, load, restore, resume_state, save
from .fit import accuracy, evaluate, fit
from .history import History

# Training diagnostics: per-layer gradient monitoring and findings (inventory O7, I2, I6).
from .diagnose import Finding, diagnose  # noqa: E402,F401
from .monitor import GradientMonitor  # noqa: E402,F401

# Learning curves: score against training-set size on nested log-spaced subsets (inventory T4).
from .curves import LearningCurve, learning_curve, log_sizes, nested_order  # noqa: E402,F401

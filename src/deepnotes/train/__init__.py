"""deepnotes.train: the training loop, callbacks, history and safe checkpoints."""
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .checkpoint import CheckpointError, load, restore, resume_state, save
from .fit import accuracy, evaluate, fit
from .history import History

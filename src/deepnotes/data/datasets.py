"""Built-in datasets that need no network: digits, breast cancer, MNIST-1D.

Each loader returns a `Split` of NumPy arrays (float32 inputs, int64 labels)
with a fixed train/test split, so every experiment in the project reads the
same data:

- `load_digits`: scikit-learn's bundled 8x8 handwritten digits (1,797 images,
  10 classes), pixel values scaled from 0..16 to [0, 1].
- `load_breast_cancer`: the Wisconsin diagnostic data bundled with
  scikit-learn (569 samples, 30 features, 2 classes), standardized with the
  training set's statistics only (the test set must not leak into them).
- `load_mnist1d`: MNIST-1D (Greydanus, 2020), 10 classes of 1-D signals of
  length 40, generated locally by the `mnist1d` package and cached.

The MNIST-1D cache lives in `$DEEPNOTES_CACHE`, else `$XDG_CACHE_HOME/deepnotes`,
else `~/.cache/deepnotes`.  It is written atomically (a temporary file renamed
into place) and checked on every load; a damaged file is regenerated.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import write_npz_atomically
from .dataset import TensorDataset


@dataclass(frozen=True, repr=False)
class Split:
    """A dataset's train and test arrays.

    Attributes:
        x_train: (N_train, ...) float32 inputs.
        y_train: (N_train,) int64 labels in [0, num_classes).
        x_test: (N_test, ...) float32 inputs.
        y_test: (N_test,) int64 labels.
        num_classes: the number of classes.
        name: the dataset's name in `get_dataset`.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    name: str

    def train_dataset(self) -> TensorDataset:
        return TensorDataset(self.x_train, self.y_train)

    def test_dataset(self) -> TensorDataset:
        return TensorDataset(self.x_test, self.y_test)

    def __repr__(self):
        return (f"Split(name={self.name!r}, x_train={self.x_train.shape}, x_test={self.x_test.shape}, "
                f"num_classes={self.num_classes})")


def _stratified_split(x, y, test_size, seed):
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def load_digits(test_size=0.2, seed=0, flatten=True) -> Split:
    """scikit-learn's 8x8 digits, scaled to [0, 1], split stratified by class.

    Args:
        test_size: fraction (or count) of samples in the test set.
        seed: seed of the split.
        flatten: inputs of shape (N, 64); with `False`, images (N, 1, 8, 8) (NCHW).
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    if not flatten:
        x = x.reshape(-1, 1, 8, 8)
    x_train, y_train, x_test, y_test = _stratified_split(x, bunch.target, test_size, seed)
    return Split(x_train, y_train, x_test, y_test, num_classes=10, name="digits")


def load_breast_cancer(test_size=0.2, seed=0, standardize=True) -> Split:
    """Breast cancer Wisconsin (diagnostic), split stratified by class.

    With `standardize`, every feature becomes `(x - mean) / std` with the mean
    and standard deviation of the training set alone.  Labels: 0 malignant,
    1 benign (scikit-learn's coding).
    """
    from sklearn.datasets import load_breast_cancer as sk_load_breast_cancer

    bunch = sk_load_breast_cancer()
    x_train, y_train, x_test, y_test = _stratified_split(bunch.data, bunch.target, test_size, seed)
    if standardize:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std[std == 0] = 1.0
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return Split(x_train.astype(np.float32), y_train, x_test.astype(np.float32), y_test, num_classes=2,
                 name="breast_cancer")


# ------------------------------------------------------------------ MNIST-1D

_MNIST1D_SHAPES = {"x_train": (4000, 40), "y_train": (4000,), "x_test": (1000, 40), "y_test": (1000,)}
_MNIST1D_DTYPES = {"x_train": np.float32, "y_train": np.int64, "x_test": np.float32, "y_test": np.int64}


def cache_dir() -> Path:
    """Where generated datasets are cached (created on demand)."""
    if os.environ.get("DEEPNOTES_CACHE"):
        return Path(os.environ["DEEPNOTES_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "deepnotes"


def _generate_mnist1d(seed):
    """The MNIST-1D arrays for generator seed `seed` (the package's own split: 4000 / 1000)."""
    import random as _pyrandom  # deferred: only MNIST-1D's generation touches Python's generator

    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    # mnist1d seeds NumPy's and Python's global generators; leave them as we found them
    np_state, py_state = np.random.get_state(), _pyrandom.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        _pyrandom.setstate(py_state)
    return {"x_train": data["x"].astype(np.float32), "y_train": data["y"].astype(np.int64),
            "x_test": data["x_test"].astype(np.float32), "y_test": data["y_test"].astype(np.int64)}


def _read_mnist1d_cache(path):
    """The cached arrays, or None when the file is missing, unreadable or not what it should be."""
    import zipfile  # deferred: 18 modules (1.5 MB) that only a cache read needs, for its error type

    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _MNIST1D_SHAPES}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    for key, array in arrays.items():
        if array.shape != _MNIST1D_SHAPES[key] or array.dtype != _MNIST1D_DTYPES[key]:
            return None
        if key.startswith("y") and not ((array >= 0) & (array < 10)).all():
            return None
        if key.startswith("x") and not np.isfinite(array).all():
            return None
    return arrays


def load_mnist1d(seed=42) -> Split:
    """MNIST-1D (Greydanus, 2020): 4,000 training and 1,000 test signals of length 40.

    Generated offline with `mnist1d.data.make_dataset(get_dataset_args())`;
    `seed=42` (the package's default) is the standard dataset of the paper,
    another seed draws a new dataset from the same distribution.  The arrays
    are cached as `mnist1d_seed{seed}.npz` in `cache_dir()`.

    Returns:
        A `Split` with x: (N, 40) float32 and y: (N,) int64 in 0..9.
    """
    path = cache_dir() / f"mnist1d_seed{int(seed)}.npz"
    arrays = _read_mnist1d_cache(path) if path.exists() else None
    if arrays is None:
        arrays = _generate_mnist1d(int(seed))
        write_npz_atomically(path, arrays)
    return Split(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], num_classes=10,
                 name="mnist1d")


DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "mnist1d": load_mnist1d}


def get_dataset(name, **kwargs) -> Split:
    """Load a built-in dataset by name (`digits`, `breast_cancer`, `mnist1d`); kwargs go to its loader."""
    key = name.lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"get_dataset: unknown dataset {name!r}; available: {', '.join(sorted(DATASETS))}")
    return DATASETS[key](**kwargs)

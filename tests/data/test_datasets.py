"""Tests for the built-in datasets: shapes, dtypes, ranges, stratification, leakage, the MNIST-1D cache."""
import os

import numpy as np
import pytest
import sklearn.datasets

from deepnotes.data import datasets, get_dataset, load_breast_cancer, load_digits, load_mnist1d


def _check_split(split, n_features_shape, num_classes):
    assert split.x_train.dtype == split.x_test.dtype == np.float32
    assert split.y_train.dtype == split.y_test.dtype == np.int64
    assert split.x_train.shape[1:] == split.x_test.shape[1:] == n_features_shape
    assert len(split.x_train) == len(split.y_train) and len(split.x_test) == len(split.y_test)
    assert split.num_classes == num_classes
    assert set(np.unique(split.y_train)) == set(np.unique(split.y_test)) == set(range(num_classes))


def _class_fractions(y, k):
    return np.bincount(y, minlength=k) / len(y)


def test_digits_shapes_range_and_stratification():
    split = load_digits()
    _check_split(split, (64,), 10)
    assert (len(split.x_train), len(split.x_test)) == (1437, 360)
    assert split.x_train.min() == 0.0 and split.x_train.max() == 1.0 and split.x_test.max() <= 1.0
    # stratified: every class has (almost) the same share in train and test
    np.testing.assert_allclose(_class_fractions(split.y_train, 10), _class_fractions(split.y_test, 10), atol=0.01)
    assert split.name == "digits" and "digits" in repr(split)


def test_digits_train_and_test_partition_the_data_without_overlap():
    split = load_digits()
    train_rows = {row.tobytes() for row in split.x_train}
    test_rows = {row.tobytes() for row in split.x_test}
    assert not train_rows & test_rows
    full = (sklearn.datasets.load_digits().data / 16.0).astype(np.float32)
    assert train_rows | test_rows == {row.tobytes() for row in full}  # the 1,797 images are distinct
    labels = dict(zip((r.tobytes() for r in full), sklearn.datasets.load_digits().target))
    assert all(labels[r.tobytes()] == y for r, y in zip(split.x_test, split.y_test))


def test_digits_images_seed_and_test_size():
    flat, images = load_digits(), load_digits(flatten=False)
    assert images.x_train.shape == (1437, 1, 8, 8)
    np.testing.assert_array_equal(images.x_train.reshape(-1, 64), flat.x_train)
    other = load_digits(seed=1)
    assert not np.array_equal(other.y_test, flat.y_test)
    np.testing.assert_array_equal(load_digits(seed=1).x_test, other.x_test)
    assert len(load_digits(test_size=0.5).x_test) == 899


def test_breast_cancer_is_standardized_with_training_statistics_only():
    split = load_breast_cancer()
    _check_split(split, (30,), 2)
    np.testing.assert_allclose(split.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(split.x_train.std(axis=0), 1.0, atol=1e-4)
    raw = load_breast_cancer(standardize=False)
    np.testing.assert_array_equal(raw.y_test, split.y_test)
    mean, std = raw.x_train.astype(np.float64).mean(0), raw.x_train.astype(np.float64).std(0)
    np.testing.assert_allclose(split.x_test, (raw.x_test - mean) / std, rtol=1e-4, atol=1e-4)
    assert np.abs(split.x_test.mean(axis=0)).max() > 1e-3  # the test set was not standardized on itself
    np.testing.assert_allclose(_class_fractions(split.y_train, 2), _class_fractions(split.y_test, 2), atol=0.01)


def test_get_dataset_by_name():
    assert get_dataset("digits").name == "digits"
    assert get_dataset("breast-cancer", test_size=0.25).x_test.shape == (143, 30)
    with pytest.raises(ValueError, match="available: breast_cancer, digits, mnist1d"):
        get_dataset("cifar10")


def test_split_datasets_feed_a_loader():
    split = load_digits()
    ds = split.train_dataset()
    x, y = ds[0]
    assert x.shape == (64,) and y.item() == split.y_train[0] and len(split.test_dataset()) == 360


# ------------------------------------------------------------------ MNIST-1D


@pytest.fixture(scope="module")
def mnist1d_cache(tmp_path_factory):
    """Generate MNIST-1D once (about 3 s) into a private cache directory."""
    cache = tmp_path_factory.mktemp("dncache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEPNOTES_CACHE", str(cache))
        np_state = np.random.get_state()[1].copy()
        split = load_mnist1d()
        untouched = np.array_equal(np.random.get_state()[1], np_state)
    return cache, split, untouched


@pytest.fixture
def cache_env(mnist1d_cache, monkeypatch):
    cache, split, _ = mnist1d_cache
    monkeypatch.setenv("DEEPNOTES_CACHE", str(cache))
    return cache, split


def test_mnist1d_shapes_and_cache_file(cache_env):
    cache, split = cache_env
    _check_split(split, (40,), 10)
    assert (len(split.x_train), len(split.x_test)) == (4000, 1000)
    assert np.isfinite(split.x_train).all()
    assert 300 < np.bincount(split.y_train).min()  # ten roughly balanced classes
    path = cache / "mnist1d_seed42.npz"
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["x_test", "x_train", "y_test", "y_train"]
    assert [p.name for p in cache.iterdir()] == ["mnist1d_seed42.npz"]  # no temporary file left


def test_mnist1d_generation_leaves_numpy_global_state_alone(mnist1d_cache):
    assert mnist1d_cache[2]


def test_mnist1d_is_read_from_the_cache(cache_env, monkeypatch):
    _, split = cache_env

    def no_generation(seed):
        raise AssertionError("should have been read from the cache")

    monkeypatch.setattr(datasets, "_generate_mnist1d", no_generation)
    again = load_mnist1d()
    np.testing.assert_array_equal(again.x_train, split.x_train)
    np.testing.assert_array_equal(again.y_test, split.y_test)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_shape"])
def test_mnist1d_damaged_cache_is_regenerated(cache_env, monkeypatch, tmp_path, damage):
    _, split = cache_env
    monkeypatch.setenv("DEEPNOTES_CACHE", str(tmp_path))
    path = tmp_path / "mnist1d_seed42.npz"
    arrays = {"x_train": split.x_train, "y_train": split.y_train, "x_test": split.x_test, "y_test": split.y_test}
    if damage == "wrong_shape":
        np.savez(path, **{**arrays, "x_train": split.x_train[:10]})
    else:
        np.savez(path, **arrays)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage == "truncate" else os.urandom(1000))
    calls = []
    monkeypatch.setattr(datasets, "_generate_mnist1d", lambda seed: calls.append(seed) or dict(arrays))
    regenerated = load_mnist1d()
    assert calls == [42]
    np.testing.assert_array_equal(regenerated.x_train, split.x_train)
    assert datasets._read_mnist1d_cache(path) is not None  # the rewritten file is valid

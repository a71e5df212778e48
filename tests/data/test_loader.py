"""Tests for deepnotes.data.loader: batching (O1), shuffling, samplers, collation, checkpointable state."""
from collections import namedtuple

import numpy as np
import pytest
import torch

import deepnotes as dn
from deepnotes.data import dataset as dataset_module
from deepnotes.data import loader as loader_module
from deepnotes.data import (
    DataLoader, Dataset, RandomSampler, SequentialSampler, Subset, TensorDataset, WeightedRandomSampler,
    default_collate,
)


def _dataset(n, d=3):
    x = np.arange(n * d, dtype=np.float32).reshape(n, d)
    return TensorDataset(x, np.arange(n))


class ListDataset(Dataset):
    """A dataset without get_batch: the loader must go item by item and collate."""

    def __init__(self, samples):
        self.samples = samples

    def __getitem__(self, i):
        return self.samples[i]

    def __len__(self):
        return len(self.samples)


def _labels(loader):
    return [y.data.tolist() for _, y in loader]


@pytest.mark.covers("O1")
@pytest.mark.parametrize("n", [1, 7, 10, 64])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 64, 100])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sizes_and_length_match_torch(n, batch_size, drop_last):
    ours = DataLoader(_dataset(n), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(torch.arange(n), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [len(y) for _, y in ours] == [len(b) for b in theirs]
    assert sum(_labels(ours), []) == sum((b.tolist() for b in theirs), [])  # same order, same items


@pytest.mark.covers("O1")
def test_full_batch_and_stochastic_extremes():
    n = 12
    assert len(DataLoader(_dataset(n), batch_size=n)) == 1  # full-batch gradient descent: one step per epoch
    assert len(DataLoader(_dataset(n), batch_size=1)) == n  # stochastic gradient descent: one sample per step
    (x, y), = list(DataLoader(_dataset(n), batch_size=n))
    assert x.shape == (n, 3) and y.shape == (n,)


@pytest.mark.covers("O1")
@pytest.mark.parametrize("batch_size, drop_last", [(4, False), (4, True), (5, False)])
def test_shuffle_covers_every_item_once_per_epoch_in_a_new_order(batch_size, drop_last):
    n = 23
    loader = DataLoader(_dataset(n), batch_size=batch_size, shuffle=True, drop_last=drop_last)
    epochs = [sum(_labels(loader), []) for _ in range(3)]
    for order in epochs:
        expected = (n // batch_size) * batch_size if drop_last else n
        assert len(order) == len(set(order)) == expected
        if not drop_last:
            assert sorted(order) == list(range(n))
    assert epochs[0] != epochs[1] != epochs[2]
    assert epochs[0] != list(range(expected))


def test_shuffle_is_reproducible_with_the_global_seed():
    def orders(seed):
        dn.manual_seed(seed)
        loader = DataLoader(_dataset(30), batch_size=7, shuffle=True)
        return [sum(_labels(loader), []) for _ in range(2)]

    assert orders(5) == orders(5)
    assert orders(5) != orders(6)


def test_loader_owns_its_generator_so_other_draws_do_not_change_its_order():
    dn.manual_seed(1)
    loader = DataLoader(_dataset(30), batch_size=30, shuffle=True)
    first = _labels(loader)
    dn.manual_seed(1)
    loader = DataLoader(_dataset(30), batch_size=30, shuffle=True)
    dn.randn(100)  # e.g. weight init or dropout between building the loader and iterating
    assert _labels(loader) == first


def test_explicit_generator_and_int_seed():
    a = DataLoader(_dataset(20), batch_size=20, shuffle=True, generator=np.random.default_rng(9))
    b = DataLoader(_dataset(20), batch_size=20, shuffle=True, generator=9)
    assert _labels(a) == _labels(b)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(_dataset(20), shuffle=True, generator="nine")


def test_state_dict_resumes_the_shuffling():
    loader = DataLoader(_dataset(25), batch_size=4, shuffle=True)
    _labels(loader)
    saved = loader.state_dict()
    expected = [_labels(loader) for _ in range(2)]
    fresh = DataLoader(_dataset(25), batch_size=4, shuffle=True)
    fresh.load_state_dict(saved)
    assert [_labels(fresh) for _ in range(2)] == expected
    assert DataLoader(_dataset(3)).state_dict() == {"generator": None}


def test_tensor_dataset_is_indexed_once_per_batch(monkeypatch):
    def per_item(self, index):
        raise AssertionError("the fast path must not index item by item")

    monkeypatch.setattr(TensorDataset, "__getitem__", per_item)
    loader = DataLoader(Subset(_dataset(20), np.arange(19, -1, -1)), batch_size=6, shuffle=True)
    assert sorted(sum(_labels(loader), [])) == list(range(20))


@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_equals_item_by_item_collation(shuffle):
    base = _dataset(17)
    as_list = ListDataset([base[i] for i in range(17)])
    fast = DataLoader(base, batch_size=5, shuffle=shuffle, generator=3)
    slow = DataLoader(as_list, batch_size=5, shuffle=shuffle, generator=3)
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        assert xf.dtype == xs.dtype == np.float32 and yf.dtype == ys.dtype == np.int64
        np.testing.assert_array_equal(xf.data, xs.data)
        np.testing.assert_array_equal(yf.data, ys.data)


def test_integer_labels_become_int64_and_floats_keep_their_dtype():
    ds = TensorDataset(np.ones((4, 2), np.float64), np.zeros(4, np.int32), np.ones(4, np.uint8), np.ones(4, bool))
    x, y, u, b = next(iter(DataLoader(ds, batch_size=4)))
    assert (x.dtype, y.dtype, u.dtype, b.dtype) == (np.float64, np.int64, np.int64, np.bool_)


def test_default_collate_types():
    Pair = namedtuple("Pair", "image label")
    samples = [
        {"x": np.full(2, i, np.float32), "y": i, "w": float(i), "name": f"s{i}", "ok": i > 0, "p": Pair(dn.ones(3), i)}
        for i in range(3)
    ]
    batch = default_collate(samples)
    assert batch["x"].shape == (3, 2) and batch["x"].dtype == np.float32
    assert batch["y"].dtype == np.int64 and batch["y"].tolist() == [0, 1, 2]
    assert batch["w"].dtype == np.float32  # Python floats: the deepnotes default float
    assert batch["name"] == ["s0", "s1", "s2"]
    assert batch["ok"].dtype == np.bool_ and batch["ok"].tolist() == [False, True, True]
    assert isinstance(batch["p"], Pair) and batch["p"].image.shape == (3, 3) and batch["p"].label.dtype == np.int64
    x, y = default_collate([(np.zeros(2, np.float32), np.int64(1)), (np.ones(2, np.float32), np.int64(0))])
    assert x.shape == (2, 2) and y.tolist() == [1, 0]
    assert isinstance(default_collate([[1, 2], [3, 4]]), list)


@pytest.mark.parametrize("batch, error, message", [
    ([np.zeros(2), np.zeros(3)], ValueError, "equal shapes"),
    ([], ValueError, "empty"),
    ([object(), object()], TypeError, "object"),
    ([(1, 2), (3,)], ValueError, "number of fields"),
])
def test_default_collate_errors(batch, error, message):
    with pytest.raises(error, match=message):
        default_collate(batch)


def test_custom_collate_fn_and_unbatched_loading():
    loader = DataLoader(_dataset(5), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]
    single = list(DataLoader(_dataset(3), batch_size=None))
    assert len(single) == 3 and single[1][0].shape == (3,)


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_dataset(3), batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(_dataset(3), shuffle=True, sampler=SequentialSampler(_dataset(3)))


@pytest.mark.parametrize("module", [dataset_module, loader_module])
def test_docstring_examples_run(module):
    import doctest

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_random_sampler_replacement_and_num_samples():
    ds = _dataset(5)
    rng = np.random.default_rng(0)
    many = RandomSampler(ds, num_samples=12, generator=rng).indices()
    assert len(many) == 12 and sorted(many[:5]) == sorted(many[5:10]) == list(range(5))
    drawn = RandomSampler(ds, replacement=True, num_samples=1000, generator=rng).indices()
    assert drawn.min() >= 0 and drawn.max() < 5 and len(np.unique(drawn)) == 5
    assert len(list(RandomSampler(ds))) == 5
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(ds, num_samples=0)


def test_weighted_random_sampler_draws_in_proportion_to_weights():
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=20000, generator=np.random.default_rng(0))
    counts = np.bincount(sampler.indices(), minlength=3)
    assert counts[0] == 0
    assert abs(counts[2] / counts[1] - 3.0) < 0.15  # binomial noise at n=20000 is ~0.05
    loader = DataLoader(_dataset(3), batch_size=4, sampler=sampler)
    assert len(loader) == 5000
    no_repeat = WeightedRandomSampler([1, 1, 5, 1], num_samples=4, replacement=False).indices()
    assert sorted(no_repeat) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1, 0], num_samples=2, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1, -1], num_samples=2)

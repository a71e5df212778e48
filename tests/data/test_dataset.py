"""Tests for deepnotes.data.dataset: TensorDataset, Subset, random_split (lengths checked against PyTorch)."""
import numpy as np
import pytest
import torch

import deepnotes as dn
from deepnotes.data import Dataset, Subset, TensorDataset, random_split


def test_dataset_base_requires_getitem_and_len():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


def test_tensor_dataset_items_keep_dtypes_and_accept_tensors():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = dn.tensor([3, 1, 2, 0])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[2]
    assert isinstance(xi, dn.Tensor) and isinstance(yi, dn.Tensor)
    np.testing.assert_array_equal(xi.data, x[2])
    assert xi.dtype == np.float32 and yi.dtype == np.int64 and yi.item() == 2
    assert ds.tensors[0].shape == (4, 3)


def test_tensor_dataset_rejects_unequal_first_dimensions_naming_the_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\), \(5,\)"):
        TensorDataset(np.zeros((4, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(np.float32(1.0))


def test_subset_indexes_through_its_indices():
    ds = TensorDataset(np.arange(10))
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3
    assert [sub[i][0].item() for i in range(3)] == [7, 2, 5]
    assert [s[0].item() for s in sub[[0, 2]]] == [7, 5]


@pytest.mark.filterwarnings("ignore:Length of split")  # torch warns about an empty subset
@pytest.mark.parametrize("n, lengths", [
    (10, [0.5, 0.5]), (11, [0.5, 0.5]), (10, [0.3, 0.3, 0.4]), (7, [0.1, 0.2, 0.7]),
    (1797, [0.8, 0.1, 0.1]), (5, [1.0]), (3, [0.25, 0.25, 0.25, 0.25]),
])
def test_random_split_fraction_lengths_match_torch(n, lengths):
    ours = [len(s) for s in random_split(TensorDataset(np.arange(n)), lengths)]
    theirs = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
    assert ours == theirs


def test_random_split_is_a_reproducible_partition():
    ds = TensorDataset(np.arange(50))
    dn.manual_seed(3)
    parts = random_split(ds, [20, 25, 5])
    assert [len(p) for p in parts] == [20, 25, 5]
    everything = np.concatenate([p.indices for p in parts])
    np.testing.assert_array_equal(np.sort(everything), np.arange(50))  # disjoint and complete
    dn.manual_seed(3)
    again = random_split(ds, [20, 25, 5])
    for a, b in zip(parts, again):
        np.testing.assert_array_equal(a.indices, b.indices)
    other = random_split(ds, [20, 25, 5])  # the global generator moved on
    assert not np.array_equal(other[0].indices, parts[0].indices)


def test_random_split_with_its_own_generator_leaves_the_global_one_alone():
    ds = TensorDataset(np.arange(30))
    before = dn.get_rng_state()
    a = random_split(ds, [10, 20], generator=np.random.default_rng(1))
    b = random_split(ds, [10, 20], generator=np.random.default_rng(1))
    assert dn.get_rng_state() == before
    np.testing.assert_array_equal(a[0].indices, b[0].indices)


@pytest.mark.parametrize("lengths, message", [
    ([3, 3], "sum to 6"), ([0.5, 0.6], "fractions"), ([-1, 11], "non-negative"),
])
def test_random_split_rejects_bad_lengths(lengths, message):
    with pytest.raises(ValueError, match=message):
        random_split(TensorDataset(np.arange(10)), lengths)

"""torch.utils.data's names under deepnotes.utils.data: the same batches as PyTorch where the order
is deterministic, worker processes giving the same batches as the main process, and the samplers'
and splits' properties where PyTorch's random streams differ from ours."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import deepnotes as dn
import deepnotes.utils.data as dud
from tests.oracle import assert_close


class Squares(dud.Dataset):
    """A map-style dataset returning (x, x^2, {"i": i}) for a few of PyTorch's collate cases."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i + 0.5]), float(i) ** 2, {"i": i}


class TorchSquares(tud.Dataset):
    def __init__(self, n):
        self.inner = Squares(n)

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, i):
        return self.inner[i]


def _flatten(batch):
    x, y, d = batch
    return [np.asarray(x), np.asarray(y), np.asarray(d["i"])]


@pytest.mark.covers("O1")
@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (4, True), (1, False)])
def test_sequential_batches_equal_torch(batch_size, drop_last):
    ours = list(dud.DataLoader(Squares(10), batch_size=batch_size, drop_last=drop_last))
    theirs = list(tud.DataLoader(TorchSquares(10), batch_size=batch_size, drop_last=drop_last))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        ours_x, ours_y, ours_i = _flatten(a)
        theirs_x, theirs_y, theirs_i = _flatten(b)
        assert_close(ours_x, theirs_x, "collated arrays")
        assert_close(ours_i, theirs_i, "collated ints")
        # documented difference (docs/pytorch.md): Python floats collate to float32 here, float64 in PyTorch
        assert ours_y.dtype == np.float32 and theirs_y.dtype == np.float64
        np.testing.assert_allclose(ours_y, theirs_y)


@pytest.mark.parametrize("num_workers", [1, 2])
def test_workers_give_the_same_batches_as_the_main_process(num_workers):
    seen = []
    gen = lambda: dn.Generator().manual_seed(3)  # noqa: E731
    plain = list(dud.DataLoader(Squares(23), batch_size=4, shuffle=True, generator=gen()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pin_memory and persistent_workers are accepted silently
        loader = dud.DataLoader(Squares(23), batch_size=4, shuffle=True, generator=gen(), num_workers=num_workers,
                                pin_memory=True, persistent_workers=True, worker_init_fn=seen.append)
        workers = list(loader)
    assert len(plain) == len(workers) == 6
    for a, b in zip(plain, workers):
        for u, v in zip(_flatten(a), _flatten(b)):
            np.testing.assert_array_equal(u, v)


def test_worker_info_and_init_fn_run_in_the_workers():
    class WhoAmI(dud.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            info = dud.get_worker_info()
            return np.array([i, -1 if info is None else info.id, -1 if info is None else info.num_workers])

    rows = np.concatenate([b.numpy() for b in dud.DataLoader(WhoAmI(), batch_size=2, num_workers=2)])
    assert rows[:, 0].tolist() == list(range(8)) and set(rows[:, 1]) <= {0, 1} and set(rows[:, 2]) == {2}
    assert dud.get_worker_info() is None


def test_random_split_with_fractions_and_a_generator():
    for lib, data in ((dn, dud), (torch, tud)):
        ds = data.TensorDataset(lib.arange(10))
        g = lib.Generator().manual_seed(42)
        parts = data.random_split(ds, [0.5, 0.3, 0.2], generator=g)
        assert [len(p) for p in parts] == [5, 3, 2]
        assert sorted(int(p[i][0]) for p in parts for i in range(len(p))) == list(range(10))
    a = dud.random_split(dud.TensorDataset(dn.arange(10)), [0.7, 0.3], generator=dn.Generator().manual_seed(1))
    b = dud.random_split(dud.TensorDataset(dn.arange(10)), [0.7, 0.3], generator=dn.Generator().manual_seed(1))
    assert a[0].indices.tolist() == b[0].indices.tolist()


def test_concat_subset_and_batch_sampler_match_torch():
    ours = dud.ConcatDataset([dud.TensorDataset(dn.arange(3)), dud.TensorDataset(dn.arange(10, 15))])
    theirs = tud.ConcatDataset([tud.TensorDataset(torch.arange(3)), tud.TensorDataset(torch.arange(10, 15))])
    assert len(ours) == len(theirs) == 8
    assert [int(ours[i][0]) for i in range(-8, 8)] == [int(theirs[i][0]) for i in range(-8, 8)]
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    assert int((dud.TensorDataset(dn.arange(2)) + dud.TensorDataset(dn.arange(5)))[3][0]) == 1
    assert [int(x[0]) for x in dud.Subset(ours, [7, 0, 4])] == [14, 0, 11]
    for drop_last in (False, True):
        a = list(dud.BatchSampler(dud.SequentialSampler(range(10)), 3, drop_last))
        b = list(tud.BatchSampler(tud.SequentialSampler(range(10)), 3, drop_last))
        assert a == b
    loader = dud.DataLoader(dud.TensorDataset(dn.arange(10)), batch_sampler=[[0, 1], [5, 6, 7]])
    assert [b[0].tolist() for b in loader] == [[0, 1], [5, 6, 7]] and len(loader) == 2
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        dud.DataLoader(dud.TensorDataset(dn.arange(10)), batch_size=2, batch_sampler=[[0]])


def test_subset_random_sampler_is_a_permutation_of_its_indices():
    sampler = dud.SubsetRandomSampler([3, 5, 8, 13], generator=dn.Generator().manual_seed(0))
    epochs = [list(sampler) for _ in range(5)]
    assert all(sorted(e) == [3, 5, 8, 13] for e in epochs) and len({tuple(e) for e in epochs}) > 1


def test_default_collate_matches_torch_on_nested_samples():
    samples = [{"x": np.ones(2) * i, "y": i, "z": (float(i), np.int32(i))} for i in range(3)]
    ours, theirs = dud.default_collate(samples), tud.default_collate(samples)
    assert_close(ours["x"], theirs["x"], "x")
    assert_close(ours["y"], theirs["y"], "y")
    np.testing.assert_array_equal(ours["z"][1].numpy(), theirs["z"][1].numpy())  # int32 -> int64 here (documented)
    assert np.allclose(ours["z"][0].numpy(), theirs["z"][0].numpy())

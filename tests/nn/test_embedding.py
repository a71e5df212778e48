"""nn.Embedding and F.embedding vs PyTorch (inventory S6)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes.ops.embedding import scatter_add_rows
from tests.oracle import check_fn, check_module
from tests.doctests import assert_examples_run

INDEX_SETS = [
    np.array([3, 1, 3, 3, 0]),                    # repeated ids: gradients add up
    np.array([[0, 2, 2], [9, 0, 1]]),             # 2-D batch with the padding id
    np.array([[[4]], [[4]]]),                     # 3-D, one id twice
    np.array(7),                                  # a single id
]


@pytest.mark.covers("S6")
@pytest.mark.parametrize("indices", INDEX_SETS, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_embedding_matches_torch(indices, padding_idx, scale_grad_by_freq):
    kw = {"padding_idx": padding_idx, "scale_grad_by_freq": scale_grad_by_freq}
    check_module(nn.Embedding(10, 4, **kw), torch.nn.Embedding(10, 4, **kw), [indices])


@pytest.mark.covers("S6")
def test_repeated_ids_accumulate_and_padding_row_gets_nothing():
    emb = nn.Embedding(5, 3, padding_idx=2)
    ids = dn.tensor([1, 1, 1, 2, 4])
    emb(ids).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [0, 3, 0, 0, 1])
    assert np.all(emb.weight.numpy()[2] == 0)


@pytest.mark.covers("S6")
@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (0.5, 1.0)])
def test_max_norm_renormalizes_looked_up_rows_as_torch(max_norm, norm_type):
    ours = nn.Embedding(6, 4, max_norm=max_norm, norm_type=norm_type).double()
    theirs = torch.nn.Embedding(6, 4, max_norm=max_norm, norm_type=norm_type).double()
    ours.weight.data *= 3
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
    ids = np.array([[0, 5], [5, 2]])
    out, tout = ours(dn.tensor(ids)), theirs(torch.tensor(ids))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)  # modified in place
    assert np.all(np.linalg.norm(out.numpy(), ord=norm_type, axis=-1) <= max_norm + 1e-9)
    assert np.linalg.norm(ours.weight.numpy()[1], ord=norm_type) > max_norm  # rows not looked up stay as they were


@pytest.mark.covers("S6")
@pytest.mark.parametrize("padding_idx", [None, 3])
def test_functional_embedding_matches_torch(padding_idx):
    weight = np.random.default_rng(0).standard_normal((6, 5))
    ids = np.array([[1, 3, 3], [5, 0, 1]])
    check_fn(lambda i, w: F.embedding(i, w, padding_idx=padding_idx),
             lambda i, w: TF.embedding(i, w, padding_idx=padding_idx), [ids, weight])


@pytest.mark.covers("S6")
def test_init_is_standard_normal_with_zero_padding_row():
    emb = nn.Embedding(4000, 16, padding_idx=7)
    w = np.delete(emb.weight.numpy(), 7, axis=0)
    assert emb.weight.dtype == np.float32
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    assert np.all(emb.weight.numpy()[7] == 0)
    assert emb(dn.tensor([1, 2])).dtype == np.float32


@pytest.mark.covers("S6")
def test_out_of_range_index_names_layer_size_and_index():
    emb = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"Embedding\(10, 3\): index 12 is out of range .* 10 entries"):
        emb(dn.tensor([1, 12, 4]))
    with pytest.raises(IndexError, match="index -1"):
        emb(dn.tensor([-1, 2]))
    with pytest.raises(TypeError, match="integer indices"):
        emb(dn.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="padding_idx 10"):
        nn.Embedding(10, 3, padding_idx=10)


@pytest.mark.covers("S6")
def test_from_pretrained_freezes_and_state_dict_matches_torch():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(dn.tensor([2])).numpy(), table[[2]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    assert list(nn.Embedding(4, 3).state_dict()) == list(torch.nn.Embedding(4, 3).state_dict())
    assert repr(nn.Embedding(4, 3, padding_idx=1)) == repr(torch.nn.Embedding(4, 3, padding_idx=1))


@pytest.mark.covers("S6")
def test_scatter_add_rows_equals_add_at():
    rng = np.random.default_rng(0)
    rows, values = rng.integers(0, 7, (30, 2)), rng.standard_normal((30, 2, 5)).astype(np.float32)
    expected = np.zeros((7, 5), np.float32)
    np.add.at(expected, rows.reshape(-1), values.reshape(-1, 5))
    np.testing.assert_allclose(scatter_add_rows(np.zeros((7, 5), np.float32), rows, values), expected, rtol=1e-6)


BAGS = {
    "2d": (np.array([[1, 2, 4], [4, 3, 0], [0, 0, 5]]), None),
    "offsets": (np.array([1, 2, 4, 5, 4, 3, 2, 0]), np.array([0, 2, 2, 5])),   # bag 1 is empty
}


@pytest.mark.covers("S6")
@pytest.mark.parametrize("layout", list(BAGS))
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_bag_matches_torch(layout, mode, padding_idx):
    ids, offsets = BAGS[layout]
    kw = {"mode": mode, "padding_idx": padding_idx}
    inputs = [ids] if offsets is None else [ids, offsets]
    check_module(nn.EmbeddingBag(6, 3, **kw), torch.nn.EmbeddingBag(6, 3, **kw), inputs)


@pytest.mark.covers("S6")
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_per_sample_weights_and_last_offset_match_torch(include_last_offset):
    ids, offsets = BAGS["offsets"]
    if include_last_offset:
        offsets = np.append(offsets, ids.size)
    weights = np.random.default_rng(0).uniform(0.5, 2, ids.size)
    kw = {"mode": "sum", "include_last_offset": include_last_offset}
    check_module(nn.EmbeddingBag(6, 3, **kw), torch.nn.EmbeddingBag(6, 3, **kw), [ids, offsets, weights])


@pytest.mark.covers("S6")
def test_embedding_bag_errors():
    bag = nn.EmbeddingBag(6, 3, mode="max")
    with pytest.raises(ValueError, match="per_sample_weights is only supported for mode='sum'"):
        bag(dn.tensor([[1, 2]]), per_sample_weights=dn.tensor([[1.0, 1.0]]))
    with pytest.raises(ValueError, match="needs offsets"):
        bag(dn.tensor([1, 2]))
    with pytest.raises(IndexError, match=r"EmbeddingBag\(6, 3\): index 6"):
        bag(dn.tensor([[1, 6]]))

@pytest.mark.covers("S6")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.nn.layers.embedding")

"""The mean cross-entropy fast path decides by itself when a call is the plain case; everything
else goes to the general path, which must still give PyTorch's answer and errors."""
import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn.functional as F
from deepnotes.errors import IndexRangeError, NonFiniteError
from deepnotes.fast.cross_entropy import MeanCrossEntropy
from tests.oracle import check_fn

pytestmark = pytest.mark.covers("L2")

Z = np.random.default_rng(0).uniform(-3, 3, size=(6, 4))


@pytest.mark.parametrize("labels, ignore_index, fast", [
    (np.array([0, 3, 1, 1, 2, 0]), -100, True),
    (np.array([0, 3, 1, 1, 2, 0], dtype=np.int32), -100, True),
    (np.array([0, 3, 1, 1, 2, 0], dtype=np.uint8), 7, True),
    (np.array([0, 3, 1, 1, 2, 0]), 1, False),   # an ignore_index that is a class: the general path
    (np.array([0, 3, -100, 1, 2, -100]), -100, False),  # ignored targets
])
def test_plain_and_fallback_cases_match_torch(labels, ignore_index, fast):
    out = check_fn(lambda z, y: F.cross_entropy(z, y, ignore_index=ignore_index),
                   lambda z, y: torch.nn.functional.cross_entropy(z, y.long(), ignore_index=ignore_index),
                   [Z, labels])
    assert isinstance(out[0].grad_fn, MeanCrossEntropy) == fast


def test_an_out_of_range_label_is_reported_by_the_general_path():
    with pytest.raises(IndexRangeError, match="cross_entropy: target contains class index 4"):
        F.cross_entropy(dn.tensor(Z), dn.tensor(np.array([0, 4, 1, 1, 2, 0])))


def test_a_nan_logit_is_reported_and_an_infinite_one_gives_torch_s_loss():
    z = Z.copy()
    z[2, 1] = np.nan
    with pytest.raises(NonFiniteError, match="cross_entropy"):
        F.cross_entropy(dn.tensor(z), dn.tensor(np.zeros(6, dtype=np.int64)))
    z[2, 1] = np.inf
    ours = F.cross_entropy(dn.tensor(z), dn.tensor(np.ones(6, dtype=np.int64))).item()
    theirs = torch.nn.functional.cross_entropy(torch.tensor(z), torch.ones(6, dtype=torch.long)).item()
    assert np.isnan(ours) == np.isnan(theirs) and (np.isnan(ours) or ours == pytest.approx(theirs))

"""Bytes per storage format."""
import numpy as np
import pytest

import deepnotes.nn as nn
from deepnotes.compress import prune, size


@pytest.mark.covers("P1", "P2")
def test_sizes_per_format():
    model = nn.Sequential(nn.Linear(100, 40), nn.ReLU(), nn.Linear(40, 10))
    weights, biases = 100 * 40 + 40 * 10, 40 + 10
    assert size.model_size(model, "fp32") == 4 * (weights + biases)
    assert size.model_size(model, "fp16") == 2 * (weights + biases)
    assert size.model_size(model, "int8") == weights + 8 * (40 + 10) + 4 * biases
    assert size.model_size(model, "binary") == weights // 8 + 4 * (40 + 10) + 4 * biases
    prune.global_unstructured([(model[0], "weight"), (model[2], "weight")], amount=0.9)
    kept = round(0.1 * weights)
    assert size.model_size(model, "sparse_csr") == 8 * kept + 4 * (41 + 11) + 4 * biases
    report = size.size_report(model)
    assert report["fp32"]["ratio"] == 1.0 and report["binary"]["ratio"] > 15
    assert size.tensor_bytes(np.zeros((4, 4)), "sparse_csr") == 4 * 5
    with pytest.raises(ValueError, match="model_size: format must be one of"):
        size.model_size(model, "int3")

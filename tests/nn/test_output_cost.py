"""The output-layer cost model: parameters, memory and FLOPs (inventory P4)."""
import pytest

from deepnotes.nn.layers.output_cost import output_layer_cost


@pytest.mark.covers("P4")
def test_output_layer_cost_small_example_by_hand():
    full = output_layer_cost(1000, 10, 4)
    assert full.parameters == 1000 * 10 + 1000
    assert full.parameter_bytes == 4 * 11000
    assert full.activation_bytes == 4 * 4 * 1000
    assert full.flops_forward == 2 * 4 * 10 * 1000 and full.flops == 3 * full.flops_forward
    hier = output_layer_cost(1024, 10, 4, kind="hierarchical")
    assert hier.parameters == 1023 * 10 and hier.flops_forward == 2 * 4 * 10 * 10
    samp = output_layer_cost(1000, 10, 4, kind="sampled", num_samples=5)
    assert samp.flops_forward == 2 * 4 * 10 * 6 and samp.activation_bytes == 4 * 4 * 6
    with pytest.raises(ValueError, match="num_samples"):
        output_layer_cost(10, 2, 1, kind="sampled")


@pytest.mark.covers("P4")
def test_ten_million_classes_do_not_fit_a_full_softmax():
    full = output_layer_cost(10_000_000, 512, 256)
    hier = output_layer_cost(10_000_000, 512, 256, kind="hierarchical")
    assert full.parameter_bytes > 16 * 2 ** 30             # > 16 GiB of weights alone
    assert full.activation_bytes > 8 * 2 ** 30            # > 8 GiB of logits per batch
    assert full.flops / hier.flops > 400_000              # V / log2 V
    assert "GiB" in full.summary() and "hierarchical" in hier.summary()

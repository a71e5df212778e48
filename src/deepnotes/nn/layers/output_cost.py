"""What an output layer over a huge vocabulary costs: parameters, memory and
FLOPs of a full softmax, a hierarchical softmax and a sampled loss (inventory P4).

A full softmax over V classes costs O(V * H) per example, forward and
backward, and its weight and logits grow with V; with V = 10 million that
stops fitting.  Hierarchical softmax costs O(log V) per example (on average
the entropy of the unigram distribution, in bits, with a Huffman tree); a
sampled loss costs O(K) for K samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .output_layers import expected_code_length


@dataclass(frozen=True)
class OutputLayerCost:
    """Cost of one output layer for one batch (float32 unless told otherwise)."""

    kind: str
    parameters: int            # learnable values of the output layer
    parameter_bytes: int
    activation_bytes: int      # what the layer keeps for backward per batch
    gradient_bytes: int        # the weight gradient written per batch (dense for 'full')
    flops_forward: int         # multiply-adds counted as 2 FLOPs
    flops_backward: int

    @property
    def flops(self):
        return self.flops_forward + self.flops_backward

    def summary(self):
        return (f"{self.kind}: {self.parameters:,} parameters ({_human(self.parameter_bytes)}), "
                f"activations {_human(self.activation_bytes)}, weight gradient {_human(self.gradient_bytes)}, "
                f"{_human_flops(self.flops)} per batch")


def _human_flops(n):
    for unit, size in (("TFLOPs", 1e12), ("GFLOPs", 1e9), ("MFLOPs", 1e6), ("kFLOPs", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} FLOPs"


def _human(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.1f} {unit}"
        n /= 1024


def output_layer_cost(vocab_size, hidden_size, batch_size, kind="full", num_samples=None, counts=None,
                      bytes_per_value=4):
    """Parameters, memory and FLOPs of an output layer over `vocab_size` classes (P4).

    - 'full': logits = h W^T + b with W (V, H).  Forward 2BHV FLOPs, backward
      4BHV (dh and dW); keeps the (B, V) probabilities; dW is dense (V, H).
    - 'hierarchical': L inner-node vectors per example, L = the expected
      Huffman code length when `counts` are given, else ceil(log2 V) (a
      balanced tree).  Keeps (B, L) scores; touches at most B L rows of W.
    - 'sampled': the target plus `num_samples` (K) sampled classes per example
      (negative sampling, or sampled softmax).  Keeps (B, K + 1) scores.

    Example: V = 10 million, H = 512, B = 256: the full layer holds 5.1e9
    parameters (19 GiB in float32) and 9.5 GiB of logits per batch; the
    hierarchical one touches ~24 rows per example.
    """
    V, H, B = int(vocab_size), int(hidden_size), int(batch_size)
    if kind == "full":
        rows, params = V, V * H + V
        activations, touched = B * V, V
    elif kind == "hierarchical":
        rows = expected_code_length(counts) if counts is not None else math.ceil(math.log2(V))
        params, activations = (V - 1) * H, B * rows
        touched = min(V - 1, B * rows)
    elif kind == "sampled":
        if not num_samples:
            raise ValueError("output_layer_cost: kind='sampled' needs num_samples")
        rows, params = num_samples + 1, V * H
        activations, touched = B * rows, min(V, B * rows)
    else:
        raise ValueError(f"output_layer_cost: kind must be 'full', 'hierarchical' or 'sampled', got {kind!r}")
    forward = 2 * B * H * rows
    return OutputLayerCost(kind=kind, parameters=int(params), parameter_bytes=int(params * bytes_per_value),
                           activation_bytes=int(round(activations * bytes_per_value)),
                           gradient_bytes=int(round(touched * H * bytes_per_value)),
                           flops_forward=int(round(forward)), flops_backward=int(round(2 * forward)))

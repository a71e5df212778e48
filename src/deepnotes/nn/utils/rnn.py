"""Variable-length sequences for recurrent layers, as `torch.nn.utils.rnn` (inventory S1-S3).

A batch of sequences of different lengths is either *padded* to the longest, (T, B, *) or
(B, T, *) with `batch_first`, plus the lengths; or *packed*: a `PackedSequence` whose `data`
(sum of lengths, *) holds time step 0 of every sequence, then step 1 of those still running,
and so on, with the sequences sorted longest first (`batch_sizes[t]` = how many sequences have
a step t; `sorted_indices` gives the order, `unsorted_indices` undoes it).  The layout is
PyTorch's exactly, so `packed.data` can be fed to a Linear layer as PyTorch users do.

`nn.RNN`, `nn.LSTM` and `nn.GRU` accept a `PackedSequence`: each sequence is run for its own
length only, so its final hidden state is that of its own last step (and the reverse direction
of a bidirectional layer starts at that step), exactly as PyTorch.  deepnotes runs the
sequences of each distinct length as one sub-batch (`packed_forward`); the result is the same
as running each sequence alone.

Every function is differentiable (gathers and concatenations of the inputs).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...autograd.tensor import Tensor, as_tensor
from ...ops import api as ops


class PackedSequence(NamedTuple):
    """data (sum of lengths, *), batch_sizes (T,) int64, sorted_indices / unsorted_indices (B,) int64 or None."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        return self._replace(data=self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        return self

    @property
    def is_cuda(self) -> bool:
        return False


def _lengths_array(lengths, where):
    array = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths).astype(np.int64).reshape(-1)
    if array.size and array.min() <= 0:
        raise ValueError(f"{where}: every length must be >= 1, got {array.tolist()}")
    return array


def _packed_positions(batch_sizes):
    """(t, b) of each row of a packed `data`: time-major, the first batch_sizes[t] sequences at step t."""
    t = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    b = np.concatenate([np.arange(n) for n in batch_sizes]) if len(batch_sizes) else np.zeros(0, np.int64)
    return t, b


def _batch_sizes(sorted_lengths):
    return np.array([(sorted_lengths > t).sum() for t in range(int(sorted_lengths[0]))], dtype=np.int64)


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) given each sequence's length.

    With `enforce_sorted=True` the lengths must be in decreasing order; otherwise the batch is
    sorted here and `unsorted_indices` restores the caller's order later.
    """
    x = as_tensor(input)
    lengths = _lengths_array(lengths, "pack_padded_sequence")
    batch_dim = 0 if batch_first else 1
    if x.ndim < 2 or len(lengths) != x.shape[batch_dim]:
        raise ValueError(f"pack_padded_sequence: expected {x.shape[batch_dim] if x.ndim >= 2 else '?'} lengths for "
                         f"an input of shape {x.shape} (batch_first={batch_first}), got {len(lengths)}")
    time_steps = x.shape[1 - batch_dim]
    if lengths.max() > time_steps:
        raise ValueError(f"pack_padded_sequence: a length {lengths.max()} exceeds the {time_steps} padded steps")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "pack_padded_sequence: `lengths` must be sorted in decreasing order when enforce_sorted=True; "
                "pass enforce_sorted=False to sort them here"
            )
        sorted_indices = unsorted_indices = None
        order = np.arange(len(lengths))
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices, unsorted_indices = Tensor(order.astype(np.int64)), Tensor(np.argsort(order).astype(np.int64))
    sorted_lengths = lengths[order]
    batch_sizes = _batch_sizes(sorted_lengths)
    t, b = _packed_positions(batch_sizes)
    index = (order[b], t) if batch_first else (t, order[b])
    return PackedSequence(ops.getitem(x, index), Tensor(batch_sizes), sorted_indices, unsorted_indices)


def _padded_sorted(sequence: PackedSequence, padding_value=0.0, total_length=None):
    """(T, B, *) padded tensor in the packed (sorted) order, and the sorted lengths."""
    data, batch_sizes = sequence.data, np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    total = steps if total_length is None else int(total_length)
    if total < steps:
        raise ValueError(f"pad_packed_sequence: total_length={total_length} is less than the longest sequence ({steps})")
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    tt, bb = np.meshgrid(np.arange(total), np.arange(batch), indexing="ij")
    inside = np.zeros_like(tt, dtype=bool)
    inside[:steps] = bb[:steps] < batch_sizes[:, None]
    index = np.where(inside, starts[np.minimum(tt, steps - 1)] + bb, data.shape[0])  # padding -> the extra row
    pad_row = Tensor(np.full((1,) + data.shape[1:], padding_value, dtype=data.dtype))
    padded = ops.getitem(ops.cat([data, pad_row], dim=0), index)
    lengths = np.array([(batch_sizes > b).sum() for b in range(batch)], dtype=np.int64)
    return padded, lengths


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo `pack_padded_sequence`: (padded (T, B, *) or (B, T, *), lengths (B,) int64) in the caller's order."""
    padded, lengths = _padded_sorted(sequence, padding_value, total_length)
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices._data
        padded, lengths = ops.getitem(padded, (slice(None), unsorted)), lengths[unsorted]
    if batch_first:
        padded = ops.transpose(padded, 0, 1)
    return padded, Tensor(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into (T, B, *) (or (B, T, *)), padding each to T = max L_i."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    sequences = [as_tensor(s) for s in sequences]
    if not sequences:
        raise ValueError("pad_sequence: expected a non-empty list of tensors")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        before_after = (0, missing) if padding_side == "right" else (missing, 0)
        padded.append(ops.pad_constant(s, (before_after,) + ((0, 0),) * (s.ndim - 1), value=padding_value)
                      if missing else s)
    return ops.stack(padded, dim=0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) (sorted by decreasing length unless enforce_sorted=False)."""
    lengths = [as_tensor(s).shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list[Tensor]:
    """The list of unpadded tensors (L_i, *) of a padded batch."""
    x = as_tensor(padded_sequences)
    if not batch_first:
        x = ops.transpose(x, 0, 1)
    return [x[i, :n] for i, n in enumerate(_lengths_array(lengths, "unpad_sequence").tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


# ------------------------------------------------------------ recurrent layers
def packed_forward(module, sequence: PackedSequence, hx=None):
    """`module(sequence)` for RNN/LSTM/GRU on a PackedSequence: (PackedSequence output, h_n or (h_n, c_n)).

    The sorted batch is cut into runs of equal length; each run is one call of the layer on
    exactly its own steps, so no padded step ever enters a hidden state.  `hx` is in the
    caller's batch order, as the returned states are (PyTorch's convention).
    """
    padded, lengths = _padded_sorted(sequence)
    n_states = module.kernel.n_states
    states = None
    if hx is not None:
        states = list(hx) if n_states > 1 else [hx]
        if sequence.sorted_indices is not None:
            states = [ops.getitem(as_tensor(h), (slice(None), sequence.sorted_indices._data)) for h in states]
    outputs, finals, start = [], [], 0
    while start < len(lengths):
        length = int(lengths[start])
        stop = start + int((lengths[start:] == length).sum())
        x = padded[:length, start:stop]
        run_hx = None if states is None else [h[:, start:stop] for h in states]
        if module.batch_first:
            x = ops.transpose(x, 0, 1)
        out, final = module._forward(x, None if run_hx is None else (run_hx[0] if n_states == 1 else tuple(run_hx)),
                                     None)
        if module.batch_first:
            out = ops.transpose(out, 0, 1)
        missing = padded.shape[0] - length
        outputs.append(ops.pad_constant(out, ((0, missing), (0, 0), (0, 0))) if missing else out)
        finals.append([final] if n_states == 1 else list(final))
        start = stop
    output = ops.cat(outputs, dim=1)
    t, b = _packed_positions(np.asarray(sequence.batch_sizes._data, dtype=np.int64))
    packed = PackedSequence(ops.getitem(output, (t, b)), sequence.batch_sizes, sequence.sorted_indices,
                            sequence.unsorted_indices)
    final = [ops.cat([f[k] for f in finals], dim=1) for k in range(n_states)]
    if sequence.unsorted_indices is not None:
        final = [ops.getitem(h, (slice(None), sequence.unsorted_indices._data)) for h in final]
    return packed, (final[0] if n_states == 1 else tuple(final))

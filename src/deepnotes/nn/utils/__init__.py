"""deepnotes.nn.utils: helpers around models (gradient clipping, parameter counts, conv arithmetic,
regularization penalties).  Each family lives in its own module and appends its exports here."""
from .normalization import normalization_axes  # noqa: E402,F401
from .regularization import frobenius_norm, l0_count, l1_penalty, l2_penalty, nuclear_norm  # noqa: E402,F401

from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .conv_arith import ReceptiveFieldRow, conv_output_size, count_parameters, receptive_field  # noqa: E402,F401
from . import rnn  # noqa: E402,F401  (pad_sequence, pack_padded_sequence, PackedSequence, as torch.nn.utils.rnn)

"""deepnotes.nn.functional: the stateless math behind the layers, with PyTorch's names.

One module per family; every layer of `deepnotes.nn` calls its functional form from here, and the
kernels (`Function`s) live in `deepnotes.ops`. The functions check their arguments, raising errors
that name the function, what was expected and what came.
"""
from .activation import sigmoid, tanh, relu, leaky_relu, prelu, elu, gelu, softmax, log_softmax
from .linear import linear
from .loss import (
    mse_loss, l1_loss, huber_loss, smooth_l1_loss, binary_cross_entropy,
    binary_cross_entropy_with_logits, nll_loss, cross_entropy, kl_div,
)
from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .pooling import (
    max_pool1d, max_pool2d, avg_pool1d, avg_pool2d, adaptive_avg_pool1d, adaptive_avg_pool2d,
    adaptive_max_pool1d, adaptive_max_pool2d, interpolate,
)
from .normalization import batch_norm, instance_norm, layer_norm, group_norm
from .dropout import (
    dropout, dropout1d, dropout2d, locked_dropout, alpha_dropout, feature_alpha_dropout,
    drop_connect_linear,
)
from .attention import scaled_dot_product_attention, multi_head_attention_forward
from .embedding import embedding, embedding_bag

from .shaping import one_hot, pad  # noqa: E402,F401
from .distance import cosine_similarity, normalize, pairwise_distance  # noqa: E402,F401
from .more_activations import hardtanh, logsigmoid, mish, relu6, silu, softplus, softsign  # noqa: E402,F401

"""deepnotes.nn: modules (layers with parameters), losses, init and the functional API.

Names, signatures and defaults follow torch.nn.  New families append their
exports at the end of this file.
"""
from . import functional, init
from .containers import Flatten, Identity, ModuleDict, ModuleList, Sequential
from .module import Module, Parameter
from .layers.dropout import (  # noqa: E402,F401
    AlphaDropout, DropConnectLinear, Dropout, Dropout1d, Dropout2d, FeatureAlphaDropout, LockedDropout,
)
from .layers.normalization import (  # noqa: E402,F401
    BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm,
)

# Recurrent layers and their regularizers (inventory S1-S3, R2).
from .layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402
from .layers.recurrent_regularization import RecurrentDropout, WeightDrop, Zoneout  # noqa: E402

# Linear layer, activations and losses (inventory E4, E5, A1-A6, L1-L4).
from .layers.activation import (  # noqa: E402,F401
    ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Tanh,
)
from .layers.linear import Linear  # noqa: E402,F401
from .layers.loss import (  # noqa: E402,F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
)

# Convolution, pooling, upsampling and convolutional blocks (inventory C1-C7, I4, D4).
from .layers.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: E402,F401
from .layers.pooling import (  # noqa: E402,F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d,
    MaxPool1d, MaxPool2d, Upsample,
)
from .layers.blocks import FPN, InceptionBlock, ResidualBlock, resnet  # noqa: E402,F401
from . import utils  # noqa: E402,F401  (nn.utils.count_parameters etc., as torch.nn.utils)

# Attention, Transformer encoder, embeddings and large-vocabulary output layers (inventory S4-S7, N4, P4).
from .layers.attention import MultiheadAttention  # noqa: E402,F401
from .layers.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding  # noqa: E402,F401
from .layers.embedding import Embedding, EmbeddingBag  # noqa: E402,F401
from .layers.output_cost import output_layer_cost  # noqa: E402,F401
from .layers.output_layers import HierarchicalSoftmax  # noqa: E402,F401
from .layers.sampled_losses import NegativeSamplingLoss, SampledSoftmaxLoss  # noqa: E402,F401
from .layers.transformer import TransformerEncoder, TransformerEncoderLayer  # noqa: E402,F401

# PyTorch's layout (nn.modules.<family>.<Class>), and the names deepnotes does not support.
from .layers.more_activations import Hardtanh, LogSigmoid, Mish, ReLU6, SiLU, Softplus, Softsign  # noqa: E402,F401
from .layers.transformer_decoder import Transformer, TransformerDecoder, TransformerDecoderLayer  # noqa: E402,F401
from . import modules  # noqa: E402,F401
from .containers import ParameterDict, ParameterList, Unflatten  # noqa: E402,F401
from ..unsupported import unsupported_nn_attribute as __getattr__  # noqa: E402,F401

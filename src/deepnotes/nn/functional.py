"""deepnotes.nn.functional: the stateless math behind the layers (PyTorch's names).

The math lives in `deepnotes.ops` families; this module is the namespace users
import.  New families append their exports at the end of this file.
"""
from ..ops.api import log_softmax, relu, sigmoid, softmax, tanh  # noqa: F401

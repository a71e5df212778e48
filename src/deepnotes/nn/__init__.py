"""deepnotes.nn: modules (layers with parameters), losses, init and the functional API.

Names, signatures and defaults follow torch.nn.  New families append their
exports at the end of this file.
"""
from . import functional, init
from .containers import Flatten, Identity, ModuleDict, ModuleList, Sequential
from .module import Module, Parameter

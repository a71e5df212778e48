"""Differentiable primitives, one file per family; see each module for the math.

Importing this package gives `Tensor` its operators and methods (`tensor_methods`).
"""
from . import tensor_methods  # noqa: F401
from . import graph_ops  # noqa: F401,E402  (the Tensor vocabulary for create_graph=True)

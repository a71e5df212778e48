"""The reliability matrix: bad input gets a named error, valid edge cases get PyTorch's answer.

Two tables, one test each:

- BAD: (case id, call, error class, words). The call must raise the deepnotes error class (each one
  a subclass of the built-in a user already catches), and the message must contain every word:
  the layer or function's name and the bad value received.
- VALID: (case id, deepnotes call, PyTorch call). Zero-size batches through layers and losses,
  reductions over a size-0 dim, var/std over a size-1 dim, 0-d tensors: the values, shapes and
  dtypes equal PyTorch's (NaN where PyTorch gives NaN).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.metrics  # noqa: F401 (the cases call dn.metrics; imported here, not by an earlier test)
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import cli
from deepnotes.errors import DTypeError, EmptyInputError, IndexRangeError, NonFiniteError, ShapeError

NAN = float("nan")


def nan_array(*shape):
    return dn.tensor(np.full(shape, NAN, dtype=np.float32))


def with_nan(*shape):
    """Random float32 values with a single NaN (the check must find one NaN among many numbers)."""
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    a.reshape(-1)[a.size // 2] = NAN
    return dn.tensor(a)


def x(*shape, dtype=np.float32):
    return dn.tensor(np.random.default_rng(1).standard_normal(shape).astype(dtype))


def labels(*values):
    return dn.tensor(np.array(values, dtype=np.int64))


# ---------------------------------------------------------------- bad input: error class and message words
BAD = []


def bad(case, call, error, *words):
    BAD.append(pytest.param(call, error, words, id=case))


# tensors built from what a tensor cannot hold
bad("tensor-str", lambda: dn.tensor("abc"), DTypeError, "tensor", "strings", "abc")
bad("tensor-list-of-str", lambda: dn.tensor(["a", "b"]), DTypeError, "tensor", "'a'")
bad("tensor-ragged", lambda: dn.tensor([[1, 2], [3]]), ShapeError, "tensor", "ragged", "[[1, 2], [3]]")
bad("tensor-ragged-3d", lambda: dn.tensor([[[1.0]], [[1.0, 2.0]]]), ShapeError, "tensor", "ragged")
bad("tensor-object-array", lambda: dn.tensor(np.array([1, None], dtype=object)), DTypeError, "tensor", "object")
bad("tensor-dict", lambda: dn.tensor({"a": 1}), DTypeError, "tensor", "dict")
bad("tensor-none", lambda: dn.tensor(None), DTypeError, "tensor", "None")
bad("tensor-datetime", lambda: dn.tensor(np.array(["2020-01-01"], dtype="datetime64[D]")), DTypeError, "tensor",
    "datetime64")
bad("as-tensor-str-array", lambda: dn.as_tensor(np.array(["x"])), DTypeError, "tensor", "strings")

# factories with negative or non-integer sizes
for fn_name in ("zeros", "ones", "randn", "rand"):
    bad(f"{fn_name}-negative-size", lambda f=getattr(dn, fn_name): f(2, -3), ShapeError, fn_name, "-3")
    bad(f"{fn_name}-float-size", lambda f=getattr(dn, fn_name): f(2.5, 3), ShapeError, fn_name, "2.5")
bad("full-negative-size", lambda: dn.full((-1, 2), 0.0), ShapeError, "full", "-1")

# matmul: shapes and dtypes as PyTorch refuses them
bad("matmul-inner-2d", lambda: x(2, 3) @ x(4, 2), ShapeError, "matmul", "(2, 3)", "(4, 2)")
bad("matmul-inner-vec", lambda: x(3) @ x(4), ShapeError, "matmul", "(3,)", "(4,)")
bad("matmul-inner-batched", lambda: x(5, 2, 3) @ x(5, 4, 2), ShapeError, "matmul", "(5, 2, 3)", "(5, 4, 2)")
bad("matmul-0d-left", lambda: dn.tensor(1.0) @ x(2), ShapeError, "matmul", "()")
bad("matmul-0d-right", lambda: x(2) @ dn.tensor(1.0), ShapeError, "matmul", "()")
bad("matmul-f32-f64", lambda: x(2, 3) @ x(3, 2, dtype=np.float64), DTypeError, "matmul", "float32", "float64")
bad("matmul-f64-f32", lambda: dn.matmul(x(2, 3, dtype=np.float64), x(3, 2)), DTypeError, "matmul", "float64",
    "float32")
bad("matmul-float-int", lambda: x(2, 3) @ dn.ones(3, 2, dtype=np.int64), DTypeError, "matmul", "int64")
bad("matmul-batch-broadcast", lambda: x(2, 2, 3) @ x(3, 3, 2), ShapeError, "MatMul", "(2, 2, 3)", "(3, 3, 2)")

# elementwise broadcasting
for op in ("add", "sub", "mul", "div", "maximum", "minimum", "pow"):
    bad(f"{op}-broadcast", lambda f=getattr(dn, op): f(x(2, 3), x(4, 3)), ShapeError, op.capitalize()[:3], "(2, 3)",
        "(4, 3)")
bad("where-broadcast", lambda: dn.where(dn.ones(2, 3, dtype=np.bool_), x(2, 3), x(4, 3)), ShapeError, "Where",
    "(4, 3)")

# reshape / view / expand that cannot hold
bad("reshape-size", lambda: x(2, 3).reshape(4, 2), ShapeError, "Reshape", "(4,2)", "(2, 3)")
bad("view-size", lambda: x(2, 3).view(7), ShapeError, "Reshape", "(7,)", "(2, 3)")
bad("reshape-two-minus-one", lambda: x(2, 3).reshape(-1, -1), ShapeError, "Reshape", "(2, 3)")
bad("expand-non-singleton", lambda: x(2, 3).expand(4, 3), ShapeError, "Expand", "(4,3)")
bad("cat-mismatch", lambda: dn.cat([x(2, 3), x(2, 4)]), ShapeError, "Concatenate", "(2, 3)", "(2, 4)")
bad("stack-mismatch", lambda: dn.stack([x(2, 3), x(3, 3)]), ValueError, "stack", "(2, 3)", "(3, 3)")
bad("split-sizes", lambda: dn.split(x(4), [1, 2]), ValueError, "split", "[1, 2]", "4")
bad("permute-repeated", lambda: x(2, 3).permute(0, 0), ShapeError, "permute", "(0, 0)")
bad("permute-too-few", lambda: x(2, 3, 4).permute(0, 1), ShapeError, "permute", "(0, 1)")

# dims out of range
DIM_FUNCTIONS = {
    "sum": lambda t, d: t.sum(d), "mean": lambda t, d: t.mean(d), "amax": lambda t, d: dn.amax(t, d),
    "var": lambda t, d: t.var(d), "softmax": lambda t, d: F.softmax(t, dim=d),
    "log_softmax": lambda t, d: F.log_softmax(t, dim=d), "logsumexp": lambda t, d: dn.logsumexp(t, d),
    "argmax": lambda t, d: dn.argmax(t, d), "transpose": lambda t, d: t.transpose(0, d),
    "squeeze": lambda t, d: t.squeeze(d), "unsqueeze": lambda t, d: t.unsqueeze(d),
    "flatten": lambda t, d: t.flatten(0, d), "cat": lambda t, d: dn.cat([t, t], dim=d),
}
DIM_WORDS = {"sum": "reduction", "mean": "reduction", "amax": "reduction", "var": "reduction",
             "softmax": "Softmax", "log_softmax": "LogSoftmax", "logsumexp": "reduction", "argmax": "argmax"}
for fn_name, call in DIM_FUNCTIONS.items():
    for dim in (5, -4):
        bad(f"{fn_name}-dim{dim}", lambda c=call, d=dim: c(x(2, 3), d), IndexRangeError,
            DIM_WORDS.get(fn_name, fn_name), str(dim))

# indices out of range
bad("gather-index-high", lambda: dn.gather(x(2, 3), 1, labels(5, 0).reshape(2, 1)), IndexRangeError, "gather", "5")
bad("gather-index-negative", lambda: dn.gather(x(2, 3), 1, labels(-1, 0).reshape(2, 1)), IndexRangeError, "gather",
    "-1")
bad("gather-dim", lambda: dn.gather(x(2, 3), 4, labels(0, 0).reshape(2, 1)), IndexRangeError, "gather", "4")
bad("gather-float-index", lambda: dn.gather(x(2, 3), 1, x(2, 1)), DTypeError, "gather", "float32")
bad("gather-rank", lambda: dn.gather(x(2, 3), 1, labels(0, 1)), ShapeError, "gather", "(2,)")
bad("take-along-high", lambda: dn.take_along_dim(x(2, 3), labels(7).reshape(1, 1), 1), IndexRangeError,
    "take_along_dim", "7")
bad("getitem-high", lambda: x(2, 3)[5], IndexRangeError, "GetItem", "5")
bad("getitem-negative", lambda: x(2, 3)[-3], IndexRangeError, "GetItem", "-3")
bad("getitem-array-high", lambda: x(4)[np.array([0, 9])], IndexRangeError, "GetItem", "9")
bad("getitem-too-many", lambda: x(2)[0, 0], IndexRangeError, "GetItem", "(2,)")
bad("embedding-high", lambda: nn.Embedding(5, 3)(labels(7)), IndexRangeError, "Embedding(5, 3)", "7")
bad("embedding-negative", lambda: nn.Embedding(5, 3)(labels(-1)), IndexRangeError, "Embedding(5, 3)", "-1")
bad("embedding-float", lambda: nn.Embedding(5, 3)(x(2)), TypeError, "Embedding(5, 3)", "float32")

# layers: constructors
bad("linear-negative-in", lambda: nn.Linear(-1, 3), ShapeError, "Linear", "in_features", "-1")
bad("linear-negative-out", lambda: nn.Linear(3, -2), ShapeError, "Linear", "out_features", "-2")
bad("linear-float-size", lambda: nn.Linear(2.5, 3), DTypeError, "Linear", "2.5")
bad("conv2d-negative-channels", lambda: nn.Conv2d(-3, 8, 3), ShapeError, "Conv2d", "in_channels", "-3")
bad("conv1d-negative-out", lambda: nn.Conv1d(3, -8, 3), ShapeError, "Conv1d", "out_channels", "-8")
bad("conv2d-zero-kernel", lambda: nn.Conv2d(3, 8, 0), ValueError, "Conv2d", "kernel_size", "(0, 0)")
bad("conv2d-zero-stride", lambda: nn.Conv2d(3, 8, 3, stride=0), ValueError, "Conv2d", "stride", "(0, 0)")
bad("conv2d-groups", lambda: nn.Conv2d(3, 8, 3, groups=2), ValueError, "Conv2d", "groups=2")
bad("conv2d-padding-mode", lambda: nn.Conv2d(3, 8, 3, padding_mode="mirror"), ValueError, "Conv2d", "mirror")
bad("dropout-p", lambda: nn.Dropout(1.5), ValueError, "1.5")
bad("groupnorm-divisible", lambda: nn.GroupNorm(3, 4)(x(2, 4, 5)), ValueError, "GroupNorm", "num_groups=3")

# layers: input shapes
bad("linear-features", lambda: nn.Linear(3, 4)(x(2, 5)), ShapeError, "Linear(3, 4)", "(2, 5)")
bad("linear-0d", lambda: nn.Linear(3, 4)(dn.tensor(1.0)), ShapeError, "Linear(3, 4)", "()")
bad("linear-int-input", lambda: nn.Linear(3, 4)(dn.ones(2, 3, dtype=np.int64)), DTypeError, "Linear(3, 4)", "int64")
bad("linear-f64-input", lambda: nn.Linear(3, 4)(x(2, 3, dtype=np.float64)), DTypeError, "Linear(3, 4)", "float64")
bad("conv2d-channels", lambda: nn.Conv2d(3, 8, 3)(x(4, 5, 8, 8)), ValueError, "Conv2d(3, 8", "(4, 5, 8, 8)")
bad("conv2d-ndim", lambda: nn.Conv2d(3, 8, 3)(x(3, 8)), ValueError, "Conv2d(3, 8", "(3, 8)")
bad("conv2d-too-small", lambda: nn.Conv2d(3, 8, 5)(x(1, 3, 3, 3)), ValueError, "Conv2d(3, 8", "(1, 3, 3, 3)")
bad("conv2d-int-input", lambda: nn.Conv2d(3, 8, 3)(dn.ones(1, 3, 5, 5, dtype=np.int64)), TypeError, "Conv2d(3, 8",
    "int64")
bad("conv1d-channels", lambda: nn.Conv1d(2, 4, 3)(x(1, 3, 8)), ValueError, "Conv1d(2, 4", "(1, 3, 8)")
bad("convtranspose2d-channels", lambda: nn.ConvTranspose2d(3, 2, 3)(x(1, 4, 5, 5)), ValueError, "ConvTranspose2d",
    "(1, 4, 5, 5)")
bad("maxpool2d-too-small", lambda: nn.MaxPool2d(5)(x(1, 1, 3, 3)), ValueError, "MaxPool2d", "(3, 3)")
bad("avgpool2d-ndim", lambda: nn.AvgPool2d(2)(x(4, 4)), ValueError, "AvgPool2d", "(4, 4)")
bad("batchnorm1d-channels", lambda: nn.BatchNorm1d(3)(x(4, 5)), ShapeError, "BatchNorm1d(3)", "(4, 5)")
bad("batchnorm2d-ndim", lambda: nn.BatchNorm2d(3)(x(4, 3)), ShapeError, "BatchNorm2d(3)", "(4, 3)")
bad("batchnorm1d-one-value", lambda: nn.BatchNorm1d(3)(x(1, 3)), ValueError, "batch_norm", "(1, 3)")
bad("layernorm-trailing", lambda: nn.LayerNorm(3)(x(4, 5)), ShapeError, "LayerNorm", "(4, 5)")
bad("groupnorm-channels", lambda: nn.GroupNorm(2, 4)(x(2, 6, 3)), ShapeError, "GroupNorm(2, 4)", "(2, 6, 3)")
bad("instancenorm2d-ndim", lambda: nn.InstanceNorm2d(3)(x(3, 4)), ValueError, "InstanceNorm2d", "(3, 4)")
bad("lstm-features", lambda: nn.LSTM(3, 4)(x(5, 2, 6)), ShapeError, "LSTM(3, 4", "(5, 2, 6)")
bad("gru-ndim", lambda: nn.GRU(3, 4)(x(5, 2, 3, 1)), ShapeError, "GRU(3, 4", "(5, 2, 3, 1)")
bad("rnn-features", lambda: nn.RNN(3, 4)(x(5, 2)), ShapeError, "RNN(3, 4", "(5, 2)")
bad("lstmcell-features", lambda: nn.LSTMCell(3, 4)(x(2, 5)), ShapeError, "LSTMCell(3, 4", "(2, 5)")
bad("mha-embed", lambda: nn.MultiheadAttention(4, 2)(x(5, 2, 3), x(5, 2, 3), x(5, 2, 3)), ShapeError,
    "MultiheadAttention(4", "(5, 2, 3)")
bad("mha-heads", lambda: nn.MultiheadAttention(5, 2), ValueError, "5", "2")
bad("flatten-dims", lambda: nn.Flatten(0, 4)(x(2, 3)), IndexRangeError, "flatten", "4")

# NaN in the input of the layers and losses that check it
NAN_CASES = {
    "Linear(3, 4)": lambda: nn.Linear(3, 4)(with_nan(2, 3)),
    "Conv2d(3, 2": lambda: nn.Conv2d(3, 2, 3)(with_nan(1, 3, 5, 5)),
    "Conv1d(3, 2": lambda: nn.Conv1d(3, 2, 3)(with_nan(1, 3, 5)),
    "BatchNorm1d(3)": lambda: nn.BatchNorm1d(3)(with_nan(4, 3)),
    "BatchNorm2d(3)": lambda: nn.BatchNorm2d(3).eval()(with_nan(2, 3, 4, 4)),
    "InstanceNorm1d(3)": lambda: nn.InstanceNorm1d(3)(with_nan(2, 3, 5)),
    "LayerNorm((3,))": lambda: nn.LayerNorm(3)(with_nan(4, 3)),
    "GroupNorm(2, 4)": lambda: nn.GroupNorm(2, 4)(with_nan(2, 4, 3)),
    "LSTM(3, 4": lambda: nn.LSTM(3, 4)(with_nan(5, 2, 3)),
    "GRU(3, 4": lambda: nn.GRU(3, 4)(with_nan(5, 2, 3)),
    "RNN(3, 4": lambda: nn.RNN(3, 4)(with_nan(5, 2, 3)),
    "GRUCell(3, 4": lambda: nn.GRUCell(3, 4)(with_nan(2, 3)),
    "MultiheadAttention(4": lambda: nn.MultiheadAttention(4, 2)(with_nan(5, 2, 4), x(5, 2, 4), x(5, 2, 4)),
    "cross_entropy": lambda: F.cross_entropy(with_nan(4, 3), labels(0, 1, 2, 1)),
    "nll_loss": lambda: F.nll_loss(with_nan(4, 3), labels(0, 1, 2, 1)),
    "mse_loss": lambda: F.mse_loss(with_nan(4, 3), x(4, 3)),
    "l1_loss": lambda: F.l1_loss(x(4, 3), with_nan(4, 3)),
    "huber_loss": lambda: F.huber_loss(with_nan(4, 3), x(4, 3)),
    "smooth_l1_loss": lambda: F.smooth_l1_loss(with_nan(4, 3), x(4, 3)),
    "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(with_nan(4), x(4)),
    "binary_cross_entropy": lambda: F.binary_cross_entropy(with_nan(4), dn.zeros(4)),
}
for layer_name, call in NAN_CASES.items():
    bad(f"nan-{layer_name.split('(')[0].lower()}", call, NonFiniteError, layer_name, "NaN")

# losses: shapes, dtypes and class labels out of range
bad("mse-shape", lambda: F.mse_loss(x(4, 3), x(5, 3)), ValueError, "mse_loss", "(5, 3)")
bad("l1-shape", lambda: F.l1_loss(x(4, 3), x(4)), ValueError, "l1_loss", "(4,)")
bad("mse-int-input", lambda: F.mse_loss(dn.ones(3, dtype=np.int64), x(3)), DTypeError, "mse_loss", "int64")
bad("ce-target-high", lambda: F.cross_entropy(x(4, 3), labels(0, 1, 2, 3)), IndexRangeError, "cross_entropy", "3")
bad("ce-target-negative", lambda: F.cross_entropy(x(4, 3), labels(0, 1, 2, -3)), IndexRangeError, "cross_entropy",
    "-3")
bad("ce-target-float-shape", lambda: F.cross_entropy(x(4, 3), x(4)), ValueError, "cross_entropy", "(4,)")
bad("ce-target-length", lambda: F.cross_entropy(x(4, 3), labels(0, 1)), ValueError, "cross_entropy", "(2,)")
bad("ce-scalar-input", lambda: F.cross_entropy(dn.tensor(1.0), labels(0)), ValueError, "cross_entropy", "scalar")
bad("ce-label-smoothing", lambda: F.cross_entropy(x(4, 3), labels(0, 1, 2, 1), label_smoothing=1.5), ValueError,
    "cross_entropy", "1.5")
bad("ce-reduction", lambda: F.cross_entropy(x(4, 3), labels(0, 1, 2, 1), reduction="avg"), ValueError,
    "cross_entropy", "avg")
bad("ce-weight-shape", lambda: F.cross_entropy(x(4, 3), labels(0, 1, 2, 1), weight=dn.ones(4)), ValueError,
    "cross_entropy", "(4,)")
bad("nll-target-high", lambda: F.nll_loss(x(4, 3), labels(0, 1, 2, 9)), IndexRangeError, "nll_loss", "9")
bad("nll-float-target", lambda: F.nll_loss(x(4, 3), x(4)), TypeError, "nll_loss", "float32")
bad("bce-shape", lambda: F.binary_cross_entropy_with_logits(x(4), x(5)), ValueError,
    "binary_cross_entropy_with_logits", "(5,)")
bad("huber-delta", lambda: F.huber_loss(x(3), x(3), delta=-1.0), ValueError, "huber_loss", "-1.0")
bad("smooth-l1-beta", lambda: F.smooth_l1_loss(x(3), x(3), beta=-0.5), ValueError, "smooth_l1_loss", "-0.5")
bad("celoss-module-target", lambda: nn.CrossEntropyLoss()(x(2, 3), labels(4, 0)), IndexRangeError, "cross_entropy",
    "4")


# optimizers
def _params():
    return nn.Linear(2, 2).parameters()


for opt_name, kwargs, word in (
        ("SGD", {"lr": -1.0}, "-1.0"), ("SGD", {"lr": 0.1, "momentum": -0.5}, "-0.5"),
        ("SGD", {"lr": 0.1, "weight_decay": -1e-2}, "-0.01"), ("Adam", {"lr": -1e-3}, "-0.001"),
        ("Adam", {"betas": (1.5, 0.9)}, "1.5"), ("Adam", {"betas": (0.9, 1.0)}, "1.0"), ("Adam", {"eps": -1.0}, "-1.0"),
        ("AdamW", {"weight_decay": -0.1}, "-0.1"), ("RMSprop", {"alpha": -0.1}, "-0.1"),
        ("Adagrad", {"lr": -0.1}, "-0.1"), ("NAdam", {"lr": -0.1}, "-0.1")):
    bad(f"{opt_name.lower()}-{next(iter(kwargs))}-{word}", lambda o=opt_name, k=kwargs: getattr(dn.optim, o)(_params(), **k),
        ValueError, opt_name, word)
bad("sgd-empty-params", lambda: dn.optim.SGD([], lr=0.1), ValueError, "SGD", "empty")

# data loaders, fit, evaluate, metrics
DATASET = dn.data.TensorDataset(x(4, 2), labels(0, 1, 0, 1))
bad("loader-batch-zero", lambda: dn.data.DataLoader(DATASET, batch_size=0), ValueError, "DataLoader", "batch_size",
    "0")
bad("loader-batch-negative", lambda: dn.data.DataLoader(DATASET, batch_size=-2), ValueError, "DataLoader", "-2")
bad("tensordataset-lengths", lambda: dn.data.TensorDataset(x(4, 2), labels(0, 1)), ValueError, "TensorDataset", "4",
    "2")
EMPTY = dn.data.TensorDataset(x(0, 2), dn.zeros(0, dtype=np.int64))
bad("fit-empty-loader", lambda: dn.train.fit(nn.Linear(2, 2), nn.CrossEntropyLoss(),
                                             dn.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1),
                                             dn.data.DataLoader(EMPTY, batch_size=2), progress=False),
    EmptyInputError, "fit", "no examples")
bad("evaluate-empty-loader", lambda: dn.train.evaluate(nn.Linear(2, 2), nn.CrossEntropyLoss(),
                                                       dn.data.DataLoader(EMPTY, batch_size=2)),
    EmptyInputError, "evaluate", "no examples")
bad("evaluate-empty-list", lambda: dn.train.evaluate(nn.Linear(2, 2), None, []), EmptyInputError, "evaluate", "list")
for metric in ("accuracy_score", "f1_score", "precision_score", "recall_score", "confusion_matrix",
               "balanced_accuracy_score", "matthews_corrcoef"):
    bad(f"metric-empty-{metric}", lambda m=metric: getattr(dn.metrics, m)([], []), EmptyInputError, metric, "empty")
bad("metric-empty-roc-auc", lambda: dn.metrics.roc_auc_score([], []), EmptyInputError, "roc_auc_score", "empty")
bad("metric-empty-log-loss", lambda: dn.metrics.log_loss([], []), EmptyInputError, "log_loss", "empty")
for metric in ("jaccard_score", "hamming_loss", "multilabel_confusion_matrix"):
    bad(f"metric-empty-{metric}", lambda m=metric: getattr(dn.metrics, m)([], []), EmptyInputError, metric, "empty")
for metric in ("coverage_error", "label_ranking_average_precision_score", "label_ranking_loss"):
    bad(f"metric-empty-{metric}", lambda m=metric: getattr(dn.metrics, m)(np.zeros((0, 3)), np.zeros((0, 3))),
        EmptyInputError, metric, "empty")
bad("metric-multilabel-shapes", lambda: dn.metrics.f1_score(np.eye(3, dtype=int), np.eye(3, 4, dtype=int),
                                                             average="macro"),
    ValueError, "f1_score", "(3, 3)", "(3, 4)")
bad("metric-max-fpr", lambda: dn.metrics.roc_auc_score([0, 1], [0.2, 0.8], max_fpr=0), ValueError, "roc_auc_score",
    "max_fpr", "0")
bad("mutual-info-empty", lambda: dn.data.mutual_info_classif(np.zeros((0, 3)), []), EmptyInputError,
    "mutual_info_classif", "empty")
bad("mutual-info-neighbours", lambda: dn.data.mutual_info_classif(np.zeros((4, 1)), [0, 1, 0, 1], n_neighbors=0),
    ValueError, "mutual_info_classif", "n_neighbors", "0")

# state dicts
bad("load-state-shape", lambda: nn.Linear(2, 3).load_state_dict(
    {"weight": np.zeros((4, 2), np.float32), "bias": np.zeros(3, np.float32)}), ValueError, "Linear", "weight",
    "(4, 2)")
bad("load-state-missing", lambda: nn.Linear(2, 3).load_state_dict({"weight": np.zeros((3, 2), np.float32)}),
    KeyError, "Linear", "bias")
bad("load-state-unexpected", lambda: nn.Linear(2, 3).load_state_dict(
    {"weight": np.zeros((3, 2), np.float32), "bias": np.zeros(3, np.float32), "gamma": np.zeros(1)}),
    KeyError, "Linear", "gamma")
bad("optimizer-state-groups", lambda: dn.optim.SGD(_params(), lr=0.1).load_state_dict(
    {"state": {}, "param_groups": []}), ValueError, "SGD")


@pytest.mark.covers("E1")
@pytest.mark.parametrize("call,error,words", BAD)
def test_bad_input_raises_a_named_error(call, error, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            call()
    message = str(info.value)
    missing = [w for w in words if w not in message]
    assert not missing, f"message {message!r} lacks {missing}"


# ---------------------------------------------------------------- the command line: one line, exit 2
CLI_BAD = [
    (["train", "--epochs", "-3"], "deepnotes train: error: --epochs must be >= 1, got -3"),
    (["train", "--epochs", "0"], "--epochs must be >= 1, got 0"),
    (["train", "--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["train", "--lr", "-0.1"], "--lr must be > 0 and finite, got -0.1"),
    (["train", "--lr", "inf"], "--lr must be > 0 and finite, got inf"),
    (["train", "--lr", "nan"], "--lr must be > 0 and finite, got nan"),
    (["train", "--dropout", "1.0"], "--dropout must be in [0, 1), got 1.0"),
    (["train", "--val-split", "-0.1"], "--val-split must be in [0, 1), got -0.1"),
    (["train", "--hidden", "64,0"], "--hidden must be positive ints, comma separated, got 64,0"),
    (["train", "--weight-decay", "-1"], "--weight-decay must be >= 0, got -1.0"),
    (["train", "--out", "/proc/deepnotes-cannot-write"], "--out /proc/deepnotes-cannot-write is not writable"),
    (["train", "--out", __file__ + "/sub"], "is a file, not a folder"),
    (["tune", "--jobs", "0"], "deepnotes tune: error: --jobs must be >= 1, got 0"),
    (["tune", "--trials", "-1"], "--trials must be >= 1, got -1"),
    (["claims", "run", "--seeds", "0"], "--seeds must be >= 1, got 0"),
]


@pytest.mark.covers("E5")
@pytest.mark.parametrize("argv,line", CLI_BAD, ids=[" ".join(a) for a, _ in CLI_BAD])
def test_cli_refuses_a_bad_argument_in_one_line_before_any_work(argv, line, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert line in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.covers("E5")
@pytest.mark.parametrize("argv", [["train", "--model", "resnet"], ["train", "--dataset", "imagenet"]])
def test_cli_unknown_model_or_dataset_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2 and argv[-1] in capsys.readouterr().err


# ---------------------------------------------------------------- valid edge cases: PyTorch's answer
VALID = []


def same(case, dn_call, torch_call):
    VALID.append(pytest.param(dn_call, torch_call, id=case))


def _pair(shape, seed=2, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return dn.tensor(a), torch.tensor(a)


def _both(shape):
    return lambda: _pair(shape)


def _copy_into(dn_module, torch_module):
    for name, p in torch_module.named_parameters():
        dict(dn_module.named_parameters())[name].data[...] = p.detach().numpy()
    return dn_module, torch_module


def _layer(make_dn, make_torch, shape, eval_mode=False):
    def run(which):
        dm, tm = _copy_into(make_dn(), make_torch())
        if eval_mode:
            dm.eval(), tm.eval()
        d, t = _pair(shape)
        return dm(d) if which == "dn" else tm(t)
    return (lambda: run("dn")), (lambda: run("torch"))


torch.manual_seed(0)
LAYERS = {
    "linear-batch0": (lambda: nn.Linear(3, 2, dtype=np.float64), lambda: torch.nn.Linear(3, 2).double(), (0, 3)),
    "linear-in0": (lambda: nn.Linear(0, 3, dtype=np.float64), lambda: torch.nn.Linear(0, 3).double(), (2, 0)),
    "linear-3d-batch0": (lambda: nn.Linear(3, 2, dtype=np.float64), lambda: torch.nn.Linear(3, 2).double(), (4, 0, 3)),
    "conv2d-batch0": (lambda: nn.Conv2d(3, 2, 3, dtype=np.float64), lambda: torch.nn.Conv2d(3, 2, 3).double(),
                      (0, 3, 5, 5)),
    "conv1d-batch0": (lambda: nn.Conv1d(3, 2, 3, dtype=np.float64), lambda: torch.nn.Conv1d(3, 2, 3).double(),
                      (0, 3, 6)),
    "maxpool2d-batch0": (lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (0, 3, 4, 4)),
    "avgpool2d-batch0": (lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2), (0, 3, 4, 4)),
    "maxpool1d-dilation-edge": (lambda: nn.MaxPool1d(3, stride=2, dilation=2, padding=1),
                                lambda: torch.nn.MaxPool1d(3, stride=2, dilation=2, padding=1), (2, 3, 9)),
    "maxpool2d-dilation-ceil": (lambda: nn.MaxPool2d(2, stride=2, dilation=2, ceil_mode=True),
                                lambda: torch.nn.MaxPool2d(2, stride=2, dilation=2, ceil_mode=True), (1, 2, 7, 7)),
    "layernorm-batch0": (lambda: nn.LayerNorm(3), lambda: torch.nn.LayerNorm(3).double(), (0, 3)),
    "relu-batch0": (lambda: nn.ReLU(), lambda: torch.nn.ReLU(), (0, 3)),
    "gelu-batch0": (lambda: nn.GELU(), lambda: torch.nn.GELU(), (0, 5)),
    "softmax-batch0": (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1), (0, 5)),
    "flatten-batch0": (lambda: nn.Flatten(), lambda: torch.nn.Flatten(), (0, 2, 3)),
}
for case, (make_dn, make_torch, shape) in LAYERS.items():
    same(case, *_layer(make_dn, make_torch, shape))
same("batchnorm2d-eval-batch0", *_layer(lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3).double(),
                                        (0, 3, 4, 4), eval_mode=True))
same("batchnorm1d-eval-batch0", *_layer(lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3).double(),
                                        (0, 3), eval_mode=True))


def _recurrent(kind, shape):
    def run(which):
        dm, tm = _copy_into(getattr(nn, kind)(3, 4), getattr(torch.nn, kind)(3, 4).double())
        for p in dm.parameters():
            p.data = p.numpy().astype(np.float64)
        d, t = _pair(shape)
        out = dm(d) if which == "dn" else tm(t)
        return out[0]
    return (lambda: run("dn")), (lambda: run("torch"))


for kind in ("LSTM", "GRU", "RNN"):
    same(f"{kind.lower()}-batch0", *_recurrent(kind, (5, 0, 3)))


def _loss(fn, shape, target):
    def run(which):
        d, t = _pair(shape)
        if target == "labels":
            td, tt = dn.zeros(shape[0], dtype=np.int64), torch.zeros(shape[0], dtype=torch.int64)
        else:
            td, tt = _pair(shape, seed=3)
        return getattr(F, fn)(d, td) if which == "dn" else getattr(torch.nn.functional, fn)(t, tt)
    return (lambda: run("dn")), (lambda: run("torch"))


for fn, target in (("cross_entropy", "labels"), ("nll_loss", "labels"), ("mse_loss", "values"),
                   ("l1_loss", "values"), ("smooth_l1_loss", "values"), ("huber_loss", "values"),
                   ("binary_cross_entropy_with_logits", "values")):
    same(f"{fn}-batch0", *_loss(fn, (0, 3), target))

# reductions over a size-0 dim, and var / std over a size-1 dim
REDUCTIONS = {
    "sum": (lambda t: t.sum(0), lambda t: t.sum(0)),
    "mean": (lambda t: t.mean(0), lambda t: t.mean(0)),
    "sum-all": (lambda t: t.sum(), lambda t: t.sum()),
    "mean-all": (lambda t: t.mean(), lambda t: t.mean()),
    "softmax": (lambda t: F.softmax(t, dim=0), lambda t: torch.softmax(t, 0)),
    "log_softmax": (lambda t: F.log_softmax(t, dim=0), lambda t: torch.log_softmax(t, 0)),
    "logsumexp": (lambda t: dn.logsumexp(t, 0), lambda t: torch.logsumexp(t, 0)),
    "amax-other-dim": (lambda t: dn.amax(t, 1), lambda t: torch.amax(t, 1)),
    "var-other-dim": (lambda t: t.var(1), lambda t: t.var(1)),
}
for case, (fd, ft) in REDUCTIONS.items():
    same(f"size0-{case}", lambda f=fd: f(dn.zeros(0, 3, dtype=np.float64)),
         lambda f=ft: f(torch.zeros(0, 3, dtype=torch.float64)))
for case, (fd, ft) in {"var": (lambda t: t.var(0), lambda t: t.var(0)),
                       "std": (lambda t: t.std(0), lambda t: t.std(0)),
                       "var-all": (lambda t: t.var(), lambda t: t.var()),
                       "var-biased": (lambda t: t.var(0, unbiased=False), lambda t: t.var(0, unbiased=False))}.items():
    same(f"size1-{case}", lambda f=fd: f(_pair((1, 3))[0]), lambda f=ft: f(_pair((1, 3))[1]))

# 0-d tensors through elementwise ops
UNARY = ("exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "neg")
for op in UNARY:
    same(f"0d-{op}", lambda o=op: getattr(dn, o)(dn.tensor(np.float64(0.7))),
         lambda o=op: getattr(torch, o)(torch.tensor(0.7, dtype=torch.float64)))
for op in ("add", "sub", "mul", "div", "maximum", "minimum", "pow"):
    same(f"0d-{op}-with-vector", lambda o=op: getattr(dn, o)(dn.tensor(np.float64(1.5)), _pair((3,))[0].abs()),
         lambda o=op: getattr(torch, o)(torch.tensor(1.5, dtype=torch.float64), _pair((3,))[1].abs()))
same("0d-sum", lambda: dn.tensor(np.float64(2.0)).sum(), lambda: torch.tensor(2.0, dtype=torch.float64).sum())
same("0d-softmax", lambda: F.softmax(dn.tensor(np.float64(2.0)), dim=0),
     lambda: torch.softmax(torch.tensor(2.0, dtype=torch.float64), 0))
same("0d-unsqueeze", lambda: dn.tensor(np.float64(2.0)).unsqueeze(0),
     lambda: torch.tensor(2.0, dtype=torch.float64).unsqueeze(0))
same("0d-transpose", lambda: dn.tensor(np.float64(2.0)).transpose(0, -1),
     lambda: torch.tensor(2.0, dtype=torch.float64).transpose(0, -1))
same("0d-flatten", lambda: dn.tensor(np.float64(2.0)).flatten(), lambda: torch.tensor(2.0, dtype=torch.float64).flatten())
same("matmul-empty-inner", lambda: dn.zeros(2, 0, dtype=np.float64) @ dn.zeros(0, 3, dtype=np.float64),
     lambda: torch.zeros(2, 0, dtype=torch.float64) @ torch.zeros(0, 3, dtype=torch.float64))
same("matmul-int", lambda: dn.tensor([[1, 2]]) @ dn.tensor([[3], [4]]),
     lambda: torch.tensor([[1, 2]]) @ torch.tensor([[3], [4]]))
same("inf-relu", lambda: dn.relu(dn.tensor(np.array([np.inf, -np.inf]))),
     lambda: torch.relu(torch.tensor([np.inf, -np.inf], dtype=torch.float64)))
same("inf-linear-passes", lambda: _inf_linear("dn"), lambda: _inf_linear("torch"))
same("ce-masked-class-minus-inf", lambda: F.cross_entropy(dn.tensor(np.array([[0.0, -np.inf, 1.0]])), labels(2)),
     lambda: torch.nn.functional.cross_entropy(torch.tensor([[0.0, -np.inf, 1.0]], dtype=torch.float64),
                                               torch.tensor([2])))


def _inf_linear(which):
    """Infinity is not refused (only NaN is): Linear gives PyTorch's inf / nan."""
    w = np.array([[1.0, 0.0], [0.0, 2.0]])
    xin = np.array([[np.inf, 1.0]])
    if which == "dn":
        return F.linear(dn.tensor(xin), dn.tensor(w))
    return torch.nn.functional.linear(torch.tensor(xin), torch.tensor(w))



def _nan_in_ignored_row(lib, **kwargs):
    """Logits whose row 1 holds a NaN and whose target there is ignore_index: PyTorch's loss stays finite."""
    logits = np.array([[1.0, 2.0, 0.5], [np.nan, 1.0, 0.0], [0.2, 0.1, 3.0]])
    mod = F if lib is dn else torch.nn.functional
    extra = {k: lib.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    return mod.cross_entropy(lib.tensor(logits), lib.tensor(np.array([0, -100, 2])), **extra)


for _reduction in ("mean", "sum", "none"):
    same(f"ce-nan-in-ignored-row-{_reduction}", lambda r=_reduction: _nan_in_ignored_row(dn, reduction=r),
         lambda r=_reduction: _nan_in_ignored_row(torch, reduction=r))
same("ce-nan-in-ignored-row-weighted-smoothed",
     lambda: _nan_in_ignored_row(dn, weight=np.array([1.0, 2.0, 3.0]), label_smoothing=0.1),
     lambda: _nan_in_ignored_row(torch, weight=np.array([1.0, 2.0, 3.0]), label_smoothing=0.1))

def _as_numpy(out):
    out = out[0] if isinstance(out, tuple) else out
    return out.detach().numpy() if isinstance(out, torch.Tensor) else np.asarray(out.numpy())


@pytest.mark.covers("E1")
@pytest.mark.parametrize("dn_call,torch_call", VALID)
def test_valid_edge_case_gives_pytorchs_answer(dn_call, torch_call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _as_numpy(dn_call()), _as_numpy(torch_call())
    assert ours.shape == theirs.shape, f"shape {ours.shape} != torch's {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"dtype {ours.dtype} != torch's {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-12, equal_nan=True)


@pytest.mark.covers("E1")
def test_size_one_variance_backward_is_nan_not_an_exception():
    t = dn.tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    r = torch.tensor([[1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t.var(0).sum().backward()
        r.var(0).sum().backward()
    np.testing.assert_array_equal(np.isnan(t.grad.numpy()), np.isnan(r.grad.numpy()))


@pytest.mark.covers("E1", "L2")
def test_nan_logits_in_an_ignored_row_give_pytorchs_gradient():
    """The loss is finite (the row is ignored); the row's gradient is NaN in both (softmax of NaN times 0)."""
    logits, target = np.array([[1.0, 2.0, 0.5], [np.nan, 1.0, 0.0]]), np.array([1, -100])
    t, r = dn.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    F.cross_entropy(t, dn.tensor(target)).backward()
    torch.nn.functional.cross_entropy(r, torch.tensor(target)).backward()
    np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.covers("E1")
def test_zero_size_batch_backward_gives_zero_weight_gradients():
    layer = nn.Conv2d(3, 2, 3)
    layer(dn.zeros(0, 3, 5, 5)).sum().backward()
    assert np.all(layer.weight.grad.numpy() == 0) and layer.weight.grad.numpy().shape == layer.weight.shape


@pytest.mark.covers("E1")
def test_set_checks_false_skips_the_nan_scan_and_restores():
    previous = dn.set_checks(False)
    try:
        out = nn.LayerNorm(3)(nan_array(2, 3))  # no error with the checks off: NaN flows through
        assert np.isnan(out.numpy()).all()
    finally:
        dn.set_checks(previous)
    assert dn.checks_enabled()
    with pytest.raises(NonFiniteError):
        nn.LayerNorm(3)(nan_array(2, 3))


@pytest.mark.covers("E1")
def test_matrix_is_large_enough():
    assert len(BAD) + len(CLI_BAD) + len(VALID) >= 150

"""The explicit boundary with PyTorch: names deepnotes does not support, and what to use instead.

Each namespace laid out as PyTorch's (`deepnotes`, `deepnotes.nn`, `deepnotes.nn.functional`,
`deepnotes.optim`, `Tensor`) looks a missing name up here: a listed name raises
`UnsupportedError` (a `NotImplementedError`, and an `AttributeError` so that `hasattr` answers
False) with the reason and the alternative, any other missing name the usual `AttributeError`.
docs/pytorch.md is the same boundary in prose; tests/compat checks both.
"""
from __future__ import annotations

from .errors import UnsupportedError

_NO_GPU = "deepnotes computes with NumPy on the CPU only (no GPU, no accelerator)"
_NO_JIT = ("deepnotes runs models eagerly and has no compiler or tracer; call the model directly "
           "(the NumPy kernels are already vectorized)")
_NUMPY = "use NumPy on t.numpy() (outside the autograd graph)"

UNSUPPORTED = {
    "deepnotes": {
        "jit": _NO_JIT, "compile": _NO_JIT, "export": _NO_JIT, "fx": _NO_JIT, "package": _NO_JIT,
        "distributed": "no distributed training; deepnotes.parallel runs independent jobs (the claims lab's executor)",
        "multiprocessing": "use the standard library's multiprocessing, or DataLoader(num_workers=k)",
        "amp": "no mixed precision autocast; deepnotes.compress.half converts a trained model to float16",
        "autocast": "no mixed precision autocast; deepnotes.compress.half converts a trained model to float16",
        "quantization": "use deepnotes.compress (int8 and low-bit quantization, pruning)",
        "ao": "use deepnotes.compress (int8 and low-bit quantization, pruning)",
        "sparse": "no sparse tensors; use dense tensors (nn.EmbeddingBag for bags of indices)",
        "sparse_coo_tensor": "no sparse tensors; use dense tensors",
        "hub": "no downloads at run time; build the model from deepnotes.nn or deepnotes.models",
        "func": "use deepnotes.autograd.functional (jacobian, hessian, hvp)",
        "vmap": "use deepnotes.autograd.functional, or a batch dimension",
        "profiler": "profile with the standard library's cProfile; `deepnotes bench` times workloads against PyTorch",
        "mps": _NO_GPU, "xpu": _NO_GPU,
        "fft": _NUMPY + " (numpy.fft)", "linalg": _NUMPY + " (numpy.linalg)", "special": _NUMPY + " or SciPy",
        "einsum": "write the contraction with matmul, transpose and sum (einsum is not differentiable here)",
        "cdist": "use ((a[:, None] - b[None]) ** 2).sum(-1).sqrt(), or nn.functional.pairwise_distance",
        "set_num_interop_threads": "deepnotes has no inter-op thread pool; set_num_threads sets NumPy's BLAS threads",
        "complex": "no complex autograd; use NumPy's complex arrays outside the graph",
        "view_as_real": "no complex autograd", "view_as_complex": "no complex autograd",
        "stft": _NUMPY + " (scipy.signal.stft)",
        "set_default_device": _NO_GPU, "storage": "no typed storages; a tensor's array is t.numpy()",
        "UntypedStorage": "no typed storages; a tensor's array is t.numpy()",
        "prod": "not implemented as a differentiable op; for positive x use exp(log(x).sum(dim)), or NumPy on t.numpy()",
        "cumprod": "not implemented as a differentiable op; for positive x use exp(cumsum(log(x), dim))",
        "median": "use sort: t.sort(dim).values, then index the middle position (differentiable through indexing)",
        "mode": "use NumPy on t.numpy() (scipy.stats.mode), outside the graph",
        "quantile": "use sort and index the position you need (torch's linear interpolation is not implemented)",
        "erf": "use NumPy/SciPy on t.numpy() (scipy.special.erf), outside the graph; nn.GELU has the exact erf form",
        "atan2": "use NumPy's arctan2 on t.numpy(), outside the graph",
        "fmod": "use NumPy's fmod on t.numpy(), outside the graph",
        "remainder": "use NumPy's remainder on t.numpy(), outside the graph",
        "floor_divide": "use (a / b).floor(), or NumPy's floor_divide on t.numpy()",
        "det": "use NumPy on t.numpy() (numpy.linalg.det), outside the graph",
        "inverse": "use NumPy on t.numpy() (numpy.linalg.inv), outside the graph",
        "kron": "use NumPy on t.numpy() (numpy.kron), outside the graph",
        "tensordot": "write the contraction with reshape and matmul",
        "cross": "write the three components with indexing, mul and sub",
        "rot90": "use flip and transpose",
        "searchsorted": "use NumPy on t.numpy() (numpy.searchsorted)",
        "bincount": "use NumPy on t.numpy() (numpy.bincount)",
        "column_stack": "use cat of the columns (unsqueeze 1-D tensors to (n, 1) first)",
        "scatter": "no out-of-place scatter; assign into a copy under no_grad (y = x.clone(); y[index] = v) or use gather",
        "scatter_add": "no out-of-place scatter_add; use index_select / gather and sum, or np.add.at on t.numpy()",
        "index_add": "no out-of-place index_add; use one_hot(index).T @ source for the sum per index",
    },
    "deepnotes.nn": {
        "DataParallel": _NO_GPU, "parallel": _NO_GPU + "; no data parallelism",
        "SyncBatchNorm": _NO_GPU + "; use nn.BatchNorm1d/2d",
        "LazyLinear": "no lazy modules; give in_features (nn.utils.conv_output_size computes conv output sizes)",
        "LazyConv2d": "no lazy modules; give in_channels",
        "Conv3d": "3-d convolution is not implemented; Conv1d and Conv2d are",
        "MaxPool3d": "3-d pooling is not implemented", "AvgPool3d": "3-d pooling is not implemented",
        "BatchNorm3d": "3-d batch norm is not implemented; BatchNorm1d/2d are",
        "CTCLoss": "CTC is not implemented", "RNNBase": "subclass nn.RNN, nn.LSTM or nn.GRU",
    },
    "deepnotes.Tensor": {
        **dict.fromkeys(
            ("scatter_", "scatter_add_", "index_add_", "index_put_", "index_copy_", "index_fill_", "masked_scatter_",
             "put_"),
            "no in-place scatter; under no_grad assign into the tensor (t[index] = v), or build the result "
            "differentiably with where, cat or one_hot"),
        **dict.fromkeys(
            ("register_hook", "register_post_accumulate_grad_hook"),
            "no tensor hooks; read t.grad after backward (t.retain_grad() keeps it on a non-leaf), or put a "
            "register_full_backward_hook on the module"),
        "unfold": "use nn.functional.unfold for image patches, or index with a strided slice",
        **dict.fromkeys(
            ("storage", "untyped_storage", "data_ptr", "storage_offset", "stride", "as_strided", "is_shared",
             "share_memory_", "pin_memory"),
            "a tensor holds a NumPy array: read its layout from t.numpy() (.strides, .ctypes.data, .base)"),
        "bfloat16": "NumPy has no bfloat16; use t.half() (float16) or t.float()",
        "to_sparse": "no sparse tensors; use dense tensors",
        **dict.fromkeys(("random_", "exponential_", "geometric_", "cauchy_", "log_normal_", "bernoulli_"),
                        "fill from a creation function under no_grad: t.copy_(dn.rand(...)), dn.randn, dn.bernoulli(p)"),
    },
    "deepnotes.optim": {
        "SparseAdam": "no sparse gradients; use Adam",
        "swa_utils": "stochastic weight averaging utilities are not implemented; average state_dict()s by hand",
    },
}


def _raiser(namespace: str):
    table = UNSUPPORTED[namespace]

    def unsupported_attribute(name: str):
        if name in table:
            raise UnsupportedError(f"{namespace}.{name} is not supported: {table[name]}")
        raise AttributeError(f"module {namespace!r} has no attribute {name!r}")

    return unsupported_attribute


def unsupported_tensor_attribute(name: str):
    """The error for a Tensor attribute deepnotes lacks (`Tensor.__getattr__`): PyTorch's with its alternative."""
    reason = UNSUPPORTED["deepnotes.Tensor"].get(name)
    if reason is None:
        return AttributeError(f"'Tensor' object has no attribute {name!r}")
    return UnsupportedError(f"Tensor.{name} is not supported: {reason}")


unsupported_attribute = _raiser("deepnotes")
unsupported_nn_attribute = _raiser("deepnotes.nn")
unsupported_optim_attribute = _raiser("deepnotes.optim")

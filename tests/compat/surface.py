"""The PyTorch surface deepnotes supports for CPU training scripts: the names, by namespace.

`tests/compat/test_surface.py` checks each name against PyTorch (it exists in both; its signature,
parameter names and defaults, equals `inspect.signature` of PyTorch's unless DIFFERS says why
not), and docs/pytorch.md lists the same names.
"""

SUPPORTED = {
    "": [  # deepnotes / torch
        "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "rand",
        "randn", "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like",
        "randn_like", "randint_like", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
        "Generator", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
        "device", "Size", "Tensor", "is_tensor", "is_floating_point", "numel", "get_default_dtype",
        "set_default_dtype", "save", "load", "set_num_threads", "get_num_threads", "use_deterministic_algorithms",
        "are_deterministic_algorithms_enabled",
        "float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool", "float", "double",
        "half", "long", "int", "short", "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
        "ByteTensor", "HalfTensor",
        "add", "sub", "mul", "div", "neg", "pow", "matmul", "mm", "bmm", "exp", "exp2", "log", "log2", "log10",
        "log1p", "expm1", "sqrt", "rsqrt", "square", "reciprocal", "abs", "sin", "cos", "tan", "tanh", "sigmoid",
        "relu", "floor", "ceil", "round", "trunc", "sign", "clamp", "clip", "maximum", "minimum", "where",
        "masked_fill", "sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin", "logsumexp",
        "softmax", "log_softmax", "norm", "dist", "sort", "argsort", "topk", "kthvalue", "eq", "ne", "gt", "lt",
        "ge", "le", "equal", "allclose", "isclose", "reshape", "flatten", "permute", "transpose", "t", "squeeze",
        "unsqueeze", "cat", "concatenate", "stack", "split", "chunk", "unbind", "narrow", "gather",
        "take_along_dim", "any", "all", "count_nonzero", "nonzero", "unique", "set_printoptions",
        "tril", "triu", "isnan", "isinf", "isfinite", "logical_not", "logical_and", "logical_or", "logical_xor",
        "nan_to_num", "index_select", "flip", "roll", "tile", "repeat_interleave", "movedim", "outer", "dot", "mv",
        "addmm", "lerp", "diagonal", "diag", "trace", "cumsum", "multinomial", "bernoulli", "clone", "swapaxes",
        "hstack", "vstack", "broadcast_to", "masked_select", "argwhere", "meshgrid", "var_mean", "std_mean", "baddbmm",
    ],
    "Tensor": [
        "to", "cpu", "cuda", "type", "type_as", "float", "double", "half", "long", "int", "bool", "short", "size",
        "dim", "numel", "item", "tolist", "numpy", "detach", "clone", "requires_grad_", "retain_grad", "backward",
        "is_floating_point", "element_size", "view", "view_as", "reshape", "reshape_as", "expand", "expand_as",
        "flatten", "permute", "transpose", "t", "squeeze", "unsqueeze", "split", "chunk", "unbind", "narrow",
        "contiguous", "mm", "bmm", "matmul", "gather", "new_zeros", "new_ones", "new_full", "new_empty",
        "new_tensor", "eq", "ne", "gt", "lt", "ge", "le", "equal", "isclose", "allclose", "masked_fill", "where",
        "sort", "argsort", "topk", "kthvalue", "norm", "dist", "sum", "mean", "var", "std", "max", "min", "argmax",
        "argmin", "amax", "amin", "logsumexp", "softmax", "log_softmax", "exp", "log", "sqrt", "abs", "sin", "cos",
        "tan", "exp2", "log2", "log10", "log1p", "expm1", "rsqrt", "square", "reciprocal", "floor", "ceil",
        "trunc", "sign", "round", "clamp", "clip", "sigmoid", "tanh", "relu", "pow", "add_", "sub_", "mul_",
        "div_", "clamp_", "clip_", "pow_", "neg_", "abs_", "exp_", "sqrt_", "fill_", "zero_", "copy_", "uniform_",
        "normal_", "masked_fill_", "unsqueeze_", "squeeze_", "t_", "__index__", "__int__", "__float__",
        "__format__", "__bool__", "__len__",
        "any", "all", "count_nonzero", "nonzero", "unique", "__iadd__", "__isub__", "__imul__", "__itruediv__",
        "__abs__", "data", "grad",
        "tril", "triu", "isnan", "isinf", "isfinite", "logical_not", "logical_and", "logical_or", "logical_xor",
        "nan_to_num", "index_select", "flip", "roll", "tile", "repeat_interleave", "movedim", "outer", "dot", "mv",
        "addmm", "lerp", "diagonal", "diag", "trace", "cumsum", "multinomial", "bernoulli", "repeat", "swapaxes",
        "relu_", "sigmoid_", "tanh_", "log_", "clamp_min", "clamp_max",
        "broadcast_to", "masked_select", "argwhere", "baddbmm",
    ],
    "nn": [
        "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
        "Identity", "Flatten", "Unflatten", "Linear", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d",
        "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
        "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Upsample", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
        "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout",
        "FeatureAlphaDropout", "ReLU", "LeakyReLU", "ELU", "GELU", "PReLU", "Sigmoid", "Tanh", "Softmax",
        "LogSoftmax", "SiLU", "Mish", "Softplus", "Hardtanh", "ReLU6", "LogSigmoid", "Softsign",
        "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "Embedding", "EmbeddingBag",
        "MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer", "TransformerDecoder",
        "TransformerDecoderLayer", "Transformer", "MSELoss", "L1Loss",
        "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss",
    ],
    "Module": [
        "forward", "parameters", "named_parameters", "buffers", "named_buffers", "children", "named_children",
        "modules", "named_modules", "register_buffer", "register_parameter", "add_module", "register_forward_hook",
        "register_forward_pre_hook", "register_full_backward_hook", "apply", "train", "eval", "requires_grad_",
        "zero_grad", "to", "cpu", "cuda", "float", "double", "half", "state_dict", "load_state_dict", "extra_repr",
    ],
    "nn.functional": [
        "relu", "leaky_relu", "elu", "gelu", "prelu", "sigmoid", "tanh", "softmax", "log_softmax", "silu",
        "softplus", "mish", "hardtanh", "relu6", "logsigmoid", "softsign", "linear",
        "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
        "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
        "interpolate", "batch_norm", "layer_norm", "group_norm", "instance_norm", "dropout", "dropout1d",
        "dropout2d", "alpha_dropout", "feature_alpha_dropout", "embedding", "embedding_bag", "one_hot", "pad",
        "normalize", "cosine_similarity", "pairwise_distance", "mse_loss", "l1_loss", "smooth_l1_loss",
        "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
        "kl_div", "scaled_dot_product_attention",
    ],
    "nn.init": [
        "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_",
        "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    ],
    "nn.utils": ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"],
    "nn.utils.rnn": [
        "PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
        "unpad_sequence", "unpack_sequence",
    ],
    "optim": ["Optimizer", "SGD", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adadelta", "Adagrad", "RMSprop",
              "ASGD", "Rprop", "LBFGS"],
    "optim.lr_scheduler": [
        "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
        "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR",
    ],
    "utils.data": [
        "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
        "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
        "BatchSampler", "default_collate", "default_convert", "get_worker_info",
    ],
    "cuda": ["is_available", "device_count", "manual_seed", "manual_seed_all", "empty_cache", "synchronize"],
    "backends.mps": ["is_available", "is_built"],
    "accelerator": ["is_available"],
    "serialization": ["add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals"],
    "onnx": ["export"],
    "autograd": ["Function"],
}

# qualified name -> why deepnotes' signature (or behaviour) differs from PyTorch's
DIFFERS = {}

# PyTorch's GPU and performance knobs, not accepted by deepnotes (NumPy on the CPU has none of them)
KNOBS = {"out", "foreach", "fused", "capturable", "differentiable"}

DIFFERS.update({
    "save.pickle_module": "deepnotes never pickles: the default is None and any other value raises",
    "load.weights_only": "PyTorch's None means True since 2.6; deepnotes states True (nothing runs code from the "
                         "file either way)",
    "Tensor.backward.inputs": "backward(inputs=...) (accumulating into a subset of leaves) is not supported; "
                              "use deepnotes.autograd.grad(outputs, inputs)",
    "Tensor.split.split_size": "the parameter is named split_size_or_sections, as in deepnotes.split; positional "
                               "calls (the usual form) work the same",
    "nn.BatchNorm1d.affine": "None stands for the class's own default (True for BatchNorm, False for InstanceNorm)",
    "nn.BatchNorm1d.track_running_stats": "None stands for the class's own default, as for affine",
    "nn.BatchNorm2d.affine": "None stands for the class's own default (True for BatchNorm)",
    "nn.BatchNorm2d.track_running_stats": "None stands for the class's own default, as for affine",
    "nn.InstanceNorm1d.affine": "None stands for the class's own default (False for InstanceNorm)",
    "nn.InstanceNorm1d.track_running_stats": "None stands for the class's own default, as for affine",
    "nn.InstanceNorm2d.affine": "None stands for the class's own default (False for InstanceNorm)",
    "nn.InstanceNorm2d.track_running_stats": "None stands for the class's own default, as for affine",
    "nn.GroupNorm.bias": "GroupNorm(bias=False) (PyTorch 2.13's new switch) is not supported; the affine shift "
                         "is always learned when affine=True",
    "nn.TransformerEncoderLayer.activation": "the default is the string 'relu' (PyTorch's is the function "
                                             "F.relu); both forms are accepted",
    "nn.TransformerDecoderLayer.activation": "the default is the string 'relu' (PyTorch's is the function "
                                             "F.relu); both forms are accepted",
    "nn.Transformer.activation": "the default is the string 'relu' (PyTorch's is the function F.relu); both "
                                 "forms are accepted",
    "Module.named_parameters.remove_duplicate": "shared parameters are always listed once",
    "Module.named_buffers.remove_duplicate": "shared buffers are always listed once",
    "Module.modules.remove_duplicate": "shared modules are always listed once",
    "Module.register_forward_hook.always_call": "hooks are not called when forward raises",
    "Module.state_dict.destination": "state_dict() takes no arguments: it returns a new OrderedDict of detached "
                                     "tensors sharing memory with the parameters",
    "Module.state_dict.prefix": "state_dict() takes no arguments (prefix the keys yourself)",
    "Module.state_dict.keep_vars": "state_dict() always returns detached tensors (keep_vars=False)",
    "Module.load_state_dict.assign": "values are always copied into the existing parameters (assign=False)",
    "nn.functional.interpolate.antialias": "no anti-aliased downsampling; nearest and (bi)linear modes as PyTorch's",
    "utils.data.random_split.generator": "None means the global deepnotes generator (PyTorch's default object is "
                                         "its global generator too)",
})

"""`deepnotes compress`: train a small MLP, compress it every way, print accuracy, size and speed per format.

    deepnotes compress [--dataset digits|mnist1d] [--epochs 20] [--hidden 128] [--seed 0] [--json]

Formats: float32, float16, 90% global magnitude pruning (one-shot, and gradual while fine-tuning),
INT8 post-training quantization (per tensor, per channel, and the same model run in integers),
ternary (TWN) and binary (BWN) weights trained with the straight-through estimator. Inference time
is the median of 7 runs over the test set, float32 against the integer path.
"""
from __future__ import annotations

HELP = "compress a small MLP (pruning, fp16, int8, ternary, binary): accuracy, bytes and speed per format"


def register(subparsers):
    p = subparsers.add_parser("compress", help=HELP, description=HELP)
    p.add_argument("--dataset", choices=["digits", "mnist1d"], default="digits")
    p.add_argument("--epochs", type=int, default=20, help="training epochs of the float model (default 20)")
    p.add_argument("--hidden", type=int, default=128, help="width of the two hidden layers (default 128)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=cmd_compress)


def _median_seconds(fn, repeats=7):
    import time

    import numpy as np

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def cmd_compress(args) -> int:
    import copy
    import json

    import numpy as np

    import deepnotes as dn
    import deepnotes.nn as nn
    from deepnotes import data
    from deepnotes.claims.experiments import compression as C
    from deepnotes.compress import convert_int8, quantize_ptq, size

    if args.epochs < 1 or args.hidden < 1:
        print(f"deepnotes compress: --epochs and --hidden must be >= 1, got {args.epochs} and {args.hidden}")
        return 2
    split = data.get_dataset(args.dataset)
    xtr, ytr, xte, yte = split.x_train.astype(np.float32), split.y_train, split.x_test.astype(np.float32), split.y_test
    dn.manual_seed(args.seed)
    d, k = xtr.shape[1], int(split.num_classes)
    model = nn.Sequential(nn.Linear(d, args.hidden), nn.ReLU(), nn.Linear(args.hidden, args.hidden), nn.ReLU(),
                          nn.Linear(args.hidden, k))
    C.train(model, xtr, ytr, args.epochs, args.seed)
    ft = max(2, args.epochs // 5)
    rows = [("float32", C.accuracy(model, xte, yte), size.model_size(model, "fp32")),
            ("float16", C.fp16_accuracy(model, xte, yte), size.model_size(model, "fp16"))]
    one_shot = C.one_shot_pruned(model, 0.9)
    gradual = C.gradually_pruned(model, 0.9, xtr, ytr, ft, args.seed)
    rows += [("prune 90% one-shot", C.accuracy(one_shot, xte, yte), size.model_size(one_shot, "sparse_csr")),
             ("prune 90% gradual + fine-tune", C.accuracy(gradual, xte, yte), size.model_size(gradual, "sparse_csr"))]
    per_tensor = quantize_ptq(model, [xtr[:512]], per_channel=False)
    per_channel = quantize_ptq(model, [xtr[:512]], per_channel=True)
    integer = convert_int8(per_channel)
    rows += [("int8 PTQ per tensor", C.accuracy(per_tensor, xte, yte), size.model_size(model, "int8_per_tensor")),
             ("int8 PTQ per channel", C.accuracy(per_channel, xte, yte), size.model_size(model, "int8")),
             ("int8 integer path", C.accuracy(integer, xte, yte), integer.nbytes())]
    rows += [("ternary (TWN, STE)", C.lowbit_accuracy(copy.deepcopy(model), "ternary", xte, yte, xtr, ytr, ft,
                                                      args.seed), size.model_size(model, "ternary")),
             ("binary (BWN, STE)", C.lowbit_accuracy(copy.deepcopy(model), "bwn", xte, yte, xtr, ytr, ft, args.seed),
              size.model_size(model, "binary"))]
    xt = dn.tensor(xte)

    def float_forward():
        with dn.no_grad():
            model(xt)

    t_float, t_int = _median_seconds(float_forward), _median_seconds(lambda: integer(xte))
    base = rows[0][2]
    print(f"{'format':<30} {'test acc %':>10} {'bytes':>9} {'x smaller':>9}")
    for name, acc, nbytes in rows:
        print(f"{name:<30} {acc:>10.2f} {nbytes:>9d} {base / nbytes:>9.1f}")
    print(f"inference on {len(xte)} test rows: float32 {t_float * 1e3:.2f} ms, integer path {t_int * 1e3:.2f} ms "
          f"({t_int / t_float:.1f}x; NumPy's integer matmul has no BLAS kernel)")
    if args.json:
        print(json.dumps({"dataset": args.dataset, "formats": [{"format": n, "test_accuracy": a, "bytes": b}
                                                               for n, a, b in rows],
                          "float32_ms": t_float * 1e3, "int8_ms": t_int * 1e3}))
    return 0

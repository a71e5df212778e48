"""`deepnotes evaluate CHECKPOINT`: the classification report and the evaluation figures of a trained model.

    deepnotes evaluate runs/x/checkpoint.npz [--dataset digits] [--split test] [--out DIR] [--json]

The checkpoint written by `deepnotes train` carries its configuration (model, hidden sizes, data
set, seed, validation share, minority fraction), so the model and the very same data split are
rebuilt from it; `--dataset` overrides the data set (it must have the same input shape).
"""
from __future__ import annotations

HELP = "print a trained model's classification report and write confusion matrix, ROC and PR figures"


def register(subparsers):
    p = subparsers.add_parser("evaluate", help=HELP, description=HELP)
    p.add_argument("checkpoint", help="a checkpoint.npz written by `deepnotes train`")
    p.add_argument("--dataset", choices=["digits", "breast_cancer", "mnist1d"],
                   help="the data set (default: the one the checkpoint was trained on)")
    p.add_argument("--split", choices=["test", "validation"], default="test")
    p.add_argument("--metrics", default="accuracy,balanced_accuracy,f1_macro,auc,average_precision",
                   help="comma-separated metric names")
    p.add_argument("--out", help="folder for the figures (default: the checkpoint's folder)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=cmd_evaluate)


def predict_logits(model, x, batch_size=512):
    """The model's outputs on `x` in eval mode, without gradients, as a float64 array."""
    import numpy as np

    import deepnotes as dn

    model.eval()
    with dn.no_grad():
        return np.concatenate([model(dn.tensor(x[i:i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
                              ).astype(np.float64)


def evaluate_split(model, x, y, out_dir, metric_names=("accuracy",), prefix=""):
    """Predict once on (x, y): loss, accuracy, the requested metrics, the report and the figures."""
    import numpy as np

    import deepnotes as dn

    from .. import metrics
    from ..nn import functional as F
    from . import plots, streaming

    logits = predict_logits(model, x)
    result = {"loss": float(F.cross_entropy(dn.tensor(logits), dn.tensor(y.astype(np.int64))).item())}
    for name in metric_names:
        metric = streaming.Metric.from_name(name)
        metric.update(logits, y)
        result[name] = metric.compute()
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    result["accuracy"] = metrics.accuracy_score(y, pred)
    result["report"] = metrics.classification_report(y, pred, labels=np.arange(proba.shape[1]), digits=3,
                                                     zero_division=0)
    result["figures"] = plots.write_evaluation_figures(y, proba, out_dir, prefix=prefix)
    return result


def cmd_evaluate(args):
    import json
    import sys
    from pathlib import Path

    from .. import train
    from ..cli import _parse_hidden, load_train_data
    from ..models import build_model

    state = train.load(args.checkpoint)
    config = state.get("config") or {}
    if "model" not in config:
        print(f"evaluate: {args.checkpoint} has no training configuration (not written by `deepnotes train`)",
              file=sys.stderr)
        return 2
    dataset = args.dataset or config.get("dataset", "digits")
    seed = int(config.get("seed", 0))
    split, _, val_idx = load_train_data(dataset, seed, config.get("val_split", 0.0) or 0.0,
                                        config.get("minority_fraction"))
    model = build_model(config["model"], split.x_train.shape[1:], split.num_classes,
                        hidden=_parse_hidden(config.get("hidden", "128,128")), dropout=config.get("dropout", 0.0))
    model.load_state_dict(state["model"])
    if args.split == "test":
        x, y = split.x_test, split.y_test
    else:
        if not len(val_idx):
            print("evaluate: the run had no validation split (--val-split 0)", file=sys.stderr)
            return 2
        x, y = split.x_train[val_idx], split.y_train[val_idx]
    out = Path(args.out) if args.out else Path(args.checkpoint).parent
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    result = evaluate_split(model, x, y, out, names, prefix=f"{args.split}_")
    stream = sys.stderr if args.json else sys.stdout
    print(f"{config['model']} on {dataset} ({args.split} split, {len(y)} samples, class counts "
          f"{[int((y == k).sum()) for k in range(split.num_classes)]})", file=stream)
    print(result["report"], file=stream)
    print("  ".join(f"{k} {result[k]:.4f}" for k in ["loss", *names]), file=stream)
    print("figures: " + ", ".join(result["figures"].values()), file=stream)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "report"}))
    return 0

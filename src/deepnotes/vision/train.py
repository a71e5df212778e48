"""Train and evaluate the single-shot detector on the shapes data set (`deepnotes train --model ssd`).

`fit_detector` runs Adam over shuffled mini-batches with a tqdm progress bar per epoch and a
cosine learning-rate decay; `evaluate_detector` returns COCO's AP numbers with the shapes data
set's size buckets (small < 8 x 8 px, medium up to 16 x 16, large above; see
`deepnotes.data.shapes`); `draw_detections` writes a PNG grid of test images with the true boxes
(green) and the predicted ones (red, with class and score).

Both run with BLAS on one thread (`threadpoolctl`): the products of this small network are
(8-64) x (9-288) by (9-288) x (batch * H * W) matrices, too thin for a second thread to pay,
and on a busy 2-core machine a two-thread BLAS made a training step ~15x slower in wall time
(measured: 160 images, one epoch of the FPN head at width 8, 1.9 s on one thread vs 23-28 s on two).
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import deepnotes as dn
from deepnotes import optim

from .detector import SingleShotDetector
from .evaluation import mean_average_precision

AP_KEYS = ("map", "map_50", "map_75", "map_small", "map_medium", "map_large",
           "map_50_small", "map_50_medium", "map_50_large")  # the last three: AP at IoU 0.5 by size


def fit_detector(model, images, targets, epochs=10, lr=3e-3, batch_size=32, seed=0, progress=True,
                 weight_decay=1e-4):
    """Train `model` (a `SingleShotDetector`) in place; returns the mean loss per epoch.

    Args:
        images: (N, C, H, W) float32.  targets: N dicts {"boxes", "labels"} (labels from 0).
    """
    if epochs < 0 or batch_size < 1 or not lr > 0:
        raise ValueError(f"fit_detector: need epochs >= 0, batch_size >= 1, lr > 0, got {epochs}, {batch_size}, {lr}")
    if len(images) != len(targets):
        raise ValueError(f"fit_detector: {len(images)} images but {len(targets)} targets")
    labels, offsets = model.targets(targets, images.shape[2:])
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = max(epochs * math.ceil(len(images) / batch_size), 1)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    rng = np.random.default_rng(seed)
    history = []
    model.train()
    with threadpool_limits(1, user_api="blas"):
        for epoch in range(epochs):
            history.append(_epoch(model, opt, sched, images, labels, offsets, rng.permutation(len(images)),
                                  batch_size, f"epoch {epoch + 1}/{epochs}", progress))
    return history


def _epoch(model, opt, sched, images, labels, offsets, order, batch_size, desc, progress):
    """One pass over `images` in `order`; returns the mean loss per image."""
    total, count = 0.0, 0
    bar = tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", disable=not progress, leave=False,
               file=sys.stderr)
    for start in bar:
        idx = order[start:start + batch_size]
        logits, pred = model(dn.tensor(images[idx]))
        loss, cls, box = model.loss(logits, pred, labels[idx], offsets[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        total += float(loss.item()) * len(idx)
        count += len(idx)
        bar.set_postfix(loss=f"{total / count:.3f}", cls=f"{cls.item():.3f}", box=f"{box.item():.3f}")
    bar.close()
    return total / max(count, 1)


def evaluate_detector(model, images, targets, area_ranges=None, scales=(1,), batch_size=64, iou_thresholds=None):
    """(COCO AP dict of `mean_average_precision`, the detections) of the model on `images`.

    With the default `iou_thresholds` (COCO's 0.5:0.95) the dict also holds AP at IoU 0.5 by
    object size: map_50_small, map_50_medium, map_50_large.
    """
    detections = []
    with threadpool_limits(1, user_api="blas"):
        for start in range(0, len(images), batch_size):
            detections += model.detect(images[start:start + batch_size], scales=scales)
    ap = mean_average_precision(detections, targets, iou_thresholds, area_ranges)
    if iou_thresholds is None:
        ap50 = mean_average_precision(detections, targets, [0.5], area_ranges)
        ap.update({f"map_50_{size}": ap50[f"map_{size}"] for size in ("small", "medium", "large")})
    return ap, detections


def draw_detections(images, targets, detections, path, classes, columns=4, rows=2, min_score=0.3, per_image=10):
    """PNG grid: true boxes in green; the best `per_image` predicted boxes with score >= min_score in
    red, labelled with class and score."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n = min(columns * rows, len(images))
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, ax in zip(range(n), axes.ravel()):
        ax.imshow(images[i, 0], cmap="gray", extent=(0, images.shape[3], images.shape[2], 0))
        for b in targets[i]["boxes"]:
            ax.add_patch(Rectangle(b[:2], b[2] - b[0], b[3] - b[1], fill=False, color="lime", lw=1.2))
        det = detections[i]
        for b, s, c in zip(det["boxes"][:per_image], det["scores"][:per_image], det["labels"][:per_image]):
            if s >= min_score:
                ax.add_patch(Rectangle(b[:2], b[2] - b[0], b[3] - b[1], fill=False, color="red", lw=1.0))
                ax.text(b[0], b[1] - 0.5, f"{classes[c][:3]} {s:.2f}", color="red", fontsize=6)
    fig.suptitle("green: ground truth, red: detections", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def cli_train(args) -> int:
    """`deepnotes train --model ssd --dataset shapes`: train, print AP by size, write PNG + JSON.

    Reads args.epochs, args.lr, args.batch_size, args.seed, args.out, args.json,
    args.no_progress; optional args.head ('single' or 'fpn', default 'fpn'), args.n_train
    (2000), args.n_test (300), args.width (16).  With the single-scale head the test set is also
    evaluated on a 2x image pyramid (keys pyramid_map, ...).
    """
    from deepnotes.data.shapes import load_shapes

    head = getattr(args, "head", None) or "fpn"
    n_train = getattr(args, "n_train", None) or 2000
    n_test = getattr(args, "n_test", None) or 300
    width = getattr(args, "width", None) or 16
    report = sys.stderr if args.json else sys.stdout
    dn.manual_seed(args.seed)
    split = load_shapes(n_train=n_train, n_test=n_test, seed=args.seed)
    model = SingleShotDetector(split.num_classes, head=head, width=width)
    print(f"training ssd ({head} head, width {width}) on shapes: {n_train} train / {n_test} test images, "
          f"{args.epochs} epochs, AdamW lr={args.lr}, batch {args.batch_size}, seed {args.seed}", file=report)
    start, cpu = time.perf_counter(), time.process_time()
    history = fit_detector(model, split.x_train, split.y_train, epochs=args.epochs, lr=args.lr,
                           batch_size=args.batch_size, seed=args.seed, progress=not args.no_progress)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    ap, detections = evaluate_detector(model, split.x_test, split.y_test, split.area_ranges)
    extra = {}
    if head == "single":  # the same model on a 2x image pyramid at test time
        pyramid, _ = evaluate_detector(model, split.x_test, split.y_test, split.area_ranges, scales=(1, 2))
        extra = {f"pyramid_{k}": round(pyramid[k], 4) for k in AP_KEYS}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = draw_detections(split.x_test, split.y_test, detections, out / "detections.png", split.classes)
    result = {**{k: round(ap[k], 4) for k in AP_KEYS}, **extra, "epochs": args.epochs, "seconds": round(seconds, 3),
              "cpu_seconds": round(cpu, 3),
              "dataset": "shapes", "model": "ssd", "head": head, "train_loss": [round(v, 4) for v in history],
              "detections_png": str(png), "metrics_json": str(out / "metrics.json")}
    (out / "metrics.json").write_text(json.dumps(result, indent=1))
    print(" ".join(f"{k} {ap[k]:.3f}" for k in AP_KEYS) + f"  ({seconds:.1f} s training, {cpu:.1f} s CPU)",
          file=report)
    if extra:
        print("with a 2x image pyramid: " + " ".join(f"{k} {pyramid[k]:.3f}" for k in AP_KEYS), file=report)
    print(f"wrote {png} and {out / 'metrics.json'}", file=report)
    if args.json:
        print(json.dumps(result))
    return 0

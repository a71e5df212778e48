"""Claim K49: a detector that predicts from one coarse feature map misses small objects.

Two measurements per seed, on the synthetic shapes data set (`deepnotes.data.shapes`: squares,
circles and triangles of 4 to 32 px on 64 x 64 noisy images):

1. Anchors, no training: for SSD-style default boxes on the 8 x 8 and 4 x 4 maps of a 64-pixel
   image (`SSDAnchorGenerator`, s_min 0.2, s_max 0.5, ratios 1, 2, 1/2, plus the extra box),
   the number of anchors with IoU >= 0.5 (SSD's positive rule, before the "best anchor" rescue)
   per ground-truth box, by object size.
2. Training: the same small single-shot detector (`deepnotes.vision.detector`) with its head on
   the one stride-8 map ("single"), with an FPN head on strides 4 and 8 ("fpn"), and the
   single-scale model run on a 2x image pyramid at test time (the image and its 2x bilinear
   enlargement, boxes merged by NMS); AP at IoU 0.5 (COCO's 101-point rule) on the small
   (< 8 x 8 px), medium and large (> 16 x 16 px) test objects.

Precondition: a size gap between detectors that do not detect anything says nothing, so both
trained heads must find the objects they are built for: each arm's AP50 on medium and on large
objects at least `MIN_AP50_TRAINED` (a random-box detector scores ~0).  When that does not hold
the claim is 'mixed' whatever the other criteria say (`_combine`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import deepnotes as dn
from deepnotes.claims import HOLDS, MIXED, Criterion, all_of, any_of, claim
from deepnotes.data.shapes import AREA_RANGES, load_shapes
from deepnotes.vision import SSDAnchorGenerator, box_iou
from deepnotes.vision.detector import SingleShotDetector
from deepnotes.vision.train import evaluate_detector, fit_detector

BUCKETS = ("small", "medium", "large")
# per budget: training / test images, epochs, backbone width, batch size
# quick: calibrated so both heads detect (AP50 on medium / large objects well above chance) in
# ~40 s of one core per seed; 400 images x 3 epochs of batch 16 gave AP50 <= 0.05 (untrained)
SETTINGS = {"tiny": dict(n_train=8, n_test=8, epochs=1, width=4, batch=8),
            "quick": dict(n_train=800, n_test=120, epochs=6, width=8, batch=8),
            "full": dict(n_train=3000, n_test=500, epochs=10, width=16, batch=32)}
ARMS = ("single", "pyramid", "fpn")
MIN_AP50_TRAINED = 0.3  # the precondition: AP50 on medium and large objects of both trained heads


def ssd_anchors(image_size=64):
    """The SSD-style default boxes of a 64-pixel image: 8 x 8 and 4 x 4 maps, (N, 4) xyxy."""
    gen = SSDAnchorGenerator(image_size, num_maps=2, s_min=0.2, s_max=0.5, aspect_ratios=((1.0, 2.0, 0.5),))
    return np.concatenate(gen([image_size // 8, image_size // 16]), 0)


def positives_by_size(anchors, targets, threshold=0.5):
    """Mean number of anchors with IoU >= threshold per ground truth, and the fraction of ground
    truths with none, per size bucket (area ranges of the shapes data set)."""
    counts, areas = [], []
    for t in targets:
        boxes = np.asarray(t["boxes"], np.float64).reshape(-1, 4)
        if len(boxes):
            counts.append((box_iou(anchors, boxes) >= threshold).sum(0))
            areas.append((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    counts, areas = np.concatenate(counts), np.concatenate(areas)
    out = {}
    for name in BUCKETS:
        lo, hi = AREA_RANGES[name]
        sel = (areas >= lo) & (areas <= hi)
        out[name] = (float(counts[sel].mean()) if sel.any() else 0.0, float((counts[sel] == 0).mean()) if sel.any() else 0.0)
    return out


def _ap50(ap, name):
    value = ap[f"map_{name}"]
    return max(value, 0.0)  # -1 (no objects of that size) cannot happen with >= 16 images; map it to 0


def _combine(verdicts):
    """Claim = the anchor gap AND the AP gap AND (FPN OR the pyramid recovers small objects), and
    'mixed' (the experiment says nothing) unless the precondition `detectors_trained` holds."""
    if verdicts["detectors_trained"] != HOLDS:
        return MIXED
    recovery = any_of({k: verdicts[k] for k in ("fpn_recovers_small", "pyramid_recovers_small")})
    return all_of({"positives_gap": verdicts["positives_gap"], "single_small_gap": verdicts["single_small_gap"],
                   "recovery": recovery})


@claim(
    "K49", topics=["D2", "D4"],
    title_en="One coarse feature map misses small objects; FPN or an image pyramid recovers part",
    title_zh="只用一张粗特征图的检测器会漏检小目标；FPN 或图像金字塔能找回一部分",
    statement_en="A detector that predicts from one coarse feature map (SSD-style) misses small objects: positive "
                 "anchors per ground truth and AP fall with object size; multi-scale features (FPN) or an image "
                 "pyramid recover part of it.",
    statement_zh="只在一张粗分辨率特征图上预测的检测器（SSD 式）容易漏检小目标：每个真值框分到的正样本 anchor 数"
                 "和 AP 都随目标变小而下降；多尺度特征（FPN）或图像金字塔可以找回一部分。",
    criteria=[
        Criterion("positives_gap", 1.0,
                  "SSD-style default boxes (8x8 and 4x4 maps of a 64-px image): a large object (> 16x16 px) gets "
                  "at least 1 more anchor with IoU >= 0.5 than a small one (< 8x8 px), on average",
                  "SSD 式默认框（64 像素图像上 8x8 与 4x4 两张特征图）：大目标（> 16x16 像素）平均比小目标"
                  "（< 8x8 像素）至少多 1 个 IoU >= 0.5 的 anchor"),
        Criterion("single_small_gap", 0.10,
                  "single-scale head (stride 8): AP50 on large objects minus AP50 on small objects >= 0.10",
                  "单尺度检测头（步长 8）：大目标 AP50 减小目标 AP50 >= 0.10"),
        Criterion("fpn_recovers_small", 0.05,
                  "FPN head (strides 4 and 8): AP50 on small objects at least 0.05 above the single-scale head's",
                  "FPN 检测头（步长 4 和 8）：小目标 AP50 比单尺度检测头至少高 0.05"),
        Criterion("pyramid_recovers_small", 0.05,
                  "the single-scale model on a 2x image pyramid at test time: AP50 on small objects at least "
                  "0.05 above the same model on the image alone",
                  "同一个单尺度模型在测试时加 2 倍图像金字塔：小目标 AP50 比只用原图至少高 0.05"),
        Criterion("detectors_trained", 0.0,
                  f"precondition: both heads detect, AP50 on medium and on large objects >= {MIN_AP50_TRAINED} for "
                  f"each (effect: the smallest of the four minus {MIN_AP50_TRAINED}); otherwise the claim is 'mixed'",
                  f"前提：两种检测头都真的学会了检测，单尺度和 FPN 在中、大目标上的 AP50 都 >= {MIN_AP50_TRAINED}"
                  f"（效应 = 四个值中最小的减 {MIN_AP50_TRAINED}）；不满足时结论判为 mixed"),
    ],
    combine=_combine,
    method_en="Per seed: a fresh shapes data set (quick: 800 training and 120 test images of 64x64 px, 2-5 objects "
              "of 4-32 px each). Anchor count: every test ground truth against SSD default boxes (s_min 0.2, s_max "
              "0.5, ratios 1, 2, 1/2 and the sqrt(s_k s_k+1) box). Training: the same backbone (stride-2 conv "
              "stages, width 8 at quick) with a single-scale head on the stride-8 map (6 square anchors, 5-32 px) "
              "or an FPN head on strides 4 and 8 (3 anchors per level), Smooth L1 box loss and cross-entropy with "
              "3:1 hard negative mining, AdamW (lr 3e-3, cosine), 6 epochs of batch 8 at quick; same data and data order for "
              "both heads. Evaluation: COCO's 101-point AP at IoU 0.5 per size bucket (small < 64 px^2, medium "
              "64-256, large > 256). The verdict is 'mixed' whenever the precondition fails (a head with AP50 "
              "below 0.3 on medium or large objects has not learned to detect, and its small-object gap means "
              "nothing).",
    method_zh="每个种子：重新生成 shapes 数据集（quick：800 张训练图、120 张测试图，64x64 像素，每张 2-5 个 4-32 像素的目标）。"
              "anchor 计数：每个测试真值框与 SSD 默认框（s_min 0.2，s_max 0.5，长宽比 1、2、1/2 再加 sqrt(s_k s_k+1) 框）"
              "计算 IoU。训练：同一个骨干网络（步长 2 的卷积阶段，quick 时宽度 8），检测头要么只在步长 8 的特征图上"
              "（6 个正方形 anchor，5-32 像素），要么用 FPN 在步长 4 和 8 两层上（每层 3 个 anchor）；框回归用 Smooth L1，"
              "分类用交叉熵加 3:1 难负样本挖掘，AdamW（学习率 3e-3，余弦衰减），quick 训练 6 个 epoch、batch 8；两种检测头"
              "用同样的数据和数据顺序。评估：COCO 101 点插值、IoU 0.5 的 AP，按目标大小分桶（小 < 64 像素^2，"
              "中 64-256，大 > 256）。若前提不成立（某个检测头在中或大目标上 AP50 低于 0.3，说明它还没学会检测，"
              "它在小目标上的差距没有意义），结论判为 mixed。",
    caveats_en="Synthetic shapes, a tiny network and a short CPU training: the absolute APs say nothing about "
               "COCO; only the gaps between arms trained the same way are the evidence. Small "
               "objects are also intrinsically harder (a 4-px triangle is barely a triangle), so part of the size "
               "gap is not the feature map's fault. The pyramid doubles the test-time cost.",
    caveats_zh="合成的几何图形、很小的网络、很短的 CPU 训练：AP 绝对值不能代表 COCO 上的表现；"
               "证据只是同样训练方式下各组之间的差距。小目标本身也更难（4 像素的三角形几乎看不出是三角形），"
               "所以大小之间的差距不全是特征图分辨率造成的。图像金字塔让测试开销翻倍。",
    code=["deepnotes.vision.anchors.SSDAnchorGenerator", "deepnotes.vision.detector.SingleShotDetector",
          "deepnotes.vision.pyramid.upsample2x", "deepnotes.nn.FPN", "deepnotes.vision.evaluation.mean_average_precision"],
    seconds={"tiny": 1, "quick": 30, "full": 900},
    references=["Liu et al., SSD: Single Shot MultiBox Detector, ECCV 2016",
                "Lin et al., Feature Pyramid Networks for Object Detection, CVPR 2017",
                "Singh & Davis, An Analysis of Scale Invariance in Object Detection (SNIP), CVPR 2018"],
)
def k49(seed: int, budget: str) -> dict:
    cfg = SETTINGS[budget]
    split = load_shapes(n_train=cfg["n_train"], n_test=cfg["n_test"], seed=seed)
    positives = positives_by_size(ssd_anchors(), split.y_test)
    metrics = {f"anchors/{k}/positives_per_gt": v[0] for k, v in positives.items()}
    metrics.update({f"anchors/{k}/no_positive_fraction": v[1] for k, v in positives.items()})
    aps = {}
    for head in ("single", "fpn"):
        dn.manual_seed(seed)
        model = SingleShotDetector(split.num_classes, head=head, width=cfg["width"])
        fit_detector(model, split.x_train, split.y_train, epochs=cfg["epochs"], lr=3e-3,
                     batch_size=cfg["batch"], seed=seed, progress=False)
        ap, _ = evaluate_detector(model, split.x_test, split.y_test, AREA_RANGES, iou_thresholds=[0.5])
        aps[head] = ap
        if head == "single":
            aps["pyramid"], _ = evaluate_detector(model, split.x_test, split.y_test, AREA_RANGES, scales=(1, 2),
                                                  iou_thresholds=[0.5])
    for arm in ARMS:
        metrics[f"{arm}/ap50"] = max(aps[arm]["map"], 0.0)
        for name in BUCKETS:
            metrics[f"{arm}/ap50_{name}"] = _ap50(aps[arm], name)
    effects = {
        "positives_gap": positives["large"][0] - positives["small"][0],
        "single_small_gap": metrics["single/ap50_large"] - metrics["single/ap50_small"],
        "fpn_recovers_small": metrics["fpn/ap50_small"] - metrics["single/ap50_small"],
        "pyramid_recovers_small": metrics["pyramid/ap50_small"] - metrics["single/ap50_small"],
        "detectors_trained": min(metrics[f"{arm}/ap50_{name}"] for arm in ("single", "fpn")
                                 for name in ("medium", "large")) - MIN_AP50_TRAINED,
    }
    series = {arm: [metrics[f"{arm}/ap50_{name}"] for name in BUCKETS] for arm in ARMS}
    series["positives_per_gt"] = [positives[name][0] for name in BUCKETS]
    return {"metrics": metrics, "effects": effects, "series": series}


@k49.figures
def _figures(results, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(10, 4))
    x = np.arange(len(BUCKETS))
    pos = np.array([r["series"]["positives_per_gt"] for r in results])
    ax_a.bar(x, pos.mean(0), color="C0", alpha=0.6)
    for row in pos:
        ax_a.plot(x, row, "k.", ms=6)
    ax_a.set(xticks=x, xticklabels=BUCKETS, ylabel="anchors with IoU >= 0.5 per object",
             title="SSD default boxes: positives per ground truth")
    for i, arm in enumerate(ARMS):
        values = np.array([r["series"][arm] for r in results])
        ax_b.bar(x + (i - 1) * 0.26, values.mean(0), width=0.26, label=arm, color=f"C{i}", alpha=0.7)
        for row in values:
            ax_b.plot(x + (i - 1) * 0.26, row, "k.", ms=5)
    ax_b.set(xticks=x, xticklabels=BUCKETS, ylabel="AP50", title="AP50 by object size", ylim=(0, 1))
    ax_b.legend()
    fig.tight_layout()
    path = Path(out_dir) / "k49_small_objects.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


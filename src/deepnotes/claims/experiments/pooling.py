"""Claim K50: pooling gives (small) translation invariance, not scale invariance.

One seed trains two small CNNs on digits drawn larger on a canvas (8x8 -> 16x16, centred on 20x20):
the same convolutions with and without 2x2 max pooling. Their features (the input of the linear
head) and predictions are compared on shifted and on rescaled test images. The measurements are
small functions of this module so the tests can run them on a broken variant (pooling removed).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import data
from deepnotes.claims import Criterion, all_of, claim

from ._toolkit_a import pick, plot_bars
from .dropout import train_epochs

CANVAS, DIGIT = 20, 16
K50_SHIFTS = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, -1))  # one-pixel moves (rows, cols)
K50_SCALES = (0.8, 1.25)  # the digit drawn 13 or 20 pixels tall instead of 16


def draw(images: np.ndarray, side: int) -> np.ndarray:
    """(N, 1, 8, 8) digits resized (bilinear) to side x side and centred on a CANVAS x CANVAS canvas
    (cropped at the centre when side > CANVAS): (N, 1, CANVAS, CANVAS) float32."""
    big = F.interpolate(dn.tensor(images), size=(side, side), mode="bilinear", align_corners=False).numpy()
    out = np.zeros((len(images), 1, CANVAS, CANVAS), dtype=np.float32)
    if side <= CANVAS:
        o = (CANVAS - side) // 2
        out[:, :, o:o + side, o:o + side] = big
    else:
        o = (side - CANVAS) // 2
        out[...] = big[:, :, o:o + CANVAS, o:o + CANVAS]
    return out


def shift(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Translate by (rows, cols) pixels; the canvas border is empty, so nothing wraps into view."""
    return np.roll(images, (rows, cols), axis=(2, 3))


class SmallCNN(nn.Module):
    """Conv(1->8, 3x3) -> ReLU -> [MaxPool 2] -> Conv(8->16, 3x3) -> ReLU -> [MaxPool 2] -> Linear(10).

    `features(x)` is the flattened input of the head: (N, 16 * 5 * 5) with pooling, (N, 16 * 20 * 20)
    without. The convolutions are identical in both (same init for the same seed)."""

    def __init__(self, pool: bool):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()
        side = CANVAS // 4 if pool else CANVAS
        self.head = nn.Linear(16 * side * side, 10)

    def features(self, x):
        h = self.pool(self.conv1(x).relu())
        return self.pool(self.conv2(h).relu()).reshape(x.shape[0], -1)

    def forward(self, x):
        return self.head(self.features(x))


def outputs(model, x: np.ndarray) -> tuple:
    """(features f(x) (N, D), predicted classes (N,)) in eval mode, one forward pass."""
    model.eval()
    with dn.no_grad():
        features = model.features(dn.tensor(x))
        predicted = model.head(features).numpy().argmax(1)
    model.train()
    return features.numpy(), predicted


def change_and_agreement(base: tuple, moved: tuple) -> tuple:
    """Mean over images of ||f(moved) - f(x)|| / ||f(x)||, and the fraction of unchanged predictions,
    from two `outputs`."""
    norm = np.maximum(np.linalg.norm(base[0], axis=1), 1e-12)
    return float(np.mean(np.linalg.norm(moved[0] - base[0], axis=1) / norm)), float(np.mean(moved[1] == base[1]))


def sensitivities(model, x: np.ndarray, y: np.ndarray) -> dict:
    """Feature change, prediction agreement and accuracy, averaged over K50_SHIFTS and over K50_SCALES
    (accuracy also on the original images)."""
    original = draw(x, DIGIT)
    base = outputs(model, original)
    out = {"accuracy": float(np.mean(base[1] == y))}
    for name, images in (("shift", [shift(original, r, c) for r, c in K50_SHIFTS]),
                         ("scale", [draw(x, int(round(DIGIT * s))) for s in K50_SCALES])):
        moved = [outputs(model, m) for m in images]
        pairs = [change_and_agreement(base, m) for m in moved]
        out[f"{name}_change"] = float(np.mean([p[0] for p in pairs]))
        out[f"{name}_agreement"] = float(np.mean([p[1] for p in pairs]))
        out[f"{name}_accuracy"] = float(np.mean([np.mean(m[1] == y) for m in moved]))
    return out


def k50_arm(pool: bool, epochs: int, seed: int, split) -> dict:
    """Train `SmallCNN(pool)` on the canvas images with Adam and measure its sensitivities."""
    xtr, ytr, xte, yte = split
    dn.manual_seed(seed)
    model = SmallCNN(pool)
    train_epochs(model, draw(xtr, DIGIT), ytr, epochs, seed, lr=2e-3, batch=32)
    return sensitivities(model, xte, yte)


@claim(
    "K50", topics=["C4"],
    title_en="Pooling gives a little translation invariance, not scale invariance",
    title_zh="池化带来少量平移不变性，而不是尺度不变性",
    statement_en="Max pooling makes a CNN's features change less when the input moves by a pixel; it does much less "
                 "against a change of scale.",
    statement_zh="最大池化让输入平移一个像素时 CNN 的特征变化更小；对尺度变化的作用则小得多。",
    criteria=[
        Criterion("pooling_damps_translation", math.log10(1.5),
                  "one-pixel shifts change the head's input features at least 1.5x less with pooling than without "
                  "(effect log10(relative change without / with))",
                  "平移一个像素时，有池化的网络输出层输入特征的相对变化至少比无池化小 1.5 倍（效应 = log10(无池化 / 有池化)）"),
        Criterion("translation_not_scale", math.log10(1.25),
                  "pooling damps the feature change under one-pixel shifts at least 1.25x more than under a 0.8x / "
                  "1.25x rescaling (effect: log10 damping factor for shifts minus log10 damping factor for scales)",
                  "池化对平移一个像素的抑制倍数至少是对 0.8x / 1.25x 缩放的 1.25 倍（效应 = 平移的 log10 抑制倍数 - 缩放的 "
                  "log10 抑制倍数）"),
    ],
    combine=all_of,
    method_en="Per seed: digits (8x8) resized to 16 x 16 and centred on a 20 x 20 canvas. Two CNNs with the same "
              "convolutions and initialization (Conv 3x3 8 -> Conv 3x3 16, ReLU), one with a 2x2 max pool after "
              "each convolution and one without, each with a Linear head, trained with Adam (lr 2e-3, batch 32, "
              "4 epochs at quick, 8 at full). On the test images: the relative change of the head's input "
              "features and the fraction of unchanged predictions under six one-pixel shifts and under "
              "rescaling the digit to 0.8x and 1.25x (13 and 20 pixels).",
    method_zh="每个种子：把 digits（8x8）放大到 16 x 16，居中放在 20 x 20 的画布上。两个卷积层和初始化完全相同的 CNN（Conv "
              "3x3 8 -> Conv 3x3 16，ReLU），一个在每个卷积后接 2x2 最大池化，一个不接，各自接 Linear 输出层，用 Adam 训练"
              "（lr 2e-3，batch 32，quick 4 个 epoch，full 8 个）。在测试图像上测：六种一像素平移，以及把数字缩放到 0.8 倍和 "
              "1.25 倍（13 和 20 像素）时，输出层输入特征的相对变化和预测不变的比例。",
    caveats_en="Two 2x2 poolings on small images; deeper nets stack more pooling and get more shift tolerance, yet "
               "CNNs are known not to be fully shift-invariant (aliasing, Zhang 2019; Azulay & Weiss 2019). The "
               "comparison of shifts and scales depends on the sizes chosen (one pixel vs 25%). The net without "
               "pooling has a much larger head (6400 inputs instead of 400); its invariance also comes from "
               "training. Scale robustness comes from data augmentation or multi-scale designs, not pooling.",
    caveats_zh="只在小图上用了两次 2x2 池化；更深的网络池化更多，对平移更宽容，但 CNN 并不完全平移不变（混叠问题，Zhang 2019；"
               "Azulay & Weiss 2019）。平移与缩放的对比取决于所选的幅度（一个像素对 25%）。无池化网络的输出层大得多（6400 个"
               "输入对 400 个），它的不变性也部分来自训练。对尺度的鲁棒性来自数据增强或多尺度设计，不是池化。",
    code=["deepnotes.nn.MaxPool2d", "deepnotes.nn.Conv2d", "deepnotes.nn.functional.interpolate"],
    seconds={"tiny": 1, "quick": 20, "full": 60},
    references=["Boureau, Ponce & LeCun, A Theoretical Analysis of Feature Pooling in Visual Recognition, ICML 2010",
                "Zhang, Making Convolutional Networks Shift-Invariant Again, ICML 2019",
                "Azulay & Weiss, Why do deep convolutional networks generalize so poorly to small image "
                "transformations?, JMLR 2019"],
)
def k50(seed: int, budget: str) -> dict:
    split = data.load_digits(flatten=False)
    xtr, ytr = split.x_train, split.y_train.astype(np.int64)
    xte, yte = split.x_test, split.y_test.astype(np.int64)
    if budget == "tiny":
        rows = np.random.default_rng(seed).permutation(len(xtr))[:64]
        xtr, ytr, xte, yte = xtr[rows], ytr[rows], xte[:32], yte[:32]
    epochs = pick(budget, 1, 4, 8)
    arms = {pool: k50_arm(pool, epochs, seed, (xtr, ytr, xte, yte)) for pool in (True, False)}
    metrics = {f"{'pool' if pool else 'no_pool'}_{k}": v for pool, r in arms.items() for k, v in r.items()}
    damp_shift = math.log10(arms[False]["shift_change"] / max(arms[True]["shift_change"], 1e-12))
    damp_scale = math.log10(arms[False]["scale_change"] / max(arms[True]["scale_change"], 1e-12))
    effects = {"pooling_damps_translation": damp_shift, "translation_not_scale": damp_shift - damp_scale}
    return {"metrics": metrics, "effects": effects, "series": {}}


@k50.figures
def k50_figures(results, out_dir):
    change = plot_bars(results, ["pool_shift_change", "no_pool_shift_change", "pool_scale_change",
                                 "no_pool_scale_change"],
                       ["pool, 1-px shift", "no pool, 1-px shift", "pool, rescale", "no pool, rescale"],
                       Path(out_dir) / "k50_feature_change.png",
                       "K50: relative change of the head's input features", "||f(Tx) - f(x)|| / ||f(x)||")
    agree = plot_bars(results, ["pool_shift_agreement", "no_pool_shift_agreement", "pool_scale_agreement",
                                "no_pool_scale_agreement"],
                      ["pool, 1-px shift", "no pool, 1-px shift", "pool, rescale", "no pool, rescale"],
                      Path(out_dir) / "k50_prediction_agreement.png",
                      "K50: fraction of predictions unchanged", "agreement")
    return [change, agree]

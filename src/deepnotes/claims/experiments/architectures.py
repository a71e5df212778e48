"""Claims on architecture choices: K29 (residual connections and the degradation problem) and K30
(parameter count vs input size). Pooling and invariance (K50) is in `pooling.py`.

Each claim runs one seed; the measurements are small functions of this module so the tests can
run them on deliberately broken variants (the shortcut removed, the dense head swapped in).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import optim
from deepnotes.claims import Criterion, all_of, claim
from deepnotes.claims.verdict import HOLDS, MIXED

from ._toolkit_a import accuracy, log_tol_effect, pick, plot_bars, plot_curves
from ._toolkit_c import digits_split, fit, log_ratio, loss_on


# =============================================================================================== K29
class DeepMLP(nn.Module):
    """Linear(in, width) -> [BN] -> ReLU, then `depth` layers h <- ReLU(s h + [BN](Linear(h))), then
    Linear(width, out). s = 1 with `shortcut` (a residual block of one layer, He et al. 2016), s = 0 for
    the plain net: the two share every parameter and differ only by the identity path.

    Shapes: x (N, in) -> logits (N, out)."""

    def __init__(self, in_features: int, width: int, depth: int, out_features: int, norm: bool = True,
                 shortcut: bool = True):
        super().__init__()
        self.shortcut = shortcut
        self.stem = nn.Sequential(nn.Linear(in_features, width), *([nn.BatchNorm1d(width)] if norm else []), nn.ReLU())
        self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(width, width), *([nn.BatchNorm1d(width)] if norm else []))
                                     for _ in range(depth)])
        self.head = nn.Linear(width, out_features)

    def forward(self, x):
        h = self.stem(x)
        for block in self.blocks:
            h = (h + block(h)).relu() if self.shortcut else block(h).relu()
        return self.head(h)


def k29_run(depth: int, shortcut: bool, norm: bool, lr: float, epochs: int, seed: int, split, width: int = 32,
            batch: int = 64) -> dict:
    """Train `DeepMLP` with SGD (momentum 0.9) for `epochs` epochs; the training loss over the whole
    training set (eval mode) at the start and end, test accuracy, and whether it diverged."""
    xtr, ytr, xte, yte = split
    dn.manual_seed(seed)
    model = DeepMLP(xtr.shape[1], width, depth, 10, norm=norm, shortcut=shortcut)
    start = loss_on(model, xtr, ytr)
    steps = epochs * (len(xtr) // batch)
    out = fit(model, xtr, ytr, optim.SGD(model.parameters(), lr=lr, momentum=0.9), steps, batch,
              np.random.default_rng(seed))
    final = 10.0 if out["diverged"] else loss_on(model, xtr, ytr)
    final = final if math.isfinite(final) else 10.0
    return {"start_loss": start, "train_loss": min(final, 10.0), "diverged": out["diverged"],
            "test_accuracy": accuracy(model, xte, yte), "losses": out["losses"]}


def best_of(runs: list) -> dict:
    """The run with the lowest final training loss (the best learning rate of the sweep)."""
    return min(runs, key=lambda r: r["train_loss"])


def k29_combine(verdicts: dict) -> str:
    """If the plain deep net with BN does not train stably, a higher training loss would be
    instability, not degradation: the experiment then says nothing ('mixed'); otherwise all_of."""
    if verdicts["plain_deep_trains"] != HOLDS:
        return MIXED
    return all_of({k: v for k, v in verdicts.items() if k != "plain_deep_trains"})


K29_LRS = (0.01, 0.1)


@claim(
    "K29", topics=["I4", "I2"],
    title_en="Residual connections remove the degradation problem of deep plain nets",
    title_zh="残差连接解决深层普通网络的退化问题",
    statement_en="A deeper plain network (with BatchNorm, so it does not diverge) reaches a higher training loss than "
                 "a shallow one: the degradation problem. The same network with identity shortcuts does not.",
    statement_zh="更深的普通网络（加了 BN，不会发散）训练损失反而比浅的高，这就是退化问题；"
                 "加上恒等捷径的同一网络没有这个问题。",
    criteria=[
        Criterion("plain_degrades", math.log10(2.0),
                  "plain net with BN: the deep net's final training loss is at least 2x the shallow net's (effect "
                  "log10(deep / shallow), each at its best learning rate)",
                  "带 BN 的普通网络：深网络最终训练损失至少是浅网络的 2 倍（效应 = log10(深 / 浅)，各取最优学习率）"),
        Criterion("residual_fixes", math.log10(2.0),
                  "at the deep setting the residual net's training loss is at least 2x lower than the plain net's",
                  "深层设置下，残差网络的训练损失至少比普通网络低 2 倍"),
        Criterion("plain_deep_trains", 0.0,
                  "precondition: the deep plain net with BN trains stably (no divergence, training loss cut by at "
                  "least half; effect 1 - final / initial - 0.5)",
                  "前提：带 BN 的深层普通网络训练稳定（不发散，训练损失至少减半；效应 = 1 - 最终 / 初始 - 0.5）"),
    ],
    combine=k29_combine,
    method_en="Per seed: MLPs on standardized digits (1437 train), width 32: a stem Linear -> BN -> ReLU, then "
              "L layers h <- ReLU(s h + BN(Linear(h))) with s = 1 (residual) or 0 (plain), then a Linear head; "
              "L = 4 vs 16 (also 48 at full; 2 vs 8 at tiny). SGD with momentum 0.9, batch 64, 15 epochs (1 at "
              "tiny), learning rates 0.01 and 0.1, the better one kept per arm. The metric is the training "
              "loss on the whole training set: degradation is about fitting, not generalization. Separately, "
              "the plain deep net without BN at lr 0.1 (reported, not judged): if it diverges or stays at chance "
              "(loss ln 10), that is a failure of signal propagation, which BN removes, not degradation; the "
              "verdict is 'mixed' whenever the plain deep net with BN does not train stably. Design history: the "
              "first commit trained with batch 32; six minutes later the batch became 64 (and the effect given "
              "to a diverged run -1.0 -> -0.5), with no reason recorded, and whether a run was seen in between "
              "is not known. No seed diverges, so the second change cannot move the verdict.",
    method_zh="每个种子：在标准化的 digits（训练 1437）上训练宽 32 的 MLP：先 Linear -> BN -> ReLU，再堆 L 层 "
              "h <- ReLU(s h + BN(Linear(h)))，s = 1 为残差网络，s = 0 为普通网络，最后接 Linear 输出层；L = 4 对比 16"
              "（full 另加 48，tiny 为 2 对 8）。SGD 动量 0.9，batch 64，训练 15 个 epoch（tiny 为 1），学习率 0.01 和 0.1 各"
              "跑一次，每组取较好的那个。指标是整个训练集上的训练损失：退化说的是拟合能力，不是泛化。另外单独跑不加 BN 的深层"
              "普通网络（lr 0.1，只报告不判定）：它若发散或停在瞎猜水平（损失 ln 10），那是信号传播失败，BN 能解决，不是退化；"
              "若加了 BN 的深层普通网络都训练不稳定，结论判为 mixed。设计沿革：最初提交时 batch 为 32，六分钟后改成 64"
              "（发散时的效应值也从 -1.0 改成 -0.5），没有记录原因，也无从得知其间是否看过运行结果。没有任何种子发散，"
              "所以第二处改动不可能影响结论。",
    caveats_en="A one-layer residual block in an MLP on a small data set, not He et al.'s two-layer conv blocks on "
               "CIFAR-10/ImageNet. The learning rate is chosen from two values and the budget is fixed: with a "
               "longer schedule the plain deep net might close part of the gap. It does not show that residual "
               "nets generalize better, only that they fit.",
    caveats_zh="这里是 MLP 里的单层残差块、小数据集，不是 He 等人在 CIFAR-10/ImageNet 上用的两层卷积残差块。学习率只在两个值"
               "里选，训练预算固定：训练更久，深层普通网络也许能追上一部分。它只说明残差网络更容易拟合，不说明泛化更好。",
    code=["deepnotes.nn.BatchNorm1d", "deepnotes.nn.Linear", "deepnotes.optim.SGD"],
    seconds={"tiny": 1, "quick": 25, "full": 150},
    references=["He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition, CVPR 2016",
                "Balduzzi et al., The Shattered Gradients Problem, ICML 2017"],
)
def k29(seed: int, budget: str) -> dict:
    split = digits_split(standardize=True)
    if budget == "tiny":
        rows = np.random.default_rng(seed).permutation(len(split[0]))[:128]
        split = (split[0][rows], split[1][rows], split[2], split[3])
    depths = pick(budget, (2, 8), (4, 16), (4, 16, 48))
    epochs = pick(budget, 1, 15, 15)
    metrics, series, best = {}, {}, {}
    for depth in depths:
        for shortcut in (False, True):
            runs = [k29_run(depth, shortcut, True, lr, epochs, seed, split) for lr in K29_LRS]
            best[depth, shortcut] = r = best_of(runs)
            tag = f"{'residual' if shortcut else 'plain'}_depth_{depth}"
            metrics[f"{tag}_train_loss"] = r["train_loss"]
            metrics[f"{tag}_test_accuracy"] = r["test_accuracy"]
            series[f"{tag}_loss"] = r["losses"]
    shallow, deep = depths[0], depths[1]
    unstable = k29_run(deep, False, False, max(K29_LRS), epochs, seed, split)
    metrics["plain_no_bn_deep_diverged"] = float(unstable["diverged"])
    metrics["plain_no_bn_deep_train_loss"] = unstable["train_loss"]
    plain_deep = best[deep, False]
    effects = {"plain_degrades": log_ratio(plain_deep["train_loss"], best[shallow, False]["train_loss"]),
               "residual_fixes": log_ratio(plain_deep["train_loss"], best[deep, True]["train_loss"]),
               "plain_deep_trains": (-0.5 if plain_deep["diverged"] else
                                     1.0 - plain_deep["train_loss"] / plain_deep["start_loss"] - 0.5)}
    return {"metrics": metrics, "effects": effects, "series": series}


@k29.figures
def k29_figures(results, out_dir):
    keys = sorted(k for k in results[0]["metrics"] if k.endswith("_train_loss") and "no_bn" not in k)
    bars = plot_bars(results, keys, [k.replace("_train_loss", "").replace("_", " ") for k in keys],
                     Path(out_dir) / "k29_train_loss.png",
                     "K29: final training loss (best lr) - plain deep nets degrade, residual ones do not",
                     "training loss (log)", logy=True)
    curves = sorted(k for k in results[0]["series"] if k.endswith("_loss"))
    loss = plot_curves(results, curves, [k.replace("_loss", "").replace("_", " ") for k in curves],
                       Path(out_dir) / "k29_curves.png", "K29: training loss per step (best lr per arm)",
                       "SGD step", "minibatch loss", logy=True)
    return [bars, loss]


# =============================================================================================== K30
def conv_trunk(channels: tuple, in_channels: int = 3) -> list:
    """Conv2d(3x3, padding 1) -> ReLU -> MaxPool2d(2) for each width in `channels`."""
    layers, c = [], in_channels
    for width in channels:
        layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c = width
    return layers


def fully_convolutional(channels: tuple, classes: int) -> nn.Sequential:
    """The trunk, a 1x1 convolution to `classes` maps and global average pooling: (N, 3, H, W) -> (N, classes)
    for any H, W divisible by 2^len(channels)."""
    return nn.Sequential(*conv_trunk(channels), nn.Conv2d(channels[-1], classes, 1), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten())


def dense_head(channels: tuple, classes: int, size: int) -> nn.Sequential:
    """The trunk, Flatten and Linear(C H' W', classes), H' = size / 2^len(channels): built for one input size."""
    side = size // 2 ** len(channels)
    return nn.Sequential(*conv_trunk(channels), nn.Flatten(), nn.Linear(channels[-1] * side * side, classes))


def expected_count(channels: tuple, classes: int, size: int | None) -> int:
    """The count by formula: each conv C_out (9 C_in + 1); then the 1x1 head classes (C + 1) (size None)
    or the dense head classes (C H' W' + 1)."""
    total, c = 0, 3
    for width in channels:
        total += width * (9 * c + 1)
        c = width
    if size is None:
        return total + classes * (c + 1)
    side = size // 2 ** len(channels)
    return total + classes * (c * side * side + 1)


def runs_on(model, size: int) -> bool:
    """Whether `model` maps a (2, 3, size, size) batch to a (2, classes) output without an error."""
    try:
        with dn.no_grad():
            out = model(dn.tensor(np.zeros((2, 3, size, size), dtype=np.float32)))
    except ValueError:
        return False
    return out.shape[0] == 2 and out.ndim == 2


def k30_config(rng) -> dict:
    """One random trunk: its four parameter counts, the closed-form ones, and whether each net runs."""
    channels = tuple(int(c) for c in rng.choice([4, 8, 16, 32], size=int(rng.integers(2, 4))))
    size, classes = int(rng.choice([16, 24, 32])), 10
    fcn = fully_convolutional(channels, classes)
    dense_small, dense_large = dense_head(channels, classes, size), dense_head(channels, classes, 2 * size)
    count = nn.utils.count_parameters
    counts = {"fcn_small": count(fcn), "fcn_large": count(fully_convolutional(channels, classes)),
              "dense_small": count(dense_small), "dense_large": count(dense_large)}
    formula = {"fcn_small": expected_count(channels, classes, None), "fcn_large": expected_count(channels, classes, None),
               "dense_small": expected_count(channels, classes, size),
               "dense_large": expected_count(channels, classes, 2 * size)}
    return {"counts": counts, "formula_gap": max(abs(counts[k] - formula[k]) for k in counts),
            "fcn_runs": runs_on(fcn, size) and runs_on(fcn, 2 * size),
            "dense_refuses": runs_on(dense_small, size) and not runs_on(dense_small, 2 * size)}


@claim(
    "K30", topics=["C2"],
    title_en="A fully convolutional net's parameter count does not depend on the input size; a dense head's does",
    title_zh="全卷积网络的参数量与输入尺寸无关，接全连接层的网络则有关",
    statement_en="Doubling the input image size leaves a fully convolutional network's parameter count unchanged "
                 "(and it still runs), but changes the count of the same trunk followed by Flatten + Linear.",
    statement_zh="输入图像边长加倍，全卷积网络的参数量不变（而且照样能跑），同样的卷积主干接 Flatten + Linear 后参数量就变了。",
    criteria=[
        Criterion("fcn_unchanged", 0.0,
                  "in every random trunk, the fully convolutional net has exactly the same parameter count at size s "
                  "and 2s (effect log10(0.5 / largest |difference|))",
                  "每个随机主干上，全卷积网络在尺寸 s 和 2s 下参数量都完全相同（效应 = log10(0.5 / 最大 |差值|)）"),
        Criterion("dense_changes", 0.1,
                  "the Flatten + Linear net built for 2s has at least 10% more parameters than the one for s "
                  "(effect: relative change)",
                  "为 2s 构建的 Flatten + Linear 网络参数量至少比为 s 构建的多 10%（效应 = 相对变化）"),
        Criterion("counts_match_formula", 0.0,
                  "count_parameters equals the closed-form count C_out (k^2 C_in / groups + 1) summed over layers, "
                  "for all four nets (effect log10(0.5 / largest difference))",
                  "四个网络的 count_parameters 都等于按层求和的闭式 C_out (k^2 C_in / groups + 1)（效应 = "
                  "log10(0.5 / 最大差值)）"),
        Criterion("fcn_runs_on_larger", 0.5,
                  "the fully convolutional net built once runs on the doubled input, while the dense net built for "
                  "s refuses it (effect 1 if both, else -1)",
                  "同一个全卷积网络可以直接处理加倍后的输入，而为 s 构建的全连接网络会报错（都成立效应为 1，否则为 -1）"),
    ],
    combine=all_of,
    method_en="Per seed: 20 random trunks (50 at full, 3 at tiny), each of 2-3 blocks Conv2d 3x3 -> ReLU -> "
              "MaxPool2d(2) (widths 4-32), 10 classes, input size s in {16, 24, 32} and 2s. The fully "
              "convolutional net ends in a 1x1 convolution and global average pooling; the other in Flatten + "
              "Linear, built for each size. "
              "Counts from nn.utils.count_parameters, checked against the closed form. dense_changes is judged, "
              "as fixed before any data, on each seed's first trunk (the one trunk per seed of the first design, "
              "drawn identically); the relative change over all the trunks is reported, not judged. Design "
              "history: after the first runs this criterion was loosened to 'the count differs in every trunk'; "
              "that was against the rule (criteria are not loosened after seeing data), so the criterion fixed "
              "before the data is back, and its verdict is accepted whatever it is.",
    method_zh="每个种子：随机生成 20 个（full 50 个，tiny 3 个）主干，每个由 2-3 个 Conv2d 3x3 -> ReLU -> MaxPool2d(2) "
              "块组成（宽度 4-32），10 类，输入尺寸 s 取 "
              "16、24、32 之一以及 2s。全卷积网络最后接 1x1 卷积和全局平均池化；另一个接 Flatten + Linear，按每个尺寸分别"
              "构建。参数量由 nn.utils.count_parameters 给出，并与闭式公式核对。dense_changes 按数据出来之前定下的"
              "判据，只看每个种子的第一个主干（即最初设计里每个种子唯一的那个主干，抽样方式完全相同）；所有主干上的"
              "相对变化只报告不判定。设计变更记录：第一次运行之后，这条判据曾被放宽为“每个主干上参数量都不同”，"
              "这违反了规则（看到数据后不得放宽判据），所以现在恢复为看数据之前的判据，结论无论如何都照单接受。",
    caveats_en="Counting is exact and says nothing about accuracy: a fully convolutional net run on a larger input "
               "than it was trained on sees objects at another scale relative to its receptive field. The "
               "activation memory and FLOPs of both nets still grow with the input (by 4x here).",
    caveats_zh="数参数是精确的，但与精度无关：全卷积网络在比训练时更大的输入上运行，物体相对感受野的尺度就变了。两种网络的激活"
               "内存和计算量仍然随输入增长（这里是 4 倍）。",
    code=["deepnotes.nn.utils.count_parameters", "deepnotes.nn.AdaptiveAvgPool2d", "deepnotes.nn.Flatten"],
    seconds={"tiny": 0.1, "quick": 0.2, "full": 0.5},
    references=["Long, Shelhamer & Darrell, Fully Convolutional Networks for Semantic Segmentation, CVPR 2015",
                "Lin, Chen & Yan, Network In Network (global average pooling), ICLR 2014"],
)
def k30(seed: int, budget: str) -> dict:
    rng = np.random.default_rng(seed)
    dn.manual_seed(seed)
    configs = [k30_config(rng) for _ in range(pick(budget, 3, 20, 50))]
    first = configs[0]["counts"]
    diff = [abs(c["counts"]["dense_large"] - c["counts"]["dense_small"]) for c in configs]
    change = [d / c["counts"]["dense_small"] for d, c in zip(diff, configs)]
    fcn_gap = max(abs(c["counts"]["fcn_large"] - c["counts"]["fcn_small"]) for c in configs)
    runs = all(c["fcn_runs"] and c["dense_refuses"] for c in configs)
    metrics = {f"example_{k}_parameters": float(v) for k, v in first.items()}
    metrics.update({"configs": float(len(configs)), "largest_fcn_change": float(fcn_gap),
                    "smallest_dense_relative_change": min(change), "largest_dense_relative_change": max(change),
                    "smallest_dense_change": float(min(diff)), "all_run_as_expected": float(runs)})
    effects = {"fcn_unchanged": log_tol_effect(fcn_gap, 0.5),
               # the criterion fixed before any data: the relative change of the seed's own (first) trunk
               "dense_changes": (first["dense_large"] - first["dense_small"]) / first["dense_small"],
               "counts_match_formula": log_tol_effect(max(c["formula_gap"] for c in configs), 0.5),
               "fcn_runs_on_larger": 1.0 if runs else -1.0}
    return {"metrics": metrics, "effects": effects, "series": {"dense_relative_change": change}}


@k30.figures
def k30_figures(results, out_dir):
    keys = [f"example_{k}_parameters" for k in ("fcn_small", "fcn_large", "dense_small", "dense_large")]
    return [plot_bars(results, keys, ["FCN, s", "FCN, 2s", "Flatten+Linear, s", "Flatten+Linear, 2s"],
                      Path(out_dir) / "k30_parameters.png",
                      "K30: parameters at input size s and 2s (one random trunk per seed)", "parameters",
                      logy=True)]

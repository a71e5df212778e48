"""Claims on what normalization does for training: K18 (BN allows higher learning rates), K19 (BN
smooths the landscape, not internal covariate shift), K20 (GroupNorm and small batches). Its side
effects (regularization, init scale, gradients at init) are in `normalization_effects.py`.

Each claim runs one seed; the measurements are small functions of this module so the tests can
run them on deliberately broken variants (the normalization swapped or removed).
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

from ._toolkit_a import accuracy, pick, plot_bars, plot_curves
from ._toolkit_c import digits_split, fit, log_ratio, norm_mlp, restore, snapshot


# =============================================================================================== K18
K18_BASE_LR = 0.5


def k18_run(norm: str, lr: float, steps: int, every: int, seed: int, split) -> dict:
    """3 x 100 sigmoid MLP (PyTorch's default init), plain SGD at `lr`, batch 60, on digits;
    test accuracy every `every` steps and the first step where it reaches 0.9 (steps + 1 if never)."""
    xtr, ytr, xte, yte = split
    dn.manual_seed(seed)
    model = norm_mlp(64, 100, 3, 10, activation="sigmoid", norm=norm)
    out = fit(model, xtr, ytr, optim.SGD(model.parameters(), lr=lr), steps, 60, np.random.default_rng(seed),
              every=every, evaluate=lambda m: accuracy(m, xte, yte))
    hits = [s for s, a in zip(out["eval_steps"], out["evals"]) if a >= 0.9]
    return {"steps_to_90": hits[0] if hits else steps + 1, "final_accuracy": out["evals"][-1],
            "curve": out["evals"], "eval_steps": out["eval_steps"], "diverged": out["diverged"]}


@claim(
    "K18", topics=["N1", "N3"],
    title_en="BatchNorm allows higher learning rates and trains faster",
    title_zh="BN 允许更大的学习率，训练更快",
    statement_en="BatchNorm allows much higher learning rates and trains faster than the same net without it.",
    statement_zh="加了 BatchNorm 的网络可以用大得多的学习率，训练也比不加 BN 的同一网络快。",
    criteria=[
        Criterion("faster_at_base_lr", math.log10(1.5),
                  "at the base rate 0.5, BN reaches 90% test accuracy in at least 1.5x fewer steps (effect "
                  "log10(steps without BN / steps with BN); never reaching it counts as the budget + 1)",
                  "基础学习率 0.5 下，加 BN 达到 90% 测试准确率所需步数至少少 1.5 倍（效应 = log10(无 BN 步数 / 有 BN 步数)；"
                  "达不到记为预算 + 1）"),
        Criterion("faster_at_high_lr", math.log10(2.0),
                  "at 5x the base rate, BN reaches 90% in at least 2x fewer steps than the net without BN",
                  "5 倍学习率下，加 BN 达到 90% 的步数至少比不加 BN 少 2 倍"),
        Criterion("bn_gains_from_high_lr", math.log10(1.5),
                  "with BN, 5x the rate reaches 90% at least 1.5x sooner than the base rate (the higher rate is "
                  "usable and pays off)",
                  "加 BN 时，5 倍学习率达到 90% 的速度至少比基础学习率快 1.5 倍（更大的学习率可用且有收益）"),
    ],
    combine=all_of,
    method_en="Per seed: Ioffe & Szegedy's MNIST setup scaled to digits (1437 train / 360 test, pixels in [0, 1]): "
              "an MLP 64 -> 3 x 100 sigmoid -> 10 with PyTorch's default init, with and without BatchNorm1d before "
              "every sigmoid, plain SGD, batch 60, learning rates 0.5 and 2.5 (also 12.5 at full). Test accuracy "
              "every 10 steps; the metric is the first step at which it reaches 90%. 500 steps at quick (~21 "
              "epochs), 1500 at full. Same seed: same init (the BN net's Linear layers equal the plain net's) "
              "and the same data order.",
    method_zh="每个种子：把 Ioffe & Szegedy 的 MNIST 实验缩小到 digits（训练 1437 / 测试 360，像素在 [0, 1]）：MLP 64 -> "
              "3 x 100 sigmoid -> 10，PyTorch 默认初始化，每个 sigmoid 前加或不加 BatchNorm1d；普通 SGD，batch 60，学习率 "
              "0.5 和 2.5（full 另加 12.5）。每 10 步测一次测试准确率，指标是首次达到 90% 的步数。quick 训练 500 步"
              "（约 21 个 epoch），full 1500 步。同一种子：初始化相同（BN 网络的 Linear 层与无 BN 网络一致），数据顺序相同。",
    caveats_en="Small MLP on an easy data set with plain SGD: with momentum, Adam, a better init (Xavier for "
               "sigmoid) or standardized inputs the net without BN trains much better, and the gap shrinks. "
               "Speed is counted in steps, not seconds (BN costs time per step). Sigmoid is the paper's "
               "activation; ReLU nets without BN are less handicapped. It does not show why BN helps (K19).",
    caveats_zh="只是在简单数据集上用普通 SGD 训练的小 MLP：换成动量、Adam、更好的初始化（sigmoid 用 Xavier）或标准化输入，"
               "不加 BN 的网络会好很多，差距会缩小。速度按步数计，不按秒数（BN 每步有额外开销）。sigmoid 是论文里的激活函数，"
               "ReLU 网络不加 BN 受的影响小一些。它也不说明 BN 为什么有效（见 K19）。",
    code=["deepnotes.nn.BatchNorm1d", "deepnotes.nn.Sigmoid", "deepnotes.optim.SGD"],
    seconds={"tiny": 0.4, "quick": 4, "full": 30},
    references=["Ioffe & Szegedy, Batch Normalization: Accelerating Deep Network Training by Reducing Internal "
                "Covariate Shift, ICML 2015"],
)
def k18(seed: int, budget: str) -> dict:
    steps, every = pick(budget, 6, 500, 1500), pick(budget, 3, 10, 10)
    mults = pick(budget, (1, 5), (1, 5), (1, 5, 25))
    split = digits_split()
    metrics, series, runs = {}, {"eval_steps": None}, {}
    for norm in ("none", "batch"):
        for m in mults:
            r = k18_run(norm, K18_BASE_LR * m, steps, every, seed, split)
            runs[norm, m] = r
            tag = f"{'bn' if norm == 'batch' else 'plain'}_lr_x{m}"
            metrics[f"{tag}_steps_to_90"] = float(r["steps_to_90"])
            metrics[f"{tag}_final_accuracy"] = r["final_accuracy"]
            series[f"{tag}_accuracy"] = r["curve"]
            series["eval_steps"] = r["eval_steps"]
    s = {k: v["steps_to_90"] for k, v in runs.items()}
    effects = {"faster_at_base_lr": log_ratio(s["none", 1], s["batch", 1]),
               "faster_at_high_lr": log_ratio(s["none", 5], s["batch", 5]),
               "bn_gains_from_high_lr": log_ratio(s["batch", 1], s["batch", 5])}
    return {"metrics": metrics, "effects": effects, "series": series}


@k18.figures
def k18_figures(results, out_dir):
    keys = [k for k in results[0]["series"] if k.endswith("_accuracy")]
    curves = plot_curves(results, keys, [k.replace("_accuracy", "").replace("_", " ") for k in keys],
                         Path(out_dir) / "k18_accuracy.png",
                         "K18: BatchNorm allows higher learning rates and trains faster (3x100 sigmoid MLP)",
                         "SGD step (batch 60)", "test accuracy", x=results[0]["series"]["eval_steps"])
    bars = plot_bars(results, [k.replace("_accuracy", "_steps_to_90") for k in keys],
                     [k.replace("_accuracy", "").replace("_", " ") for k in keys], Path(out_dir) / "k18_steps.png",
                     "K18: steps to 90% test accuracy (budget + 1 = never)", "SGD steps")
    return [curves, bars]


# =============================================================================================== K19
K19_MULTS = (0.25, 0.5, 1.0, 2.0, 4.0)


def _grads(model, x, y) -> tuple:
    """Loss and the list of parameter gradients (copies) on the batch (x, y), train mode."""
    for p in model.parameters():
        p.grad = None
    loss = nn.CrossEntropyLoss()(model(dn.tensor(x)), dn.tensor(y))
    loss.backward()
    return float(loss.item()), [np.array(p.grad.numpy(), copy=True) for p in model.parameters()]


def _norm(arrays) -> float:
    return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


def landscape_probe(model, x, y, lr: float, mults=K19_MULTS) -> dict:
    """Santurkar et al.'s probes at the current weights w, on one batch (weights restored after).

    With g the gradient at w: the loss and gradient at w - m lr g for each step multiplier m.
    loss_range = (max - min of those losses) / loss(w); grad_change = max ||g(w - m lr g) - g|| / ||g||.
    ICS (their definition 2.1): for every Linear layer k after the first, G_k its weight gradient at
    w and G'_k the same after the layers before k took their SGD step (lr g); ics = mean over k of
    ||G_k - G'_k|| / ||G_k||.
    """
    state = snapshot(model)
    loss0, g = _grads(model, x, y)
    gnorm = max(_norm(g), 1e-30)
    losses, changes = [], []
    for m in mults:
        restore(model, [w - m * lr * gi for w, gi in zip(state, g)])
        loss, g2 = _grads(model, x, y)
        losses.append(loss if math.isfinite(loss) else 1e3)
        change = _norm([a - b for a, b in zip(g2, g)]) / gnorm
        changes.append(change if math.isfinite(change) else 1e3)
    params = list(model.parameters())
    index = {id(p): i for i, p in enumerate(params)}
    modules = list(model)
    ics = []
    for pos, module in enumerate(modules):
        if not isinstance(module, nn.Linear) or pos == 0:
            continue
        earlier = {index[id(p)] for mod in modules[:pos] for p in mod.parameters()}
        restore(model, [w - lr * gi if i in earlier else w for i, (w, gi) in enumerate(zip(state, g))])
        _, g2 = _grads(model, x, y)
        k = index[id(module.weight)]
        ics.append(float(np.linalg.norm(g2[k] - g[k]) / max(np.linalg.norm(g[k]), 1e-30)))
    restore(model, state)
    for p in model.parameters():
        p.grad = None
    return {"loss_range": (max(losses) - min(losses)) / max(loss0, 1e-30), "grad_change": max(changes),
            "ics": float(np.mean(ics))}


def k19_run(norm: str, lr: float, steps: int, every: int, seed: int, x, y, depth: int = 12, width: int = 128,
            batch: int = 64) -> dict:
    """Train a `depth` x `width` ReLU MLP (He init, `norm` before each ReLU) with plain SGD and probe the
    landscape and ICS every `every` steps; returns the probe means and the loss curve."""
    dn.manual_seed(seed)
    model = norm_mlp(x.shape[1], width, depth, 10, activation="relu", norm=norm, init="he")
    opt = optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    probes, losses = [], []
    loss_fn = nn.CrossEntropyLoss()
    for step in range(steps):
        idx = rng.choice(len(x), size=batch, replace=False)
        if step % every == 0:
            probes.append(landscape_probe(model, x[idx], y[idx], lr))
        loss = loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx]))
        value = float(loss.item())
        if not math.isfinite(value):
            losses.extend([10.0] * (steps - step))
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(min(value, 10.0))
    tail = max(1, steps // 10)
    return {"loss_range": float(np.mean([p["loss_range"] for p in probes])),
            "grad_change": float(np.mean([p["grad_change"] for p in probes])),
            "ics": float(np.mean([p["ics"] for p in probes])),
            "probe_loss_range": [p["loss_range"] for p in probes],
            "probe_grad_change": [p["grad_change"] for p in probes],
            "losses": losses, "first_loss": float(np.mean(losses[:tail])),
            "final_loss": float(np.mean(losses[-tail:]))}


def k19_combine(verdicts: dict) -> str:
    """Both nets must train (loss at least halved) for the landscape comparison to mean anything:
    if that precondition does not hold the claim is 'mixed' (the experiment says nothing);
    otherwise all_of the three sub-statements."""
    if verdicts["both_nets_train"] != HOLDS:
        return MIXED
    return all_of({k: v for k, v in verdicts.items() if k != "both_nets_train"})


@claim(
    "K19", topics=["N1", "N3"],
    title_en="BatchNorm smooths the loss landscape; it does not reduce internal covariate shift",
    title_zh="BN 让损失曲面更平滑，而不是减少内部协变量偏移",
    statement_en="BatchNorm makes the loss landscape smoother (loss and gradient change less along the gradient "
                 "direction), while it does not reduce internal covariate shift.",
    statement_zh="BatchNorm 让损失曲面更平滑（沿梯度方向走时损失和梯度变化更小），但它并没有减少内部协变量偏移（ICS）。",
    criteria=[
        Criterion("loss_smoother", math.log10(1.25),
                  "relative loss range along -g (step 0.25..4 x lr) at least 1.25x smaller with BN (effect "
                  "log10(without / with), mean over probes and learning rates)",
                  "沿 -g 方向（步长 0.25..4 倍学习率）的相对损失变化范围，加 BN 至少小 1.25 倍（效应 = log10(无 BN / 有 BN)，"
                  "对探测点和学习率取平均）"),
        Criterion("gradient_more_predictive", math.log10(1.25),
                  "relative gradient change along -g at least 1.25x smaller with BN",
                  "沿 -g 方向的相对梯度变化，加 BN 至少小 1.25 倍"),
        Criterion("ics_not_reduced", 0.0,
                  "BN does not cut ICS (Santurkar's ||G - G'|| / ||G||) by 25% or more: effect "
                  "log10(ICS with BN / ICS without) + log10 1.25 > 0",
                  "BN 没有把 ICS（Santurkar 定义的 ||G - G'|| / ||G||）降低 25% 以上：效应 = log10(有 BN 的 ICS / 无 BN 的 "
                  "ICS) + log10 1.25 > 0"),
        Criterion("both_nets_train", 0.0,
                  "precondition: both nets at least halve their training loss at every rate (effect: the smaller "
                  "of the loss reductions, as a fraction, minus 0.5)",
                  "前提：两个网络在每个学习率下训练损失都至少减半（效应 = 各组损失下降比例的最小值 - 0.5）"),
    ],
    combine=k19_combine,
    method_en="Per seed: a 12-layer ReLU MLP of width 128 (He init) with and without BatchNorm1d before every "
              "ReLU, standardized digits, plain SGD, batch 64, learning rates 0.01 and 0.05, 300 steps (200 at "
              "quick). Every 20 steps, on the current batch: the loss and gradient at w - m lr g for m in 0.25, "
              "0.5, 1, 2, 4 (Santurkar et al.'s loss landscape and gradient predictiveness), and ICS as they "
              "define it: a layer's weight gradient before vs after the earlier layers take their update. The "
              "verdict is all of the first three criteria, and 'mixed' whenever the precondition (both nets "
              "train) fails: a net that does not train looks smooth because it is flat.",
    method_zh="每个种子：12 层、宽 128 的 ReLU MLP（He 初始化），每个 ReLU 前加或不加 BatchNorm1d；输入为标准化的 digits，"
              "普通 SGD，batch 64，学习率 0.01 和 0.05，训练 300 步（quick 200 步）。每 20 步在当前 batch 上测："
              "w - m lr g（m = 0.25、0.5、1、2、4）处的损失和梯度（Santurkar 等人的损失曲面和梯度可预测性），以及按他们定义的 "
              "ICS：前面各层更新前后，某一层权重梯度的变化。结论要求前三条准则都成立；若前提（两个网络都能训练）不成立，则判为"
              " mixed：训不动的网络看起来平滑只是因为它平。",
    caveats_en="One architecture (MLP, digits) and plain SGD; Santurkar et al. used VGG on CIFAR-10. The probes are "
               "along the gradient direction only, not a full Hessian. A smaller relative loss range is partly a "
               "consequence of BN's scale invariance (the effective step changes with the weight norm). 'Not "
               "reducing ICS' is tested as 'not by 25% or more'; it does not show that ICS is harmless.",
    caveats_zh="只有一种结构（MLP，digits）和普通 SGD；Santurkar 等人用的是 CIFAR-10 上的 VGG。探测只沿梯度方向，不是完整的 "
               "Hessian。相对损失范围更小，部分原因是 BN 的尺度不变性（有效步长随权重范数变化）。“不减少 ICS”检验的是"
               "“没有减少 25% 以上”，并不说明 ICS 无害。",
    code=["deepnotes.nn.BatchNorm1d", "deepnotes.nn.init.kaiming_normal_", "deepnotes.optim.SGD"],
    seconds={"tiny": 0.4, "quick": 19, "full": 30},
    references=["Santurkar, Tsipras, Ilyas & Madry, How Does Batch Normalization Help Optimization?, NeurIPS 2018",
                "Ioffe & Szegedy, Batch Normalization, ICML 2015"],
)
def k19(seed: int, budget: str) -> dict:
    x, y, _, _ = digits_split(standardize=True)
    depth, width = pick(budget, 3, 12, 12), pick(budget, 16, 128, 128)
    steps, every = pick(budget, 4, 200, 300), pick(budget, 4, 20, 20)
    metrics, series, ratios = {}, {}, {"loss_range": [], "grad_change": [], "ics": []}
    reductions = []
    for lr in (0.01, 0.05):
        runs = {norm: k19_run(norm, lr, steps, every, seed, x, y, depth, width) for norm in ("none", "batch")}
        for norm, r in runs.items():
            tag = f"{'bn' if norm == 'batch' else 'plain'}_lr_{lr}"
            for key in ("loss_range", "grad_change", "ics", "final_loss"):
                metrics[f"{tag}_{key}"] = r[key]
            series[f"{tag}_losses"] = r["losses"]
            series[f"{tag}_probe_loss_range"] = r["probe_loss_range"]
            series[f"{tag}_probe_grad_change"] = r["probe_grad_change"]
            reductions.append(1.0 - r["final_loss"] / max(r["first_loss"], 1e-30))
        ratios["loss_range"].append(log_ratio(runs["none"]["loss_range"], runs["batch"]["loss_range"]))
        ratios["grad_change"].append(log_ratio(runs["none"]["grad_change"], runs["batch"]["grad_change"]))
        ratios["ics"].append(log_ratio(runs["batch"]["ics"], runs["none"]["ics"]))
    effects = {"loss_smoother": float(np.mean(ratios["loss_range"])),
               "gradient_more_predictive": float(np.mean(ratios["grad_change"])),
               "ics_not_reduced": float(np.mean(ratios["ics"])) + math.log10(1.25),
               "both_nets_train": float(min(reductions)) - 0.5}
    return {"metrics": metrics, "effects": effects, "series": series}


@k19.figures
def k19_figures(results, out_dir):
    tags = [f"{n}_lr_{lr}" for lr in (0.01, 0.05) for n in ("plain", "bn")]
    labels = [t.replace("_", " ") for t in tags]
    loss = plot_curves(results, [f"{t}_losses" for t in tags], labels, Path(out_dir) / "k19_training_loss.png",
                       "K19: both nets train (the smoothness comparison needs that)", "SGD step",
                       "training loss (cross-entropy)", logy=True)
    rng = plot_curves(results, [f"{t}_probe_loss_range" for t in tags], labels, Path(out_dir) / "k19_loss_range.png",
                      "K19: BatchNorm makes the loss change less along the gradient", "probe (every 20 steps)",
                      "relative loss range over steps 0.25..4 x lr", logy=True)
    grad = plot_curves(results, [f"{t}_probe_grad_change" for t in tags], labels,
                       Path(out_dir) / "k19_gradient_change.png",
                       "K19: gradient predictiveness: max ||g(w - s g) - g|| / ||g||", "probe (every 20 steps)",
                       "relative gradient change", logy=True)
    ics = plot_bars(results, [f"{t}_ics" for t in tags], labels, Path(out_dir) / "k19_ics.png",
                    "K19: internal covariate shift (Santurkar et al.'s definition) is not reduced by BN",
                    "||G - G'|| / ||G|| (mean over layers and probes)")
    return [loss, rng, grad, ics]


# =============================================================================================== K20
def k20_run(norm: str, batch: int, epochs: int, seed: int, split, width: int = 64) -> float:
    """MLP 64 -> 2 x `width` (Linear -> norm -> ReLU) -> 10 trained with Adam (lr 2e-3) for `epochs`
    epochs at `batch`; test accuracy in eval mode (BN uses its running statistics)."""
    xtr, ytr, xte, yte = split
    dn.manual_seed(seed)
    model = norm_mlp(64, width, 2, 10, activation="relu", norm=norm, groups=8)
    steps = epochs * (len(xtr) // batch)
    fit(model, xtr, ytr, optim.Adam(model.parameters(), lr=2e-3), steps, batch, np.random.default_rng(seed))
    return accuracy(model, xte, yte)


@claim(
    "K20", topics=["N2"],
    title_en="GroupNorm is robust to small batches where BatchNorm degrades",
    title_zh="GroupNorm 对小 batch 稳健，BatchNorm 会变差",
    statement_en="GroupNorm is robust to small batch sizes where BatchNorm degrades.",
    statement_zh="GroupNorm 对小 batch size 不敏感，而 BatchNorm 在小 batch 下效果会变差。",
    criteria=[
        Criterion("gn_beats_bn_at_batch_2", 0.05,
                  "test accuracy GroupNorm - BatchNorm at batch 2 >= 0.05",
                  "batch 2 时 GroupNorm 的测试准确率比 BatchNorm 高至少 0.05"),
        Criterion("bn_degrades_at_batch_2", 0.05,
                  "BatchNorm's test accuracy at batch 32 - at batch 2 >= 0.05",
                  "BatchNorm 在 batch 32 的测试准确率比 batch 2 高至少 0.05"),
        Criterion("gn_robust", 0.0,
                  "GroupNorm at batch 2 at most 0.02 below itself at batch 32 (effect acc(2) - acc(32) + 0.02)",
                  "GroupNorm 在 batch 2 的准确率最多比 batch 32 低 0.02（效应 = acc(2) - acc(32) + 0.02）"),
    ],
    combine=all_of,
    method_en="Per seed: an MLP 64 -> 2 x 64 -> 10 with BatchNorm1d, GroupNorm(8 groups) or LayerNorm before "
              "each ReLU, on digits, Adam (lr 2e-3), the same number of epochs (3 at quick, 5 at full) at batch 32 "
              "and at batch 2; test accuracy in eval mode. Same seed: same init and data order for every arm. "
              "LayerNorm is reported, not judged. A Conv2d BN on 8x8 images pools its statistics over H x W as "
              "well as the batch and barely degrades at batch 2; the MLP shows the batch dependence plainly.",
    method_zh="每个种子：MLP 64 -> 2 x 64 -> 10，每个 ReLU 前分别加 BatchNorm1d、GroupNorm（8 组）或 LayerNorm；数据为 "
              "digits，Adam（lr 2e-3），batch 32 和 batch 2 训练相同的 epoch 数（quick 3 个，full 5 个），在 eval 模式下测"
              "测试准确率。同一种子下各组初始化和数据顺序相同。LayerNorm 只报告，不参与判定。8x8 图像上的 Conv2d BN 会在 "
              "H x W 和 batch 上一起统计，batch 2 时几乎不退化；MLP 能直接体现对 batch 的依赖。",
    caveats_en="A small MLP on digits; in CNNs BN's statistics also pool over space, so the degradation starts at "
               "smaller batches (Wu & He used batch 2-32 per GPU on ImageNet). The learning rate is not tuned per "
               "batch size. BN's degradation here is mostly its running statistics at evaluation (estimated from "
               "batches of 2); batch renormalization or recomputing statistics would narrow the gap.",
    caveats_zh="只是 digits 上的小 MLP；CNN 里 BN 还会在空间维度上汇总统计量，要到更小的 batch 才明显退化（Wu & He 在 ImageNet "
               "上每卡 batch 2-32）。学习率没有按 batch size 分别调。这里 BN 变差主要来自评估时用的滑动统计量（由大小为 2 的 "
               "batch 估计）；Batch Renormalization 或重新统计可以缩小差距。",
    code=["deepnotes.nn.BatchNorm1d", "deepnotes.nn.GroupNorm", "deepnotes.nn.LayerNorm"],
    seconds={"tiny": 0.3, "quick": 24, "full": 40},
    references=["Wu & He, Group Normalization, ECCV 2018", "Ba, Kiros & Hinton, Layer Normalization, 2016",
                "Ioffe, Batch Renormalization, NeurIPS 2017"],
)
def k20(seed: int, budget: str) -> dict:
    split = digits_split()
    if budget == "tiny":
        rows = np.random.default_rng(seed).permutation(len(split[0]))[:64]
        split = (split[0][rows], split[1][rows], split[2], split[3])
    epochs = pick(budget, 1, 3, 5)
    acc, metrics = {}, {}
    for norm in ("batch", "group", "layer"):
        for batch in (32, 2):
            acc[norm, batch] = k20_run(norm, batch, epochs, seed, split)
            metrics[f"{norm}_norm_batch_{batch}_accuracy"] = acc[norm, batch]
    effects = {"gn_beats_bn_at_batch_2": acc["group", 2] - acc["batch", 2],
               "bn_degrades_at_batch_2": acc["batch", 32] - acc["batch", 2],
               "gn_robust": acc["group", 2] - acc["group", 32] + 0.02}
    return {"metrics": metrics, "effects": effects, "series": {}}


@k20.figures
def k20_figures(results, out_dir):
    keys = [f"{n}_norm_batch_{b}_accuracy" for n in ("batch", "group", "layer") for b in (32, 2)]
    labels = [f"{n}Norm\nbatch {b}" for n in ("Batch", "Group", "Layer") for b in (32, 2)]
    return [plot_bars(results, keys, labels, Path(out_dir) / "k20_accuracy.png",
                      "K20: GroupNorm is robust to batch 2 where BatchNorm degrades", "test accuracy")]

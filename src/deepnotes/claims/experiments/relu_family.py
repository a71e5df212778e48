"""Claims on the ReLU family: K04 (dying ReLU), K05 (the activation ranking), K48 (the Leaky ReLU
slope). Gradients through activations (K01-K03) are in `activations.py`.

Each claim runs one seed; the measurements are small functions of this module so the tests can
run them on deliberately broken variants.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
from deepnotes import data, optim
from deepnotes.claims import Criterion, all_of, claim

from ._toolkit_a import (
    accuracy, diverged, mlp, never_positive_fraction, pick, plot_bars, plot_curves,
    steps_to, train_classifier,
)


# =============================================================================================== K04
K04_ACTIVATIONS = ("relu", "leaky_relu", "prelu", "elu")
K04_CONDITIONS = {"negative_bias": {"bias": -1.0, "lr": 0.1}, "large_lr": {"bias": 0.0, "lr": 0.5}}


def dead_fraction_after_training(activation: str, condition: str, x, y, depth: int, width: int, steps: int,
                                 seed: int) -> tuple:
    """Train an MLP (He init for the activation) under `condition` of `K04_CONDITIONS` with plain SGD
    (batch 64); return (fraction of hidden units never positive on x, loss curve, diverged).

    A run that diverges (non-finite weights or activations) has no meaningful dead fraction; it is
    counted as 1.0 (every unit lost) and flagged."""
    cfg = K04_CONDITIONS[condition]
    dn.manual_seed(seed)
    model = mlp(x.shape[1], width, depth, int(y.max()) + 1, activation=activation, init="he", bias=cfg["bias"])
    opt = optim.SGD(model.parameters(), lr=cfg["lr"])
    with np.errstate(all="ignore"):
        losses = train_classifier(model, x, y, opt, steps, 64, np.random.default_rng(seed), loss_cap=10.0)
        failed = diverged(model) or not math.isfinite(sum(losses)) or losses[-1] >= 10.0
        if not failed:
            try:
                return never_positive_fraction(model, x), losses, False
            except ValueError:  # activations overflow on the full training set
                pass
    return 1.0, losses, True


def born_dead_fraction(depth: int, width: int, nets: int, seed: int, inputs: int = 100) -> float:
    """Fraction of `nets` ReLU nets (He-normal weights, zero biases, `depth` layers of `width`) whose
    last hidden layer outputs 0 for every one of `inputs` Gaussian inputs: born dead (Lu et al., 2019).
    All nets run at once with batched matmuls."""
    gen = np.random.default_rng([seed, depth, width])
    h = dn.tensor(gen.normal(size=(nets, inputs, width)))
    with dn.no_grad():
        for _ in range(depth):
            w = dn.tensor(gen.normal(scale=math.sqrt(2.0 / width), size=(nets, width, width)))
            h = dn.relu(dn.matmul(h, w))
        alive = h.numpy().reshape(nets, -1).max(axis=1) > 0
    return float(1.0 - alive.mean())


K04_DEPTHS = (2, 5, 10, 20, 40)


@claim(
    "K04", topics=["A3", "A4"],
    title_en="ReLU units die; Leaky ReLU, PReLU and ELU avoid it",
    title_zh="ReLU 单元会死亡；Leaky ReLU、PReLU、ELU 可以避免",
    statement_en="ReLU units can die (never activate again) under a large learning rate or bad init; Leaky "
                 "ReLU / PReLU / ELU avoid it.",
    statement_zh="学习率过大或初始化不当时 ReLU 单元会死亡（再也不激活）；Leaky ReLU / PReLU / ELU 能避免这个问题。",
    criteria=[
        Criterion("relu_dies", 0.1,
                  "ReLU, trained from a bad init (biases -1): at least 10% of hidden units never positive on "
                  "the training set",
                  "ReLU 从不良初始化（偏置 -1）开始训练后，至少 10% 的隐藏单元在整个训练集上从不为正"),
        Criterion("leaky_relu_avoids", 0.1,
                  "Leaky ReLU (0.01), same bad init: at least 10 points fewer never-positive units than ReLU",
                  "Leaky ReLU（0.01）：从不为正的单元比例比 ReLU 至少低 10 个百分点"),
        Criterion("prelu_avoids", 0.1, "PReLU: at least 10 points fewer never-positive units than ReLU",
                  "PReLU：从不为正的单元比例比 ReLU 至少低 10 个百分点"),
        Criterion("elu_avoids", 0.1, "ELU: at least 10 points fewer never-positive units than ReLU",
                  "ELU：从不为正的单元比例比 ReLU 至少低 10 个百分点"),
    ],
    combine=all_of,
    method_en="Per seed: an MLP 64 -> 128 x 4 -> 10 on the digits training set (1437 images), He init for each "
              "activation, plain SGD, batch 64, 600 steps (1500 at full). The criteria use a bad init: biases "
              "-1, lr 0.1. A unit is dead when its pre-activation is <= 0 for every training image (for Leaky "
              "ReLU, PReLU and ELU: it never enters the positive side). Same init and data order for every "
              "activation. Reported beside it: a large learning rate (0.5, zero biases), where a diverged run "
              "counts as dead fraction 1 and is flagged, and the fraction of 1000 narrow ReLU nets (width 4, "
              "He init, zero biases) born dead (constant zero output) against depth.",
    method_zh="每个种子：digits 训练集（1437 张图）上的 MLP 64 -> 128 x 4 -> 10，每种激活函数用对应的 He 初始化，"
              "普通 SGD，batch 64，600 步（full 1500 步）。准则使用不良初始化：偏置 -1，lr 0.1。一个单元在整个训练集上"
              "预激活都 <= 0 即视为死亡（对 Leaky ReLU、PReLU、ELU 即从不进入正半轴）。各激活函数初始化和数据顺序相同。"
              "另外报告：大学习率（0.5，偏置 0）下的结果，发散的运行记死亡比例为 1 并单独标出；以及 1000 个窄 ReLU 网络"
              "（宽 4，He 初始化，偏置 0）中一出生就死亡（输出恒为 0）的比例随深度的变化。",
    caveats_en="Leaky ReLU, PReLU and ELU units that never turn positive still pass a gradient and can recover; "
               "ReLU units cannot: the criterion counts both the same way (never positive), which is the "
               "claim's 'never activate'. The large learning rate is reported, not judged: at rates that kill ReLU "
               "units the other activations often diverge instead (ReLU's dead units cap the growth), so a dead "
               "fraction there mixes two failures. One data set; the dead fraction depends strongly on the "
               "learning rate and the bias init chosen. Whether dead units hurt accuracy is not tested.",
    caveats_zh="从不为正的 Leaky ReLU、PReLU、ELU 单元仍然有梯度、可以恢复，ReLU 单元不行；准则对两者用同一个定义"
               "（从不为正），即说法中的“不再激活”。大学习率的结果只报告、不参与判定：在让 ReLU 单元死亡的学习率下，其他"
               "激活函数常常直接发散（ReLU 的死亡单元反而限制了增长），那里的死亡比例混合了两种失败。只有一个数据集；"
               "死亡比例强烈依赖所选学习率和偏置初始化。没有检验死亡单元是否影响准确率。",
    code=["deepnotes.nn.ReLU", "deepnotes.nn.LeakyReLU", "deepnotes.nn.PReLU", "deepnotes.nn.ELU",
          "deepnotes.optim.SGD"],
    seconds={"tiny": 0.4, "quick": 7, "full": 18},
    references=["Maas, Hannun & Ng, Rectifier nonlinearities improve neural network acoustic models, ICML 2013",
                "He, Zhang, Ren & Sun, Delving deep into rectifiers (PReLU), ICCV 2015",
                "Clevert, Unterthiner & Hochreiter, Fast and accurate deep network learning by exponential "
                "linear units (ELUs), ICLR 2016",
                "Lu, Shin, Su & Karniadakis, Dying ReLU and initialization: theory and numerical examples, 2019"],
)
def k04(seed: int, budget: str) -> dict:
    depth, width = pick(budget, 2, 4, 4), pick(budget, 16, 128, 128)
    steps = pick(budget, 3, 600, 1500)
    split = data.load_digits()
    x, y = split.x_train, split.y_train
    if budget == "tiny":
        x, y = x[:128], y[:128]
    metrics, series = {}, {}
    for activation in K04_ACTIVATIONS:
        for condition in K04_CONDITIONS:
            dead, losses, failed = dead_fraction_after_training(activation, condition, x, y, depth, width, steps,
                                                                seed)
            metrics[f"{activation}_dead_{condition}"] = dead
            metrics[f"{activation}_diverged_{condition}"] = float(failed)
            metrics[f"{activation}_final_loss_{condition}"] = float(np.mean(losses[-20:]))
    nets = pick(budget, 50, 1000, 1000)
    series["depths"] = list(K04_DEPTHS)
    series["born_dead"] = [born_dead_fraction(d, 4, nets, seed) for d in K04_DEPTHS]
    for d, frac in zip(K04_DEPTHS, series["born_dead"]):
        metrics[f"born_dead_depth_{d}"] = frac
    effects = {"relu_dies": metrics["relu_dead_negative_bias"]}
    for activation in K04_ACTIVATIONS[1:]:
        effects[f"{activation}_avoids"] = (metrics["relu_dead_negative_bias"]
                                           - metrics[f"{activation}_dead_negative_bias"])
    return {"metrics": metrics, "effects": effects, "series": series}


@k04.figures
def k04_figures(results, out_dir):
    keys, labels = [], []
    for condition in K04_CONDITIONS:
        for activation in K04_ACTIVATIONS:
            keys.append(f"{activation}_dead_{condition}")
            labels.append(f"{activation}\n{condition}")
    bars = plot_bars(results, keys, labels, Path(out_dir) / "k04_dead.png",
                     "K04: fraction of hidden units never positive on the training set", "dead fraction")
    born = plot_curves(results, ["born_dead"], ["width-4 ReLU nets, He init"], Path(out_dir) / "k04_born_dead.png",
                       "K04: deep narrow ReLU nets are born dead more often", "depth (layers)",
                       "fraction of 1000 inits born dead", x=results[0]["series"]["depths"])
    return [bars, born]


# ====================================================================================== K05 and K48
def train_deep_mlp(activation: str, split, depth: int, width: int, steps: int, seed: int,
                   negative_slope: float = 0.01, eval_every: int = 100, lr: float = 1e-3) -> dict:
    """Train a deep MLP with Adam (batch 64) on `split`; init He for the ReLU family (with the slope's
    gain for Leaky ReLU), Glorot for tanh and sigmoid. Returns test accuracy over steps, the final
    test accuracy and the never-positive (dead) fraction of hidden units on the training set."""
    dn.manual_seed(seed)
    init = "xavier" if activation in ("sigmoid", "tanh") else "he"
    model = mlp(split.x_train.shape[1], width, depth, split.num_classes, activation=activation, init=init,
                negative_slope=negative_slope)
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    test_acc, losses = [], []
    done = 0
    while done < steps:
        chunk = min(eval_every, steps - done)
        losses += train_classifier(model, split.x_train, split.y_train, opt, chunk, 64, rng, loss_cap=10.0)
        done += chunk
        test_acc.append(accuracy(model, split.x_test, split.y_test))
    try:
        dead = never_positive_fraction(model, split.x_train)
    except ValueError:  # diverged: activations overflow (counted as every unit lost, as in K04)
        dead = 1.0
    return {"test_acc": test_acc, "final_acc": float(np.mean(test_acc[-3:])), "loss": losses, "dead": dead}


def _small_split(split, n_train: int, n_test: int):
    """The first n_train / n_test examples of a split (the tiny budget's data)."""
    return type(split)(split.x_train[:n_train], split.y_train[:n_train], split.x_test[:n_test],
                       split.y_test[:n_test], num_classes=split.num_classes, name=split.name)


K05_ORDER = ("elu", "leaky_relu", "relu", "tanh", "sigmoid")


def _pair_name(a, b):
    return f"{a}_over_{b}"


@claim(
    "K05", topics=["A4"],
    title_en="ELU > Leaky ReLU > ReLU > tanh > sigmoid?",
    title_zh="ELU > Leaky ReLU > ReLU > tanh > sigmoid？",
    statement_en="Activation preference ELU > Leaky ReLU > ReLU > tanh > sigmoid (for training speed / accuracy "
                 "of a deep MLP).",
    statement_zh="激活函数的优先顺序 ELU > Leaky ReLU > ReLU > tanh > sigmoid（深层 MLP 的训练速度/准确率）。",
    criteria=[Criterion(_pair_name(a, b), 0.01,
                        f"{a} beats {b} by at least 1 point of test accuracy",
                        f"{a} 的测试准确率比 {b} 至少高 1 个百分点")
              for a, b in zip(K05_ORDER, K05_ORDER[1:])],
    combine=all_of,
    method_en="Per seed: an MLP 40 -> 64 x 10 hidden layers -> 10 on MNIST-1D (4000 training, 1000 test signals), "
              "Adam lr 1e-3, batch 64, 1500 steps (4000 at full); He init for ELU, Leaky ReLU (0.01) and ReLU, "
              "Glorot for tanh and sigmoid; the same seed gives every activation the same data order. Test "
              "accuracy every 100 steps; the effect of each adjacent pair in the ranking is the difference of "
              "the mean of the last three evaluations. Steps to 50% test accuracy are reported. The claim is "
              "the full ordering: every adjacent pair must hold.",
    method_zh="每个种子：MNIST-1D（4000 条训练、1000 条测试信号）上的 MLP 40 -> 64 x 10 个隐藏层 -> 10，Adam lr 1e-3，"
              "batch 64，1500 步（full 4000 步）；ELU、Leaky ReLU（0.01）、ReLU 用 He 初始化，tanh 和 sigmoid 用 "
              "Glorot 初始化；同一种子下各激活函数的数据顺序相同。每 100 步测一次测试准确率；排序中每对相邻激活函数"
              "的效应为最后三次评估均值之差。另报告达到 50% 测试准确率所需步数。说法是完整的排序：每一对相邻关系都必须成立。",
    caveats_en="One architecture, one data set, one optimizer and learning rate, no tuning per activation: a "
               "ranking at other settings (with normalization, with a tuned learning rate, in CNNs) can differ. "
               "The rule of thumb (Geron's book) is a preference, not a theorem.",
    caveats_zh="只有一种结构、一个数据集、一个优化器和学习率，且没有为每种激活函数单独调参：换一种设置（加归一化、调好学习率、"
               "CNN）排序可能不同。这条经验法则（Géron 的书）只是偏好，不是定理。",
    code=["deepnotes.nn.ELU", "deepnotes.nn.LeakyReLU", "deepnotes.nn.ReLU", "deepnotes.nn.Tanh",
          "deepnotes.nn.Sigmoid", "deepnotes.optim.Adam", "deepnotes.data.load_mnist1d"],
    seconds={"tiny": 0.5, "quick": 24, "full": 65},
    references=["Geron, Hands-On Machine Learning with Scikit-Learn, Keras and TensorFlow, 2019, chapter 11",
                "Clevert, Unterthiner & Hochreiter, ELUs, ICLR 2016",
                "Greydanus, Scaling down deep learning (MNIST-1D), 2020"],
)
def k05(seed: int, budget: str) -> dict:
    depth, width = pick(budget, 3, 10, 10), pick(budget, 16, 64, 64)
    steps, every = pick(budget, 4, 1500, 4000), pick(budget, 2, 100, 100)
    split = data.load_mnist1d()
    if budget == "tiny":
        split = _small_split(split, 256, 128)
    metrics, series = {}, {}
    for activation in K05_ORDER:
        out = train_deep_mlp(activation, split, depth, width, steps, seed, eval_every=every)
        metrics[f"{activation}_test_acc"] = out["final_acc"]
        metrics[f"{activation}_steps_to_50pct"] = float(steps_to(out["test_acc"], 0.5, len(out["test_acc"]),
                                                                 below=False) * every)
        series[f"{activation}_test_acc"] = out["test_acc"]
    effects = {_pair_name(a, b): metrics[f"{a}_test_acc"] - metrics[f"{b}_test_acc"]
               for a, b in zip(K05_ORDER, K05_ORDER[1:])}
    series["every"] = every
    return {"metrics": metrics, "effects": effects, "series": series}


@k05.figures
def k05_figures(results, out_dir):
    every = results[0]["series"]["every"]
    n = len(results[0]["series"]["relu_test_acc"])
    curves = plot_curves(results, [f"{a}_test_acc" for a in K05_ORDER], list(K05_ORDER),
                         Path(out_dir) / "k05_curves.png",
                         "K05: is ELU > Leaky ReLU > ReLU > tanh > sigmoid on a 10-layer MLP?",
                         "Adam step", "test accuracy (MNIST-1D)", x=np.arange(1, n + 1) * every)
    bars = plot_bars(results, [f"{a}_test_acc" for a in K05_ORDER], list(K05_ORDER), Path(out_dir) / "k05_acc.png",
                     "K05: final test accuracy per activation", "test accuracy")
    return [curves, bars]


K48_SLOPES = (0.01, 0.1, 0.2, 0.3)


@claim(
    "K48", topics=["A4"],
    title_en="A larger Leaky ReLU slope trains better?",
    title_zh="Leaky ReLU 的斜率越大效果越好？",
    statement_en="A larger Leaky ReLU slope (e.g. 0.2 rather than 0.01) trains better.",
    statement_zh="Leaky ReLU 的负半轴斜率取大一些（如 0.2 而不是 0.01）训练效果更好。",
    criteria=[
        Criterion("slope_0.2_over_0.01", 0.01, "slope 0.2 beats 0.01 by at least 1 point of test accuracy",
                  "斜率 0.2 的测试准确率比 0.01 至少高 1 个百分点"),
        Criterion("slope_0.3_over_0.1", 0.01, "slope 0.3 beats 0.1 by at least 1 point of test accuracy",
                  "斜率 0.3 的测试准确率比 0.1 至少高 1 个百分点"),
    ],
    combine=all_of,
    method_en="Per seed: the K05 setting (MLP 40 -> 64 x 10 -> 10 on MNIST-1D, Adam lr 1e-3, batch 64, 1500 steps, "
              "4000 at full) with Leaky ReLU slopes 0.01, 0.1, 0.2, 0.3, He init with each slope's gain "
              "sqrt(2 / (1 + a^2)); same init draw and data order for every slope. Effects: test-accuracy "
              "differences (mean of the last three evaluations). The fraction of hidden units never positive "
              "on the training set is reported.",
    method_zh="每个种子：与 K05 相同的设置（MNIST-1D 上的 MLP 40 -> 64 x 10 -> 10，Adam lr 1e-3，batch 64，1500 步，"
              "full 4000 步），Leaky ReLU 斜率取 0.01、0.1、0.2、0.3，He 初始化使用各斜率的增益 sqrt(2 / (1 + a^2))；"
              "各斜率的初始化随机数和数据顺序相同。效应为测试准确率之差（最后三次评估的均值）。另报告在训练集上从不为正"
              "的隐藏单元比例。",
    caveats_en="Xu et al. (2015) found a slope near 0.18 better than 0.01 on CIFAR with CNNs; one MLP on one data "
               "set here. The slope must stay below 1 (max(a z, z) needs a < 1); slopes are not tuned jointly "
               "with the learning rate.",
    caveats_zh="Xu 等（2015）在 CIFAR 的 CNN 上发现斜率约 0.18 优于 0.01；这里只有一个 MLP 和一个数据集。斜率必须小于 1"
               "（max(a z, z) 要求 a < 1）；斜率没有和学习率联合调参。",
    code=["deepnotes.nn.LeakyReLU", "deepnotes.nn.init.kaiming_normal_", "deepnotes.optim.Adam"],
    seconds={"tiny": 0.4, "quick": 19, "full": 52},
    references=["Xu, Wang, Chen & Li, Empirical evaluation of rectified activations in convolutional network, 2015",
                "Maas, Hannun & Ng, Rectifier nonlinearities improve neural network acoustic models, ICML 2013"],
)
def k48(seed: int, budget: str) -> dict:
    depth, width = pick(budget, 3, 10, 10), pick(budget, 16, 64, 64)
    steps, every = pick(budget, 4, 1500, 4000), pick(budget, 2, 100, 100)
    split = data.load_mnist1d()
    if budget == "tiny":
        split = _small_split(split, 256, 128)
    metrics, series = {}, {}
    for slope in K48_SLOPES:
        out = train_deep_mlp("leaky_relu", split, depth, width, steps, seed, negative_slope=slope, eval_every=every)
        metrics[f"slope_{slope}_test_acc"] = out["final_acc"]
        metrics[f"slope_{slope}_dead"] = out["dead"]
        series[f"slope_{slope}_test_acc"] = out["test_acc"]
    series["every"] = every
    effects = {"slope_0.2_over_0.01": metrics["slope_0.2_test_acc"] - metrics["slope_0.01_test_acc"],
               "slope_0.3_over_0.1": metrics["slope_0.3_test_acc"] - metrics["slope_0.1_test_acc"]}
    return {"metrics": metrics, "effects": effects, "series": series}


@k48.figures
def k48_figures(results, out_dir):
    every = results[0]["series"]["every"]
    n = len(results[0]["series"]["slope_0.01_test_acc"])
    keys = [f"slope_{s}_test_acc" for s in K48_SLOPES]
    curves = plot_curves(results, keys, [f"slope {s}" for s in K48_SLOPES], Path(out_dir) / "k48_curves.png",
                         "K48: does a larger Leaky ReLU slope train better?", "Adam step",
                         "test accuracy (MNIST-1D)", x=np.arange(1, n + 1) * every)
    bars = plot_bars(results, keys, [f"{s}" for s in K48_SLOPES], Path(out_dir) / "k48_acc.png",
                     "K48: final test accuracy against the Leaky ReLU slope", "test accuracy")
    return [curves, bars]

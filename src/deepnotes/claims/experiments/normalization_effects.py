"""Claims on normalization's side effects: K41 (BN regularizes like dropout), K42 (BN and the init
scale of a deep sigmoid net), K43 (BN at init explodes gradients; ReLU alone prevents neither
explosion nor vanishing). What normalization does for training speed is in `normalization.py`.

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

from ._toolkit_a import accuracy, pick, plot_bars, plot_curves
from ._toolkit_c import block_linears, digits_split, fit, log_ratio, mnist1d_split, norm_mlp, subsample


# =============================================================================================== K41
K41_ARMS = {"neither": ("none", 0.0), "batchnorm": ("batch", 0.0), "dropout": ("none", 0.5),
            "both": ("batch", 0.5)}


def k41_run(norm: str, p: float, n_train: int, epochs: int, seed: int, split, width: int = 256) -> dict:
    """MLP 40 -> 2 x `width` -> 10 (norm before ReLU, Dropout(p) after) on `n_train` MNIST-1D examples
    (the same subset for every arm), Adam lr 1e-3, batch 50: test error and train - test accuracy gap."""
    xtr, ytr, xte, yte = split
    x, y = subsample(xtr, ytr, n_train, np.random.default_rng(seed))
    dn.manual_seed(seed)
    model = norm_mlp(x.shape[1], width, 2, 10, activation="relu", norm=norm, dropout=p)
    steps = epochs * (len(x) // min(50, len(x)))
    fit(model, x, y, optim.Adam(model.parameters(), lr=1e-3), steps, 50, np.random.default_rng(seed + 1))
    train_acc, test_acc = accuracy(model, x, y), accuracy(model, xte, yte)
    return {"test_error": 1.0 - test_acc, "gap": train_acc - test_acc}


@claim(
    "K41", topics=["N1"],
    title_en="BatchNorm regularizes like dropout",
    title_zh="BN 有类似 dropout 的正则化作用",
    statement_en="BatchNorm regularizes: a BN network without dropout generalizes about as well as the same "
                 "network with dropout.",
    statement_zh="BatchNorm 有正则化效果：不加 dropout 的 BN 网络，泛化能力和加了 dropout 的同一网络差不多。",
    criteria=[
        Criterion("bn_regularizes", 0.01,
                  "test error without BN or dropout - test error with BN alone >= 0.01",
                  "不加 BN 也不加 dropout 的测试错误率，比只加 BN 的高至少 0.01"),
        Criterion("bn_as_good_as_dropout", 0.0,
                  "BN alone at most 0.01 worse in test error than dropout alone (effect err(dropout) - err(BN) "
                  "+ 0.01)",
                  "只加 BN 的测试错误率最多比只加 dropout 的高 0.01（效应 = err(dropout) - err(BN) + 0.01）"),
    ],
    combine=all_of,
    method_en="Per seed: MNIST-1D (standardized), a random training subset of 1000 examples (2000 at full; 1000 "
              "test examples), an MLP 40 -> 2 x 256 -> 10 with four arms: neither, BatchNorm1d before each ReLU, "
              "Dropout(0.5) after each ReLU, both. Adam (lr 1e-3), batch 50, 100 epochs, no early stopping (40 "
              "epochs, the first design, left the dropout net far from fitting its training set);"
              " test error and the train - test accuracy gap at the end. Same seed: same subset, same "
              "Linear init and the same data order for every arm.",
    method_zh="每个种子：MNIST-1D（标准化），随机取 1000 个训练样本（full 取 2000；测试 1000 个），MLP 40 -> 2 x 256 -> 10，"
              "四组：都不加、每个 ReLU 前加 BatchNorm1d、每个 ReLU 后加 Dropout(0.5)、两者都加。Adam（lr 1e-3），batch 50，"
              "训练 100 个 epoch，不早停（最初设计的 40 个 epoch 下 dropout 网络离拟合训练集还很远）；"
              "报告最终的测试错误率和训练-测试准确率差。同一种子下各组的子集、"
              "Linear 初始化和数据顺序相同。",
    caveats_en="One MLP, one data set, one dropout rate (0.5, Srivastava et al.'s default for hidden units) and a "
               "fixed number of epochs: with early stopping or a tuned rate the ranking may change. BN's noise "
               "depends on the batch size (50 here); with large batches it regularizes less. Combining BN with "
               "dropout can hurt through the variance shift between train and eval (Li et al., 2019), reported "
               "in the 'both' arm but not judged.",
    caveats_zh="只有一个 MLP、一个数据集、一个 dropout 比例（0.5，Srivastava 等人对隐藏单元的默认值）和固定的 epoch 数："
               "用早停或调过的比例，排序可能变化。BN 的噪声取决于 batch size（这里是 50），batch 很大时正则效果更弱。BN 和 "
               "dropout 一起用可能因训练和推理间的方差偏移而变差（Li 等，2019），“都加”一组只报告、不判定。",
    code=["deepnotes.nn.BatchNorm1d", "deepnotes.nn.Dropout", "deepnotes.data.load_mnist1d"],
    seconds={"tiny": 0.3, "quick": 45, "full": 60},
    references=["Ioffe & Szegedy, Batch Normalization, ICML 2015",
                "Srivastava et al., Dropout: A Simple Way to Prevent Neural Networks from Overfitting, JMLR 2014",
                "Li, Chen, Hu & Yang, Understanding the Disharmony between Dropout and Batch Normalization, CVPR 2019",
                "Greydanus, Scaling down deep learning (MNIST-1D), 2020"],
)
def k41(seed: int, budget: str) -> dict:
    split = mnist1d_split()
    n_train, epochs, width = pick(budget, 100, 1000, 2000), pick(budget, 1, 100, 100), pick(budget, 32, 256, 256)
    metrics, err = {}, {}
    for name, (norm, p) in K41_ARMS.items():
        r = k41_run(norm, p, n_train, epochs, seed, split, width)
        err[name] = r["test_error"]
        metrics[f"{name}_test_error"] = r["test_error"]
        metrics[f"{name}_train_test_gap"] = r["gap"]
    effects = {"bn_regularizes": err["neither"] - err["batchnorm"],
               "bn_as_good_as_dropout": err["dropout"] - err["batchnorm"] + 0.01}
    return {"metrics": metrics, "effects": effects, "series": {}}


@k41.figures
def k41_figures(results, out_dir):
    names = list(K41_ARMS)
    err = plot_bars(results, [f"{n}_test_error" for n in names], names, Path(out_dir) / "k41_test_error.png",
                    "K41: does BatchNorm alone generalize about as well as dropout? (MNIST-1D MLP)", "test error")
    gap = plot_bars(results, [f"{n}_train_test_gap" for n in names], names, Path(out_dir) / "k41_gap.png",
                    "K41: train - test accuracy gap", "train accuracy - test accuracy")
    return [err, gap]


# =============================================================================================== K42
def saturated_fraction(model, x, low: float = 0.05, high: float = 0.95) -> float:
    """Fraction of (example, hidden unit) pairs whose sigmoid output is below `low` or above `high`
    (sigma'(z) < 0.048), over every hidden layer, in train mode (BN normalizes with the batch's own
    statistics, as in the training steps whose gradients saturation blocks), without gradients."""
    model.train()
    total, sat = 0, 0
    with dn.no_grad():
        h = dn.tensor(x)
        for module in model:
            h = module(h)
            if isinstance(module, nn.Sigmoid):
                a = h.numpy()
                sat += int(np.sum((a < low) | (a > high)))
                total += a.size
    return sat / max(total, 1)


def k42_run(norm: str, scale: float, depth: int, steps: int, seed: int, split, width: int = 64) -> dict:
    """A `depth` x `width` sigmoid MLP, Glorot normal weights x `scale`, `norm` before each sigmoid,
    SGD (lr 0.1, momentum 0.9, batch 64) on standardized digits: final training loss (last 10% of
    steps, divergence = 10) and the saturated fraction on the training set after training."""
    xtr, ytr, _, _ = split
    dn.manual_seed(seed)
    model = norm_mlp(64, width, depth, 10, activation="sigmoid", norm=norm, init="xavier", scale=scale)
    out = fit(model, xtr, ytr, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), steps, 64,
              np.random.default_rng(seed))
    tail = max(1, steps // 10)
    sat = saturated_fraction(model, xtr[:512]) if not out["diverged"] else 1.0
    return {"final_loss": float(np.mean(out["losses"][-tail:])), "saturated": sat, "losses": out["losses"]}


@claim(
    "K42", topics=["N1"],
    title_en="BatchNorm makes training insensitive to the init scale and lets deep sigmoid nets train",
    title_zh="BN 让训练对初始化尺度不敏感，并让深层 sigmoid 网络能训练",
    statement_en="BatchNorm makes training insensitive to the init scale and lets a deep sigmoid network train "
                 "(fewer saturated units).",
    statement_zh="BatchNorm 让训练对初始化尺度不敏感，并让深层 sigmoid 网络能够训练（饱和的单元更少）。",
    criteria=[
        Criterion("insensitive_to_init_scale", 0.2,
                  "the spread (max - min over init scales) of the final training loss is at least 0.2 nats smaller "
                  "with BN",
                  "最终训练损失在各初始化尺度间的极差（最大 - 最小），加 BN 后至少小 0.2 nats"),
        Criterion("deep_sigmoid_trains", 0.2,
                  "at the standard Glorot scale (x1) the final training loss is at least 0.2 nats lower with BN",
                  "标准 Glorot 尺度（x1）下，加 BN 的最终训练损失至少低 0.2 nats"),
        Criterion("fewer_saturated_units", 0.05,
                  "fraction of saturated sigmoid outputs (< 0.05 or > 0.95) after training, mean over scales, at "
                  "least 0.05 lower with BN",
                  "训练后饱和 sigmoid 输出（< 0.05 或 > 0.95）的比例，对各尺度取平均，加 BN 至少低 0.05"),
    ],
    combine=all_of,
    method_en="Per seed: a 10-layer sigmoid MLP of width 64 on standardized digits, Glorot normal weights times "
              "0.1, 1 and 10 (also 0.3 and 3 at full), zero biases, with and without BatchNorm1d before every "
              "sigmoid; SGD (lr 0.1, momentum 0.9, batch 64) for 400 steps (1000 at full). Final training loss "
              "(mean of the last 10% of steps; divergence counts as 10) and the fraction of saturated sigmoid "
              "outputs on 512 training images after training.",
    method_zh="每个种子：10 层、宽 64 的 sigmoid MLP，输入为标准化的 digits，Glorot 正态权重乘以 0.1、1、10（full 另加 0.3 和 "
              "3），偏置为 0，每个 sigmoid 前加或不加 BatchNorm1d；"
              "SGD（lr 0.1，动量 0.9，batch 64）训练 400 步（full 1000 步）。"
              "报告最终训练损失（最后 10% 步的平均；发散记为 10），以及训练后 512 张训练图像上饱和 sigmoid 输出的比例。",
    caveats_en="Training loss only (optimization, not generalization), one data set and one optimizer. BN makes the "
               "forward pass invariant to the scale of each layer's weights, so insensitivity to the init scale is "
               "largely built in; the effective learning rate still depends on the weight norm. Saturation is "
               "measured after training, not along the way.",
    caveats_zh="只看训练损失（优化，而非泛化），一个数据集、一个优化器。BN 使前向计算对每层权重的尺度不变，所以对初始化尺度"
               "不敏感在很大程度上是结构决定的；有效学习率仍然与权重范数有关。饱和比例只在训练后测量，不是整个训练过程。",
    code=["deepnotes.nn.BatchNorm1d", "deepnotes.nn.Sigmoid", "deepnotes.nn.init.xavier_normal_"],
    seconds={"tiny": 0.4, "quick": 11, "full": 45},
    references=["Ioffe & Szegedy, Batch Normalization, ICML 2015",
                "Glorot & Bengio, Understanding the difficulty of training deep feedforward neural networks, "
                "AISTATS 2010"],
)
def k42(seed: int, budget: str) -> dict:
    split = digits_split(standardize=True)
    depth, steps = pick(budget, 3, 10, 10), pick(budget, 4, 400, 1000)
    scales = pick(budget, (0.1, 1.0, 10.0), (0.1, 1.0, 10.0), (0.1, 0.3, 1.0, 3.0, 10.0))
    width = pick(budget, 16, 64, 64)
    metrics, runs = {}, {}
    for norm in ("none", "batch"):
        for s in scales:
            r = k42_run(norm, s, depth, steps, seed, split, width)
            runs[norm, s] = r
            tag = f"{'bn' if norm == 'batch' else 'plain'}_scale_{s:g}"
            metrics[f"{tag}_final_loss"] = r["final_loss"]
            metrics[f"{tag}_saturated"] = r["saturated"]

    def spread(norm):
        values = [runs[norm, s]["final_loss"] for s in scales]
        return max(values) - min(values)

    effects = {"insensitive_to_init_scale": spread("none") - spread("batch"),
               "deep_sigmoid_trains": runs["none", 1.0]["final_loss"] - runs["batch", 1.0]["final_loss"],
               "fewer_saturated_units": float(np.mean([runs["none", s]["saturated"] - runs["batch", s]["saturated"]
                                                       for s in scales]))}
    series = {"scales": list(scales),
              "plain_final_loss": [runs["none", s]["final_loss"] for s in scales],
              "bn_final_loss": [runs["batch", s]["final_loss"] for s in scales],
              "plain_saturated": [runs["none", s]["saturated"] for s in scales],
              "bn_saturated": [runs["batch", s]["saturated"] for s in scales]}
    return {"metrics": metrics, "effects": effects, "series": series}


@k42.figures
def k42_figures(results, out_dir):
    x = np.log10(results[0]["series"]["scales"])
    loss = plot_curves(results, ["plain_final_loss", "bn_final_loss"], ["sigmoid MLP", "sigmoid MLP + BN"],
                       Path(out_dir) / "k42_loss.png",
                       "K42: BatchNorm makes a deep sigmoid net insensitive to the init scale",
                       "log10(init scale x Glorot std)", "final training loss (cross-entropy)", x=x)
    sat = plot_curves(results, ["plain_saturated", "bn_saturated"], ["sigmoid MLP", "sigmoid MLP + BN"],
                      Path(out_dir) / "k42_saturation.png", "K42: saturated sigmoid units after training",
                      "log10(init scale x Glorot std)", "fraction of outputs < 0.05 or > 0.95", x=x)
    return [loss, sat]


# =============================================================================================== K43
def gradient_profile(model, x, y) -> dict:
    """Forward (train mode) and backpropagate the cross-entropy; returns, for every hidden block, the
    norm of the gradient w.r.t. its output (after the ReLU), input side first, and the Frobenius
    norm of every hidden Linear's weight gradient."""
    model.train()
    h, outs = dn.tensor(x), []
    modules = list(model)
    for module in modules:
        h = module(h)
        if isinstance(module, nn.ReLU):
            h.retain_grad()
            outs.append(h)
    nn.CrossEntropyLoss()(h, dn.tensor(y)).backward()
    signal = [float(np.linalg.norm(o.grad.numpy())) for o in outs]
    weights = [float(np.linalg.norm(m.weight.grad.numpy())) for m in block_linears(model)[:-1]]
    return {"signal": signal, "weight_grads": weights,
            "log10_signal_ratio": log_ratio(signal[0], signal[-1], 1e-300),
            "log10_weight_ratio": log_ratio(weights[0], weights[-1], 1e-300)}


K43_ARMS = {"plain_he_x0.7": ("none", 0.7), "plain_he_x1.0": ("none", 1.0), "plain_he_x1.3": ("none", 1.3),
            "bn_he_x1.0": ("batch", 1.0)}


def k43_profiles(depth: int, width: int, x, y, seed: int, arms=None) -> dict:
    """`gradient_profile` of a `depth`-layer plain ReLU MLP for each arm (norm, He scale), same seed."""
    out = {}
    for name, (norm, scale) in (arms or K43_ARMS).items():
        dn.manual_seed(seed)
        model = norm_mlp(x.shape[1], width, depth, 10, activation="relu", norm=norm, init="he", scale=scale)
        out[name] = gradient_profile(model, x, y)
    return out


@claim(
    "K43", topics=["N1", "I2"],
    title_en="BN at init explodes gradients in a deep plain net; ReLU alone prevents neither explosion nor vanishing",
    title_zh="深层无残差网络中 BN 在初始化时使梯度爆炸；ReLU 本身既防不了梯度爆炸也防不了梯度消失",
    statement_en="In a deep plain network BatchNorm at initialization makes gradients explode toward the input; "
                 "ReLU by itself prevents neither exploding nor vanishing gradients.",
    statement_zh="在没有残差连接的深层网络中，BatchNorm 在初始化时会使梯度向输入方向爆炸；ReLU 本身既不能防止梯度爆炸，"
                 "也不能防止梯度消失。",
    criteria=[
        Criterion("bn_explodes_toward_input", 1.0,
                  "with BN at He init, the gradient w.r.t. the first hidden layer's output is at least 10x the "
                  "last's (effect log10 first / last)",
                  "加 BN、He 初始化时，损失对第一隐藏层输出的梯度至少是对最后一层的 10 倍（效应 = log10 第一层 / 最后一层）"),
        Criterion("relu_explodes_at_he_x1.3", 1.0,
                  "plain ReLU, He std x 1.3: the first hidden layer's gradient at least 10x the last's",
                  "无 BN 的 ReLU，He 标准差 x 1.3：第一隐藏层的梯度至少是最后一层的 10 倍"),
        Criterion("relu_vanishes_at_he_x0.7", 1.0,
                  "plain ReLU, He std x 0.7: the first hidden layer's gradient at most 1/10 of the last's "
                  "(effect log10 last / first)",
                  "无 BN 的 ReLU，He 标准差 x 0.7：第一隐藏层的梯度最多是最后一层的 1/10（效应 = log10 最后一层 / 第一层）"),
    ],
    combine=all_of,
    method_en="Per seed: a 50-layer plain (no skip connections) ReLU MLP of width 128 on a batch of 256 "
              "standardized digits, He normal weights times 0.7, 1.0 or 1.3 and zero biases, and the same net at "
              "He x 1.0 with BatchNorm1d (train mode, batch statistics) before every ReLU. One backward pass of "
              "the cross-entropy; the gradient w.r.t. each hidden layer's output (after the ReLU) is compared "
              "between the first and the last hidden layer. Weight-gradient norms are reported too: in a plain "
              "ReLU net they scale with the init the same way at every layer (the forward signal shrinks or "
              "grows in step), while with BN the first layer's weight gradient is also far larger than the last's.",
    method_zh="每个种子：50 层无残差连接的 ReLU MLP，宽 128，输入为 256 张标准化的 digits，He 正态权重乘以 0.7、1.0 或 1.3，"
              "偏置为 0；另有 He x 1.0 且每个 ReLU 前加 BatchNorm1d（训练模式，用 batch 统计量）的同一网络。"
              "交叉熵反向传播一次，"
              "比较损失对第一个和最后一个隐藏层输出（ReLU 之后）的梯度。也报告权重梯度范数：在无 BN 的 ReLU 网络中，各层权重"
              "梯度随初始化尺度以同样方式缩放（前向信号同步变小或变大），而加 BN 时第一层的权重梯度也远大于最后一层。",
    caveats_en="At initialization only; with residual connections (He et al. 2016) BN does not explode this way, and "
               "training can move the net out of this regime. Width 128: finite-width fluctuations grow with depth. "
               "It decides the multiple-choice item 'which is wrong' about ReLU / BN / vanishing gradients: both "
               "'ReLU prevents exploding or vanishing gradients' and 'BN prevents gradient explosion at any depth' "
               "are false as stated; BN does help once training with skip connections is stable.",
    caveats_zh="只看初始化时刻；有残差连接（He 等，2016）时 BN 不会这样爆炸，训练过程也可能把网络带离这个状态。宽度 128：有限"
               "宽度的涨落随深度增大。它用来判定那道关于 ReLU / BN / 梯度消失的“哪项错误”选择题：“ReLU 能防止梯度爆炸或消失”"
               "和“BN 在任何深度都能防止梯度爆炸”两种说法都不成立；在有残差连接、训练稳定的网络中 BN 确实有帮助。",
    code=["deepnotes.nn.BatchNorm1d", "deepnotes.nn.ReLU", "deepnotes.nn.init.kaiming_normal_"],
    seconds={"tiny": 0.2, "quick": 2, "full": 6},
    references=["Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz, A Mean Field Theory of Batch Normalization, "
                "ICLR 2019",
                "He, Zhang, Ren & Sun, Delving deep into rectifiers, ICCV 2015",
                "Hanin, Which neural net architectures give rise to exploding and vanishing gradients?, NeurIPS 2018"],
)
def k43(seed: int, budget: str) -> dict:
    x, y, _, _ = digits_split(standardize=True)
    depth, width, batch = pick(budget, 8, 50, 50), pick(budget, 32, 128, 256), pick(budget, 64, 256, 512)
    rows = np.random.default_rng(seed).permutation(len(x))[:batch]
    profiles = k43_profiles(depth, width, x[rows], y[rows], seed)
    metrics, series = {}, {}
    for name, prof in profiles.items():
        metrics[f"{name}_log10_signal_ratio"] = prof["log10_signal_ratio"]
        metrics[f"{name}_log10_weight_grad_ratio"] = prof["log10_weight_ratio"]
        metrics[f"{name}_log10_first_weight_grad"] = math.log10(min(max(prof["weight_grads"][0], 1e-300), 1e300))
        series[f"{name}_signal"] = [math.log10(min(max(s, 1e-300), 1e300)) for s in prof["signal"]]
        series[f"{name}_weight_grads"] = [math.log10(min(max(s, 1e-300), 1e300)) for s in prof["weight_grads"]]
    effects = {"bn_explodes_toward_input": profiles["bn_he_x1.0"]["log10_signal_ratio"],
               "relu_explodes_at_he_x1.3": profiles["plain_he_x1.3"]["log10_signal_ratio"],
               "relu_vanishes_at_he_x0.7": -profiles["plain_he_x0.7"]["log10_signal_ratio"]}
    return {"metrics": metrics, "effects": effects, "series": series}


@k43.figures
def k43_figures(results, out_dir):
    names = list(K43_ARMS)
    labels = ["ReLU, He x 0.7", "ReLU, He x 1.0", "ReLU, He x 1.3", "ReLU + BN, He x 1.0"]
    n = len(results[0]["series"][f"{names[0]}_signal"])
    sig = plot_curves(results, [f"{k}_signal" for k in names], labels, Path(out_dir) / "k43_signal.png",
                      "K43: 50-layer plain net at init: BN explodes gradients toward the input;\n"
                      "ReLU alone prevents neither explosion (He x 1.3) nor vanishing (He x 0.7)",
                      "hidden layer (input side first)", "log10 |dL/d h_layer|",
                      x=np.arange(1, n + 1))
    w = plot_curves(results, [f"{k}_weight_grads" for k in names], labels, Path(out_dir) / "k43_weight_grads.png",
                    "K43: weight-gradient norms at init", "hidden layer (input side first)", "log10 |grad W|",
                    x=np.arange(1, n + 1))
    return [sig, w]

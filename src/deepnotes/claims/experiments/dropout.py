"""Claims on dropout: K22 (inverted rescale, identity at eval, less overfitting with scarce data, the
ensemble view) and K45 (sparser activations, longer training).

Each claim runs one seed; the measurements are small functions of this module so the tests can
run them on deliberately broken variants (no rescale, dropout left on at eval, p = 0).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import optim, train
from deepnotes.claims import Criterion, all_of, claim

from ._toolkit_a import accuracy, log_tol_effect, pick, plot_bars, plot_curves
from ._toolkit_c import block_linears, loss_on, mnist1d_split, norm_mlp, subsample


def max_norm_(model, c: float) -> None:
    """Max-norm constraint (Srivastava et al., 2014, sec. 5.1): rescale every hidden unit's incoming
    weight vector (a row of each hidden Linear's weight) to L2 norm <= c. In place."""
    with dn.no_grad():
        for layer in block_linears(model)[:-1]:
            w = layer.weight.numpy()
            norms = np.sqrt(np.sum(np.square(w, dtype=np.float64), axis=1, keepdims=True))
            w *= np.minimum(1.0, c / np.maximum(norms, 1e-12)).astype(w.dtype)


def train_epochs(model, x, y, epochs: int, seed: int, lr: float = 1e-3, batch: int = 50, max_norm=None,
                 on_epoch=None) -> None:
    """Adam on the cross-entropy for `epochs` epochs of a permutation drawn from `seed` (the same
    order for every arm); optional max-norm after each step; `on_epoch(epoch, model)` after each
    epoch (1-based)."""
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    batch = min(batch, len(x))
    model.train()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x))
        for start in range(0, len(x) - batch + 1, batch):
            idx = order[start:start + batch]
            loss = loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if max_norm is not None:
                max_norm_(model, max_norm)
        if on_epoch is not None:
            on_epoch(epoch, model)
            model.train()


# =============================================================================================== K22
def rescale_z(p: float, seed: int, draws: int = 200, shape=(64, 256), rescale: bool = True) -> float:
    """z-score of mean(dropout(a)) - mean(a) over `draws` masks of a fixed positive activation array a.

    Inverted dropout keeps E[dropout(a)] = a; each entry's variance is a^2 p / (1 - p), so the
    grand mean's standard error is sqrt(sum a^2 p / (1 - p)) / N. `rescale=False` undoes the
    1 / (1 - p) factor (the plain, non-inverted dropout of the broken variant).
    """
    rng = np.random.default_rng(seed)
    a = rng.exponential(1.0, size=shape).astype(np.float32)
    dn.manual_seed(seed)
    x = dn.tensor(a)
    total = 0.0
    for _ in range(draws):
        out = F.dropout(x, p=p, training=True).numpy().astype(np.float64)
        total += float(out.sum()) * (1.0 if rescale else (1.0 - p))
    n = draws * a.size
    se = math.sqrt(draws * float(np.sum(a.astype(np.float64) ** 2)) * p / (1 - p)) / n
    return (total / n - float(a.mean(dtype=np.float64))) / se


def eval_error(p: float, seed: int, training: bool = False) -> float:
    """max |Dropout(p)(x) - x| in eval mode (`training=True` leaves dropout on: the broken variant)."""
    rng = np.random.default_rng(seed)
    x = dn.tensor(rng.standard_normal((128, 64)).astype(np.float32))
    layer = nn.Dropout(p)
    layer.train(training)
    return float(np.max(np.abs(layer(x).numpy() - x.numpy())))


def ensemble_view(model, x, y, samples: int, seed: int) -> dict:
    """Compare the weight-scaled (eval-mode) net with the average of `samples` thinned nets.

    Thinned nets are the train-mode forward passes (one dropout mask per pass). Returns the
    accuracies of the eval-mode net, of the averaged softmax of the thinned nets, and the mean
    accuracy of a single thinned net, and the fraction of inputs where the eval net and the
    average predict the same class.
    """
    dn.manual_seed(seed)
    with dn.no_grad():
        model.eval()
        scaled = model(dn.tensor(x)).numpy()
        model.train()
        probs, singles = np.zeros_like(scaled, dtype=np.float64), []
        for _ in range(samples):
            p = F.softmax(model(dn.tensor(x)), dim=1).numpy().astype(np.float64)
            probs += p / samples
            singles.append(float(np.mean(p.argmax(axis=1) == y)))
    return {"weight_scaled_accuracy": float(np.mean(scaled.argmax(axis=1) == y)),
            "ensemble_accuracy": float(np.mean(probs.argmax(axis=1) == y)),
            "single_thinned_accuracy": float(np.mean(singles)),
            "agreement": float(np.mean(scaled.argmax(axis=1) == probs.argmax(axis=1)))}


def overfit_run(p: float, x, y, epochs: int, seed: int, test, width: int, max_norm=None):
    """MLP 40 -> 2 x `width` ReLU -> 10 with Dropout(p) after each hidden ReLU (and max-norm), trained
    on the MNIST-1D subset (x, y) (the same subset for every arm); returns the model and its test error
    and train - test accuracy gap on `test` = (x_test, y_test)."""
    dn.manual_seed(seed)
    model = norm_mlp(x.shape[1], width, 2, 10, activation="relu", dropout=p)
    train_epochs(model, x, y, epochs, seed + 1, max_norm=max_norm)
    test_acc = accuracy(model, *test)
    return model, {"test_error": 1.0 - test_acc, "gap": accuracy(model, x, y) - test_acc}


def epochs_for(n: int, epochs: int, reference: int = 1000) -> int:
    """`epochs` up to `reference` examples, then fewer so the number of steps stays that of `reference`
    (the sweep's large subsets get the judged size's training budget in steps, not 4x more)."""
    return epochs if n <= reference else max(1, round(epochs * reference / n))


@claim(
    "K22", topics=["R1", "R7"],
    title_en="Dropout: inverted rescale, identity at test, less overfitting, an ensemble of thinned nets",
    title_zh="Dropout：反向缩放、测试时恒等、减轻过拟合、相当于集成多个子网络",
    statement_en="Dropout reduces overfitting when data is scarce relative to capacity; the inverted-dropout "
                 "rescale keeps expected activations equal; test-time pass uses no dropout; it acts like "
                 "averaging an ensemble of thinned networks.",
    statement_zh="数据相对模型容量较少时，dropout 能减轻过拟合；inverted dropout 的缩放使激活值的期望不变；测试时不使用 "
                 "dropout；它的效果类似于对许多“变瘦”的子网络做集成平均。",
    criteria=[
        Criterion("rescale_keeps_mean", 0.0,
                  "inverted dropout (p 0.5): |z| of mean(dropout(a)) - mean(a) over 200 masks below 3 (effect 3 - |z|)",
                  "inverted dropout（p = 0.5）：200 个掩码下 mean(dropout(a)) - mean(a) 的 |z| 小于 3（效应 = 3 - |z|）"),
        Criterion("eval_is_identity", 0.0,
                  "Dropout in eval mode: max |out - x| below 1e-12 (effect log10 1e-12 - log10 error)",
                  "eval 模式下的 Dropout：max |输出 - x| 小于 1e-12（效应 = log10 1e-12 - log10 误差）"),
        Criterion("lower_test_error", 0.01,
                  "with 1000 training examples, test error without dropout - with dropout (+ max-norm 2) >= 0.01",
                  "1000 个训练样本时，不加 dropout 的测试错误率比加 dropout（+ max-norm 2）高至少 0.01"),
        Criterion("smaller_gap", 0.02,
                  "with 1000 training examples, the train - test accuracy gap at least 0.02 smaller with dropout",
                  "1000 个训练样本时，加 dropout 后训练-测试准确率差至少小 0.02"),
        Criterion("weight_scaling_matches_ensemble", 0.0,
                  "the eval-mode (weight-scaled) net and the average of 50 thinned nets predict the same class on "
                  "at least 95% of test inputs (effect agreement - 0.95)",
                  "eval 模式（权重缩放）网络与 50 个子网络的平均在至少 95% 的测试样本上预测相同类别（效应 = 一致率 - 0.95）"),
        Criterion("ensemble_beats_single_thinned", 0.01,
                  "the averaged thinned nets beat a single thinned net by >= 0.01 test accuracy",
                  "子网络平均的测试准确率比单个子网络高至少 0.01"),
    ],
    combine=all_of,
    method_en="Per seed: (a) 200 inverted-dropout masks (p 0.5) on a fixed positive 64 x 256 array, the z-score "
              "of the grand mean against its expected value; (b) Dropout in eval mode on random inputs; (c) MNIST-1D "
              "(standardized), nested random training subsets of 100, 300, 1000 and 4000 examples (train.learning_curve; "
              "2000 too at full; 1000 is the judged one), an MLP 40 -> 2 x 256 -> 10 with and without Dropout(0.5) "
              "after each hidden ReLU plus max-norm c = 2, Adam (lr 1e-3), batch 50, 100 epochs (the first "
              "design's 40 epochs left the dropout net far from fitting its training set; above 1000 examples the "
              "epochs shrink to keep 2000 steps); (d) the dropout "
              "net trained on 1000 examples: its eval-mode output against the average softmax of 50 train-mode "
              "(thinned) passes on the 1000 test inputs. Same seed: same subsets, init and data order.",
    method_zh="每个种子：(a) 对固定的 64 x 256 正值数组施加 200 次 inverted dropout 掩码（p = 0.5），计算总均值相对期望值的 "
              "z 分数；(b) eval 模式下对随机输入做 Dropout；(c) MNIST-1D（标准化），用 train.learning_curve 抽取嵌套的 "
              "100、300、1000、4000 个训练样本（full "
              "另加 2000；判定用 1000），MLP 40 -> 2 x 256 -> 10，每个隐藏 ReLU 后加或不加 Dropout(0.5)"
              "（加时配 max-norm c = 2），Adam（lr 1e-3），batch 50，"
              "训练 100 个 epoch（最初设计的 40 个 epoch 下 dropout 网络离拟合训练集还很远；超过 1000 个样本时减少 epoch，"
              "保持 2000 步）；"
              "(d) 用 1000 个样本训练的 dropout 网络："
              "在 1000 个测试样本上，比较 eval 模式输出与 50 次 train 模式（子网络）前向的 softmax 平均。同一种子下子集、"
              "初始化和数据顺序相同。",
    caveats_en="One architecture, one rate (0.5) and a fixed number of epochs without early stopping; dropout's "
               "benefit depends on the rate, the training length and the data size (the sweep over 100..4000 "
               "examples is reported, not judged: Srivastava et al. 2014 found the gain smallest at both ends). The ensemble "
               "view holds exactly only for a single linear layer (and approximately "
               "with non-linearities); 50 sampled nets are a tiny fraction of the 2^512 thinned nets.",
    caveats_zh="只有一种结构、一个比例（0.5）和固定的 epoch 数，没有早停；dropout 的收益取决于比例、训练时长和数据量"
               "（100..4000 样本的扫描只报告、不判定：Srivastava 等 2014 发现数据极少和极多时收益最小）。"
               "集成解释只在单个线性层上严格成立（有非线性时只是近似）；50 个采样子网络只是 2^512 个子网络中极小的一部分。",
    code=["deepnotes.nn.Dropout", "deepnotes.nn.functional.dropout", "deepnotes.data.load_mnist1d"],
    seconds={"tiny": 0.4, "quick": 50, "full": 75},
    references=["Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov, Dropout: A Simple Way to Prevent Neural "
                "Networks from Overfitting, JMLR 2014",
                "Hinton et al., Improving neural networks by preventing co-adaptation of feature detectors, 2012",
                "Gal & Ghahramani, Dropout as a Bayesian Approximation, ICML 2016"],
)
def k22(seed: int, budget: str) -> dict:
    xtr, ytr, xte, yte = mnist1d_split()
    sizes = pick(budget, (100,), (100, 300, 1000, 4000), (100, 300, 1000, 2000, 4000))
    judged = sizes[0] if budget == "tiny" else 1000
    width, epochs = pick(budget, 16, 256, 256), pick(budget, 1, 100, 100)
    samples = pick(budget, 5, 50, 50)
    z = rescale_z(0.5, seed, draws=pick(budget, 10, 200, 200))
    metrics = {"rescale_z": z, "eval_max_error": eval_error(0.5, seed)}
    judged_runs = {}

    def both_arms(x, y, s):  # one point of the training-set-size sweep: the same subset for both arms
        e = epochs_for(len(x), epochs)
        _, plain = overfit_run(0.0, x, y, e, s, (xte, yte), width)
        model, drop = overfit_run(0.5, x, y, e, s, (xte, yte), width, max_norm=2.0)
        if len(x) == judged:
            judged_runs.update(model=model, plain=plain, dropout=drop)
        return {"plain_test_error": plain["test_error"], "plain_gap": plain["gap"],
                "dropout_test_error": drop["test_error"], "dropout_gap": drop["gap"]}

    # nested subsets: rows = default_rng(seed).permutation(4000)[:n], the subsets of the first design
    curve = train.learning_curve(both_arms, xtr, ytr, sizes, seeds=[seed])
    series = {"sizes": list(sizes), **{k: v[0].tolist() for k, v in curve.scores.items()}}
    series["dropout_benefit"] = [a - b for a, b in zip(series["plain_test_error"], series["dropout_test_error"])]
    for n, i in zip(sizes, range(len(sizes))):
        for name in ("plain", "dropout"):
            metrics[f"{name}_n{n}_test_error"] = series[f"{name}_test_error"][i]
            metrics[f"{name}_n{n}_gap"] = series[f"{name}_gap"][i]
    metrics.update(ensemble_view(judged_runs["model"], xte, yte, samples, seed))
    plain, drop = judged_runs["plain"], judged_runs["dropout"]
    effects = {"rescale_keeps_mean": 3.0 - abs(z),
               "eval_is_identity": log_tol_effect(metrics["eval_max_error"], 1e-12),
               "lower_test_error": plain["test_error"] - drop["test_error"],
               "smaller_gap": plain["gap"] - drop["gap"],
               "weight_scaling_matches_ensemble": metrics["agreement"] - 0.95,
               "ensemble_beats_single_thinned": metrics["ensemble_accuracy"] - metrics["single_thinned_accuracy"]}
    return {"metrics": metrics, "effects": effects, "series": series}


@k22.figures
def k22_figures(results, out_dir):
    x = np.log10(results[0]["series"]["sizes"])
    curve = plot_curves(results, ["plain_test_error", "dropout_test_error"], ["no dropout", "dropout 0.5 + max-norm 2"],
                        Path(out_dir) / "k22_data_size.png",
                        "K22: dropout reduces overfitting when data is scarce (MNIST-1D MLP)",
                        "log10(training examples)", "test error", x=x)
    benefit = plot_curves(results, ["dropout_benefit"], ["test error without dropout - with dropout"],
                          Path(out_dir) / "k22_benefit.png",
                          "K22: dropout's benefit vs training-set size (Srivastava et al. 2014: smallest at both ends)",
                          "log10(training examples)", "test error reduction", x=x)
    bars = plot_bars(results, ["weight_scaled_accuracy", "ensemble_accuracy", "single_thinned_accuracy"],
                     ["eval mode\n(weight scaling)", "average of\n50 thinned nets", "one thinned net"],
                     Path(out_dir) / "k22_ensemble.png", "K22: dropout as an ensemble of thinned networks",
                     "test accuracy")
    return [curve, benefit, bars]


# =============================================================================================== K45
def near_zero_fraction(model, x, rel: float = 0.05) -> float:
    """Fraction of hidden ReLU outputs (eval mode) below `rel` x that layer's mean activation."""
    model.eval()
    small, total = 0, 0
    with dn.no_grad():
        h = dn.tensor(x)
        for module in model:
            h = module(h)
            if isinstance(module, nn.ReLU):
                a = h.numpy()
                small += int(np.sum(a < rel * max(float(a.mean()), 1e-30)))
                total += a.size
    model.train()
    return small / max(total, 1)


def k45_run(p: float, n_train: int, epochs: int, seed: int, split, width: int, target: float = 0.1) -> dict:
    """MLP 40 -> 2 x `width` ReLU (Dropout(p) after each) on `n_train` MNIST-1D examples, Adam 1e-3:
    the eval-mode training loss after each epoch, the first epoch where it is <= `target`
    (epochs + 1 if never) and the near-zero activation fraction at the end."""
    xtr, ytr, _, _ = split
    x, y = subsample(xtr, ytr, n_train, np.random.default_rng(seed))
    dn.manual_seed(seed)
    model = norm_mlp(x.shape[1], width, 2, 10, activation="relu", dropout=p)
    curve = []
    train_epochs(model, x, y, epochs, seed + 1, on_epoch=lambda e, m: curve.append(min(loss_on(m, x, y), 10.0)))
    hits = [i + 1 for i, v in enumerate(curve) if v <= target]
    return {"epochs_to_target": hits[0] if hits else epochs + 1, "curve": curve,
            "near_zero": near_zero_fraction(model, x)}


@claim(
    "K45", topics=["R1", "R7"],
    title_en="Dropout makes activations sparser and training longer",
    title_zh="Dropout 让激活更稀疏，训练更久",
    statement_en="Dropout makes hidden activations sparser and makes training take longer (more epochs to the same "
                 "training loss).",
    statement_zh="Dropout 让隐藏层激活更稀疏，并让训练时间变长（达到相同训练损失需要更多 epoch）。",
    criteria=[
        Criterion("sparser", 0.05,
                  "fraction of near-zero hidden activations (below 5% of the layer's mean) at least 0.05 higher "
                  "with dropout",
                  "近零隐藏激活（低于该层均值的 5%）的比例，加 dropout 后至少高 0.05"),
        Criterion("slower", math.log10(1.5),
                  "at least 1.5x more epochs to a training loss of 0.1 with dropout (effect log10 ratio; never = "
                  "the budget + 1)",
                  "加 dropout 后达到训练损失 0.1 所需的 epoch 至少多 1.5 倍（效应 = log10 比值；达不到记为预算 + 1）"),
    ],
    combine=all_of,
    method_en="Per seed: 1000 random MNIST-1D training examples (standardized), an MLP 40 -> 2 x 256 -> 10 with and "
              "without Dropout(0.5) after each hidden ReLU, Adam (lr 1e-3), batch 50, up to 60 epochs (120 at "
              "full). After each epoch the training loss is measured in eval mode on the whole training subset; "
              "the metric is the first epoch where it is <= 0.1. At the end, the fraction of hidden activations "
              "below 5% of their layer's mean (eval mode, training inputs). Same seed: same subset, init and order.",
    method_zh="每个种子：随机取 1000 个 MNIST-1D 训练样本（标准化），MLP 40 -> 2 x 256 -> 10，每个隐藏 ReLU 后加或不加 "
              "Dropout(0.5)，Adam（lr 1e-3），batch 50，最多 60 个 epoch（full 120 个）。每个 epoch 后在整个训练子集上用 eval "
              "模式测训练损失，指标是首次 <= 0.1 的 epoch。"
              "训练结束后统计隐藏激活中低于该层均值 5% 的比例（eval 模式，训练输入）。"
              "同一种子下子集、初始化和数据顺序相同。",
    caveats_en="One architecture, one rate and one data set. Sparsity is measured in eval mode after training (the "
               "features the net learned), not the zeros the masks add during training. Slower per epoch is not "
               "slower to a good test error: dropout nets are often trained longer on purpose.",
    caveats_zh="只有一种结构、一个比例、一个数据集。稀疏性是在训练后用 eval 模式测的（网络学到的特征），不是训练时掩码带来的"
               "零值。按 epoch 计更慢不代表达到好的测试误差更慢：dropout 网络本来就常常有意训练得更久。",
    code=["deepnotes.nn.Dropout", "deepnotes.nn.ReLU", "deepnotes.optim.Adam"],
    seconds={"tiny": 0.3, "quick": 9, "full": 20},
    references=["Srivastava et al., Dropout: A Simple Way to Prevent Neural Networks from Overfitting, JMLR 2014 "
                "(sections 7.1 on sparsity and 9 on training time)"],
)
def k45(seed: int, budget: str) -> dict:
    split = mnist1d_split()
    n, epochs, width = pick(budget, 100, 1000, 1000), pick(budget, 2, 60, 120), pick(budget, 16, 256, 256)
    plain = k45_run(0.0, n, epochs, seed, split, width)
    drop = k45_run(0.5, n, epochs, seed, split, width)
    metrics = {"plain_epochs_to_loss_0.1": float(plain["epochs_to_target"]),
               "dropout_epochs_to_loss_0.1": float(drop["epochs_to_target"]),
               "plain_near_zero_fraction": plain["near_zero"], "dropout_near_zero_fraction": drop["near_zero"]}
    effects = {"sparser": drop["near_zero"] - plain["near_zero"],
               "slower": math.log10(drop["epochs_to_target"] / plain["epochs_to_target"])}
    return {"metrics": metrics, "effects": effects,
            "series": {"plain_train_loss": plain["curve"], "dropout_train_loss": drop["curve"]}}


@k45.figures
def k45_figures(results, out_dir):
    loss = plot_curves(results, ["plain_train_loss", "dropout_train_loss"], ["no dropout", "dropout 0.5"],
                       Path(out_dir) / "k45_train_loss.png",
                       "K45: dropout makes training take longer (MNIST-1D MLP, 1000 examples)", "epoch",
                       "training loss (eval mode, cross-entropy)", logy=True)
    bars = plot_bars(results, ["plain_near_zero_fraction", "dropout_near_zero_fraction"], ["no dropout", "dropout 0.5"],
                     Path(out_dir) / "k45_sparsity.png", "K45: dropout makes hidden activations sparser",
                     "fraction of activations < 5% of the layer mean")
    return [loss, bars]

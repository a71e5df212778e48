"""Claims on generalization and capacity: K25 (test error is U-shaped in capacity, or descends twice)
and K46 (a network fits random labels; test accuracy stays at chance; fitting takes longer).

Each claim runs one seed; the measurements are small functions of this module so the tests can run
them on deliberately broken variants (a ridge that removes the interpolation peak, labels left true).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import optim, train
from deepnotes.claims import Criterion, all_of, claim

from ._toolkit_a import accuracy, pick, plot_curves
from ._toolkit_c import digits_split, norm_mlp


# =============================================================================================== K25
def noisy_digits(n_train: int, noise: float, seed: int):
    """`n_train` class-stratified standardized digits (drawn by `seed`) whose labels are replaced, with
    probability `noise`, by a uniformly random class; the test split (360) keeps its true labels."""
    xtr, ytr, xte, yte = digits_split(standardize=True)
    rows = train.nested_order(ytr, seed, stratify=True)[:n_train]
    x, y = xtr[rows], ytr[rows].copy()
    rng = np.random.default_rng(seed + 1)
    flip = rng.random(n_train) < noise
    y[flip] = rng.integers(0, 10, int(flip.sum()))
    return x, y, xte, yte


def random_features(x, width: int, seed: int) -> np.ndarray:
    """ReLU(x W^T + b) float64 (n, width) with a random, untrained nn.Linear(d, width) (its default init,
    drawn after `dn.manual_seed(seed)`): the first layer of a one-hidden-layer net, frozen."""
    dn.manual_seed(seed)
    layer = nn.Linear(x.shape[1], width)
    with dn.no_grad():
        return np.maximum(layer(dn.tensor(x)).numpy().astype(np.float64), 0.0)


def fit_readout(phi, targets, ridge: float = 0.0) -> np.ndarray:
    """The output weights W (width, classes) minimizing |phi W - targets|^2 + ridge |W|^2; with ridge 0,
    the minimum-norm least-squares solution (the interpolating one past width = n; Belkin et al. 2019).
    Solved in the dual, W = phi^T (phi phi^T + ridge I)^+ targets, so the cost is O(n^2 width)."""
    gram = phi @ phi.T
    if ridge > 0:
        return phi.T @ np.linalg.solve(gram + ridge * np.eye(len(gram)), targets)
    return phi.T @ np.linalg.lstsq(gram, targets, rcond=None)[0]


def capacity_sweep(widths, split, seed: int, ridge: float = 0.0) -> dict:
    """Random-features regression on one-hot targets at each width: test error (argmax), test MSE and
    training error. Every width draws its features from the same seed."""
    x, y, xte, yte = split
    onehot = np.eye(10)[y]
    out = {"test_error": [], "test_mse": [], "train_error": []}
    for width in widths:
        phi, phi_te = random_features(x, width, seed), random_features(xte, width, seed)
        w = fit_readout(phi, onehot, ridge)
        pred = phi_te @ w
        out["test_error"].append(float(np.mean(pred.argmax(axis=1) != yte)))
        out["test_mse"].append(float(np.mean(np.sum((pred - np.eye(10)[yte]) ** 2, axis=1))))
        out["train_error"].append(float(np.mean((phi @ w).argmax(axis=1) != y)))
    return out


def u_shape_summary(widths, errors, n: int) -> dict:
    """Read a capacity curve: the error at the smallest width, the best error at widths <= n / 2 (the
    classical sweet spot), the error at the interpolation threshold (width = n) and at the largest width."""
    widths, errors = np.asarray(widths), np.asarray(errors, dtype=np.float64)
    if n not in widths:
        raise ValueError(f"u_shape_summary: the widths must include the threshold n = {n}, got {widths.tolist()}")
    under = errors[widths <= n // 2]
    return {"smallest": float(errors[0]), "sweet_spot": float(under.min()),
            "threshold": float(errors[widths == n][0]), "largest": float(errors[-1])}


@claim(
    "K25", topics=["R6"],
    title_en="Test error is U-shaped in capacity, up to the interpolation threshold",
    title_zh="测试误差随容量呈 U 形——只到插值阈值为止",
    statement_en="Test error is U-shaped in model capacity (bias-variance trade-off).",
    statement_zh="测试误差随模型容量呈 U 形（偏差-方差权衡）。",
    criteria=[
        Criterion("falls_from_smallest", 0.05,
                  "left arm: test error at the smallest width minus the best error at widths <= n/2 >= 0.05",
                  "U 的左臂：最小宽度的测试错误率减去宽度 <= n/2 中的最佳错误率 >= 0.05"),
        Criterion("rises_to_threshold", 0.05,
                  "right arm: test error at width = n (the interpolation threshold) minus the sweet spot's >= 0.05",
                  "U 的右臂：宽度 = n（插值阈值）处的测试错误率减去最佳点的 >= 0.05"),
        Criterion("largest_worse_than_sweet_spot", 0.02,
                  "past the threshold it stays up: test error at the largest width (20 n) minus the sweet spot's "
                  ">= 0.02 (double descent would make this negative)",
                  "越过阈值后仍然偏高：最大宽度（20 n）的测试错误率减去最佳点的 >= 0.02（若出现双下降则为负）"),
    ],
    combine=all_of,
    method_en="Per seed: 200 class-stratified digits (standardized), 20% of their labels replaced by random classes; "
              "the 360 test images keep true labels. Capacity is the width p of a one-hidden-layer ReLU net whose "
              "first layer is random and frozen (nn.Linear's default init); the output layer is fitted to one-hot "
              "targets by minimum-norm least squares (no regularization: interpolation once p >= n). Widths: 18 "
              "log-spaced from 5 to 4000 = 20 n, plus n itself (tiny: n = 60, 7 widths). Test error is the "
              "argmax error. Reported beside it: a ridge (lambda = 1e-1) readout, which lowers the peak.",
    method_zh="每个种子：200 张按类别分层抽取的 digits 图像（标准化），其中 20% 的标签换成随机类别；360 张测试图像保持"
              "真实标签。容量 = 单隐藏层 ReLU 网络的宽度 p，第一层随机初始化后冻结（nn.Linear 默认初始化），输出层用"
              "最小范数最小二乘拟合 one-hot 目标（无正则：p >= n 时插值训练集）。宽度：从 5 到 4000 = 20 n 的 18 个"
              "对数间隔值，外加 n 本身（tiny：n = 60，7 个宽度）。测试误差是 argmax 错误率。另外报告岭回归（lambda = "
              "1e-1）读出层的曲线，它压低了峰。",
    caveats_en="Random features, not a trained network: a network trained by SGD has implicit regularization and its "
               "peak is lower (Nakkiran et al. 2019 see it with label noise and without early stopping). The peak "
               "sits at p = n because the readout is unregularized; a ridge lowers it (reported), and a tuned one "
               "makes the curve monotone (Nakkiran et al. 2020, optimal regularization). 'Capacity' here is the "
               "width; in epochs or data size the curve has other shapes. One small data set with added label "
               "noise, which makes the peak stronger.",
    caveats_zh="用的是随机特征，不是训练出来的网络：SGD 训练的网络有隐式正则，峰会低一些（Nakkiran 等 2019 在有标签噪声、"
               "不早停时观察到）。峰出现在 p = n 是因为读出层没有正则；加岭正则会压低峰（有报告），"
               "调到最优时曲线单调（Nakkiran 等 2020）。这里的“容量”是宽度；以 epoch 数或数据量为横轴时曲线形状不同。"
               "只有一个加了标签噪声的小数据集，噪声会让峰更明显。",
    code=["deepnotes.nn.Linear", "deepnotes.train.nested_order"],
    seconds={"tiny": 0.3, "quick": 8, "full": 20},
    references=["Belkin, Hsu, Ma & Mandal, Reconciling modern machine-learning practice and the classical "
                "bias-variance trade-off, PNAS 2019",
                "Nakkiran et al., Deep Double Descent: Where Bigger Models and More Data Hurt, ICLR 2020",
                "Nakkiran, Venkat, Kakade & Ma, Optimal Regularization Can Mitigate Double Descent, ICLR 2021",
                "Geman, Bienenstock & Doursat, Neural Networks and the Bias/Variance Dilemma, Neural Computation 1992"],
)
def k25(seed: int, budget: str) -> dict:
    n = pick(budget, 60, 200, 200)
    count = pick(budget, 6, 18, 30)
    widths = sorted(set(train.log_sizes(5, 20 * n, count)) | {n})
    split = noisy_digits(n, 0.2, seed)
    plain = capacity_sweep(widths, split, seed)
    ridge = capacity_sweep(widths, split, seed, ridge=0.1)
    s = u_shape_summary(widths, plain["test_error"], n)
    r = u_shape_summary(widths, ridge["test_error"], n)
    metrics = {**{f"error_{k}": v for k, v in s.items()}, **{f"ridge_error_{k}": v for k, v in r.items()},
               "mse_threshold": u_shape_summary(widths, plain["test_mse"], n)["threshold"],
               "train_error_largest": plain["train_error"][-1]}
    series = {"widths": widths, "test_error": plain["test_error"], "test_mse": plain["test_mse"],
              "train_error": plain["train_error"], "ridge_test_error": ridge["test_error"]}
    effects = {"falls_from_smallest": s["smallest"] - s["sweet_spot"],
               "rises_to_threshold": s["threshold"] - s["sweet_spot"],
               "largest_worse_than_sweet_spot": s["largest"] - s["sweet_spot"]}
    return {"metrics": metrics, "effects": effects, "series": series}


@k25.figures
def k25_figures(results, out_dir):
    x = np.log10(results[0]["series"]["widths"])
    err = plot_curves(results, ["test_error", "train_error", "ridge_test_error"],
                      ["test error (min-norm)", "training error (min-norm)", "test error (ridge 0.1)"],
                      Path(out_dir) / "k25_capacity.png",
                      "K25: error vs width of a random-features net (n = 200; threshold at log10 n = 2.3)",
                      "log10(width)", "error", x=x)
    mse = plot_curves(results, ["test_mse"], ["test MSE (min-norm)"], Path(out_dir) / "k25_mse.png",
                      "K25: test MSE vs width (log scale)", "log10(width)", "test MSE", logy=True, x=x)
    return [err, mse]


# =============================================================================================== K46
def fit_labels(x, y, xte, yte, seed: int, max_epochs: int, width: int, lr: float = 1e-3, batch: int = 50) -> dict:
    """MLP 64 -> 2 x `width` ReLU -> 10, Adam, batch 50, until 100% training accuracy (eval mode, checked
    after each epoch) or `max_epochs`. Returns the epochs to 100% (max_epochs + 1 if never), the final
    training and test accuracy and the training-accuracy curve."""
    dn.manual_seed(seed)
    model = norm_mlp(x.shape[1], width, 2, 10)
    opt, loss_fn = optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss()
    rng, curve = np.random.default_rng(seed + 1), []
    for _ in range(max_epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            loss = loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        curve.append(accuracy(model, x, y))
        if curve[-1] == 1.0:
            break
    return {"epochs": len(curve) if curve[-1] == 1.0 else max_epochs + 1, "train_accuracy": curve[-1],
            "test_accuracy": accuracy(model, xte, yte), "curve": curve}


def corrupt_labels(y, fraction: float, seed: int) -> np.ndarray:
    """A copy of y where a random `fraction` of the rows get their labels shuffled among themselves
    (fraction 1: a random permutation of all labels, Zhang et al.'s 'random labels' keep the class counts)."""
    rng = np.random.default_rng(seed)
    y = np.array(y, copy=True)
    rows = rng.permutation(len(y))[:int(round(fraction * len(y)))]
    y[rows] = y[rows][rng.permutation(len(rows))]
    return y


K46_FRACTIONS = (0.0, 0.5, 1.0)


@claim(
    "K46", topics=["R6", "T4"],
    title_en="A network fits random labels: perfect on training, chance on test, and slower",
    title_zh="网络能拟合随机标签：训练集全对，测试集等于瞎猜，而且更慢",
    statement_en="A network can fit random labels perfectly on the training set while its test accuracy stays at "
                 "chance: deep learning is not guaranteed to beat a random guess.",
    statement_zh="网络可以在训练集上完美拟合随机标签，而测试准确率停留在随机猜测的水平：深度学习并不保证比瞎猜强。",
    criteria=[
        Criterion("fits_random_labels", 0.0,
                  "with all labels shuffled, training accuracy reaches at least 98% (effect accuracy - 0.98)",
                  "标签全部打乱后，训练准确率至少达到 98%（效应 = 准确率 - 0.98）"),
        Criterion("test_at_chance", 0.0,
                  "with shuffled labels, test accuracy within 0.05 of chance, 0.1 (effect 0.05 - |accuracy - 0.1|)",
                  "标签打乱后，测试准确率与随机猜测的 0.1 相差不超过 0.05（效应 = 0.05 - |准确率 - 0.1|）"),
        Criterion("takes_longer", float(np.log10(1.5)),
                  "epochs to 100% training accuracy: shuffled labels take at least 1.5x as many as true labels "
                  "(effect log10 of the ratio; never reaching it counts as the budget + 1)",
                  "达到 100% 训练准确率所需 epoch：打乱标签至少是真实标签的 1.5 倍（效应 = 比值的 log10；"
                  "达不到记为预算 + 1）"),
    ],
    combine=all_of,
    method_en="Per seed: 500 class-stratified digits (standardized) and the 360 test images with true labels. "
              "Labels of the training rows shuffled for a fraction 0, 0.5 or 1 of them (the class counts are kept). "
              "The same MLP 64 -> 2 x 512 ReLU -> 10 (same init, same batch order) trained with Adam (lr 1e-3, "
              "batch 50) until every training label is fitted or 400 epochs (tiny: 100 rows, width 64, 0 and 1 only, "
              "30 epochs).",
    method_zh="每个种子：500 张按类别分层抽取的 digits 图像（标准化），360 张测试图像使用真实标签。训练标签中打乱比例"
              "为 0、0.5 或 1 的部分（各类数量不变）。同一个 MLP 64 -> 2 x 512 ReLU -> 10（相同初始化、相同 batch 顺序），"
              "Adam（lr 1e-3，batch 50），训练到所有训练标签都拟合上或 400 个 epoch（tiny：100 行，宽度 64，只有 0 和 1，"
              "30 个 epoch）。",
    caveats_en="A small MLP on 500 examples, far more parameters (about 300k) than examples: memorization is easy "
               "here; Zhang et al. show it for CIFAR-10 and ImageNet convolutional nets. It shows that capacity "
               "alone does not explain generalization, not what does. With explicit regularization (weight decay, "
               "dropout, augmentation) fitting random labels is slower but still possible.",
    caveats_zh="在 500 个样本上训练的小 MLP，参数（约 30 万）远多于样本：记住标签在这里很容易；Zhang 等人在 CIFAR-10 和 "
               "ImageNet 的卷积网络上也得到同样结论。它说明单靠容量解释不了泛化，但没有说明是什么带来了泛化。加上显式"
               "正则（权重衰减、dropout、数据增强）后拟合随机标签会更慢，但仍然做得到。",
    code=["deepnotes.nn.Linear", "deepnotes.optim.Adam"],
    seconds={"tiny": 0.7, "quick": 40, "full": 90},
    references=["Zhang, Bengio, Hardt, Recht & Vinyals, Understanding deep learning requires rethinking "
                "generalization, ICLR 2017",
                "Arpit et al., A Closer Look at Memorization in Deep Networks, ICML 2017"],
)
def k46(seed: int, budget: str) -> dict:
    n, width, max_epochs = pick(budget, 100, 500, 1000), pick(budget, 64, 512, 512), pick(budget, 30, 400, 600)
    fractions = pick(budget, (0.0, 1.0), K46_FRACTIONS, K46_FRACTIONS)
    xtr, ytr, xte, yte = digits_split(standardize=True)
    rows = train.nested_order(ytr, seed, stratify=True)[:n]
    runs, metrics, series = {}, {}, {}
    for fraction in fractions:
        labels = corrupt_labels(ytr[rows], fraction, seed + 2)
        r = runs[fraction] = fit_labels(xtr[rows], labels, xte, yte, seed, max_epochs, width)
        tag = f"shuffled_{int(round(100 * fraction))}"
        metrics.update({f"{tag}_epochs": float(r["epochs"]), f"{tag}_train_accuracy": r["train_accuracy"],
                        f"{tag}_test_accuracy": r["test_accuracy"]})
        series[f"{tag}_curve"] = r["curve"]
    true, rand = runs[0.0], runs[1.0]
    effects = {"fits_random_labels": rand["train_accuracy"] - 0.98,
               "test_at_chance": 0.05 - abs(rand["test_accuracy"] - 0.1),
               "takes_longer": float(np.log10(rand["epochs"] / true["epochs"]))}
    return {"metrics": metrics, "effects": effects, "series": series}


@k46.figures
def k46_figures(results, out_dir):
    keys = [k for k in ("shuffled_0_curve", "shuffled_50_curve", "shuffled_100_curve") if k in results[0]["series"]]
    labels = {"shuffled_0_curve": "true labels", "shuffled_50_curve": "half the labels shuffled",
              "shuffled_100_curve": "all labels shuffled"}
    padded = [{"series": {k: r["series"][k] + [r["series"][k][-1]] * (max(len(q["series"][k]) for q in results)
                                                                      - len(r["series"][k])) for k in keys}}
              for r in results]
    path = plot_curves(padded, keys, [labels[k] for k in keys], Path(out_dir) / "k46_fit.png",
                       "K46: training accuracy per epoch (digits, 500 rows, MLP 2 x 512)", "epoch",
                       "training accuracy")
    return [path]

"""Claims on activation functions and their gradients: K01 (no activation), K02 (vanishing
gradients), K03 (the "|w| > 4" rule for sigmoid explosion). The ReLU family (K04, K05, K48) is in
`relu_family.py`.

Each claim runs one seed; the measurements are small functions of this module so the tests can
run them on deliberately broken variants.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data, optim
from deepnotes.claims import Criterion, all_of, claim

from ._toolkit_a import (
    hidden_linears, log_tol_effect, mlp, pick, plot_bars, plot_curves,
    train_classifier,
)


# =============================================================================================== K01
def moons(seed: int, n: int):
    """Two moons (scikit-learn), float64 inputs (n, 2) and float64 labels (n, 1)."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n, noise=0.15, random_state=seed)
    return x.astype(np.float64), y.astype(np.float64).reshape(-1, 1)


def compose_linear_stack(model: nn.Sequential):
    """(W, b) of the single affine map equal to a stack of Linear layers: W = W_L ... W_1,
    b = W_L ... W_2 b_1 + ... + b_L (x -> x W^T + b)."""
    weight, bias = None, None
    for layer in model:
        if not isinstance(layer, nn.Linear):
            continue
        w, b = layer.weight.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)
        weight = w if weight is None else w @ weight
        bias = b if bias is None else w @ bias + b
    return weight, bias


def collapse_error(model: nn.Sequential, x) -> float:
    """Max |stack(x) - one_linear(x)| / max |stack(x)|: 0 (to rounding) for a purely linear stack."""
    weight, bias = compose_linear_stack(model)
    with dn.no_grad():
        out = model(dn.tensor(x)).numpy().astype(np.float64)
    composed = x @ weight.T + bias
    return float(np.max(np.abs(out - composed)) / max(np.max(np.abs(out)), 1e-300))


def fit_full_batch(model, x, y, steps: int, lr: float) -> list:
    """Full-batch Adam on the logistic loss (BCE with logits); the per-step loss."""
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    xt, yt = dn.tensor(x), dn.tensor(y)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    return losses


def logistic_regression_loss(x, y) -> float:
    """The logistic-regression optimum's mean log loss on (x, y) (scikit-learn, unregularized)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    model = LogisticRegression(C=1e10, max_iter=10000, tol=1e-10).fit(x, y.ravel())
    return float(log_loss(y.ravel(), model.predict_proba(x)[:, 1]))


@claim(
    "K01", topics=["E6"],
    title_en="Without activations a deep net is one linear map",
    title_zh="没有激活函数，深层网络就是一个线性模型",
    statement_en="Without non-linear activations, a deep network is exactly a linear model (the same "
                 "function class as one linear layer).",
    statement_zh="没有非线性激活函数时，多层网络恰好等价于一个线性模型（函数类与单层线性层相同）。",
    criteria=[
        Criterion("collapse_exact", 0.0,
                  "a deep Linear stack equals its composed single Linear: max relative output error < 1e-6 "
                  "(float64); effect log10(1e-6) - log10(error)",
                  "多层 Linear 堆叠与合成后的单个 Linear 输出一致：最大相对误差 < 1e-6（float64）；"
                  "效应 = log10(1e-6) - log10(误差)"),
        Criterion("same_loss_as_logreg", 0.0,
                  "on two moons the linear stack's best training loss is within 0.02 nats of logistic "
                  "regression's optimum; effect 0.02 - |difference|",
                  "在 two moons 上线性堆叠的最优训练损失与逻辑回归最优值相差不超过 0.02 nat；"
                  "效应 = 0.02 - |差值|"),
        Criterion("relu_far_lower", 0.1,
                  "the same stack with ReLU reaches a training loss at least 0.1 nats below logistic "
                  "regression's optimum",
                  "同样的网络加上 ReLU 后，训练损失比逻辑回归最优值至少低 0.1 nat"),
    ],
    combine=all_of,
    method_en="Per seed: a stack of Linear layers (2 -> 16 -> ... -> 1, depth 6 at quick/full) in float64 "
              "with PyTorch's default init. (1) Its weights are multiplied out into one (W, b) and the "
              "outputs on 500 random inputs compared. (2) Two moons (n = 300, noise 0.15, scikit-learn): the "
              "linear stack and the same stack with ReLU after every hidden layer (same init) are trained "
              "full-batch with Adam (lr 0.01, 2000 steps at quick, 4000 at full); their best training "
              "log loss is compared with the unregularized logistic-regression optimum (scikit-learn).",
    method_zh="每个种子：float64 的多层 Linear 堆叠（2 -> 16 -> ... -> 1，quick/full 下 6 层），PyTorch 默认初始化。"
              "(1) 把各层权重相乘合成一个 (W, b)，在 500 个随机输入上比较输出。(2) 在 two moons（n = 300，"
              "噪声 0.15，scikit-learn）上用 Adam 全批量训练线性堆叠和每个隐藏层后加 ReLU 的同一网络"
              "（相同初始化，lr 0.01，quick 2000 步、full 4000 步），把最优训练对数损失与无正则逻辑回归的最优值比较。",
    caveats_en="The identity is algebra; the experiment checks the code and that training cannot escape the "
               "linear function class. It does not show that a deep linear net trains like logistic "
               "regression: its loss landscape is non-convex and its training dynamics differ (Saxe et al., "
               "2014), only its best reachable loss is the same. Training losses only; no test set.",
    caveats_zh="恒等式本身是代数；实验检验的是代码，以及训练无法跳出线性函数类。它并不说明深层线性网络的训练过程和"
               "逻辑回归一样：其损失曲面非凸，训练动力学不同（Saxe 等，2014），相同的只是能达到的最优损失。"
               "只比较训练损失，没有测试集。",
    code=["deepnotes.nn.Linear", "deepnotes.nn.ReLU", "deepnotes.nn.BCEWithLogitsLoss", "deepnotes.optim.Adam"],
    seconds={"tiny": 0.3, "quick": 6, "full": 12},
    references=["Saxe, McClelland & Ganguli, Exact solutions to the nonlinear dynamics of learning in deep "
                "linear neural networks, ICLR 2014",
                "Goodfellow, Bengio & Courville, Deep Learning, 2016, section 6.1 (XOR)"],
)
def k01(seed: int, budget: str) -> dict:
    depth, width = pick(budget, 3, 6, 6), pick(budget, 8, 16, 16)
    n, steps = pick(budget, 60, 300, 300), pick(budget, 20, 2000, 4000)
    rng = np.random.default_rng(seed)
    dn.manual_seed(seed)
    stack = mlp(2, width, depth, 1, activation=None, init="default", dtype=np.float64)
    err = collapse_error(stack, rng.normal(size=(500, 2)) * 3.0)

    x, y = moons(seed, n)
    base = logistic_regression_loss(x, y)
    dn.manual_seed(seed)
    linear = mlp(2, width, depth, 1, activation=None, init="default", dtype=np.float64)
    dn.manual_seed(seed)
    relu = mlp(2, width, depth, 1, activation="relu", init="default", dtype=np.float64)
    lin_curve = fit_full_batch(linear, x, y, steps, 0.01)
    relu_curve = fit_full_batch(relu, x, y, steps, 0.01)
    lin_best, relu_best = min(lin_curve), min(relu_curve)
    every = max(1, steps // 200)
    return {
        "metrics": {"collapse_error": err, "logreg_loss": base, "linear_stack_best_loss": lin_best,
                    "relu_stack_best_loss": relu_best},
        "effects": {"collapse_exact": log_tol_effect(err, 1e-6, floor=1e-18),
                    "same_loss_as_logreg": 0.02 - abs(lin_best - base),
                    "relu_far_lower": base - relu_best},
        "series": {"linear_loss": lin_curve[::every], "relu_loss": relu_curve[::every],
                   "logreg_loss": [base] * len(lin_curve[::every]), "every": every},
    }


@k01.figures
def k01_figures(results, out_dir):
    every = results[0]["series"]["every"]
    length = len(results[0]["series"]["linear_loss"])
    path = plot_curves(results, ["logreg_loss", "linear_loss", "relu_loss"],
                       ["logistic regression optimum", "6 Linear layers, no activation (on top of it)",
                        "same stack with ReLU"],
                       Path(out_dir) / "k01_losses.png",
                       "K01: without activations the deep stack stops at logistic regression's loss",
                       "Adam step (full batch)", "training log loss (nats)", logy=True,
                       x=np.arange(length) * every + 1)
    return [path]


# =============================================================================================== K02
def gradient_ratio_curve(activation: str, init: str, x, y, depth: int, width: int, steps: int, lr: float,
                         seed: int, batch: int = 64) -> dict:
    """Train an `mlp` with SGD and record log10(|grad W_first| / |grad W_last|) over steps, where
    W_first / W_last are the first and the last hidden Linear layers (both followed by the
    activation). Returns {"log_ratio": [...], "first": [...], "last": [...], "loss": [...]}."""
    dn.manual_seed(seed)
    model = mlp(x.shape[1], width, depth, int(y.max()) + 1, activation=activation, init=init)
    hidden = hidden_linears(model)
    record = {"log_ratio": [], "first": [], "last": []}

    def on_step(step, m):
        first = float(np.linalg.norm(hidden[0].weight.grad.numpy()))
        last = float(np.linalg.norm(hidden[-1].weight.grad.numpy()))
        record["first"].append(first)
        record["last"].append(last)
        record["log_ratio"].append(math.log10(max(first, 1e-30) / max(last, 1e-30)))

    rng = np.random.default_rng(seed)
    record["loss"] = train_classifier(model, x, y, optim.SGD(model.parameters(), lr=lr), steps, batch, rng,
                                      on_step=on_step)
    return record


K02_ARMS = (("sigmoid", "xavier"), ("tanh", "xavier"), ("relu", "he"))


@claim(
    "K02", topics=["A1", "A2", "I2"],
    title_en="Sigmoid and tanh gradients vanish with depth; ReLU's do not",
    title_zh="sigmoid/tanh 让梯度随深度消失，ReLU 不会",
    statement_en="Sigmoid/tanh hidden layers make gradients vanish in deep networks; ReLU-family layers do "
                 "not (per-layer gradient norms).",
    statement_zh="深层网络中，sigmoid/tanh 隐藏层会导致梯度消失，ReLU 系列不会（比较逐层梯度范数）。",
    criteria=[
        Criterion("sigmoid_vanishes", 1.0,
                  "sigmoid (Xavier init): first hidden layer's weight gradient at least 10x smaller than the "
                  "last hidden layer's, averaged over training (effect -log10 ratio)",
                  "sigmoid（Xavier 初始化）：训练过程中第一隐藏层的权重梯度平均比最后一个隐藏层小 10 倍以上"
                  "（效应 = -log10 比值）"),
        Criterion("tanh_vanishes", 1.0,
                  "tanh (Xavier init): first/last hidden-layer gradient ratio at least 10x below 1",
                  "tanh（Xavier 初始化）：第一/最后隐藏层梯度比值至少小 10 倍"),
        Criterion("relu_does_not_vanish", 0.0,
                  "ReLU (He init): first/last ratio above 0.1 (effect 1 + log10 ratio)",
                  "ReLU（He 初始化）：第一/最后隐藏层梯度比值大于 0.1（效应 = 1 + log10 比值）"),
    ],
    combine=all_of,
    method_en="Per seed: an MLP 64 -> 64 x 15 hidden layers -> 10 (20 layers at full) on the digits data, trained "
              "with plain SGD (lr 0.1, batch 64, 300 steps at quick, 800 at full); sigmoid and tanh use Glorot's "
              "normal init (gain 1), ReLU He's normal init, zero biases; the same seed gives the same data order. "
              "At every step the Frobenius norm of the first and of the last hidden layer's weight gradient "
              "is recorded; the effect is the mean of log10(first / last) over the steps (init included).",
    method_zh="每个种子：digits 数据上的 MLP 64 -> 64 x 15 个隐藏层 -> 10（full 为 20 层），普通 SGD 训练（lr 0.1，"
              "batch 64，quick 300 步，full 800 步）；sigmoid 和 tanh 用 Glorot 正态初始化（gain 1），ReLU 用 He "
              "正态初始化，偏置为 0；同一种子数据顺序相同。每一步记录第一个和最后一个隐藏层权重梯度的 Frobenius "
              "范数，效应取 log10(第一层 / 最后一层) 在各步上的均值（含初始化时）。",
    caveats_en="One data set, one width, one optimizer; the ratio depends on the init (tanh with Glorot's init "
               "is designed to keep it near 1; with a too-small init it vanishes, and a ReLU net with a "
               "too-small or too-large init vanishes or explodes too: K26). It measures gradient norms, not "
               "whether the network eventually trains. Only ReLU is run for the ReLU family. Normalization "
               "layers and residual connections, which change the picture, are not included.",
    caveats_zh="只用了一个数据集、一个宽度、一个优化器；比值取决于初始化（Glorot 初始化本来就是为了让 tanh 的比值接近 1；"
               "初始化过小时仍会消失；ReLU 网络在初始化过小或过大时同样会消失或爆炸：见 K26）。测的是梯度范数，"
               "不是网络最终能否训练好。ReLU 系列只跑了 ReLU。没有包含会改变结论的归一化层和残差连接。",
    code=["deepnotes.nn.Sigmoid", "deepnotes.nn.Tanh", "deepnotes.nn.ReLU", "deepnotes.nn.init.xavier_normal_",
          "deepnotes.nn.init.kaiming_normal_", "deepnotes.optim.SGD"],
    seconds={"tiny": 0.3, "quick": 2.5, "full": 10},
    references=["Glorot & Bengio, Understanding the difficulty of training deep feedforward neural networks, "
                "AISTATS 2010",
                "Hochreiter, Untersuchungen zu dynamischen neuronalen Netzen, 1991",
                "He, Zhang, Ren & Sun, Delving deep into rectifiers, ICCV 2015"],
)
def k02(seed: int, budget: str) -> dict:
    depth, width = pick(budget, 4, 15, 20), pick(budget, 16, 64, 64)
    steps = pick(budget, 3, 300, 800)
    split = data.load_digits()
    x, y = split.x_train, split.y_train
    if budget == "tiny":
        x, y = x[:128], y[:128]
    metrics, effects, series = {}, {}, {}
    for activation, init in K02_ARMS:
        rec = gradient_ratio_curve(activation, init, x, y, depth, width, steps, 0.1, seed)
        mean_log = float(np.mean(rec["log_ratio"]))
        metrics[f"{activation}_log10_ratio_mean"] = mean_log
        metrics[f"{activation}_log10_ratio_init"] = rec["log_ratio"][0]
        metrics[f"{activation}_final_loss"] = rec["loss"][-1]
        series[f"{activation}_log_ratio"] = rec["log_ratio"]
    effects["sigmoid_vanishes"] = -metrics["sigmoid_log10_ratio_mean"]
    effects["tanh_vanishes"] = -metrics["tanh_log10_ratio_mean"]
    effects["relu_does_not_vanish"] = 1.0 + metrics["relu_log10_ratio_mean"]
    return {"metrics": metrics, "effects": effects, "series": series}


@k02.figures
def k02_figures(results, out_dir):
    curves = plot_curves(results, ["sigmoid_log_ratio", "tanh_log_ratio", "relu_log_ratio"],
                         ["sigmoid (Xavier)", "tanh (Xavier)", "ReLU (He)"], Path(out_dir) / "k02_ratio.png",
                         "K02: first / last hidden-layer gradient norm during training",
                         "SGD step", "log10(|grad W_first| / |grad W_last|)")
    bars = plot_bars(results, ["sigmoid_log10_ratio_init", "tanh_log10_ratio_init", "relu_log10_ratio_init"],
                     ["sigmoid", "tanh", "ReLU"], Path(out_dir) / "k02_init.png",
                     "K02: gradient ratio at initialization", "log10(first / last)", hline=-1.0)
    return [curves, bars]


# =============================================================================================== K03
def sigmoid_chain(n: int, depth: int, scale: float, bias_mode: str, rng, dtype=np.float64) -> nn.Sequential:
    """`depth` layers Linear(n, n) -> Sigmoid with weights uniform in [-scale, scale] (so every
    |w| < scale) and biases either 'centered' (b = -W 0.5: every pre-activation is 0 at the input
    0.5, sigmoid' = 1/4, units unsaturated) or 'zero'."""
    if bias_mode not in ("centered", "zero"):
        raise ValueError(f"sigmoid_chain: bias_mode must be 'centered' or 'zero', got {bias_mode!r}")
    layers = []
    for _ in range(depth):
        layer = nn.Linear(n, n, dtype=dtype)
        w = rng.uniform(-scale, scale, size=(n, n)).astype(dtype)
        layer.weight.data[...] = w
        layer.bias.data[...] = -w @ np.full(n, 0.5) if bias_mode == "centered" else 0.0
        layer.weight.requires_grad_(False)  # only the gradient w.r.t. the activations is measured
        layer.bias.requires_grad_(False)
        layers += [layer, nn.Sigmoid()]
    return nn.Sequential(*layers)


def gradient_growth(model: nn.Sequential, x, cotangent) -> float:
    """Per-layer growth factor of the backpropagated gradient: (|dL/dx| / |dL/dh_L|)^(1 / L) with
    L = sum(h_L * cotangent), averaged (in log) over the rows of x."""
    depth = sum(isinstance(m, nn.Linear) for m in model)
    xt = dn.tensor(x, requires_grad=True)
    (model(xt) * dn.tensor(cotangent)).sum().backward()
    ratio = np.linalg.norm(xt.grad.numpy(), axis=1) / np.linalg.norm(cotangent, axis=1)
    return float(10 ** (np.mean(np.log10(np.maximum(ratio, 1e-300))) / depth))


def scalar_growth(w: float, depth: int) -> float:
    """The same factor for a chain of scalar units h <- sigmoid(w h + b), b = -w/2 (centered): w/4."""
    layers = []
    for _ in range(depth):
        layer = nn.Linear(1, 1, dtype=np.float64)
        layer.weight.data[...] = w
        layer.bias.data[...] = -w * 0.5
        layers += [layer, nn.Sigmoid()]
    return gradient_growth(nn.Sequential(*layers), np.full((1, 1), 0.5), np.ones((1, 1)))


def crossing(scales, growth) -> float:
    """The scale where log(growth) crosses 0 (log-linear interpolation); the largest scale if never."""
    g = np.log(np.asarray(growth))
    for i in range(1, len(scales)):
        if g[i - 1] < 0 <= g[i]:
            t = -g[i - 1] / (g[i] - g[i - 1])
            return float(math.exp(math.log(scales[i - 1]) + t * (math.log(scales[i]) - math.log(scales[i - 1]))))
    return float(scales[-1]) if g[-1] < 0 else float(scales[0])


K03_SCALES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 3.99)
K03_SCALAR = (0.5, 1.0, 2.0, 3.0, 3.99, 5.0, 6.0, 8.0)


@claim(
    "K03", topics=["A1", "I2"],
    title_en="Sigmoid gradients explode only if |w| > 4?",
    title_zh="sigmoid 只有 |w| > 4 才会梯度爆炸？",
    statement_en="Because sigmoid's derivative is at most 1/4, gradients can only explode with sigmoid when the "
                 "weights are large (|w| > 4).",
    statement_zh="因为 sigmoid 的导数最大为 1/4，所以只有权重很大（|w| > 4）时 sigmoid 网络才可能梯度爆炸。",
    criteria=[
        Criterion("no_explosion_below_4", 0.0,
                  "with every |w| < 4 the backpropagated gradient never grows per layer: effect "
                  "-log10(largest per-layer growth factor over weight scales < 4, unsaturated units)",
                  "所有 |w| < 4 时反向传播的梯度逐层不增长：效应 = -log10(权重尺度 < 4、单元不饱和时最大的逐层增长因子)"),
    ],
    combine=all_of,
    method_en="Per seed: a chain of 20 layers Linear(256, 256) -> sigmoid (float64), weights uniform in "
              "[-a, a] for a from 0.05 to 3.99 (so every |w| < 4), biases either centered (b = -W 0.5, every "
              "unit at sigmoid' = 1/4 for the input 0.5) or zero (units saturate). A random cotangent is "
              "backpropagated and the per-layer growth factor (|dL/dx| / |dL/dh_20|)^(1/20) measured at the "
              "input 0.5, and at inputs 0.5 + N(0, 0.1^2) (what the data would do). The scalar chain "
              "h <- sigmoid(w h - w/2) is the folklore's setting: its factor is w/4.",
    method_zh="每个种子：20 层 Linear(256, 256) -> sigmoid（float64），权重在 [-a, a] 上均匀分布，a 从 0.05 到 3.99"
              "（所有 |w| < 4），偏置或者居中（b = -W 0.5，输入为 0.5 时每个单元 sigmoid' = 1/4），或者为 0（单元饱和）。"
              "反向传播一个随机余切向量，测量逐层增长因子 (|dL/dx| / |dL/dh_20|)^(1/20)，输入取 0.5 以及"
              " 0.5 + N(0, 0.1^2)（接近真实数据的情况）。标量链 h <- sigmoid(w h - w/2) 是民间说法的设定，其因子为 w/4。",
    caveats_en="The claim reasons about one scalar weight; in a layer the gradient is multiplied by the matrix "
               "W^T diag(sigmoid'), whose norm grows with the width (about a sqrt(n / 3) / 4 here), so small "
               "entries suffice. The counter-example needs unsaturated units: with zero biases and large "
               "weights the units saturate and the gradient vanishes instead, and with noisy inputs "
               "the perturbations themselves grow until units saturate. It does not show that training "
               "drives a sigmoid net into this regime.",
    caveats_zh="这一说法只考虑单个标量权重；在一层里乘到梯度上的是矩阵 W^T diag(sigmoid')，其范数随宽度增长（这里约为 "
               "a sqrt(n / 3) / 4），因此很小的元素就够了。反例要求单元不饱和：偏置为 0 且权重较大时单元饱和，梯度"
               "反而消失；输入带噪声时，扰动本身也会逐层放大直到单元饱和。实验并不说明训练会把 sigmoid 网络带到这个区域。",
    code=["deepnotes.nn.Sigmoid", "deepnotes.nn.Linear", "deepnotes.autograd"],
    seconds={"tiny": 0.2, "quick": 1, "full": 4},
    references=["Nielsen, Neural Networks and Deep Learning, 2015, chapter 5 (the unstable gradient problem)",
                "Pascanu, Mikolov & Bengio, On the difficulty of training recurrent neural networks, ICML 2013"],
)
def k03(seed: int, budget: str) -> dict:
    n, depth = pick(budget, 32, 256, 512), pick(budget, 5, 20, 30)
    rows = pick(budget, 4, 16, 16)
    rng = np.random.default_rng(seed)
    cot = rng.normal(size=(rows, n))
    x0 = np.full((rows, n), 0.5)
    noisy = 0.5 + 0.1 * rng.normal(size=(rows, n))
    series = {"scales": list(K03_SCALES), "centered": [], "centered_noisy": [], "zero": [], "spectral": []}
    for scale in K03_SCALES:
        for mode, x, key in (("centered", x0, "centered"), ("centered", noisy, "centered_noisy"),
                             ("zero", x0, "zero")):
            chain = sigmoid_chain(n, depth, scale, mode, np.random.default_rng([seed, int(scale * 1000)]))
            series[key].append(gradient_growth(chain, x, cot))
        series["spectral"].append(float(np.linalg.norm(chain[0].weight.numpy(), 2)))
    series["scalar_w"] = list(K03_SCALAR)
    series["scalar"] = [scalar_growth(w, depth) for w in K03_SCALAR]
    worst = max(series["centered"])
    metrics = {"max_growth_below_4": worst, "crossing_scale": crossing(K03_SCALES, series["centered"]),
               "max_growth_noisy_inputs": max(series["centered_noisy"]),
               "max_growth_zero_bias": max(series["zero"]),
               "scalar_crossing_w": crossing(K03_SCALAR, series["scalar"]),
               "spectral_norm_at_3_99": series["spectral"][-1]}
    return {"metrics": metrics, "effects": {"no_explosion_below_4": -math.log10(worst)}, "series": series}


@k03.figures
def k03_figures(results, out_dir):
    scales = results[0]["series"]["scales"]
    path = plot_curves(results, ["centered", "centered_noisy", "zero"],
                       ["matrix, centered biases, input 0.5", "matrix, centered biases, noisy input",
                        "matrix, zero biases (saturated)"], Path(out_dir) / "k03_growth.png",
                       "K03: per-layer gradient growth of a sigmoid chain with every |w| < 4",
                       "weight scale a (entries uniform in [-a, a])", "gradient growth factor per layer",
                       logy=True, x=scales)
    scalar = plot_curves(results, ["scalar"], ["scalar chain w sigmoid'(0) = w / 4"],
                         Path(out_dir) / "k03_scalar.png", "K03: the scalar chain crosses 1 at w = 4",
                         "scalar weight w", "gradient growth factor per layer", logy=True,
                         x=results[0]["series"]["scalar_w"])
    return [path, scalar]

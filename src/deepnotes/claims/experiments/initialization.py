"""Claims on initialization and capacity: K26 (Xavier / He keep the signal stable across depth) and
K38 (universal approximation with one hidden layer).

Each claim runs one seed; the measurements are small functions of this module so the tests can
run them on deliberately broken variants (He and Xavier swapped, no non-linearity).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data, optim
from deepnotes.claims import Criterion, all_of, claim

from ._toolkit_a import hidden_linears, mlp, pick, plot_bars, plot_curves, train_classifier


# =============================================================================================== K26
def standardized_digits():
    """Digits with every pixel standardized on the training set (constant pixels set to 0)."""
    split = data.load_digits()
    mean, std = split.x_train.mean(axis=0), split.x_train.std(axis=0)
    std[std == 0] = 1.0
    return ((split.x_train - mean) / std).astype(np.float32), split.y_train


def signal_profile(activation: str, init: str, scale: float, depth: int, width: int, x, y, seed: int) -> dict:
    """Forward a batch through an `mlp` (init, weight scale) and backpropagate the cross-entropy.

    Returns the std of every hidden layer's output after the activation (input side first), the
    Frobenius norm of every hidden Linear's weight gradient, and the two ratios the claim is about:
    act_ratio = std(last hidden) / std(first hidden), grad_ratio = |grad W_first| / |grad W_last|.
    """
    dn.manual_seed(seed)
    model = mlp(x.shape[1], width, depth, 10, activation=activation, init=init, scale=scale)
    linears = hidden_linears(model)
    stds, h = [], dn.tensor(x)
    modules = list(model)
    for i, module in enumerate(modules):
        h = module(h)
        if i > 0 and isinstance(modules[i - 1], nn.Linear) and any(modules[i - 1] is m for m in linears):
            stds.append(float(h.numpy().std()))
    loss = nn.CrossEntropyLoss()(h, dn.tensor(y))
    loss.backward()
    grads = [float(np.linalg.norm(m.weight.grad.numpy())) for m in linears]
    tiny = 1e-300
    return {"stds": stds, "grads": grads, "act_ratio": max(stds[-1], tiny) / max(stds[0], tiny),
            "grad_ratio": max(grads[0], tiny) / max(grads[-1], tiny)}


def band_effect(ratio: float, factor: float = 2.0) -> float:
    """log10(factor) - |log10(ratio)|: > 0 exactly when ratio is in [1 / factor, factor]."""
    ratio = ratio if math.isfinite(ratio) and ratio > 0 else 1e300
    return math.log10(factor) - abs(math.log10(ratio))


K26_CONFIGS = {  # name: (activation, init, scale)
    "he_relu": ("relu", "he", 1.0),
    "xavier_tanh": ("tanh", "xavier", 1.0),
    "xavier_relu": ("relu", "xavier", 1.0),
    "small_relu": ("relu", "he", 0.5),
    "large_relu": ("relu", "he", 2.0),
}
K26_SCALES = (0.25, 0.5, 0.7, 1.0, 1.4, 2.0, 4.0)


@claim(
    "K26", topics=["I1"],
    title_en="Xavier / He init keep the signal stable across depth",
    title_zh="Xavier / He 初始化让信号在深度上保持稳定",
    statement_en="Xavier/He init keeps activation and gradient variance stable across depth; too small or too "
                 "large init makes them vanish or explode.",
    statement_zh="Xavier/He 初始化使激活值和梯度的方差在各层间保持稳定；初始化过小或过大会使它们消失或爆炸。",
    criteria=[
        Criterion("he_relu_activations_stable", 0.0,
                  "ReLU + He: std of the last hidden layer's output within [0.5, 2] x the first's (effect "
                  "log10 2 - |log10 ratio|)",
                  "ReLU + He：最后一个隐藏层输出的标准差是第一层的 [0.5, 2] 倍（效应 = log10 2 - |log10 比值|）"),
        Criterion("he_relu_gradients_stable", 0.0,
                  "ReLU + He: first / last hidden-layer weight-gradient norm within [0.5, 2]",
                  "ReLU + He：第一/最后隐藏层权重梯度范数之比在 [0.5, 2] 内"),
        Criterion("xavier_tanh_activations_stable", 0.0,
                  "tanh + Xavier: last / first hidden activation std within [0.5, 2]",
                  "tanh + Xavier：最后/第一隐藏层激活标准差之比在 [0.5, 2] 内"),
        Criterion("xavier_tanh_gradients_stable", 0.0,
                  "tanh + Xavier: first / last hidden-layer weight-gradient norm within [0.5, 2]",
                  "tanh + Xavier：第一/最后隐藏层权重梯度范数之比在 [0.5, 2] 内"),
        Criterion("too_small_vanishes", 0.0,
                  "ReLU, He std x 0.5: last / first activation std below 0.01 (effect -2 - log10 ratio)",
                  "ReLU，He 标准差 x 0.5：最后/第一隐藏层激活标准差之比低于 0.01（效应 = -2 - log10 比值）"),
        Criterion("too_large_explodes", 0.0,
                  "ReLU, He std x 2: last / first activation std above 100 (effect log10 ratio - 2)",
                  "ReLU，He 标准差 x 2：最后/第一隐藏层激活标准差之比高于 100（效应 = log10 比值 - 2）"),
    ],
    combine=all_of,
    method_en="Per seed: an MLP 64 -> 64 x 30 hidden layers -> 10, zero biases, on a batch of 512 standardized digits "
              "(all 1437 at full). Each init (He normal with ReLU, Glorot normal with tanh, Glorot with ReLU, He "
              "scaled by 0.5 and by 2 with ReLU) gets the same seed. One forward pass records the std of every "
              "hidden layer's output; one backward pass of the cross-entropy the norm of every hidden weight "
              "gradient. Also a sweep of the He scale, and the training loss after 200 SGD steps (lr 0.01, "
              "momentum 0.9, batch 64; 600 at full) for each init, divergence counted as loss 10.",
    method_zh="每个种子：MLP 64 -> 64 x 30 个隐藏层 -> 10，偏置为 0，输入为 512 张标准化后的 digits 图（full 用全部 1437 张）。"
              "每种初始化（ReLU 配 He 正态、tanh 配 Glorot 正态、ReLU 配 Glorot、ReLU 配 He x 0.5 和 x 2）使用相同种子。"
              "一次前向记录每个隐藏层输出的标准差；交叉熵反向一次记录每个隐藏层权重梯度的范数。另外扫描 He 的缩放系数，"
              "并报告每种初始化用 SGD（lr 0.01，动量 0.9，batch 64）训练 200 步（full 600 步）后的训练损失，发散记为 10。",
    caveats_en="At initialization only (the criteria); training can move the network away from the stable regime, "
               "which normalization layers and residual connections then handle. Width 64: finite-width "
               "fluctuations grow with depth / width (Hanin & Rolnick, 2018), so single inputs vary more than "
               "the batch statistics used here. Each init is paired with the activation it was derived for; "
               "Glorot's init with ReLU (reported, not a criterion) halves the variance at every layer. "
               "'Xavier' is Glorot's paper's init (gain 1); PyTorch's recommended gain 5/3 for tanh is reported "
               "beside it, not judged.",
    caveats_zh="准则只看初始化时刻；训练可能把网络带离稳定区，那是归一化层和残差连接的工作。宽度为 64：有限宽度带来的涨落随"
               "深度/宽度增大（Hanin & Rolnick，2018），单个样本的波动比这里使用的批统计量更大。每种初始化都配它推导时"
               "针对的激活函数；Glorot 初始化配 ReLU（只报告，不作为准则）每层使方差减半。这里的 Xavier 指 Glorot 论文中"
               "的初始化（gain 1）；PyTorch 对 tanh 推荐的 gain 5/3 只作为参考报告，不参与判定。",
    code=["deepnotes.nn.init.kaiming_normal_", "deepnotes.nn.init.xavier_normal_", "deepnotes.nn.ReLU",
          "deepnotes.nn.Tanh"],
    seconds={"tiny": 0.3, "quick": 5, "full": 16},
    references=["Glorot & Bengio, Understanding the difficulty of training deep feedforward neural networks, "
                "AISTATS 2010",
                "He, Zhang, Ren & Sun, Delving deep into rectifiers, ICCV 2015",
                "Hanin & Rolnick, How to start training: the effect of initialization and architecture, NeurIPS 2018"],
)
def k26(seed: int, budget: str) -> dict:
    depth, width = pick(budget, 4, 30, 30), pick(budget, 16, 64, 64)
    batch, steps = pick(budget, 64, 512, 1437), pick(budget, 3, 200, 600)
    x_all, y_all = standardized_digits()
    pick_rows = np.random.default_rng(seed).permutation(len(x_all))[:batch]
    x, y = x_all[pick_rows], y_all[pick_rows]
    metrics, series = {}, {}
    profiles = {}
    for name, (activation, init, scale) in K26_CONFIGS.items():
        prof = signal_profile(activation, init, scale, depth, width, x, y, seed)
        profiles[name] = prof
        metrics[f"{name}_log10_act_ratio"] = math.log10(prof["act_ratio"])
        metrics[f"{name}_log10_grad_ratio"] = math.log10(prof["grad_ratio"])
        series[f"{name}_stds"] = [math.log10(max(s, 1e-300)) for s in prof["stds"]]
        series[f"{name}_grads"] = [math.log10(max(g, 1e-300)) for g in prof["grads"]]
        dn.manual_seed(seed)
        model = mlp(x.shape[1], width, depth, 10, activation=activation, init=init, scale=scale)
        losses = train_classifier(model, x_all, y_all, optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                                  steps, 64, np.random.default_rng(seed), loss_cap=10.0)
        metrics[f"{name}_final_loss"] = float(np.mean(losses[-10:]))
    gain = signal_profile("tanh", "xavier_gain", 1.0, depth, width, x, y, seed)  # reported, not judged
    metrics["xavier_gain_5_3_tanh_log10_act_ratio"] = math.log10(gain["act_ratio"])
    metrics["xavier_gain_5_3_tanh_log10_grad_ratio"] = math.log10(gain["grad_ratio"])
    series["scales"] = list(K26_SCALES)
    series["scale_log10_act_ratio"] = [math.log10(signal_profile("relu", "he", s, depth, width, x, y, seed)["act_ratio"])
                                       for s in K26_SCALES]
    effects = {
        "he_relu_activations_stable": band_effect(profiles["he_relu"]["act_ratio"]),
        "he_relu_gradients_stable": band_effect(profiles["he_relu"]["grad_ratio"]),
        "xavier_tanh_activations_stable": band_effect(profiles["xavier_tanh"]["act_ratio"]),
        "xavier_tanh_gradients_stable": band_effect(profiles["xavier_tanh"]["grad_ratio"]),
        "too_small_vanishes": -2.0 - metrics["small_relu_log10_act_ratio"],
        "too_large_explodes": metrics["large_relu_log10_act_ratio"] - 2.0,
    }
    return {"metrics": metrics, "effects": effects, "series": series}


@k26.figures
def k26_figures(results, out_dir):
    names = list(K26_CONFIGS)
    labels = ["ReLU + He", "tanh + Xavier", "ReLU + Xavier", "ReLU + He x 0.5", "ReLU + He x 2"]
    n = len(results[0]["series"]["he_relu_stds"])
    acts = plot_curves(results, [f"{k}_stds" for k in names], labels, Path(out_dir) / "k26_activations.png",
                       "K26: activation std across depth (30-layer MLP, width 64)", "hidden layer",
                       "log10 std of the layer's output", x=np.arange(1, n + 1))
    grads = plot_curves(results, [f"{k}_grads" for k in names], labels, Path(out_dir) / "k26_gradients.png",
                        "K26: weight-gradient norm across depth at init", "hidden layer",
                        "log10 |grad W|", x=np.arange(1, n + 1))
    sweep = plot_curves(results, ["scale_log10_act_ratio"], ["ReLU, He std x scale"], Path(out_dir) / "k26_scale.png",
                        "K26: too small or too large an init makes the signal vanish or explode",
                        "scale of He's std", "log10(std last / std first)", x=results[0]["series"]["scales"])
    losses = plot_bars(results, [f"{k}_final_loss" for k in names], labels, Path(out_dir) / "k26_losses.png",
                       "K26: training loss after SGD from each init", "cross-entropy (divergence = 10)")
    return [acts, grads, sweep, losses]


# =============================================================================================== K38
def target_function(x):
    """The smooth function to approximate on [-2, 2]: sin(2x) + 0.5 cos(5x)."""
    return np.sin(2 * x) + 0.5 * np.cos(5 * x)


def fit_one_hidden_layer(width: int, x, y, steps: int, seed: int, activation: str = "tanh", lr: float = 0.01):
    """Linear(1, width) -> activation -> Linear(width, 1), float64, PyTorch's default init.

    Trained by full-batch Adam on the MSE (cosine schedule), then the output layer is set to the
    exact least-squares solution given the trained hidden layer (a convex last step).
    `activation='identity'` removes the non-linearity (the broken variant of the tests).
    """
    dn.manual_seed(seed)
    act = nn.Identity() if activation == "identity" else nn.Tanh()
    model = nn.Sequential(nn.Linear(1, width, dtype=np.float64), act, nn.Linear(width, 1, dtype=np.float64))
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    xt, yt = dn.tensor(x.reshape(-1, 1)), dn.tensor(y.reshape(-1, 1))
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    with dn.no_grad():
        features = model[1](model[0](xt)).numpy()
    design = np.hstack([features, np.ones((len(x), 1))])
    coef = np.linalg.lstsq(design, y.reshape(-1), rcond=None)[0]
    with dn.no_grad():
        model[2].weight.data[...] = coef[:-1].reshape(1, -1)
        model[2].bias.data[...] = coef[-1:]
    return model


def max_error(model, lo: float, hi: float, points: int = 2001) -> float:
    """max |model(x) - f(x)| over an even grid of [lo, hi]."""
    grid = np.linspace(lo, hi, points)
    with dn.no_grad():
        pred = model(dn.tensor(grid.reshape(-1, 1))).numpy().ravel()
    return float(np.max(np.abs(pred - target_function(grid))))


K38_WIDTHS = (5, 20, 100)


@claim(
    "K38", topics=["T1"],
    title_en="One hidden layer approximates a smooth function, better as it widens",
    title_zh="单隐藏层可以逼近光滑函数，越宽越准",
    statement_en="One hidden layer can approximate a continuous function on an interval to any accuracy given "
                 "enough units (error falls as width grows).",
    statement_zh="只要隐藏单元足够多，单隐藏层网络可以在区间上以任意精度逼近连续函数（误差随宽度增加而下降）。",
    criteria=[
        Criterion("error_falls_5_to_20", math.log10(2.0),
                  "max error on [-2, 2] at width 20 at least 2x below width 5's (effect log10 ratio)",
                  "宽度 20 在 [-2, 2] 上的最大误差至少比宽度 5 低 2 倍（效应 = log10 比值）"),
        Criterion("error_falls_20_to_100", math.log10(2.0),
                  "max error at width 100 at least 2x below width 20's",
                  "宽度 100 的最大误差至少比宽度 20 低 2 倍"),
        Criterion("below_0.05_at_100", 0.0,
                  "max error at width 100 below 0.05 (effect log10 0.05 - log10 error)",
                  "宽度 100 的最大误差低于 0.05（效应 = log10 0.05 - log10 误差）"),
    ],
    combine=all_of,
    method_en="Per seed: f(x) = sin(2x) + 0.5 cos(5x) sampled at 256 uniform random points of [-2, 2]; a tanh net "
              "with one hidden layer of 5, 20 or 100 units (float64, PyTorch's default init, same seed) is trained "
              "by full-batch Adam on the MSE (lr 0.01, cosine schedule, 3000 steps at quick, 8000 at full), then "
              "its output layer is solved exactly by least squares. The error is the maximum over 2001 even grid "
              "points of [-2, 2]; the error outside the interval, on [2, 3], is reported too.",
    method_zh="每个种子：在 [-2, 2] 上均匀随机取 256 个点采样 f(x) = sin(2x) + 0.5 cos(5x)；单隐藏层 tanh 网络（5、20 或 100 个"
              "单元，float64，PyTorch 默认初始化，同一种子）用全批量 Adam 在 MSE 上训练（lr 0.01，余弦调度，quick 3000 步，"
              "full 8000 步），再用最小二乘精确求解输出层。误差取 [-2, 2] 上 2001 个等距点的最大值；另报告区间外 [2, 3] "
              "上的误差。",
    caveats_en="The theorem (Cybenko, 1989; Hornik, 1991) promises that some width suffices, not how many units, "
               "nor that gradient descent finds the weights (here the output layer is solved exactly, which "
               "helps), nor anything outside the interval: the error on [2, 3] does not fall with width. One "
               "smooth 1-D function; rough or high-dimensional functions may need exponentially many units.",
    caveats_zh="定理（Cybenko，1989；Hornik，1991）只保证存在足够的宽度，不说需要多少单元，也不保证梯度下降能找到这些权重"
               "（这里输出层用最小二乘精确求解，这有帮助），更不保证区间外的表现：[2, 3] 上的误差并不随宽度下降。只有一个"
               "光滑的一维函数；粗糙或高维的函数可能需要指数多的单元。",
    code=["deepnotes.nn.Linear", "deepnotes.nn.Tanh", "deepnotes.optim.Adam",
          "deepnotes.optim.lr_scheduler.CosineAnnealingLR"],
    seconds={"tiny": 0.2, "quick": 7, "full": 19},
    references=["Cybenko, Approximation by superpositions of a sigmoidal function, 1989",
                "Hornik, Approximation capabilities of multilayer feedforward networks, 1991",
                "Barron, Universal approximation bounds for superpositions of a sigmoidal function, 1993"],
)
def k38(seed: int, budget: str) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=256)
    y = target_function(x)
    steps = pick(budget, 10, 3000, 8000)
    metrics, series = {}, {}
    grid = np.linspace(-2.5, 3.0, 221)
    series["x"] = grid.tolist()
    series["target"] = target_function(grid).tolist()
    for width in K38_WIDTHS:
        model = fit_one_hidden_layer(width, x, y, steps, seed)
        metrics[f"width_{width}_max_error"] = max_error(model, -2, 2)
        metrics[f"width_{width}_max_error_outside_2_3"] = max_error(model, 2, 3)
        with dn.no_grad():
            series[f"width_{width}_fit"] = model(dn.tensor(grid.reshape(-1, 1))).numpy().ravel().tolist()
    e5, e20, e100 = (metrics[f"width_{w}_max_error"] for w in K38_WIDTHS)
    effects = {"error_falls_5_to_20": math.log10(e5 / e20), "error_falls_20_to_100": math.log10(e20 / e100),
               "below_0.05_at_100": math.log10(0.05) - math.log10(max(e100, 1e-300))}
    return {"metrics": metrics, "effects": effects, "series": series}


@k38.figures
def k38_figures(results, out_dir):
    keys = ["target"] + [f"width_{w}_fit" for w in K38_WIDTHS]
    fits = plot_curves(results, keys, ["f(x) = sin 2x + 0.5 cos 5x"] + [f"{w} tanh units" for w in K38_WIDTHS],
                       Path(out_dir) / "k38_fits.png",
                       "K38: one hidden layer fits f on [-2, 2] better as it widens, not outside it",
                       "x (trained on [-2, 2])", "output", x=results[0]["series"]["x"])
    bars = plot_bars(results, [f"width_{w}_max_error" for w in K38_WIDTHS] +
                     [f"width_{w}_max_error_outside_2_3" for w in K38_WIDTHS],
                     [f"{w} units\n[-2, 2]" for w in K38_WIDTHS] + [f"{w} units\n[2, 3]" for w in K38_WIDTHS],
                     Path(out_dir) / "k38_errors.png", "K38: max error against width, inside and outside the interval",
                     "max |net(x) - f(x)|", logy=True, hline=0.05)
    return [fits, bars]

"""Claims on the softmax and regression losses: K06 (softmax overflow), K07 (Smooth L1). The claims
on cross-entropy (K08, K40) are in `cross_entropy.py`.

Each claim runs one seed; the measurements are small functions of this module so the tests can
run them on deliberately broken variants (a naive softmax, a Smooth L1 with beta -> 0, ...).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import optim
from deepnotes.claims import Criterion, all_of, claim

from ._toolkit_a import log_tol_effect, pick, plot_bars, plot_curves


# =============================================================================================== K06
def naive_softmax(z):
    """exp(z) / sum exp(z) along dim 1, without the max shift: what the claim warns against
    (NumPy's overflow warnings are silenced: the overflow is what is measured)."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        e = dn.exp(z)
        return e / e.sum(dim=1, keepdim=True)


def stable_softmax(z):
    """The library's softmax (subtracts the row maximum)."""
    return F.softmax(z, dim=1)


def reference_softmax(logits: np.ndarray) -> np.ndarray:
    """SciPy's softmax in float64 (the oracle)."""
    from scipy.special import softmax

    return softmax(np.asarray(logits, dtype=np.float64), axis=1)


def overflow_threshold(fn, dtype) -> float:
    """Smallest logit z (bisection to 1e-4) where fn([[z, 0]]) in `dtype` is no longer finite."""
    lo, hi = 0.0, 2000.0
    with dn.no_grad():
        for _ in range(60):
            mid = (lo + hi) / 2
            out = fn(dn.tensor(np.array([[mid, 0.0]], dtype=dtype))).numpy()
            lo, hi = (mid, hi) if np.all(np.isfinite(out)) else (lo, mid)
    return hi


def softmax_logits(rng, rows: int, classes: int = 10) -> np.ndarray:
    """Rows of float32 logits s N(0, 1) + c with s log-uniform in [0.1, 1000] and c uniform in
    [-20, 150]: row maxima from about -20 to several thousand."""
    scale = 10 ** rng.uniform(-1, 3, size=(rows, 1))
    shift = rng.uniform(-20, 150, size=(rows, 1))
    return (scale * rng.normal(size=(rows, classes)) + shift).astype(np.float32)


def softmax_checks(logits: np.ndarray, softmax_fn=stable_softmax, naive_fn=naive_softmax) -> dict:
    """Run `softmax_fn` (the fix) and `naive_fn` on float32 logits (rows, classes).

    A row overflows in the naive computation when exp(z) or its sum is not finite; its output is
    then NaN, or silently all zeros when only the sum overflows (finite but wrong). Returns: the
    fraction of rows with max logit > 89 where the naive computation overflows; the max abs error
    of `softmax_fn` against SciPy's float64 softmax (inf if any value is non-finite); the max abs
    difference of the two on the rows where the naive computation did not overflow; the number of
    rows whose naive output is finite but wrong (all zeros); and the row counts.
    """
    with dn.no_grad(), np.errstate(over="ignore", invalid="ignore", under="ignore"):
        sums = dn.exp(dn.tensor(logits)).sum(dim=1).numpy().astype(np.float64)
        naive = naive_fn(dn.tensor(logits)).numpy().astype(np.float64)
        fixed = softmax_fn(dn.tensor(logits)).numpy().astype(np.float64)
    ref = reference_softmax(logits)
    large = logits.max(axis=1) > 89.0
    computed = np.isfinite(sums) & (sums > 0)  # no overflow (and no 0 / 0 underflow) on the way
    naive_finite = np.all(np.isfinite(naive), axis=1)
    fixed_err = float(np.max(np.abs(fixed - ref))) if np.all(np.isfinite(fixed)) else math.inf
    both = computed & naive_finite & np.all(np.isfinite(fixed), axis=1)
    diff = float(np.max(np.abs(naive[both] - fixed[both]))) if both.any() else 0.0
    return {"overflow_fraction": float(np.mean(~computed[large])) if large.any() else 0.0,
            "fixed_error": fixed_err, "naive_vs_fixed": diff, "large_rows": int(large.sum()),
            "finite_rows": int(both.sum()), "silent_zero_rows": int(np.sum(naive_finite & ~computed))}


@claim(
    "K06", topics=["A5"],
    title_en="A naive softmax overflows; subtracting the max does not",
    title_zh="朴素 softmax 会溢出，减去最大值就不会",
    statement_en="A naive softmax overflows for large logits; subtracting the max gives the same result "
                 "without overflow.",
    statement_zh="logit 很大时朴素 softmax 会溢出；减去最大值后结果相同且不会溢出。",
    criteria=[
        Criterion("naive_overflows", 1.0,
                  "float32: the naive computation overflows (exp or its sum is infinite) on every row whose "
                  "largest logit exceeds 89 (effect: the fraction of such rows)",
                  "float32：最大 logit 超过 89 的每一行，朴素 softmax 的计算都会溢出（exp 或其和为无穷）"
                  "（效应为这类行所占比例）"),
        Criterion("shifted_is_correct", 0.0,
                  "the max-shifted softmax matches SciPy's float64 softmax to 1e-6 on every row, large logits "
                  "included; effect log10(1e-6) - log10(max error)",
                  "减最大值的 softmax 在所有行（包括大 logit）上与 SciPy float64 结果误差 < 1e-6；"
                  "效应 = log10(1e-6) - log10(最大误差)"),
        Criterion("equal_where_finite", 0.0,
                  "on the rows where the naive computation does not overflow the two agree to 1e-6; effect "
                  "log10(1e-6) - log10(max difference)",
                  "在朴素计算没有溢出的行上两者相差 < 1e-6；效应 = log10(1e-6) - log10(最大差值)"),
    ],
    combine=all_of,
    method_en="Per seed: 4000 rows of 10 float32 logits s N(0, 1) + c (s log-uniform in [0.1, 1000], c uniform "
              "in [-20, 150]) go through exp(z) / sum exp(z) and through deepnotes' F.softmax (which subtracts "
              "the row maximum); SciPy's float64 softmax is the reference. The overflow point is found by "
              "bisection on the logit pair [z, 0], in float32 and float64 (log of the largest float: 88.72 "
              "and 709.78). A row overflows when exp(z) or its sum is infinite: the output is then NaN, or "
              "silently all zeros when only the sum overflows (from ~86.4 with 10 equal logits); the rows "
              "with such finite-but-wrong outputs are counted. Rows whose maximum is below -104 are checked "
              "apart: the naive softmax underflows there (0 / 0).",
    method_zh="每个种子：4000 行、每行 10 个 float32 logit，s N(0, 1) + c（s 在 [0.1, 1000] 上对数均匀，c 在 [-20, 150] "
              "上均匀），分别计算 exp(z) / sum exp(z) 和 deepnotes 的 F.softmax（减去每行最大值），以 SciPy float64 "
              "softmax 为参照。对 logit 对 [z, 0] 二分查找溢出点（float32 与 float64，最大浮点数的对数为 88.72 和"
              " 709.78）。exp(z) 或其和为无穷即算溢出：输出为 NaN，或者只有和溢出时悄悄变成全 0（10 个相等 logit 时从"
              "约 86.4 开始）；这类有限但错误的输出单独计数。另外单独检查最大值低于 -104 的行：朴素 softmax 在那里下溢"
              "（0 / 0）。",
    caveats_en="Only the forward value is checked here (the gradient of the fused softmax is checked against "
               "PyTorch in the library's tests). The naive form fails at both ends: overflow above ~88.7 and "
               "underflow (0 / 0) when every logit is below ~-104 in float32; the shift fixes both. In float64 "
               "the thresholds are ~709.8 and ~-745.",
    caveats_zh="这里只检查前向值（融合 softmax 的梯度在库的测试中已与 PyTorch 对比）。朴素写法两头都会出问题：float32 下"
               "超过约 88.7 上溢，所有 logit 都低于约 -104 时下溢（0 / 0）；减去最大值两者都能解决。float64 下阈值约为"
               " 709.8 和 -745。",
    code=["deepnotes.nn.functional.softmax", "deepnotes.exp"],
    seconds={"tiny": 0.1, "quick": 0.1, "full": 0.3},
    references=["Goodfellow, Bengio & Courville, Deep Learning, 2016, section 4.1 (overflow and underflow)"],
)
def k06(seed: int, budget: str) -> dict:
    rng = np.random.default_rng(seed)
    rows = pick(budget, 200, 4000, 20000)
    checks = softmax_checks(softmax_logits(rng, rows))
    low = (rng.normal(size=(rows // 10, 10)) * 3 - rng.uniform(110, 200, size=(rows // 10, 1))).astype(np.float32)
    with dn.no_grad():
        naive_low = naive_softmax(dn.tensor(low)).numpy()
        fixed_low = stable_softmax(dn.tensor(low)).numpy()
    metrics = {
        "naive_overflow_fraction_above_89": checks["overflow_fraction"],
        "shifted_max_error": checks["fixed_error"] if math.isfinite(checks["fixed_error"]) else 1e300,
        "naive_vs_shifted_max_difference": checks["naive_vs_fixed"],
        "rows_above_89": float(checks["large_rows"]),
        "naive_silent_zero_rows": float(checks["silent_zero_rows"]),
        "naive_overflow_threshold_float32": overflow_threshold(naive_softmax, np.float32),
        "naive_overflow_threshold_float64": overflow_threshold(naive_softmax, np.float64),
        "naive_underflow_fraction_below_minus_110": float(np.mean(~np.all(np.isfinite(naive_low), axis=1))),
        "shifted_max_error_below_minus_110": float(np.max(np.abs(fixed_low - reference_softmax(low)))),
    }
    effects = {"naive_overflows": checks["overflow_fraction"],
               "shifted_is_correct": log_tol_effect(checks["fixed_error"], 1e-6, floor=1e-18),
               "equal_where_finite": log_tol_effect(checks["naive_vs_fixed"], 1e-6, floor=1e-18)}
    grid = np.linspace(0, 120, 121)
    with dn.no_grad():
        pairs = dn.tensor(np.stack([grid, np.zeros_like(grid)], axis=1).astype(np.float32))
        series = {"z": grid.tolist(),
                  "naive_p0": np.nan_to_num(naive_softmax(pairs).numpy()[:, 0], nan=-0.05).tolist(),
                  "shifted_p0": stable_softmax(pairs).numpy()[:, 0].tolist()}
    return {"metrics": metrics, "effects": effects, "series": series}


@k06.figures
def k06_figures(results, out_dir):
    path = plot_curves(results, ["shifted_p0", "naive_p0"], ["max-shifted softmax", "naive exp(z) / sum exp(z)"],
                       Path(out_dir) / "k06_softmax.png",
                       "K06: softmax([z, 0])[0] in float32; the naive form turns NaN (drawn at -0.05) above 88.7",
                       "logit z", "probability of class 0", x=results[0]["series"]["z"])
    return [path]


# =============================================================================================== K07
def outlier_regression(rng, n_train: int, n_test: int, dim: int, outlier_fraction: float):
    """y = x w + 1 + N(0, 0.5^2); a fraction of the training targets gets +-U(10, 30) added (gross
    errors, random sign). Returns x_train, y_train, x_test, y_test_clean (noise-free), float64."""
    w = rng.normal(size=dim)
    x_train, x_test = rng.normal(size=(n_train, dim)), rng.normal(size=(n_test, dim))
    y_train = x_train @ w + 1.0 + 0.5 * rng.normal(size=n_train)
    bad = rng.choice(n_train, size=int(round(outlier_fraction * n_train)), replace=False)
    y_train[bad] += rng.choice([-1.0, 1.0], size=bad.size) * rng.uniform(10, 30, size=bad.size)
    return x_train, y_train.reshape(-1, 1), x_test, (x_test @ w + 1.0).reshape(-1, 1)


def regression_loss(name: str, beta: float = 1.0):
    """The loss function by name: 'l2' (MSE), 'l1', 'smooth_l1' (PyTorch's, with `beta`)."""
    if name == "l2":
        return F.mse_loss
    if name == "l1":
        return F.l1_loss
    if name == "smooth_l1":
        return lambda input, target: F.smooth_l1_loss(input, target, beta=beta)
    raise ValueError(f"regression_loss: name must be 'l2', 'l1' or 'smooth_l1', got {name!r}")


def fit_linear_regression(loss_fn, x, y, steps: int, seed: int, lr: float = 0.1) -> nn.Linear:
    """Full-batch Adam with a cosine learning-rate schedule on a Linear(d, 1) in float64."""
    dn.manual_seed(seed)
    model = nn.Linear(x.shape[1], 1, dtype=np.float64)
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    xt, yt = dn.tensor(x), dn.tensor(y)
    for _ in range(steps):
        loss = loss_fn(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model


def clean_test_mse(model, x, y_clean) -> float:
    with dn.no_grad():
        return float(np.mean((model(dn.tensor(x)).numpy() - y_clean) ** 2))


def derivative_jump(loss_fn, eps: float = 1e-6) -> float:
    """|dL/dr(+eps) - dL/dr(-eps)| for the residual r = input - target at 0 (autograd, float64): the
    jump of the derivative across 0 (2 for L1, ~2 eps / beta for Smooth L1, 4 eps for L2)."""
    r = dn.tensor(np.array([eps, -eps]), requires_grad=True)
    loss_fn(r, dn.tensor(np.zeros(2))).backward()
    return float(abs(r.grad.numpy()[0] - r.grad.numpy()[1]) * 2)  # x2: the mean over the two elements halves each gradient


K07_LOSSES = ("l2", "l1", "smooth_l1")


@claim(
    "K07", topics=["L1", "D3"],
    title_en="Smooth L1: robust like L1, smooth like L2",
    title_zh="Smooth L1：像 L1 一样抗离群点，像 L2 一样在 0 处光滑",
    statement_en="Smooth L1 is more robust to outliers than L2 and smoother at 0 than L1 (fit with injected "
                 "outliers).",
    statement_zh="Smooth L1 比 L2 对离群点更鲁棒，在 0 处比 L1 更光滑（注入离群点后拟合）。",
    criteria=[
        Criterion("more_robust_than_l2", math.log(1.25),
                  "with 10% outliers, Smooth L1's clean-test MSE is at least 1.25x lower than L2's "
                  "(effect ln(MSE_L2 / MSE_SmoothL1))",
                  "含 10% 离群点时，Smooth L1 在干净测试集上的 MSE 比 L2 至少低 1.25 倍（效应 = ln(MSE_L2 / MSE_SmoothL1)）"),
        Criterion("smoother_than_l1", 3.0,
                  "the derivative's jump across a zero residual is at least 1000x smaller for Smooth L1 than "
                  "for L1 (effect log10(jump_L1 / jump_SmoothL1), at r = +-1e-6)",
                  "残差为 0 处导数的跳变，Smooth L1 比 L1 至少小 1000 倍（效应 = log10(跳变_L1 / 跳变_SmoothL1)，"
                  "在 r = +-1e-6 处测量）"),
    ],
    combine=all_of,
    method_en="Per seed: linear data y = x w + 1 + N(0, 0.5^2) in 10 dimensions, 400 training points of which 10% "
              "get a gross error +-U(10, 30); a Linear(10, 1) is fitted with each loss (MSE, L1, Smooth L1 with "
              "PyTorch's beta = 1) by full-batch Adam (lr 0.1, cosine schedule, 600 steps at quick) from the same "
              "init; the error is the MSE against the noise-free targets of 2000 test points. The derivative's "
              "jump at 0 is measured with autograd at residuals +-1e-6.",
    method_zh="每个种子：10 维线性数据 y = x w + 1 + N(0, 0.5^2)，400 个训练点中 10% 加上 +-U(10, 30) 的粗差；"
              "用每种损失（MSE、L1、PyTorch 默认 beta = 1 的 Smooth L1）从相同初始化出发，以全批量 Adam（lr 0.1，余弦"
              "调度，quick 600 步）拟合 Linear(10, 1)；误差为 2000 个测试点上相对无噪声目标的 MSE。用自动微分在残差 "
              "+-1e-6 处测量导数在 0 处的跳变。",
    caveats_en="Linear model, symmetric gross errors of one size range; Smooth L1's robustness depends on beta "
               "relative to the residual scale (with beta larger than the outliers it is just L2). L1 is as "
               "robust here (it is the median regression); the claim does not say Smooth L1 beats L1 on "
               "robustness. Smoothness is measured as the first derivative's continuity; Smooth L1's second "
               "derivative still jumps at |r| = beta.",
    caveats_zh="线性模型，离群点是对称的、大小在一个范围内的粗差；Smooth L1 的鲁棒性取决于 beta 与残差尺度的相对大小"
               "（beta 比离群点还大时它就是 L2）。这里 L1 同样鲁棒（它是中位数回归）；说法并没有说 Smooth L1 比 L1 更鲁棒。"
               "光滑性指一阶导数的连续性；Smooth L1 的二阶导数在 |r| = beta 处仍然跳变。",
    code=["deepnotes.nn.functional.smooth_l1_loss", "deepnotes.nn.functional.l1_loss",
          "deepnotes.nn.functional.mse_loss", "deepnotes.optim.Adam"],
    seconds={"tiny": 0.1, "quick": 0.5, "full": 1.5},
    references=["Girshick, Fast R-CNN, ICCV 2015 (Smooth L1 for box regression)",
                "Huber, Robust estimation of a location parameter, Annals of Mathematical Statistics, 1964"],
)
def k07(seed: int, budget: str) -> dict:
    rng = np.random.default_rng(seed)
    n_train, steps = pick(budget, 80, 400, 1000), pick(budget, 10, 600, 1500)
    x, y, x_test, y_clean = outlier_regression(rng, n_train, 2000, 10, 0.1)
    metrics = {}
    for name in K07_LOSSES:
        model = fit_linear_regression(regression_loss(name), x, y, steps, seed)
        metrics[f"{name}_clean_test_mse"] = clean_test_mse(model, x_test, y_clean)
        metrics[f"{name}_derivative_jump_at_0"] = derivative_jump(regression_loss(name))
    effects = {"more_robust_than_l2": math.log(metrics["l2_clean_test_mse"] / metrics["smooth_l1_clean_test_mse"]),
               "smoother_than_l1": math.log10(metrics["l1_derivative_jump_at_0"]
                                              / max(metrics["smooth_l1_derivative_jump_at_0"], 1e-300))}
    r = np.linspace(-2.5, 2.5, 201)
    series = {"r": r.tolist()}
    for name in K07_LOSSES:
        rt = dn.tensor(r, requires_grad=True)
        F_loss = regression_loss(name)
        F_loss(rt, dn.tensor(np.zeros_like(r))).backward()
        series[f"{name}_grad"] = (rt.grad.numpy() * r.size).tolist()
    return {"metrics": metrics, "effects": effects, "series": series}


@k07.figures
def k07_figures(results, out_dir):
    bars = plot_bars(results, [f"{n}_clean_test_mse" for n in K07_LOSSES], ["L2 (MSE)", "L1", "Smooth L1"],
                     Path(out_dir) / "k07_mse.png", "K07: clean-test MSE after fitting data with 10% outliers",
                     "MSE against noise-free targets", logy=True)
    grads = plot_curves(results, [f"{n}_grad" for n in K07_LOSSES], ["L2 (MSE)", "L1", "Smooth L1 (beta 1)"],
                        Path(out_dir) / "k07_grad.png", "K07: dL/dr; Smooth L1's derivative is continuous at 0, L1's jumps",
                        "residual r", "derivative of the loss", x=results[0]["series"]["r"])
    return [bars, grads]

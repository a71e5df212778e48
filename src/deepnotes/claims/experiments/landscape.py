"""Claims on the loss landscape: step size against curvature, and convexity.

K16 (learning rate too high / too low; raw vs standardized inputs), K17 (convex vs non-convex:
one solution or many). Each experiment is split into small functions the tests can run on broken
variants.
"""
from __future__ import annotations

import math

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data, optim
from deepnotes.claims import Criterion, all_of, claim

from . import _toolkit_b as kit

LOG2 = math.log10(2.0)


# ============================================================================ K16
K16_GRID = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)
K16_TOO_LOW, K16_TOO_HIGH = 1e-4, 10.0


def k16_curve(x, y, lr, steps, seed):
    """Full-batch gradient descent on linear least squares (MSE on the 0/1 labels); the loss per step."""
    dn.manual_seed(seed)
    model = nn.Linear(x.shape[1], 1)
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    yf = y.astype(np.float32).reshape(-1, 1)
    curve = [kit.full_loss(model, loss_fn, x, yf)]
    for _ in range(steps):
        kit.sgd_step(model, opt, loss_fn, x, yf)
        curve.append(kit.full_loss(model, loss_fn, x, yf))
        if curve[-1] >= kit.LOSS_CAP:
            curve += [kit.LOSS_CAP] * (steps + 1 - len(curve))
            break
    return np.array(curve)


def k16_sweep(x, y, steps, seed, grid=K16_GRID):
    """{lr: loss curve} over the grid."""
    return {lr: k16_curve(x, y, lr, steps, seed) for lr in grid}


def least_squares_optimum(x, y):
    """The smallest MSE any affine model reaches on (x, y) (NumPy's lstsq with a bias column)."""
    a = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    w = np.linalg.lstsq(a, y.astype(np.float64), rcond=None)[0]
    return float(np.mean((a @ w - y) ** 2))


@claim(
    "K16", topics=["O7"],
    title_en="Too high a learning rate diverges, too low barely moves; normalized inputs converge faster",
    title_zh="学习率太大发散、太小几乎不动；输入标准化后收敛更快",
    statement_en="Too high a learning rate diverges or oscillates; too low barely moves; normalized inputs "
                 "converge faster than raw ones.",
    statement_zh="学习率太大会发散或震荡，太小几乎不动；输入做标准化后比原始输入收敛更快。",
    criteria=[
        Criterion("too_high_fails", 1.0, "log10(final loss at lr 10 / final loss at the best lr) >= 1",
                  "log10(lr = 10 的最终损失 / 最佳 lr 的最终损失) >= 1"),
        Criterion("too_low_barely_moves", 1.0,
                  "log10(loss decrease at the best lr / loss decrease at lr 1e-4) >= 1",
                  "log10(最佳 lr 的损失下降量 / lr = 1e-4 的损失下降量) >= 1"),
        Criterion("normalized_faster", LOG2,
                  "log10(steps to 1.5 x the optimal loss on raw inputs / on standardized inputs), fastest lr "
                  "of the grid for each, >= log10 2",
                  "log10(原始输入降到 1.5 倍最优损失的步数 / 标准化输入的步数)，各取网格中最快的 lr，>= log10 2"),
    ],
    combine=all_of,
    method_en="Linear least squares (nn.Linear(30, 1), MSE on the 0/1 labels) on breast cancer, trained on a "
              "random 80% of the training rows (drawn from the seed) by full-batch gradient descent for S steps "
              "(300 at quick) at every lr of a grid 1e-7 .. 10. 'Best' = lowest final loss. Too high = lr 10, too "
              "low = lr 1e-4 on standardized inputs (both fixed before any run); the divergence, oscillation "
              "and lr-too-low detectors of train.diagnose are applied to those curves and reported. Raw vs "
              "standardized: the same grid on the raw features (scales from 1e-3 to 4e3); steps until the loss "
              "is within 1.5x of the least-squares optimum (lstsq), S + 1 if never. (A first design used "
              "logistic regression: its gradient is bounded, so no step size makes it blow up; least squares, "
              "whose curvature sets a hard limit 2 / L, is the setting the claim is about.)",
    method_zh="在 breast cancer 上做线性最小二乘（nn.Linear(30, 1)，对 0/1 标签用 MSE），每个 seed 随机取 80% 训练样本，"
              "全量梯度下降 S 步（quick 300 步），学习率网格 1e-7 .. 10。“最佳”= 最终损失最低。太大 = lr 10，太小 = lr 1e-4"
              "（标准化输入，均在运行前固定）；这两条曲线都过一遍 train.diagnose 的发散、震荡、学习率过低检测并报告。"
              "原始 vs 标准化：原始特征（量级从 1e-3 到 4e3）用同一网格；记录损失降到最小二乘最优值（lstsq）1.5 "
              "倍以内所需步数，"
              "达不到记为 S + 1。（最初用的是逻辑回归：它的梯度有界，步长再大也不会爆；最小二乘的曲率给出硬上限 2 / L，"
              "才是这个说法针对的情形。）",
    caveats_en="A convex quadratic, where 'too high' has an exact meaning (lr > 2 / L). With the logistic loss GD "
               "does not blow up at any step size; in a deep network a too-high rate can also kill units or land "
               "in a worse region. The thresholds move with the data's curvature. BatchNorm or Adam reduce (not "
               "remove) the cost of raw input scales.",
    caveats_zh="这是凸二次问题，“太大”有精确含义（lr > 2 / L）。换成逻辑损失，GD 在任何步长下都不会爆；"
               "深度网络里学习率太大还可能让神经元死掉或落到更差的区域。阈值随数据的曲率变化。批归一化或 Adam "
               "能减轻（但不能消除）原始输入量纲带来的代价。",
    code=["deepnotes.optim.SGD", "deepnotes.train.diagnose", "deepnotes.data.load_breast_cancer"],
    seconds={"tiny": 0.3, "quick": 5, "full": 15},
    references=["LeCun, Bottou, Orr & Mueller, Efficient BackProp, 1998 (input normalization, learning rates)"],
)
def k16(seed: int, budget: str) -> dict:
    from deepnotes.train.diagnose import check_divergence, check_lr_too_low, check_oscillation

    steps = kit.pick(budget, 10, 300, 1000)
    rows = np.random.default_rng(seed).permutation(455)[:364]
    std, raw = data.load_breast_cancer(), data.load_breast_cancer(standardize=False)
    arrays = {"std": (std.x_train[rows], std.y_train[rows]), "raw": (raw.x_train[rows], raw.y_train[rows])}
    curves = {k: k16_sweep(x, y, steps, seed) for k, (x, y) in arrays.items()}
    final = {lr: c[-1] for lr, c in curves["std"].items()}
    best = min(final, key=final.get)
    target = {k: 1.5 * least_squares_optimum(x, y) for k, (x, y) in arrays.items()}
    hit = {k: min(kit.steps_to(c, target[k], steps) for c in curves[k].values()) for k in curves}
    s = curves["std"]
    # the detectors see the curve as a user's log would show it: ending at the first overflow (inf)
    high = [v if v < kit.LOSS_CAP else math.inf for v in s[K16_TOO_HIGH]]
    high = high[:high.index(math.inf) + 1] if math.inf in high else high
    low = list(s[K16_TOO_LOW])
    metrics = {"best_lr_std": best, "final_loss_best": float(final[best]), "final_loss_too_high": float(final[K16_TOO_HIGH]),
               "final_loss_too_low": float(final[K16_TOO_LOW]), "target_loss": target["std"],
               "steps_to_target_std": hit["std"], "steps_to_target_raw": hit["raw"],
               "flag_diverge_or_oscillate_too_high": float(check_divergence(high) is not None
                                                           or check_oscillation(high) is not None),
               "flag_lr_too_low": float(check_lr_too_low(low) is not None)}
    progress = lambda c: max(c[0] - c[-1], 1e-12)  # noqa: E731
    return {"metrics": metrics,
            "effects": {"too_high_fails": kit.log10_ratio(final[K16_TOO_HIGH], final[best]),
                        "too_low_barely_moves": kit.log10_ratio(progress(s[best]), progress(s[K16_TOO_LOW])),
                        "normalized_faster": kit.log10_ratio(hit["raw"], hit["std"])},
            "series": {f"{k}_{lr:g}": c.tolist() for k in curves for lr, c in curves[k].items()}}


@k16.figures
def k16_figures(results, out_dir):
    fig, (ax1, ax2) = kit.figure(2)
    for i, lr in enumerate(K16_GRID[3:]):
        kit.curves(ax1, results, f"std_{lr:g}", f"lr {lr:g}", f"C{i}", log=True)
    ax1.set(xlabel="step", ylabel="training loss (MSE)", title="standardized inputs")
    ax1.legend(fontsize=7)
    kit.bars(ax2, results, ["steps_to_target_std", "steps_to_target_raw"], ["standardized", "raw"],
             "steps to 1.5 x the optimal loss (fastest lr)", log=True)
    return [kit.save(fig, out_dir, "k16_learning_rate", "K16: too high blows up, too low crawls; scaling the inputs helps")]


# ============================================================================ K17
def convex_solutions(x, y, inits, l2=1e-2):
    """L2-regularized logistic regression (float64) solved by L-BFGS from `inits` random starts.

    Returns the (inits, features + 1) array of solutions. Start i is N(0, 1) per weight from
    `dn.manual_seed(i)`; a few L-BFGS calls with a strong-Wolfe line search run to |grad| <= 1e-12.
    """
    xt, yt = dn.tensor(x.astype(np.float64)), dn.tensor(y.astype(np.float64).reshape(-1, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    out = []
    for i in inits:
        dn.manual_seed(int(i))
        model = nn.Linear(x.shape[1], 1).double()
        for p in model.parameters():
            nn.init.normal_(p, 0.0, 1.0)
        opt = optim.LBFGS(model.parameters(), max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-15,
                          history_size=20, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(xt), yt) + 0.5 * l2 * (model.weight * model.weight).sum()
            loss.backward()
            return loss

        for _ in range(5):
            opt.step(closure)
        out.append(kit.flat_params(model))
    return np.array(out)


def nonconvex_solutions(split, inits, epochs, hidden, seed):
    """MLP 64-hidden-10 (ReLU) trained by Adam 3e-3, batch 64, from each init (same data order).

    Returns (parameter vectors, test predictions (inits, n_test), final training losses).
    """
    params, preds, losses = [], [], []
    loss_fn = nn.CrossEntropyLoss()
    for i in inits:
        dn.manual_seed(int(i))
        model = kit.mlp([64, hidden, 10])
        opt = optim.Adam(model.parameters(), lr=3e-3)
        curve = kit.train_epochs(model, opt, loss_fn, split.x_train, split.y_train, epochs, 64, seed)
        with dn.no_grad():
            preds.append(model(dn.tensor(split.x_test)).numpy().argmax(1))
        params.append(kit.flat_params(model))
        losses.append(curve[-1])
    return np.array(params), np.array(preds), np.array(losses)


def pairwise_max_distance(vectors):
    """The largest Euclidean distance between two rows."""
    v = np.asarray(vectors, dtype=np.float64)
    return float(max(np.linalg.norm(a - b) for i, a in enumerate(v) for b in v[i + 1:]))


def pairwise_disagreement(preds):
    """Mean over pairs of runs of the fraction of test inputs on which their predicted classes differ."""
    p = np.asarray(preds)
    return float(np.mean([np.mean(a != b) for i, a in enumerate(p) for b in p[i + 1:]]))


@claim(
    "K17", topics=["O9"],
    title_en="A convex problem reaches one solution from any init; a deep net ends in different minima",
    title_zh="凸问题从任何初始化都到同一个解；深度网络从不同初始化落到不同的极小值",
    statement_en="A convex problem (logistic regression) reaches the same solution from any init; a deep net ends "
                 "in different minima from different inits.",
    statement_zh="凸问题（逻辑回归）从任何初始化出发都收敛到同一个解；深度网络从不同初始化出发会停在不同的极小值。",
    criteria=[
        Criterion("convex_same", 0.0, "log10(1e-4) - log10(max distance between logistic-regression solutions) >= 0",
                  "log10(1e-4) - log10(逻辑回归各解之间的最大距离) >= 0"),
        Criterion("nonconvex_different", 0.01,
                  "mean pairwise disagreement of the MLPs' test predictions >= 0.01 (1% of test inputs)",
                  "各 MLP 测试集预测两两不一致比例的均值 >= 0.01（1% 的测试样本）"),
    ],
    combine=all_of,
    method_en="Convex: logistic regression with L2 1e-2 (so the minimizer is unique) on breast cancer "
              "(standardized, float64), L-BFGS with strong-Wolfe line search to |grad| <= 1e-12 from 10 starts "
              "w ~ N(0, 1); the largest distance between two solutions. Non-convex: MLP 64-32-10 (ReLU) on digits, "
              "Adam 3e-3, batch 64, 30 epochs (60 at full), from 10 inits with the same data order; final training "
              "losses, distances between parameter vectors, and the disagreement of their test predictions.",
    method_zh="凸：breast cancer（标准化，float64）上带 L2 = 1e-2 的逻辑回归（保证极小点唯一），L-BFGS + strong-Wolfe 线搜索，"
              "从 10 个 w ~ N(0, 1) 的起点优化到 |grad| <= 1e-12；取两两解之间的最大距离。非凸：digits 上的 MLP "
              "64-32-10（ReLU），"
              "Adam 3e-3，batch 64，30 个 epoch（full 60），10 个初始化、数据顺序相同；记录最终训练损失、参数向量之间的距离"
              "和测试集预测的不一致比例。",
    caveats_en="Different parameters alone prove little: permuting hidden units gives the same function, so the "
               "criterion uses the functions (test predictions). Different minima need not be worse: the MLPs "
               "reach similar training losses (reported), and they may be connected by low-loss paths (mode "
               "connectivity, Garipov et al. 2018). Unregularized logistic regression on separable data has no "
               "minimizer at all.",
    caveats_zh="参数不同本身说明不了什么：交换隐藏单元得到的是同一个函数，所以判据看的是函数（测试集预测）。"
               "不同的极小值不一定更差：这些 MLP 的训练损失相近（见指标），而且它们之间可能有低损失的路径相连"
               "（mode connectivity，Garipov 等 2018）。不加正则的逻辑回归在可分数据上根本没有极小点。",
    code=["deepnotes.optim.LBFGS", "deepnotes.optim.Adam", "deepnotes.nn.BCEWithLogitsLoss"],
    seconds={"tiny": 0.6, "quick": 16, "full": 35},
    references=["Boyd & Vandenberghe, Convex Optimization, 2004",
                "Choromanska et al., The Loss Surfaces of Multilayer Networks, AISTATS 2015"],
)
def k17(seed: int, budget: str) -> dict:
    n_inits = kit.pick(budget, 3, 10, 10)
    epochs = kit.pick(budget, 1, 30, 60)
    inits = [1000 * (seed + 1) + i for i in range(n_inits)]
    bc = data.load_breast_cancer()
    sols = convex_solutions(bc.x_train, bc.y_train, inits)
    digits = data.load_digits()
    if budget == "tiny":
        digits = kit.head(digits, 200)
    params, preds, losses = nonconvex_solutions(digits, inits, epochs, 32, seed)
    norms = np.linalg.norm(params, axis=1)
    metrics = {"convex_max_distance": pairwise_max_distance(sols), "convex_solution_norm": float(np.linalg.norm(sols[0])),
               "mlp_max_distance": pairwise_max_distance(params), "mlp_param_norm": float(norms.mean()),
               "mlp_train_loss_mean": float(losses.mean()), "mlp_train_loss_max": float(losses.max()),
               "mlp_disagreement": pairwise_disagreement(preds),
               "mlp_test_acc_mean": float(np.mean(preds == digits.y_test))}
    return {"metrics": metrics,
            "effects": {"convex_same": kit.exact_effect(metrics["convex_max_distance"], 1e-4),
                        "nonconvex_different": metrics["mlp_disagreement"]},
            "series": {"mlp_train_losses": losses.tolist()}}


@k17.figures
def k17_figures(results, out_dir):
    fig, (ax1, ax2) = kit.figure(2)
    kit.bars(ax1, results, ["convex_max_distance", "mlp_max_distance"], ["logistic regr.", "MLP"],
             "largest distance between solutions", log=True)
    ax1.axhline(1e-4, color="gray", ls="--", lw=1, label="criterion: same solution below 1e-4")
    ax1.legend(fontsize=8)
    kit.bars(ax2, results, ["mlp_disagreement"], ["MLP test disagreement"], "fraction of test inputs")
    ax2.axhline(0.01, color="gray", ls="--", lw=1, label="criterion: different functions above 0.01")
    ax2.legend(fontsize=8)
    return [kit.save(fig, out_dir, "k17_convexity", "K17: one solution for the convex problem, many for the MLP")]

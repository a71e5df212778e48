"""Claims on plain gradient descent: batch size and momentum.

K09 (full-batch vs mini-batch vs SGD: smoothness, and progress per second), K10 (large batches and
sharp minima), K11 (momentum on ill-conditioned quadratics). Each experiment is split into small
functions the tests can run on broken variants.
"""
from __future__ import annotations

import math
import time

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data, optim
from deepnotes.claims import Criterion, all_of, claim
from deepnotes.optim import testfunctions as tf

from . import _toolkit_b as kit

LOG2 = math.log10(2.0)


# ============================================================================ K09
def k09_arm(x, y, batch_size, lr, steps, seed, max_seconds=None):
    """SGD (no momentum) with `batch_size` on (x, y) from the seed's init and data order.

    Records the full training loss before every step and after the last, and the wall time of
    each step alone (evaluation excluded). Runs `steps` steps, or more until the steps' total
    time reaches `max_seconds` (capped at 40 * steps). Returns (losses, step_seconds).
    """
    dn.manual_seed(seed)
    model = kit.mlp([x.shape[1], 32, 10])
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    batches, losses, times, total = [], [kit.full_loss(model, loss_fn, x, y)], [], 0.0
    while len(times) < steps or (max_seconds is not None and total < max_seconds and len(times) < 40 * steps):
        if not batches:
            batches = kit.epoch_batches(len(x), batch_size, rng)
        idx = batches.pop(0)
        start = time.perf_counter()
        kit.sgd_step(model, opt, loss_fn, x[idx], y[idx])
        times.append(time.perf_counter() - start)
        total += times[-1]
        losses.append(kit.full_loss(model, loss_fn, x, y))
    return np.array(losses), np.array(times)


def loss_at_seconds(losses, step_seconds, seconds, window=0.2):
    """The mean recorded loss over the steps that finished in [(1 - window) * seconds, seconds].

    losses[k] is the loss after k steps; averaging over the last part of the window damps the
    step-to-step noise of a single SGD iterate (the same rule for every arm).
    """
    ends = np.concatenate([[0.0], np.cumsum(step_seconds)])[:len(losses)]
    inside = (ends <= seconds) & (ends >= (1.0 - window) * seconds)
    if not inside.any():
        inside = ends <= seconds
    return float(np.mean(np.asarray(losses)[inside]))


@claim(
    "K09", topics=["O1"],
    title_en="Full-batch GD is smooth, SGD noisy, mini-batch between; per second SGD/mini-batch progress faster",
    title_zh="全量梯度下降平滑、SGD 震荡、小批量居中；按墙钟时间 SGD/小批量下降更快",
    statement_en="Full-batch GD descends smoothly; SGD oscillates; mini-batch is in between; per wall-clock "
                 "time SGD/mini-batch makes faster progress.",
    statement_zh="全量梯度下降的损失平滑下降，SGD 震荡，小批量介于两者之间；按墙钟时间算，SGD/小批量下降得更快。",
    criteria=[
        Criterion("sgd_oscillates", 0.1, "given_back(SGD, batch 1) - given_back(full batch) >= 0.1",
                  "given_back(SGD, batch 1) - given_back(全量) >= 0.1"),
        Criterion("minibatch_between", 0.01,
                  "min(given_back(SGD) - given_back(mini-batch), given_back(mini-batch) - given_back(GD)) >= 0.01",
                  "min(given_back(SGD) - given_back(小批量), given_back(小批量) - given_back(全量)) >= 0.01"),
        Criterion("faster_per_second_minibatch", 0.1,
                  "log10(loss_GD / loss_mini-batch) at GD's run time >= 0.1 (25% lower loss)",
                  "在全量 GD 跑完的同一墙钟时间点，log10(loss_GD / loss_小批量) >= 0.1（损失低 25%）"),
        Criterion("faster_per_second_sgd", 0.1, "log10(loss_GD / loss_SGD) at GD's run time >= 0.1",
                  "在同一墙钟时间点，log10(loss_GD / loss_SGD) >= 0.1"),
    ],
    combine=all_of,
    method_en="Digits (1437 x 64), MLP 64-32-10 (ReLU), plain SGD at lr 0.1 for every arm, same init and data "
              "order per seed. Arms: full batch (GD), batch 32, batch 1 (SGD). The full training loss is "
              "recorded after every step (its mean over the last 20% of the time window is the 'loss at time T'); "
              "oscillation is given_back = (sum of the loss's rises) / (its net "
              "descent) over the first S steps (S = 300 at quick, 600 at full). Wall clock: each step's own time (evaluation "
              "excluded) is measured; the arms are compared at the time GD needed for its S steps.",
    method_zh="digits 数据（1437 x 64），MLP 64-32-10（ReLU），三组都用学习率 0.1 的普通 SGD，同一 seed "
              "下初始化和数据顺序相同。"
              "三组：全量（GD）、batch 32、batch 1（SGD）。每一步后记录整个训练集的损失（某时刻的损失取该时间窗口最后 20% "
              "内的平均）；震荡程度用 given_back = 损失上升量之和 / "
              "净下降量，取前 S 步（quick 300 步，full 600 步）。墙钟时间只计每步更新本身（不含评估），在 GD 跑完 S "
              "步所用的时间点比较三组损失。",
    caveats_en="One learning rate for all arms: a tuned, larger step would help full-batch GD. Wall-clock "
               "numbers depend on this machine and its load (NumPy on CPU: a batch of 1 pays the whole Python "
               "overhead per sample; on a GPU the ratio differs again), so they vary between runs. Small "
               "model and data set; per epoch, not per second, is a different question.",
    caveats_zh="所有组用同一个学习率：调大步长会让全量 GD 好看一些。墙钟时间取决于本机和当时的负载（CPU 上的 NumPy："
               "batch 1 每个样本都要付一次 Python 开销；换成 GPU 比例又不同），所以每次运行会有波动。模型和数据都很小；"
               "按 epoch 比较是另一个问题。",
    code=["deepnotes.optim.SGD", "deepnotes.data.load_digits", "deepnotes.nn.CrossEntropyLoss"],
    seconds={"tiny": 0.4, "quick": 9, "full": 20},
    references=["Bottou, Curtis & Nocedal, Optimization Methods for Large-Scale Machine Learning, SIAM Review 2018"],
)
def k09(seed: int, budget: str) -> dict:
    split = data.load_digits()
    x, y = split.x_train, split.y_train
    steps = kit.pick(budget, 8, 300, 600)
    if budget == "tiny":
        x, y = x[:300], y[:300]
    gd, gd_t = k09_arm(x, y, len(x), 0.1, steps, seed)
    t_gd = float(gd_t.sum())
    mb, mb_t = k09_arm(x, y, 32, 0.1, steps, seed, max_seconds=t_gd)
    sg, sg_t = k09_arm(x, y, 1, 0.1, steps, seed, max_seconds=t_gd)
    osc = {name: kit.given_back(curve[:steps + 1]) for name, curve in (("gd", gd), ("mb", mb), ("sgd", sg))}
    at_t = {name: loss_at_seconds(c, t, t_gd) for name, c, t in (("gd", gd, gd_t), ("mb", mb, mb_t), ("sgd", sg, sg_t))}
    metrics = {f"given_back_{k}": v for k, v in osc.items()}
    metrics.update({f"loss_at_gd_time_{k}": v for k, v in at_t.items()})
    metrics.update({"gd_seconds": t_gd, "step_ms_gd": 1e3 * float(np.median(gd_t)),
                    "step_ms_mb": 1e3 * float(np.median(mb_t)), "step_ms_sgd": 1e3 * float(np.median(sg_t))})
    return {"metrics": metrics,
            "effects": {"sgd_oscillates": osc["sgd"] - osc["gd"],
                        "minibatch_between": min(osc["sgd"] - osc["mb"], osc["mb"] - osc["gd"]),
                        "faster_per_second_minibatch": kit.log10_ratio(at_t["gd"], at_t["mb"]),
                        "faster_per_second_sgd": kit.log10_ratio(at_t["gd"], at_t["sgd"])},
            "series": {"gd": gd[:steps + 1].tolist(), "mb": mb[:steps + 1].tolist(), "sgd": sg[:steps + 1].tolist(),
                       "gd_time": np.cumsum(gd_t).tolist(), "mb_time": np.cumsum(mb_t).tolist(),
                       "sgd_time": np.cumsum(sg_t).tolist(), "mb_all": mb.tolist(), "sgd_all": sg.tolist()}}


@k09.figures
def k09_figures(results, out_dir):
    fig, (ax1, ax2) = kit.figure(2)
    for key, label, color in (("gd", "full batch", "C0"), ("mb", "batch 32", "C1"), ("sgd", "batch 1", "C3")):
        kit.curves(ax1, results, key, label, color)
        for r in results:
            t = [0.0] + r["series"][f"{key}_time"]
            curve = r["series"]["gd" if key == "gd" else f"{key}_all"]
            ax2.plot(np.array(t[:len(curve)]) * 1e3, curve[:len(t)], color=color, lw=0.8, alpha=0.6,
                     label=label if r is results[0] else None)
    ax1.set(xlabel="step", ylabel="training loss (cross-entropy, nats)")
    ax2.set(xlabel="wall-clock time of the steps (ms)", ylabel="training loss (nats)")
    ax1.legend()
    ax2.legend()
    return [kit.save(fig, out_dir, "k09_batch_size", "K09: full batch descends smoothly, batch 1 oscillates")]


# ============================================================================ K10
def sharpness(model, loss_fn, x, y, eps, trials, seed):
    """Largest rise of the loss over `trials` random perturbations of size eps (|w| + 1), elementwise.

    Each perturbation is u * eps * (|w| + 1) with u ~ U(-1, 1) per weight (Keskar et al. 2017's box),
    drawn from `np.random.default_rng(seed)`; the weights are restored afterwards.
    """
    rng = np.random.default_rng(seed)
    base = kit.full_loss(model, loss_fn, x, y)
    params = list(model.parameters())
    saved = [p.numpy().copy() for p in params]
    worst = 0.0
    for _ in range(trials):
        for p, w in zip(params, saved):
            p.data[...] = w + rng.uniform(-1.0, 1.0, w.shape).astype(w.dtype) * eps * (np.abs(w) + 1.0)
        worst = max(worst, kit.full_loss(model, loss_fn, x, y) - base)
    for p, w in zip(params, saved):
        p.data[...] = w
    return worst


def k10_arm(split, width, batch_size, epochs, steps, seed, x_sub):
    """Adam 1e-3 on MNIST-1D with `batch_size` for `epochs` epochs (or `steps` full-batch steps)."""
    dn.manual_seed(seed)
    model = kit.mlp([40, width, width, 10])
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = split.x_train[:x_sub], split.y_train[:x_sub]
    if batch_size >= len(x):
        curve = []
        for t in range(steps):
            kit.sgd_step(model, opt, loss_fn, x, y)
            if t % 10 == 9:
                curve.append(kit.full_loss(model, loss_fn, x, y))
    else:
        curve = kit.train_epochs(model, opt, loss_fn, x, y, epochs, batch_size, seed)
    return model, loss_fn, curve


@claim(
    "K10", topics=["O1", "O8"],
    title_en="Very large batches reach sharper minima and generalize worse",
    title_zh="超大 batch 收敛到更尖锐的极小值，泛化更差",
    statement_en="Very large batches reach sharper minima and generalize worse; very small batches converge "
                 "slowly/noisily.",
    statement_zh="batch 很大时会收敛到更尖锐（sharp）的极小值，泛化更差；batch 很小时收敛慢、噪声大。",
    criteria=[
        Criterion("sharper", 0.05, "sharpness(full batch) - sharpness(batch 32) >= 0.05 nats",
                  "sharpness(全量) - sharpness(batch 32) >= 0.05 nats"),
        Criterion("generalizes_worse", 0.01, "test accuracy(batch 32) - test accuracy(full batch) >= 0.01",
                  "测试准确率(batch 32) - 测试准确率(全量) >= 0.01"),
    ],
    combine=all_of,
    method_en="MNIST-1D (4000 train / 1000 test), MLP 40-256-256-10 (ReLU), Adam lr 1e-3, same init per seed. "
              "Small batch: 32 for E epochs (15 at quick, 30 at full). Large batch: the full 4000 for S steps "
              "(300 / 800), so both reach a low training loss. Sharpness = the largest rise of the training "
              "loss (1000 training samples) over 20 random perturbations u * 0.05 (|w| + 1), u ~ U(-1, 1) per "
              "weight (Keskar et al. 2017's box, their measure without the maximization).",
    method_zh="MNIST-1D（训练 4000 / 测试 1000），MLP 40-256-256-10（ReLU），Adam 学习率 1e-3，同一 seed 初始化相同。"
              "小 batch：32，训练 E 个 epoch（quick 15，full 30）；大 batch：全部 4000 个样本，训练 S 步（300 / 800），"
              "两者训练损失都降得很低。sharpness = 对权重做 20 次随机扰动 u * 0.05 (|w| + 1)（u 逐元素取自 U(-1, 1)，即 "
              "Keskar 等 2017 的盒子，但不做最大化）时，训练损失（1000 个训练样本）的最大上升量。",
    caveats_en="One architecture, one optimizer, one learning rate (no retuning or warm-up for the large batch, "
               "which Goyal et al. 2017 show closes much of the gap). Random perturbations under-estimate the "
               "worst-case sharpness, and sharpness is not invariant to reparametrization (Dinh et al. 2017), "
               "so it is a symptom, not the cause. The 'very small batches are noisy' half is measured in K09.",
    caveats_zh="只有一种网络、一种优化器、一个学习率（大 batch 没有重新调学习率或 warm-up，Goyal 等 2017 "
               "表明这样能补回大部分差距）。"
               "随机扰动会低估最坏情况的 sharpness，而且 sharpness 对重参数化不变性不成立（Dinh 等 "
               "2017），它是现象而不一定是原因。"
               "“小 batch 噪声大”那一半在 K09 中测量。",
    code=["deepnotes.optim.Adam", "deepnotes.data.load_mnist1d"],
    seconds={"tiny": 0.3, "quick": 22, "full": 60},
    references=["Keskar et al., On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima, ICLR 2017",
                "Dinh et al., Sharp Minima Can Generalize For Deep Nets, ICML 2017"],
)
def k10(seed: int, budget: str) -> dict:
    split = data.load_mnist1d()
    width = kit.pick(budget, 16, 256, 256)
    n = kit.pick(budget, 200, 4000, 4000)
    epochs, steps = kit.pick(budget, 1, 15, 30), kit.pick(budget, 3, 300, 800)
    trials = kit.pick(budget, 3, 20, 20)
    xs, ys = split.x_train[:1000], split.y_train[:1000]
    out, series = {}, {}
    for name, batch in (("small", 32), ("large", n)):
        model, loss_fn, curve = k10_arm(split, width, batch, epochs, steps, seed, n)
        out[f"train_loss_{name}"] = kit.full_loss(model, loss_fn, split.x_train[:n], split.y_train[:n])
        out[f"test_acc_{name}"] = kit.accuracy(model, split.x_test, split.y_test)
        out[f"sharpness_{name}"] = sharpness(model, loss_fn, xs, ys, 0.05, trials, seed + 10_000)
        series[name] = curve
    return {"metrics": out,
            "effects": {"sharper": out["sharpness_large"] - out["sharpness_small"],
                        "generalizes_worse": out["test_acc_small"] - out["test_acc_large"]},
            "series": series}


@k10.figures
def k10_figures(results, out_dir):
    fig, (ax1, ax2) = kit.figure(2)
    kit.bars(ax1, results, ["sharpness_small", "sharpness_large"], ["batch 32", "full batch"],
             "sharpness (max loss rise, nats)")
    kit.bars(ax2, results, ["test_acc_small", "test_acc_large"], ["batch 32", "full batch"], "test accuracy")
    return [kit.save(fig, out_dir, "k10_large_batch", "K10: full-batch training ends sharper and generalizes worse?")]


# ============================================================================ K11
def k11_start(seed, dim=2):
    """A start point on the unit circle (sphere) in a random direction drawn from the seed."""
    v = np.random.default_rng(seed).normal(size=dim)
    return v / np.linalg.norm(v)


def k11_run(obj, x0, momentum, cap, target=1e-6):
    """GD or heavy-ball momentum at the step sizes that are optimal for the quadratic (Polyak 1964).

    GD: lr = 2 / (L + mu). Heavy ball: lr = 4 / (sqrt L + sqrt mu)^2, momentum
    ((sqrt kappa - 1) / (sqrt kappa + 1))^2, with L, mu the Hessian's extreme eigenvalues.
    `momentum` is 0 (GD) or None (heavy ball at the optimal values). Returns (steps to target or
    cap + 1, oscillation across the narrow axis, the path).

    Oscillation = total variation of the coordinate along the steepest eigenvector over the run,
    divided by |x0|: how far the iterate swings across the narrow valley in all.
    """
    eig, vec = np.linalg.eigh(obj.hessian)
    mu, L = float(eig[0]), float(eig[-1])
    if momentum not in (0, None):
        raise ValueError(f"k11_run: momentum must be 0 (GD) or None (optimal heavy ball), got {momentum!r}")
    if momentum == 0:
        factory = lambda p: optim.SGD(p, lr=2.0 / (L + mu))  # noqa: E731
    else:
        beta = ((math.sqrt(L / mu) - 1) / (math.sqrt(L / mu) + 1)) ** 2
        factory = lambda p: optim.SGD(p, lr=4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, momentum=beta)  # noqa: E731
    path = tf.trajectory(factory, obj, x0=x0, steps=cap, target=target)
    steps = path.reached if path.reached is not None else cap + 1
    steep = path.points @ vec[:, -1]
    return steps, float(np.abs(np.diff(steep)).sum() / np.linalg.norm(x0)), path


@claim(
    "K11", topics=["O2"],
    title_en="Momentum reduces oscillation and speeds convergence on ill-conditioned problems",
    title_zh="动量在病态问题上减少震荡、加快收敛",
    statement_en="Momentum reduces oscillation and speeds convergence on ill-conditioned problems.",
    statement_zh="在病态（条件数大）的问题上，动量能减少震荡并加快收敛。",
    criteria=[
        Criterion("faster", LOG2, "min over kappa in {100, 1e4} of log10(steps_GD / steps_momentum) >= log10 2",
                  "在 kappa = 100 和 1e4 上取较小者：log10(GD 步数 / 动量步数) >= log10 2"),
        Criterion("less_oscillation", LOG2,
                  "min over kappa of log10(swing_GD / swing_momentum) across the narrow axis >= log10 2",
                  "在两个 kappa 上取较小者：log10(GD 在窄轴方向的摆动 / 动量的摆动) >= log10 2"),
    ],
    combine=all_of,
    method_en="Rotated 2-d quadratics f = x^T A x / 2 with condition numbers 100 and 1e4 (optim.testfunctions."
              "quadratic), started on the unit circle in a direction drawn from the seed. GD at its best constant "
              "step 2 / (L + mu) against heavy-ball momentum at Polyak's optimal step and momentum; steps until "
              "f <= 1e-6 (capped at 5000 steps at quick, 60000 at full; a run that does not get there counts as cap + 1, "
              "so at quick the speed-up at kappa = 1e4 is a lower bound and GD's swing there is cut short, which favours "
              "GD), and the total swing of the iterate along the "
              "steep eigenvector (its total variation / |x0|).",
    method_zh="旋转过的二维二次函数 f = x^T A x / 2，条件数 100 和 1e4（optim.testfunctions.quadratic），起点在单位圆上、方"
              "向由 seed "
              "决定。GD 用它最优的固定步长 2 / (L + mu)，对比 Polyak 最优步长和动量系数下的 heavy-ball 动量；记录 f <= "
              "1e-6 所需步数"
              "（上限 quick 5000 步、full 60000 步，未达到记为上限 + 1，所以 quick 下 kappa = 1e4 的加速比是下界，GD "
              "的摆动也被截断，对 GD 有利），以及迭代点在陡峭特征方向上的总摆动（全变差 / |x0|）。",
    caveats_en="Quadratics with known curvature: both methods get their theoretically best hyperparameters, which "
               "a real network never reveals. With momentum 0.9 and a hand-picked lr the picture can differ; on "
               "non-quadratic, noisy (SGD) objectives the speed-up shrinks (momentum does not beat the noise floor).",
    caveats_zh="这是曲率已知的二次函数：两种方法都用理论最优的超参数，而真实网络不会告诉你这些。用动量 0.9 "
               "加手调学习率，结果可能不同；"
               "在非二次、带噪声（SGD）的目标上加速会缩小（动量无法越过噪声下限）。",
    code=["deepnotes.optim.SGD", "deepnotes.optim.testfunctions.quadratic", "deepnotes.optim.testfunctions.trajectory"],
    seconds={"tiny": 0.4, "quick": 5, "full": 35},
    references=["Polyak, Some methods of speeding up the convergence of iteration methods, 1964",
                "Goh, Why Momentum Really Works, Distill 2017"],
)
def k11(seed: int, budget: str) -> dict:
    conds = kit.pick(budget, (10.0, 100.0), (100.0, 1e4), (100.0, 1e4))
    cap = kit.pick(budget, 2000, 5000, 60_000)
    x0 = k11_start(seed)
    metrics, speed, swing, series = {}, [], [], {}
    for cond in conds:
        obj = tf.quadratic(cond, 2)
        gd_steps, gd_swing, gd_path = k11_run(obj, x0, 0, cap)
        hb_steps, hb_swing, hb_path = k11_run(obj, x0, None, cap)
        tag = f"k{cond:g}"
        metrics.update({f"steps_gd_{tag}": gd_steps, f"steps_momentum_{tag}": hb_steps,
                        f"swing_gd_{tag}": gd_swing, f"swing_momentum_{tag}": hb_swing})
        speed.append(kit.log10_ratio(gd_steps, hb_steps))
        swing.append(kit.log10_ratio(gd_swing, hb_swing))
        steep = np.linalg.eigh(obj.hessian)[1][:, -1]  # the narrow axis: the largest curvature's direction
        series[f"steep_gd_{tag}"] = np.abs(gd_path.points[:300] @ steep).tolist()
        series[f"steep_momentum_{tag}"] = np.abs(hb_path.points[:300] @ steep).tolist()
    return {"metrics": metrics, "effects": {"faster": min(speed), "less_oscillation": min(swing)}, "series": series}


@k11.figures
def k11_figures(results, out_dir):
    tag = "k100" if "steep_gd_k100" in results[0]["series"] else "k10"  # tiny uses kappa 10 and 100
    fig, (ax1, ax2) = kit.figure(2)
    floor = [{**r, "series": {k: np.maximum(v, 1e-12).tolist() for k, v in r["series"].items()}} for r in results]
    kit.curves(ax1, floor, f"steep_gd_{tag}", "GD, lr 2 / (L + mu)", "C0", log=True)
    kit.curves(ax1, floor, f"steep_momentum_{tag}", "heavy ball (Polyak)", "C1", log=True)
    ax1.set(xlabel="step", ylabel="|coordinate across the narrow axis|", title=f"condition number {tag[1:]}")
    ax1.legend(fontsize=8)
    keys = [k for k in results[0]["metrics"] if k.startswith("steps_")]
    kit.bars(ax2, results, keys, [k.replace("steps_", "").replace("_", "\n") for k in keys],
             "steps to f <= 1e-6 (cap + 1 if not reached)", log=True)
    return [kit.save(fig, out_dir, "k11_momentum", "K11: momentum converges in far fewer steps; does it swing less?")]

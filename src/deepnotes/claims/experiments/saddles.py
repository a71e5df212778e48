"""Claim K44: SGD's noise escapes saddle points where full-batch gradient descent stalls.

A test function (x^2 - y^2) with isotropic gradient noise, and a two-layer linear network near
its strict saddle at 0 with real mini-batch noise, against full-batch GD and perturbed GD.
"""
from __future__ import annotations

import math

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import optim
from deepnotes.claims import Criterion, all_of, claim
from deepnotes.optim import testfunctions as tf

from . import _toolkit_b as kit

LOG2 = math.log10(2.0)


# ============================================================================ K44
def saddle_escape(y0, lr, noise, cap, seed):
    """Steps for GD on f(x, y) = x^2 - y^2 from (1, y0) to reach |y| >= 1 (cap + 1 if never).

    `noise` > 0 adds N(0, noise^2) to each gradient coordinate (the usual model of SGD's gradient
    noise), drawn from `np.random.default_rng(seed)`.
    """
    obj = tf.saddle()
    x = dn.tensor(np.array([1.0, y0]), requires_grad=True)
    opt = optim.SGD([x], lr=lr)
    rng = np.random.default_rng(seed)
    for step in range(1, cap + 1):
        opt.zero_grad()
        obj(x).backward()
        if noise > 0:
            x.grad = x.grad.numpy() + rng.normal(0.0, noise, 2)
        opt.step()
        if abs(x.numpy()[1]) >= 1.0:
            return step
    return cap + 1


def linear_net_escape(batch_size, lr, init_scale, cap, seed, perturb=0.0):
    """Steps for a 2-layer linear net (10-10-10, no biases) started near the saddle at 0 to halve its loss.

    Data: x ~ N(0, I), y = A x with a random A (both from the seed), 200 samples, MSE. All weights
    start N(0, init_scale^2) from `dn.manual_seed(seed)`; the arms share the init and data order.
    `perturb` > 0 adds N(0, perturb^2) to every weight after each step (perturbed GD, Jin et al.
    2017). Returns (steps until the full loss <= half its value at 0, or cap + 1; the loss curve).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 10)).astype(np.float32)
    y = (x @ rng.normal(size=(10, 10)).T / math.sqrt(10)).astype(np.float32)
    dn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(10, 10, bias=False), nn.Linear(10, 10, bias=False))
    for p in model.parameters():
        nn.init.normal_(p, 0.0, init_scale)
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    at_zero = float(np.mean(y ** 2))
    noise = np.random.default_rng(seed + 1)
    batches, curve = [], [kit.full_loss(model, loss_fn, x, y)]
    for step in range(1, cap + 1):
        if not batches:
            batches = kit.epoch_batches(len(x), batch_size, rng)
        idx = batches.pop(0)
        kit.sgd_step(model, opt, loss_fn, x[idx], y[idx])
        if perturb > 0:
            with dn.no_grad():
                for p in model.parameters():
                    p.data[...] += noise.normal(0.0, perturb, p.numpy().shape).astype(p.numpy().dtype)
        curve.append(kit.full_loss(model, loss_fn, x, y))
        if curve[-1] <= 0.5 * at_zero:
            return step, curve
    return cap + 1, curve


@claim(
    "K44", topics=["O9"],
    title_en="SGD's noise escapes saddle points where full-batch gradient descent stalls",
    title_zh="SGD 的噪声能逃离鞍点，而全量梯度下降会卡住",
    statement_en="SGD's noise escapes saddle points where full-batch gradient descent stalls.",
    statement_zh="SGD 的噪声能帮助逃离鞍点，而全量梯度下降会在鞍点附近停滞。",
    criteria=[
        Criterion("toy_noise_escapes", LOG2,
                  "x^2 - y^2 from (1, ~1e-12): log10(steps to |y| >= 1 for GD / for GD + gradient noise) >= log10 2",
                  "x^2 - y^2 从 (1, ~1e-12) 出发：log10(GD 到 |y| >= 1 的步数 / 加梯度噪声后的步数) >= log10 2"),
        Criterion("net_sgd_escapes", LOG2,
                  "2-layer linear net near 0: log10(steps to halve the loss, full batch / batch 10) >= log10 2",
                  "0 附近的两层线性网络：log10(全量 GD 把损失减半的步数 / batch 10 的 SGD 步数) >= log10 2"),
    ],
    combine=all_of,
    method_en="(1) The test function x^2 - y^2, started at (1, y0) with |y0| ~ U(0.5, 1.5) * 1e-12 (seed): GD at "
              "lr 0.05 against the same GD with N(0, 0.1^2) noise added to each gradient coordinate; steps until "
              "|y| >= 1 (cap 2000). (2) A linear net y = W2 W1 x (10-10-10) on 200 samples of y = A x, MSE, all "
              "weights N(0, 1e-4^2) (the origin is a strict saddle of this loss): full-batch GD vs mini-batch SGD "
              "(batch 10), both lr 0.05 and the same init; steps until the full loss halves from its value at 0 "
              "(cap 3000). Perturbed GD (isotropic weight noise 1e-3 per step, Jin et al. 2017) is reported beside them.",
    method_zh="(1) 测试函数 x^2 - y^2，从 (1, y0) 出发，|y0| ~ U(0.5, 1.5) * 1e-12（由 seed 决定）：学习率 0.05 的 "
              "GD，对比每一步梯度"
              "加 N(0, 0.1^2) 噪声的 GD；记录到 |y| >= 1 的步数（上限 2000）。(2) 线性网络 y = W2 W1 x（10-10-10），200 "
              "个样本，"
              "y = A x，MSE，所有权重 N(0, 1e-4^2)（原点是该损失的严格鞍点）：全量 GD 对比 batch 10 的小批量 "
              "SGD，学习率都是 0.05、"
              "初始化相同；记录整体损失从原点处的值降到一半所需的步数（上限 3000）。同时报告扰动 GD（每步给权重加 1e-3 "
              "的各向同性噪声，"
              "Jin 等 2017）。",
    caveats_en="Mini-batch noise is not isotropic: near this saddle every per-sample gradient is itself nearly zero "
               "(they all scale with the weights), so SGD's noise shrinks exactly where it would be needed; "
               "isotropic noise (perturbed GD) is what the escape theorems assume. Steps, not wall time, are "
               "compared. A saddle approached exactly on its stable manifold traps GD forever; here GD starts "
               "just off it. Whether saddles are what slows real networks is a separate question.",
    caveats_zh="小批量噪声不是各向同性的：在这个鞍点附近，每个样本的梯度本身都几乎为零（都与权重成正比），所以 SGD "
               "的噪声恰好在需要它的地方变小；"
               "逃离鞍点的定理假设的是各向同性噪声（扰动 GD）。比较的是步数，不是墙钟时间。恰好落在稳定流形上的 GD 会永远卡住，"
               "这里 GD 的起点稍微偏离了它。鞍点是否是真实网络训练变慢的原因，是另一个问题。",
    code=["deepnotes.optim.SGD", "deepnotes.optim.testfunctions.saddle", "deepnotes.nn.init.normal_"],
    seconds={"tiny": 0.4, "quick": 2, "full": 3},
    references=["Ge et al., Escaping From Saddle Points, COLT 2015",
                "Jin et al., How to Escape Saddle Points Efficiently, ICML 2017",
                "Dauphin et al., Identifying and attacking the saddle point problem, NIPS 2014"],
)
def k44(seed: int, budget: str) -> dict:
    cap_toy, cap_net = kit.pick(budget, 100, 2000, 2000), kit.pick(budget, 40, 3000, 3000)
    rng = np.random.default_rng(seed)
    y0 = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.5) * 1e-12)
    toy_gd = saddle_escape(y0, 0.05, 0.0, cap_toy, seed)
    toy_noisy = saddle_escape(y0, 0.05, 0.1, cap_toy, seed)
    net_gd, gd_curve = linear_net_escape(200, 0.05, 1e-4, cap_net, seed)
    net_sgd, sgd_curve = linear_net_escape(10, 0.05, 1e-4, cap_net, seed)
    net_pgd, pgd_curve = linear_net_escape(200, 0.05, 1e-4, cap_net, seed, perturb=1e-3)
    return {"metrics": {"toy_steps_gd": toy_gd, "toy_steps_noisy": toy_noisy, "net_steps_gd": net_gd,
                        "net_steps_sgd": net_sgd, "net_steps_perturbed_gd": net_pgd},
            "effects": {"toy_noise_escapes": kit.log10_ratio(toy_gd, toy_noisy),
                        "net_sgd_escapes": kit.log10_ratio(net_gd, net_sgd)},
            "series": {"gd": gd_curve, "sgd": sgd_curve, "perturbed_gd": pgd_curve}}


@k44.figures
def k44_figures(results, out_dir):
    fig, (ax1, ax2) = kit.figure(2)
    for key, label, color in (("gd", "full-batch GD", "C0"), ("sgd", "SGD, batch 10", "C1"),
                              ("perturbed_gd", "perturbed GD", "C2")):
        kit.curves(ax1, results, key, label, color, log=True)
    ax1.set(xlabel="step", ylabel="training loss (MSE)", title="linear net from near the saddle at 0")
    ax1.legend(fontsize=8)
    kit.bars(ax2, results, ["toy_steps_gd", "toy_steps_noisy", "net_steps_gd", "net_steps_sgd", "net_steps_perturbed_gd"],
             ["toy GD", "toy noisy", "net GD", "net SGD", "net PGD"], "steps to escape", log=True)
    return [kit.save(fig, out_dir, "k44_saddles", "K44: does SGD's noise get away from a saddle faster than GD?")]

"""Claim K28: gradient clipping prevents divergence caused by exploding gradients in RNN training.

A tanh RNN whose recurrent matrix has spectral radius 1.5, on the adding problem, trained with
and without `nn.utils.clip_grad_norm_`.
"""
from __future__ import annotations

import math

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import optim
from deepnotes.claims import Criterion, all_of, claim
from deepnotes.data.sequences import adding_problem

from . import _toolkit_b as kit


# ============================================================================ K28
class AddingRNN(nn.Module):
    """tanh RNN (2 -> hidden) whose last hidden state feeds a Linear(hidden, 1): the adding task's regressor."""

    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.RNN(2, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.out(output[:, -1])


def clipping_run(seed, clip, lr=0.1, radius=1.5, seq_len=40, hidden=32, steps=150, n=1000):
    """Train AddingRNN by SGD on the adding problem with W_hh = radius * (a random orthogonal matrix).

    `clip`: None, or the max_norm of `nn.utils.clip_grad_norm_` applied before every step. Returns
    (batch losses, gradient norms before clipping), non-finite values and every step after the
    first non-finite loss or weight counted as LOSS_CAP.
    """
    x, y = adding_problem(n, seq_len, seed=seed)
    dn.manual_seed(seed)
    model = AddingRNN(hidden)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(hidden, hidden)))
    model.rnn.weight_hh_l0.data[...] = radius * q  # every eigenvalue has modulus `radius`
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    rng = np.random.default_rng(seed)
    batches, losses, norms = [], [], []
    for _ in range(steps):
        if not batches:
            batches = kit.epoch_batches(n, 32, rng)
        idx = batches.pop(0)
        opt.zero_grad()
        with np.errstate(all="ignore"):
            loss = loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx, None]))
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip is not None else math.inf)
            opt.step()
        losses.append(kit.clean(loss.item()))
        norms.append(kit.clean(norm.item()))
        if losses[-1] >= kit.LOSS_CAP or not all(np.isfinite(p.numpy()).all() for p in model.parameters()):
            break  # diverged: the rest of the run counts as LOSS_CAP
    losses += [kit.LOSS_CAP] * (steps - len(losses))
    norms += [kit.LOSS_CAP] * (steps - len(norms))
    return np.array(losses), np.array(norms)


def spikes(losses, factor=10.0, window=10):
    """Steps whose loss exceeds `factor` times the median of the previous `window` losses."""
    losses = np.asarray(losses, dtype=np.float64)
    return int(sum(losses[t] > factor * np.median(losses[t - window:t]) for t in range(window, len(losses))))


@claim(
    "K28", topics=["I3"],
    title_en="Gradient clipping prevents divergence caused by exploding gradients in RNN training",
    title_zh="梯度裁剪能防止 RNN 训练中梯度爆炸导致的发散",
    statement_en="Gradient clipping prevents divergence caused by exploding gradients in RNN training.",
    statement_zh="梯度裁剪能防止 RNN 训练中由梯度爆炸引起的发散。",
    criteria=[
        Criterion("prevents_divergence", 1.0,
                  "log10(peak training loss without clipping / with clip_grad_norm_(1.0)) >= 1 (NaN/inf = 1e6)",
                  "log10(不裁剪时的训练损失峰值 / 用 clip_grad_norm_(1.0) 时的峰值) >= 1（NaN/inf 记为 1e6）"),
    ],
    combine=all_of,
    method_en="The adding problem (T = 40, 1000 training sequences, Le et al. 2015's variant), a tanh RNN with 32 "
              "units whose recurrent matrix is 1.5 x a random orthogonal matrix (spectral radius 1.5: gradients "
              "through time grow), a linear read-out of the last state, SGD lr 0.1, batch 32, 150 steps (quick), "
              "the same init and batches with and without clip_grad_norm_(max_norm=1.0). Reported: peak and final "
              "batch loss, whether the loss became non-finite, loss spikes (> 10x the median of the previous 10 "
              "steps), and the largest gradient norm before clipping.",
    method_zh="加法问题（T = 40，1000 条训练序列，Le 等 2015 的版本），32 个单元的 tanh RNN，循环权重矩阵设为 1.5 "
              "乘以随机正交矩阵"
              "（谱半径 1.5，沿时间反传的梯度会增长），最后一个隐状态接线性输出，SGD 学习率 0.1，batch 32，quick 下 150 步；"
              "同一初始化、同样的 batch，分别不裁剪和用 clip_grad_norm_(max_norm=1.0)。报告：训练损失的峰值和最终值、损失是"
              "否变成非有限值、"
              "损失尖峰次数（超过前 10 步中位数的 10 倍）、裁剪前梯度范数的最大值。",
    caveats_en="Clipping bounds the step, not the gradient's direction: it prevents the blow-up but does not make "
               "the long-range dependency learnable (the adding task at T = 40 is not solved in 150 steps either "
               "way; compare the losses with the mean predictor's 1/6). At a small enough learning rate the "
               "unclipped run need not diverge: clipping is insurance, chosen here where the step is large "
               "enough for exploding gradients to matter. LSTM/GRU address the cause instead.",
    caveats_zh="裁剪限制的是步长，不改变梯度方向：它能防止发散，但不能让长程依赖变得可学（T = 40 的加法问题在 150 "
               "步内两种设置都没解出来，"
               "可与预测均值的基线 1/6 比较）。学习率足够小时，不裁剪也不一定发散：裁剪是一种保险，这里特意选了梯度爆炸会造"
               "成问题的步长。"
               "LSTM/GRU 才是从根源上解决问题。",
    code=["deepnotes.nn.utils.clip_grad_norm_", "deepnotes.nn.RNN", "deepnotes.data.sequences.adding_problem"],
    seconds={"tiny": 0.2, "quick": 2, "full": 6},
    references=["Pascanu, Mikolov & Bengio, On the difficulty of training recurrent neural networks, ICML 2013",
                "Le, Jaitly & Hinton, A Simple Way to Initialize Recurrent Networks of Rectified Linear Units, 2015"],
)
def k28(seed: int, budget: str) -> dict:
    steps, seq_len = kit.pick(budget, 8, 150, 400), kit.pick(budget, 10, 40, 40)
    runs = {name: clipping_run(seed, clip, seq_len=seq_len, steps=steps) for name, clip in (("noclip", None), ("clip", 1.0))}
    metrics = {}
    for name, (losses, norms) in runs.items():
        metrics.update({f"peak_loss_{name}": float(losses.max()), f"final_loss_{name}": float(losses[-10:].mean()),
                        f"diverged_{name}": float(losses.max() >= kit.LOSS_CAP), f"spikes_{name}": spikes(losses),
                        f"max_grad_norm_{name}": float(norms.max())})
    return {"metrics": metrics,
            "effects": {"prevents_divergence": kit.log10_ratio(metrics["peak_loss_noclip"], metrics["peak_loss_clip"])},
            "series": {f"loss_{name}": losses.tolist() for name, (losses, _) in runs.items()}}


@k28.figures
def k28_figures(results, out_dir):
    fig, axes = kit.figure(1, width=6)
    kit.curves(axes[0], results, "loss_noclip", "no clipping", "C3", log=True)
    kit.curves(axes[0], results, "loss_clip", "clip_grad_norm_(1.0)", "C0", log=True)
    axes[0].axhline(1 / 6, color="gray", ls="--", lw=1, label="predict the mean (1/6)")
    axes[0].set(xlabel="step", ylabel="batch MSE (capped at 1e6)")
    axes[0].legend(fontsize=8)
    return [kit.save(fig, out_dir, "k28_clipping", "K28: clipping keeps an exploding tanh RNN from diverging")]

"""Claim K27: a vanilla RNN fails on long-range dependencies that an LSTM or GRU learns, and the
gradient of the loss with respect to early hidden states shows why.

The attention claim (K33) is in `attention.py`, hierarchical softmax (K34) in `output_layers.py`.
The measurements are small functions of this module so the tests can run them on deliberately
broken variants (no training, the same cell on both sides).
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
from deepnotes.data.sequences import ADDING_BASELINE_MSE, adding_problem, copy_memory

from ._toolkit_a import pick, plot_bars, plot_curves

CELLS = {"rnn": (nn.RNN, nn.RNNCell), "lstm": (nn.LSTM, nn.LSTMCell), "gru": (nn.GRU, nn.GRUCell)}


class Recurrent(nn.Module):
    """A one-layer recurrent net (batch first) and a Linear read-out.

    task 'adding': x (N, T, 2) -> a number per sequence from the last hidden state, (N,).
    task 'copy': tokens (N, T) -> embedded -> logits at every step, (N, T, vocab)."""

    def __init__(self, kind: str, hidden: int, task: str = "adding", vocab: int = 10):
        super().__init__()
        self.kind, self.task = kind, task
        self.embed = nn.Embedding(vocab, hidden) if task == "copy" else None
        self.rnn = CELLS[kind][0](hidden if task == "copy" else 2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab if task == "copy" else 1)

    def forward(self, x):
        out, _ = self.rnn(self.embed(x) if self.embed is not None else x)
        if self.task == "copy":
            return self.head(out)
        return self.head(out[:, -1, :]).reshape(-1)


def task_loss(model, x, y):
    """MSE (adding) or per-step cross-entropy (copy) of `model` on the arrays (x, y)."""
    out = model(dn.tensor(x))
    if model.task == "copy":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), dn.tensor(y.reshape(-1)))
    return ((out - dn.tensor(y)) ** 2).mean()


def make_batch(task: str, n: int, length: int, seed: int):
    """A fresh batch of the adding problem (T = length) or of copy-memory (delay = length)."""
    if task == "adding":
        return adding_problem(n, length, seed=seed)
    return copy_memory(n, length, n_symbols=8, copy_len=5, seed=seed)


def clipped_step(model, optimizer, loss, max_norm: float = 1.0) -> float:
    """Backward, clip the gradient norm of `model` at `max_norm`, step; returns the loss value."""
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(loss.item())


def train_recurrent(kind: str, task: str, length: int, steps: int, seed: int, hidden: int = 32, batch: int = 32,
                    lr: float = 1e-2) -> tuple:
    """Adam with gradient clipping (norm 1, as Pascanu et al. 2013 advise for every recurrent net) on
    fresh batches drawn from the seed; returns the model and its per-step training loss."""
    dn.manual_seed(seed)
    model = Recurrent(kind, hidden, task)
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        x, y = make_batch(task, batch, length, seed * 100_003 + step)
        losses.append(clipped_step(model, opt, task_loss(model, x, y)))
    return model, losses


def hidden_state_gradients(model: Recurrent, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/dh_t|| for t = 1..T on the adding problem (Frobenius norm over the batch).

    The layer runs as one fused node, so the sequence is unrolled here with the matching cell
    (same weights): h_t = cell(x_t, h_{t-1}) + z_t with z_t = 0; dL/dz_t is the total derivative of
    the loss with respect to h_t through every later step (for the LSTM, h_t and not the cell c_t)."""
    cell = CELLS[model.kind][1](2, model.rnn.hidden_size)
    with dn.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).data[...] = getattr(model.rnn, f"{name}_l0").numpy()
    n, steps = x.shape[0], x.shape[1]
    h = dn.zeros(n, model.rnn.hidden_size)
    c = dn.zeros(n, model.rnn.hidden_size)
    probes = []
    for t in range(steps):
        z = dn.zeros(n, model.rnn.hidden_size, requires_grad=True)
        xt = dn.tensor(x[:, t, :])
        if model.kind == "lstm":
            h, c = cell(xt, (h, c))
        else:
            h = cell(xt, h)
        h = h + z
        probes.append(z)
    loss = ((model.head(h).reshape(-1) - dn.tensor(y)) ** 2).mean()
    loss.backward()
    return np.array([float(np.linalg.norm(z.grad.numpy())) for z in probes])


def reach(grads: np.ndarray) -> float:
    """log10(||dL/dh_1|| / ||dL/dh_T||): how much of the last step's gradient reaches the first step."""
    return math.log10(max(grads[0], 1e-30) / max(grads[-1], 1e-30))


def recall_error(model: Recurrent, length: int, seed: int, n: int = 256) -> float:
    """Copy-memory cross-entropy on the recalled symbols only, divided by log 8 (1 = a uniform guess)."""
    x, y = make_batch("copy", n, length, seed)
    with dn.no_grad():
        logits = model(dn.tensor(x)).numpy()[:, -5:, :]
    logits = logits - logits.max(axis=-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, y[:, -5:, None], axis=-1)
    return float(-picked.mean() / math.log(8))


@claim(
    "K27", topics=["S1", "S2", "S3", "I2"],
    title_en="A vanilla RNN fails on long-range dependencies that an LSTM or GRU learns",
    title_zh="普通 RNN 学不会长程依赖，LSTM 和 GRU 可以",
    statement_en="On a task that needs information from far back (the adding problem), a vanilla RNN stays at the "
                 "baseline while an LSTM or GRU learns it; the gradient of the loss with respect to early hidden "
                 "states vanishes in the RNN and not in the gated nets.",
    statement_zh="在需要很久以前信息的任务（加法问题）上，普通 RNN 停在基线水平，LSTM 或 GRU 能学会；损失对早期隐状态的梯度在 "
                 "RNN 里消失，在门控网络里不会。",
    criteria=[
        Criterion("gated_beats_rnn", 0.25,
                  "at the longest T, the mean of the LSTM's and GRU's test MSE is below the RNN's by at least 25% "
                  "of the 1/6 baseline (effect (MSE_rnn - mean MSE_gated) / (1/6))",
                  "最长的 T 上，LSTM 与 GRU 测试 MSE 的平均值比 RNN 至少低 1/6 基线的 25%（效应 = (MSE_rnn - 门控平均 "
                  "MSE) / (1/6)）"),
        Criterion("rnn_fails", 0.0,
                  "at the longest T, the RNN does not get below half the baseline (effect MSE_rnn / (1/6) - 0.5)",
                  "最长的 T 上，RNN 的 MSE 降不到基线的一半以下（效应 = MSE_rnn / (1/6) - 0.5）"),
        Criterion("gradient_reaches_back", 1.0,
                  "after training, at the longest T, the gated nets carry at least 10x more of the gradient back "
                  "to the first step (effect: mean over LSTM, GRU of log10 ||dL/dh_1|| / ||dL/dh_T|| minus the "
                  "RNN's)",
                  "训练后，在最长的 T 上，门控网络传回第一步的梯度比例至少是 RNN 的 10 倍（效应 = LSTM、GRU 的 "
                  "log10 ||dL/dh_1|| / ||dL/dh_T|| 平均值减去 RNN 的）"),
    ],
    combine=all_of,
    method_en="Per seed: the adding problem (Hochreiter & Schmidhuber 1997; two marked values in a sequence of "
              "T, one in each half; baseline MSE 1/6 from predicting 1) at T = 20 and 50 (also 100 at full). "
              "One-layer RNN (tanh), LSTM and GRU with 32 hidden units and PyTorch's init, a Linear read-out of "
              "the last state, Adam (lr 1e-2), gradient norm clipped at 1, batch 32, fresh data every step "
              "(600 steps at quick, 3000 at full), test MSE on 512 new sequences. After training: ||dL/dh_t|| "
              "for every t on 64 test sequences, by unrolling the matching cell with zero perturbations added "
              "to h_t. Copy-memory (5 symbols out of 8 recalled after a delay of 10, 20 at full) is reported, "
              "not judged: recall cross-entropy / log 8 (1 = guessing).",
    method_zh="每个种子：加法问题（Hochreiter & Schmidhuber 1997；长度为 T 的序列里前后两半各标记一个数，预测两数之和；"
              "总是预测 1 的基线 MSE 为 1/6），T = 20 和 50（full 另加 100）。单层 RNN（tanh）、LSTM 和 GRU，32 个隐单元，"
              "PyTorch 默认初始化，用 Linear 读出最后的隐状态；Adam（lr 1e-2），梯度范数裁剪到 1，batch 32，每步用新数据"
              "（quick 600 步，full 3000 步），在 512 条新序列上测 MSE。训练后在 64 条测试序列上计算每个 t 的 "
              "||dL/dh_t||：用对应的 cell 手动展开，在 h_t 上加零扰动求梯度。复制记忆任务（8 种符号中取 5 个，延迟 10 步，"
              "full 为 20 步后复述）只报告不判定：复述部分的交叉熵 / log 8（1 表示瞎猜）。",
    caveats_en="Short budgets: given many more steps, good initialization (identity recurrent weights, Le et al. "
               "2015) or orthogonal/unitary cells, vanilla RNNs can solve the adding problem at these lengths, and "
               "gated nets also fail at much larger T. The gradient ratio is measured after training on the "
               "trained weights; at initialization (forget gate near 0.5) the LSTM's gradient also decays. "
               "Clipping prevents explosion; it cannot restore a vanished gradient.",
    caveats_zh="训练预算很短：给更多步数、好的初始化（循环权重取单位阵，Le 等人 2015）或正交/酉 RNN，普通 RNN 在这些长度上也能"
               "解决加法问题；T 大得多时门控网络同样会失败。梯度比例是在训练后的权重上测的；初始化时（遗忘门约 0.5）LSTM "
               "的梯度同样会衰减。梯度裁剪能防止爆炸，但救不回已经消失的梯度。",
    code=["deepnotes.nn.RNN", "deepnotes.nn.LSTM", "deepnotes.nn.GRU", "deepnotes.data.sequences.adding_problem"],
    seconds={"tiny": 0.5, "quick": 60, "full": 900},
    references=["Hochreiter & Schmidhuber, Long Short-Term Memory, Neural Computation 1997",
                "Bengio, Simard & Frasconi, Learning long-term dependencies with gradient descent is difficult, 1994",
                "Pascanu, Mikolov & Bengio, On the difficulty of training recurrent neural networks, ICML 2013",
                "Cho et al., Learning Phrase Representations using RNN Encoder-Decoder (GRU), EMNLP 2014"],
)
def k27(seed: int, budget: str) -> dict:
    lengths = pick(budget, (8,), (20, 50), (20, 50, 100))
    steps, delay = pick(budget, 4, 600, 3000), pick(budget, 4, 10, 20)
    metrics, series, mse, grads = {}, {}, {}, {}
    for length in lengths:
        x_test, y_test = adding_problem(512, length, seed=10_000 + seed)
        for kind in CELLS:
            model, losses = train_recurrent(kind, "adding", length, steps, seed)
            with dn.no_grad():
                mse[kind, length] = float(((model(dn.tensor(x_test)).numpy() - y_test) ** 2).mean())
            grads[kind, length] = hidden_state_gradients(model, x_test[:64], y_test[:64])
            metrics[f"{kind}_T{length}_mse_over_baseline"] = mse[kind, length] / ADDING_BASELINE_MSE
            metrics[f"{kind}_T{length}_gradient_reach"] = reach(grads[kind, length])
            series[f"{kind}_T{length}_loss"] = losses
            series[f"{kind}_T{length}_grad_norm"] = grads[kind, length].tolist()
    for kind in CELLS:
        model, _ = train_recurrent(kind, "copy", delay, steps, seed)
        metrics[f"{kind}_copy_delay{delay}_recall_error"] = recall_error(model, delay, 20_000 + seed)
    longest = lengths[-1]
    gated_mse = (mse["lstm", longest] + mse["gru", longest]) / 2
    gated_reach = (reach(grads["lstm", longest]) + reach(grads["gru", longest])) / 2
    effects = {"gated_beats_rnn": (mse["rnn", longest] - gated_mse) / ADDING_BASELINE_MSE,
               "rnn_fails": mse["rnn", longest] / ADDING_BASELINE_MSE - 0.5,
               "gradient_reaches_back": gated_reach - reach(grads["rnn", longest])}
    return {"metrics": metrics, "effects": effects, "series": series}


@k27.figures
def k27_figures(results, out_dir):
    longest = max(int(k.split("_T")[1].split("_")[0]) for k in results[0]["series"] if k.endswith("_grad_norm"))
    keys = [f"{kind}_T{longest}_grad_norm" for kind in CELLS]
    grads = plot_curves(results, keys, [k.split("_")[0].upper() for k in keys], Path(out_dir) / "k27_gradients.png",
                        f"K27: ||dL/dh_t|| after training, adding problem T = {longest}", "time step t",
                        "gradient norm (log)", logy=True)
    mse_keys = sorted(k for k in results[0]["metrics"] if k.endswith("_mse_over_baseline"))
    bars = plot_bars(results, mse_keys, [k.replace("_mse_over_baseline", "").replace("_", " ") for k in mse_keys],
                     Path(out_dir) / "k27_mse.png", "K27: test MSE / baseline 1/6 (1 = predicting the mean)",
                     "MSE / (1/6)", hline=1.0)
    return [grads, bars]

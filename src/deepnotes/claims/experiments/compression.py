"""Claims on model compression: K35 (pruning and INT8 cost little, binary/ternary more) and K36
(distillation with temperature beats hard labels).

Both run on MNIST-1D (Greydanus 2020: 4,000 training and 1,000 test signals of length 40),
where a small CNN clearly beats an MLP. Each experiment is split into small functions the tests
run on deliberately broken variants.
"""
from __future__ import annotations

import copy

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data, optim
from deepnotes.claims import Criterion, all_of, claim
from deepnotes.compress import distill, lowbit, prune, qmodel, size
from deepnotes.compress.int8 import convert_int8

from . import _toolkit_b as kit

PRUNE_LEVELS = (0.5, 0.8, 0.9, 0.95)
TEMPERATURES = (1.0, 2.0, 5.0, 20.0)
ALPHA = 0.9          # K36: weight of the soft term, fixed before data
T_SQUARED_AT = 5.0   # K36: the temperature where the T^2 factor is removed, fixed before data


# ============================================================================ shared
def build(arch, width):
    """'mlp': 40 -> width -> width -> 10; 'cnn': three stride-2 Conv1d (width channels) + Linear, on (N, 1, 40)."""
    if arch == "mlp":
        return nn.Sequential(nn.Linear(40, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))
    if arch == "cnn":
        return nn.Sequential(nn.Conv1d(1, width, 5, stride=2, padding=2), nn.ReLU(),
                             nn.Conv1d(width, width, 3, stride=2, padding=1), nn.ReLU(),
                             nn.Conv1d(width, width, 3, stride=2, padding=1), nn.ReLU(),
                             nn.Flatten(), nn.Linear(width * 5, 10))
    raise ValueError(f"build: arch must be 'mlp' or 'cnn', got {arch!r}")


def shaped(arch, x):
    """The input layout of `arch`: (N, 40) for the MLP, (N, 1, 40) for the CNN."""
    return x[:, None, :] if arch == "cnn" else x


def mnist1d(budget):
    """MNIST-1D, cut to a few hundred signals at the tiny budget."""
    split = data.load_mnist1d()
    n_train, n_test = kit.pick(budget, 256, len(split.x_train), len(split.x_train)), kit.pick(budget, 200, 1000, 1000)
    return (split.x_train[:n_train], split.y_train[:n_train], split.x_test[:n_test], split.y_test[:n_test])


def train(model, x, y, epochs, seed, lr=3e-3, batch_size=64, after_step=None, loss_fn=None):
    """Adam on shuffled mini-batches (order from `seed`); `after_step(model)` runs after each update."""
    opt = optim.Adam([p for p in model.parameters()], lr=lr)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(epochs):
        for idx in kit.epoch_batches(len(x), batch_size, rng):
            kit.sgd_step(model, opt, loss_fn, x[idx], y[idx])
            if after_step is not None:
                after_step(model)
    model.eval()
    return model


def accuracy(model, x, y):
    """Test accuracy in percentage points (an `Int8Model` or any module)."""
    if isinstance(model, nn.Module):
        return 100.0 * kit.accuracy(model, x, y)
    return 100.0 * float(np.mean(np.asarray(model(x)).argmax(1) == y))


def weights(model):
    """(module, 'weight') for every Linear and Conv layer: what global pruning ranks together."""
    return [(m, "weight") for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]


# ============================================================================ K35
def one_shot_pruned(model, amount, largest=False):
    """A copy of ``model`` with ``amount`` of all its weights removed at once by global magnitude pruning.

    ``largest=True`` prunes the largest weights instead (the broken variant of the tests).
    """
    m = copy.deepcopy(model)
    pairs = weights(m)
    # importance scores go through |.| as in PyTorch: 1 / |w| ranks the largest weights lowest
    scores = {(mod, n): 1.0 / (np.abs(mod.weight.numpy()) + 1e-12) for mod, n in pairs} if largest else None
    prune.global_unstructured(pairs, importance_scores=scores, amount=amount)
    return m


def gradually_pruned(model, amount, xtr, ytr, epochs, seed, batch_size=64):
    """A copy of ``model`` pruned to ``amount`` while fine-tuning (Zhu & Gupta's cubic schedule over all
    but the last epoch, masks updated 4 times per epoch; the last epoch trains at the final sparsity)."""
    m = copy.deepcopy(model)
    steps = -(-len(xtr) // batch_size)
    end = max(1, (epochs - 1) * steps if epochs > 1 else steps // 2)
    pruner = prune.GradualPruner(weights(m), amount, begin_step=0, end_step=end, frequency=max(1, steps // 4))
    train(m, xtr, ytr, epochs, seed + 1, lr=1e-3, after_step=lambda net: pruner.step())
    return m


def lowbit_accuracy(model, mode, x, y, xtr, ytr, epochs, seed):
    """Accuracy after making every layer's weights `mode` ('bwn' binary or 'ternary') and training with the STE."""
    m = copy.deepcopy(model)
    for mod, _ in weights(m):
        lowbit.binarize_(mod, mode)
    clip = (lambda net: lowbit.clip_latent_(net)) if mode != "ternary" else None
    train(m, xtr, ytr, epochs, seed + 2, lr=1e-3, after_step=clip)
    return accuracy(m, x, y)


def fp16_accuracy(model, x, y):
    m = copy.deepcopy(model).to(np.float16)
    with np.errstate(over="ignore"):
        return accuracy(m, x.astype(np.float16), y)


def compress_one(arch, seed, budget):
    """Every format's test accuracy (points) and size (bytes) for one architecture and seed."""
    xtr, ytr, xte, yte = mnist1d(budget)
    xtr, xte = shaped(arch, xtr), shaped(arch, xte)
    width = kit.pick(budget, 16, 128 if arch == "mlp" else 32, 128 if arch == "mlp" else 32)
    epochs, ft = kit.pick(budget, 1, 15, 30), kit.pick(budget, 1, 3, 6)
    dn.manual_seed(seed)
    model = train(build(arch, width), xtr, ytr, epochs, seed)
    acc = {"fp32": accuracy(model, xte, yte), "fp16": fp16_accuracy(model, xte, yte)}
    sizes = {fmt: size.model_size(model, fmt) for fmt in ("fp32", "fp16", "int8", "binary", "ternary")}
    for level in PRUNE_LEVELS:
        pct = int(level * 100)
        acc[f"prune{pct}"] = accuracy(one_shot_pruned(model, level), xte, yte)
        pruned = gradually_pruned(model, level, xtr, ytr, ft, seed)
        acc[f"prune{pct}_ft"] = accuracy(pruned, xte, yte)
        sizes[f"prune{pct}_csr"] = size.model_size(pruned, "sparse_csr")
    calib = [xtr[:512]]
    for per_channel in (False, True):
        q = qmodel.quantize_ptq(model, calib, per_channel=per_channel)
        acc["int8_per_channel" if per_channel else "int8_per_tensor"] = accuracy(q, xte, yte)
    acc["int8_integer_path"] = accuracy(convert_int8(q), xte, yte)
    qat = train(qmodel.prepare_qat(model), xtr, ytr, kit.pick(budget, 1, 2, 4), seed + 3, lr=1e-3)
    acc["int8_qat"] = accuracy(qmodel.freeze(qat), xte, yte)
    lowbit_epochs = kit.pick(budget, 1, 3, 10)
    acc["ternary"] = lowbit_accuracy(model, "ternary", xte, yte, xtr, ytr, lowbit_epochs, seed)
    acc["binary"] = lowbit_accuracy(model, "bwn", xte, yte, xtr, ytr, lowbit_epochs, seed)
    return acc, sizes


def k35_effects(per_arch):
    """The three effects (points) from {arch: accuracies}, each the worst case over the architectures."""
    drop = {a: {k: acc["fp32"] - v for k, v in acc.items()} for a, acc in per_arch.items()}
    return {"prune90_finetuned": min(1.0 - d["prune90_ft"] for d in drop.values()),
            "int8_ptq": min(1.5 - d["int8_per_channel"] for d in drop.values()),
            "lowbit_costs_more": min((d["binary"] + d["ternary"]) / 2 - d["int8_per_channel"] for d in drop.values())}


@claim(
    "K35", topics=["P1", "P2"],
    title_en="Magnitude pruning and INT8 quantization cost little accuracy; binary and ternary weights cost more",
    title_zh="幅值剪枝和 INT8 量化几乎不掉精度，二值、三值权重掉得更多",
    statement_en="Magnitude pruning of most weights and INT8 quantization cost little accuracy; binary/ternary "
                 "cost more.",
    statement_zh="按幅值剪掉大部分权重、做 INT8 量化，精度损失都很小；二值/三值权重的损失更大。",
    criteria=[
        Criterion("prune90_finetuned", 0.0,
                  "1 - (fp32 accuracy - accuracy after 90% global magnitude pruning with fine-tuning), in points, "
                  "worst of MLP and CNN, >= 0 (the drop is at most 1 point)",
                  "1 - (fp32 精度 - 全局幅值剪枝 90% 并微调后的精度)，单位为百分点，取 MLP 和 CNN 中较差者，>= 0"
                  "（即掉点不超过 1 个百分点）"),
        Criterion("int8_ptq", 0.0,
                  "1.5 - (fp32 accuracy - INT8 post-training per-channel accuracy), in points, worst of MLP and "
                  "CNN, >= 0 (the drop is at most 1.5 points)",
                  "1.5 - (fp32 精度 - 训练后逐通道 INT8 量化的精度)，单位为百分点，取 MLP 和 CNN 中较差者，>= 0"
                  "（即掉点不超过 1.5 个百分点）"),
        Criterion("lowbit_costs_more", 1.0,
                  "mean drop of binary (BWN) and ternary (TWN) weights, trained with the STE, minus the INT8 PTQ "
                  "drop, in points, smaller of MLP and CNN, >= 1",
                  "二值（BWN）和三值（TWN）权重（用 STE 训练）的平均掉点减去 INT8 训练后量化的掉点，单位为百分点，"
                  "取 MLP 和 CNN 中较小者，>= 1"),
    ],
    combine=all_of,
    method_en="MNIST-1D (4,000 training, 1,000 test signals). An MLP 40-128-128-10 and a CNN (three stride-2 "
              "Conv1d with 32 channels, then a Linear), each trained 15 epochs with Adam (lr 3e-3, batch 64) at "
              "the quick budget. From the same trained model: one-shot global magnitude pruning of every "
              "weight matrix/kernel to 50/80/90/95% sparsity, evaluated as is; and the same sparsity reached "
              "gradually while fine-tuning (Zhu & Gupta's cubic schedule over 2 epochs, masks updated 4 times "
              "per epoch, then 1 epoch at the final sparsity; Adam lr 1e-3); FP16 (weights and inputs cast); "
              "INT8 post-training quantization (symmetric int8 weights per tensor or per output channel, uint8 activations, "
              "min-max calibration on 512 training signals) and the same model run in integer arithmetic; "
              "INT8 quantization-aware training (2 epochs); ternary (TWN) and binary (BWN: sign times the "
              "mean |w| per output channel) weights on every layer, 3 epochs with the straight-through "
              "estimator from the trained weights. Sizes in bytes per format (deepnotes.compress.size).",
    method_zh="MNIST-1D（4000 条训练信号，1000 条测试信号）。一个 MLP 40-128-128-10 和一个 CNN（三层步长 2 的 "
              "Conv1d，32 个通道，接一层 Linear），quick 预算下各用 Adam（学习率 3e-3，batch 64）训练 15 个 epoch。"
              "从同一个训练好的模型出发：对所有权重矩阵/卷积核做一次性全局幅值剪枝，稀疏度 50/80/90/95%，分别"
              "测一次性剪枝后的精度；再测边微调边逐步剪到同样稀疏度的精度（Zhu & Gupta 的三次方稀疏度调度，用 2 个 "
              "epoch 剪到目标、每个 epoch 更新 4 次掩码，再在最终稀疏度下训练 1 个 epoch；Adam 学习率 1e-3）；"
              "FP16（权重和输入都转成半精度）；INT8 训练后量化（权重对称 int8，逐张量或逐输出通道；激活 uint8；"
              "用 512 条训练信号做 "
              "min-max 校准），以及同一模型的纯整数推理；INT8 量化感知训练（2 个 epoch）；所有层的三值（TWN）和"
              "二值（BWN：符号乘以每个输出通道的 mean|w|）权重，从训练好的权重出发用直通估计器（STE）训练 3 个 "
              "epoch。各格式的字节数由 deepnotes.compress.size 计算。",
    caveats_en="Pruning is cheap when a network has far more weights than its task needs (Han et al. pruned "
               "AlexNet and VGG-16, 61 M and 138 M weights, and retrained for many epochs, iteratively); the MLP "
               "and CNN here have 23 k and 8 k weights and fine-tune for 3 epochs, so high sparsities test the "
               "claim at its hard end. The large drop is not a bug: after 90% global pruning no layer is empty (the CNN's "
               "layers are 52%, 89%, 91% and 95% sparse), the masks hold exactly through fine-tuning, and the same "
               "pipeline with torch.nn.utils.prune drops as far (CNN 80.6% -> 32.5%); in PyTorch runs a CNN of width "
               "128 (105 k weights) fine-tuned 15 epochs loses about 0 points. "
               "Binary and ternary here quantize every layer, including the first and the "
               "last, which practice usually keeps in higher precision, and train only a few epochs from the "
               "float weights: they would recover more with longer training. Sizes count storage; speed depends "
               "on hardware: NumPy has no integer BLAS, so the integer path is slower than float32 on this CPU.",
    caveats_zh="剪枝代价小的前提是网络的权重远多于任务所需（Han 等剪的是 AlexNet 和 VGG-16，分别有 6100 万和 "
               "1.38 亿个权重，并且反复剪枝、重新训练了很多个 epoch）；这里的 MLP 和 CNN 只有 2.3 万和 8 千个权重，"
               "微调只有 3 个 epoch，所以高稀疏度是在这个结论最难成立的一端检验它。"
               "掉点大不是 bug：全局剪掉 90% 后没有哪一层被剪空"
               "（CNN 各层稀疏度为 52%、89%、91%、95%），微调过程中掩码严格保持；用 torch.nn.utils.prune 跑同样的流程"
               "掉得一样多（CNN 从 80.6% 掉到 32.5%）；在 PyTorch 里把 CNN 加宽到 128 通道（10.5 万个权重）并微调 15 个 "
               "epoch，几乎不掉点。这里的二值和三值量化了所有层，包括"
               "实际中通常保留高精度的第一层和最后一层，并且只从浮点权重出发训练了几个 epoch，训练更久会恢复更多。"
               "字节数只反映存储；速度取决于硬件：NumPy 没有整数 BLAS，所以在这台 CPU 上整数推理比 float32 还慢。",
    code=["deepnotes.compress.prune.global_unstructured", "deepnotes.compress.qmodel.quantize_ptq",
          "deepnotes.compress.qmodel.prepare_qat", "deepnotes.compress.int8.convert_int8",
          "deepnotes.compress.lowbit.binarize_", "deepnotes.compress.size.model_size"],
    seconds={"tiny": 0.8, "quick": 30, "full": 90},
    references=["Han, Pool, Tran & Dally, Learning both Weights and Connections for Efficient Neural Networks, "
                "NeurIPS 2015",
                "Jacob et al., Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only "
                "Inference, CVPR 2018",
                "Krishnamoorthi, Quantizing deep convolutional networks for efficient inference: A whitepaper, 2018",
                "Rastegari et al., XNOR-Net, ECCV 2016", "Li, Zhang & Liu, Ternary Weight Networks, 2016"],
)
def k35(seed: int, budget: str) -> dict:
    per_arch, metrics = {}, {}
    for arch in ("mlp", "cnn"):
        acc, sizes = compress_one(arch, seed, budget)
        per_arch[arch] = acc
        metrics.update({f"{arch}/acc_{k}": v for k, v in acc.items()})
        metrics.update({f"{arch}/bytes_{k}": float(v) for k, v in sizes.items()})
    return {"metrics": metrics, "effects": k35_effects(per_arch)}


@k35.figures
def k35_figures(results, out_dir):
    keys = ["fp32", "fp16", "prune90", "prune90_ft", "prune95_ft", "int8_per_tensor", "int8_per_channel",
            "int8_qat", "ternary", "binary"]
    fig, axes = kit.figure(2, width=6.5)
    for ax, arch in zip(axes, ("mlp", "cnn")):
        kit.bars(ax, results, [f"{arch}/acc_{k}" for k in keys], [k.replace("_", "\n") for k in keys],
                 "test accuracy (%)")
        ax.set_title(arch.upper(), fontsize=9)
        ax.tick_params(axis="x", labelsize=6)
    return [kit.save(fig, out_dir, "k35_compression", "K35: accuracy after pruning and quantization (MNIST-1D)")]


# ============================================================================ K36
def distillation_arms(seed, budget, teacher=None, temperatures=TEMPERATURES, epochs=None):
    """Validation and test accuracy (points) of the MLP student: hard labels, distilled at each T, and
    distilled at T_SQUARED_AT without the T^2 factor. ``teacher``: a model taking (N, 1, 40), else a CNN
    is trained; ``epochs`` overrides the budget's (the tests' broken variants)."""
    x, y, xte, yte = mnist1d(budget)
    n_val = kit.pick(budget, 64, 500, 500)
    xtr, ytr, xval, yval = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    epochs = epochs or kit.pick(budget, 1, 15, 30)
    if teacher is None:
        dn.manual_seed(seed)
        teacher = train(build("cnn", kit.pick(budget, 16, 32, 32)), shaped("cnn", xtr), ytr, epochs, seed)
    teacher_view = nn.Sequential(Reshape((1, 40)), teacher)
    width = kit.pick(budget, 16, 64, 64)
    out = {"teacher": (accuracy(teacher_view, xval, yval), accuracy(teacher_view, xte, yte))}
    arms = [("hard", None, True)] + [(f"T{t:g}", t, True) for t in temperatures] + \
           [(f"T{T_SQUARED_AT:g}_no_t2", T_SQUARED_AT, False)]
    for name, T, t2 in arms:
        dn.manual_seed(seed + 100)  # every student starts from the same init
        student = build("mlp", width)
        if T is None:
            train(student, xtr, ytr, epochs, seed + 7)
        else:
            opt = optim.Adam(list(student.parameters()), lr=3e-3)
            distill.distill(student, teacher_view, opt, xtr, ytr, epochs, 64, T, ALPHA, t2, seed=seed + 7)
        out[name] = (accuracy(student, xval, yval), accuracy(student, xte, yte))
    return out


class Reshape(nn.Module):
    """(N, 40) -> (N, *shape): lets the CNN teacher take the MLP's inputs."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


def k36_effects(arms, temperatures=TEMPERATURES):
    """distill_gain: test accuracy at the T with the best validation accuracy minus hard labels (points);
    t_squared: test accuracy at T_SQUARED_AT with T^2 minus without (points)."""
    best = max(temperatures, key=lambda t: arms[f"T{t:g}"][0])
    return best, {"distill_gain": arms[f"T{best:g}"][1] - arms["hard"][1],
                  "t_squared": arms[f"T{T_SQUARED_AT:g}"][1] - arms[f"T{T_SQUARED_AT:g}_no_t2"][1]}


def _gain_decides(verdicts):
    """The claim is the distillation gain; the T^2 criterion is judged and reported beside it."""
    return verdicts["distill_gain"]


@claim(
    "K36", topics=["P3"],
    title_en="A student distilled from a teacher's soft targets beats the same student trained on hard labels",
    title_zh="用教师软标签蒸馏的学生模型胜过只用硬标签训练的同一学生模型",
    statement_en="A student trained with the teacher's soft targets at temperature T beats the same student trained "
                 "on hard labels alone.",
    statement_zh="用教师在温度 T 下的软目标训练的学生模型，比只用硬标签训练的同一学生模型更好。",
    criteria=[
        Criterion("distill_gain", 3.0,
                  "test accuracy of the distilled student at the T with the best validation accuracy minus the "
                  "hard-label student's, >= 3 points",
                  "在验证集上最好的温度 T 下，蒸馏学生的测试精度减去硬标签学生的测试精度，>= 3 个百分点"),
        Criterion("t_squared", 1.0,
                  "at T = 5: test accuracy with the T^2 factor minus without it, >= 1 point (reported; the "
                  "verdict is distill_gain's)",
                  "T = 5 时：带 T^2 因子的测试精度减去去掉 T^2 因子的测试精度，>= 1 个百分点（只报告；结论由 "
                  "distill_gain 决定）"),
    ],
    combine=_gain_decides,
    method_en="MNIST-1D: 3,500 training signals, 500 held out for validation (to choose T), 1,000 test. Teacher: "
              "the CNN of K35 (three stride-2 Conv1d with 32 channels), 15 epochs of Adam at the quick budget. "
              "Student: an MLP 40-64-64-10, the same initialization and batch order in every arm, 15 epochs of "
              "Adam (lr 3e-3, batch 64), trained on hard labels (cross-entropy) or with "
              "alpha T^2 KL(p_T(teacher) || p_T(student)) + (1 - alpha) CE, alpha = 0.9, T in {1, 2, 5, 20}; "
              "and at T = 5 without the T^2 factor.",
    method_zh="MNIST-1D：3500 条训练信号，留出 500 条做验证（用来选 T），1000 条测试。教师：K35 中的 CNN（三层步长 "
              "2 的 Conv1d，32 通道），quick 预算下用 Adam 训练 15 个 epoch。学生：MLP 40-64-64-10，各组初始化和 "
              "batch 顺序都相同，Adam（学习率 3e-3，batch 64）训练 15 个 epoch；分别只用硬标签（交叉熵）训练，和用 "
              "alpha T^2 KL(p_T(教师) || p_T(学生)) + (1 - alpha) CE 训练，alpha = 0.9，T 取 {1, 2, 5, 20}；另外在 "
              "T = 5 时去掉 T^2 因子再训练一次。",
    caveats_en="The gain depends on the gap between teacher and student (here a CNN over an MLP on a task where "
               "translation matters) and on the student's training budget; with unlimited data a student "
               "learns the labels alone. Adam divides by the gradient's scale, so without T^2 the soft term "
               "is not ignored outright but outweighed by the hard term (its relative weight falls by T^2).",
    caveats_zh="收益取决于教师和学生之间的差距（这里是在平移很重要的任务上用 CNN 教 MLP），也取决于学生的训练预算；"
               "数据无限时学生只靠标签也能学会。Adam 会按梯度尺度归一化，所以去掉 T^2 后软目标项并不是完全被忽略，"
               "而是被硬标签项压过（它的相对权重下降了 T^2 倍）。",
    code=["deepnotes.compress.distill.distillation_loss", "deepnotes.compress.distill.distill"],
    seconds={"tiny": 0.5, "quick": 25, "full": 60},
    references=["Hinton, Vinyals & Dean, Distilling the Knowledge in a Neural Network, 2015",
                "Greydanus, Scaling down Deep Learning (MNIST-1D), 2020"],
)
def k36(seed: int, budget: str) -> dict:
    arms = distillation_arms(seed, budget)
    best, effects = k36_effects(arms)
    metrics = {f"{name}/val_acc": v for name, (v, _) in arms.items()}
    metrics.update({f"{name}/test_acc": t for name, (_, t) in arms.items()})
    metrics["best_T"] = float(best)
    return {"metrics": metrics, "effects": effects,
            "series": {"test_acc_by_T": [arms[f"T{t:g}"][1] for t in TEMPERATURES]}}


@k36.figures
def k36_figures(results, out_dir):
    fig, axes = kit.figure(1, width=6)
    ax = axes[0]
    kit.curves(ax, results, "test_acc_by_T", "distilled student", "C0", x=np.log10(TEMPERATURES))
    hard = np.mean([r["metrics"]["hard/test_acc"] for r in results])
    teacher = np.mean([r["metrics"]["teacher/test_acc"] for r in results])
    ax.axhline(hard, color="C3", ls="--", label="hard labels only")
    ax.axhline(teacher, color="gray", ls=":", label="CNN teacher")
    ax.set_xticks(np.log10(TEMPERATURES))
    ax.set_xticklabels([f"{t:g}" for t in TEMPERATURES])
    ax.set(xlabel="temperature T", ylabel="student test accuracy (%)")
    ax.legend(fontsize=8)
    return [kit.save(fig, out_dir, "k36_distillation", "K36: MLP student distilled from a CNN (MNIST-1D)")]

"""Claim K21: with imbalanced classes accuracy misleads, and re-weighting / re-sampling /
balanced ensembles / threshold moving raise minority recall and F1; AUC-PR moves while ROC AUC may not.

Two data sets, each with a ~10% minority class: breast cancer with the malignant class subsampled
(the seed picks which malignant cases are kept) and a synthetic set (`make_classification`,
overlapping classes, 10% positives).  Stratified 5-fold cross-validation, the fold split and
every model's initialization drawn from the seed, so the arms of a seed are paired.  Every arm is
the same small MLP trained with Adam on cross-entropy; they differ only in the remedy:

    plain            nothing
    class_weight     CrossEntropyLoss(weight=compute_class_weight("balanced"))
    smote            SMOTE on the training folds (never on the test fold)
    undersample      RandomUnderSampler on the training folds
    ensemble         BalancedEnsemble (EasyEnsemble): members on all minority + equal majority subsets
    threshold        plain model on 75% of the training folds; the threshold maximizing F1 on the other 25%

Metrics on the pooled out-of-fold predictions: accuracy, minority recall, minority F1, average
precision (AUC-PR) and ROC AUC.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data, metrics, optim
from deepnotes.claims import Criterion, all_of, claim


REMEDIES = ("class_weight", "smote", "undersample", "ensemble", "threshold")
ARMS = ("plain",) + REMEDIES
DATASETS = ("breast_cancer", "synthetic")
RECALL_DELTA, F1_DELTA = 0.05, 0.02  # fixed before any run


def imbalanced_breast_cancer(rng, minority_fraction=0.10):
    """Breast cancer (standardized) with the malignant class (label 1 here) subsampled to ~10%."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    x, malignant = bunch.data, bunch.target == 0
    n_major = int((~malignant).sum())
    n_minor = int(round(minority_fraction * n_major / (1 - minority_fraction)))
    keep = np.r_[np.flatnonzero(~malignant), rng.choice(np.flatnonzero(malignant), n_minor, replace=False)]
    x, y = x[keep], malignant[keep].astype(np.int64)
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32), y


def imbalanced_synthetic(seed, n=800):
    """Two overlapping classes, 10% positives, 10 features of which 4 informative."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=n, n_features=10, n_informative=4, n_redundant=2, weights=[0.9],
                               class_sep=0.8, flip_y=0.0, random_state=seed)
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32), y.astype(np.int64)


def pick(budget, tiny, quick, full):
    """The value of a size for `budget`."""
    return {"tiny": tiny, "quick": quick, "full": full}[budget]


def _minibatches(rng, n, batch, steps):
    """`steps` index arrays of size `batch`: epochs of a random permutation, the last partial batch dropped."""
    batch, done = min(batch, n), 0
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch + 1, batch):
            if done == steps:
                return
            yield order[start:start + batch]
            done += 1


def _model(d):
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 2))


def _train(x, y, init_seed, steps, weight=None):
    dn.manual_seed(init_seed)
    model = _model(x.shape[1])
    loss_fn = nn.CrossEntropyLoss(weight=None if weight is None else dn.tensor(weight.astype(np.float32)))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for idx in _minibatches(np.random.default_rng(init_seed), len(y), 32, steps):
        loss = loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    return model


def _proba(model, x):
    with dn.no_grad():
        z = model(dn.tensor(x)).numpy().astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True))[:, 1]


def run_arm(arm, x, y, init_seed, steps, members):
    """Train `arm` on one fold's training part; returns x -> (minority-class probability, decision threshold)."""
    if arm == "plain":
        model = _train(x, y, init_seed, steps)
        return lambda t: (_proba(model, t), 0.5)
    if arm == "class_weight":
        w = data.compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
        model = _train(x, y, init_seed, steps, weight=w)
        return lambda t: (_proba(model, t), 0.5)
    if arm in ("smote", "undersample"):
        sampler = (data.SMOTE(random_state=init_seed) if arm == "smote"
                   else data.RandomUnderSampler(random_state=init_seed))
        xs, ys = sampler.fit_resample(x, y)
        model = _train(xs.astype(np.float32), ys, init_seed, steps)
        return lambda t: (_proba(model, t), 0.5)
    if arm == "ensemble":
        counter = iter(range(10**6))
        ensemble = data.BalancedEnsemble(
            lambda: _model(x.shape[1]), n_estimators=members, random_state=init_seed,
            fit_fn=lambda m, xs, ys: _train(xs.astype(np.float32), ys, init_seed + 7919 * next(counter), steps))
        ensemble.fit(x, y)
        return lambda t: (ensemble.predict_proba(t)[:, 1], 0.5)
    if arm == "threshold":
        from sklearn.model_selection import train_test_split

        fit_idx, val_idx = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y, random_state=init_seed)
        model = _train(x[fit_idx], y[fit_idx], init_seed, steps)
        threshold, _ = data.best_threshold(y[val_idx], _proba(model, x[val_idx]), criterion="f1")
        return lambda t: (_proba(model, t), threshold)
    raise ValueError(f"run_arm: unknown arm {arm!r}")


def scores(y, proba, decision):
    pred = (proba >= decision).astype(np.int64)
    return {"accuracy": metrics.accuracy_score(y, pred),
            "recall": metrics.recall_score(y, pred, zero_division=0),
            "f1": metrics.f1_score(y, pred, zero_division=0),
            "ap": metrics.average_precision_score(y, proba),
            "roc_auc": metrics.roc_auc_score(y, proba)}


def cross_validate(x, y, seed, folds, steps, members, arms=ARMS):
    """{arm: scores} on pooled out-of-fold predictions; plus the constant majority predictor."""
    from sklearn.model_selection import StratifiedKFold

    proba = {arm: np.zeros(len(y)) for arm in arms}
    pred = {arm: np.zeros(len(y), np.int64) for arm in arms}
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (tr, te) in enumerate(split.split(x, y)):
        for arm in arms:
            predict = run_arm(arm, x[tr], y[tr], 1000 * seed + fold, steps, members)
            p, decision = predict(x[te])
            proba[arm][te], pred[arm][te] = p, (p >= decision)
    out = {arm: scores(y, proba[arm], 0.5) | {"accuracy": metrics.accuracy_score(y, pred[arm]),
                                             "recall": metrics.recall_score(y, pred[arm], zero_division=0),
                                             "f1": metrics.f1_score(y, pred[arm], zero_division=0)}
           for arm in arms}
    majority = np.zeros(len(y), np.int64)
    out["constant"] = {"accuracy": metrics.accuracy_score(y, majority),
                       "recall": metrics.recall_score(y, majority, zero_division=0),
                       "f1": metrics.f1_score(y, majority, zero_division=0)}
    return out


_CRITERIA = [
    Criterion("a_accuracy_misleads", 0.8,
              "a constant 'majority' predictor: accuracy minus minority recall >= 0.8 (high accuracy, zero recall)",
              "恒预测多数类的分类器：准确率减去少数类召回率 >= 0.8（准确率高，召回率为零）"),
    *[Criterion(f"b_{r}_recall", RECALL_DELTA,
                f"{r} raises minority recall over plain training by >= {RECALL_DELTA} (mean of both data sets)",
                f"{r} 让少数类召回率比不处理高出 >= {RECALL_DELTA}（两个数据集的平均）") for r in REMEDIES],
    *[Criterion(f"b_{r}_f1", F1_DELTA,
                f"{r} raises minority F1 over plain training by >= {F1_DELTA} (mean of both data sets)",
                f"{r} 让少数类 F1 比不处理高出 >= {F1_DELTA}（两个数据集的平均）") for r in REMEDIES],
    Criterion("c_ap_moves_more_than_roc_auc", 0.005,
              "over the score-changing remedies, |change of AP| - |change of ROC AUC| against plain >= 0.005",
              "在改变打分的各种方法上，AP 的变化幅度减去 ROC AUC 的变化幅度 >= 0.005"),
    Criterion("c_roc_auc_above_ap", 0.02,
              "for the plain model, ROC AUC - average precision >= 0.02 (ROC AUC looks better under imbalance)",
              "不处理的模型：ROC AUC 减去平均精度 >= 0.02（类别不均衡时 ROC AUC 显得更好）"),
]


@claim(
    "K21", topics=["M1", "M2", "L4"],
    title_en="Under class imbalance accuracy misleads; re-weighting, re-sampling and balanced ensembles help the minority",
    title_zh="类别不均衡时准确率会误导；加权、重采样和平衡集成能帮到少数类",
    statement_en="With imbalanced classes, accuracy is misleading; class weights, re-sampling (SMOTE) or balanced "
                 "ensembles raise minority recall / F1 / AUC-PR.",
    statement_zh="样本不均衡时准确率具有误导性；类别权重、重采样（SMOTE）或平衡集成能提高少数类的召回率、F1 和 AUC-PR。",
    criteria=_CRITERIA,
    combine=all_of,
    method_en="Per seed, on two data sets with a ~10% minority class (breast cancer with the malignant class "
              "subsampled by the seed; make_classification with 10% positives and overlapping classes): "
              "stratified k-fold cross-validation (5 folds; 3 at the tiny budget) with the split from the seed. "
              "In each fold every arm trains the same MLP (hidden 16, ReLU, Adam lr 0.01, batch 32) from the same "
              "initialization: plain; balanced class weights in the cross-entropy; SMOTE (k = 5) or random "
              "under-sampling of the training folds; a balanced ensemble (EasyEnsemble) of under-sampled members; "
              "threshold moving (the F1-maximizing threshold on a stratified 25% of the training folds). "
              "Accuracy, minority recall, minority F1, average precision and ROC AUC are computed on the "
              "pooled out-of-fold predictions; remedy effects are the differences to plain, averaged over "
              "the two data sets.",
    method_zh="每个种子在两个少数类约占 10% 的数据集上实验（乳腺癌数据中按种子下采样恶性类；make_classification 生成的"
              " 10% 正类、类别重叠的数据）：按种子划分的分层 k 折交叉验证（5 折，tiny 预算 3 折）。每一折里所有方法从"
              "同一初始化训练同一个 MLP（隐层 16，ReLU，Adam 学习率 0.01，batch 32）：不处理；交叉熵加 balanced 类别权重；"
              "对训练折做 SMOTE（k = 5）或随机欠采样；由欠采样成员组成的平衡集成（EasyEnsemble）；阈值移动（在训练折中"
              "分层留出 25% 选使 F1 最大的阈值）。在合并的折外预测上计算准确率、少数类召回率、少数类 F1、平均精度和 ROC AUC；"
              "各方法的效应是与不处理之差在两个数据集上的平均。",
    caveats_en="Small data: ~40 malignant cases in the breast cancer set, so recall moves in steps of ~0.025. "
               "The remedies trade precision for recall; F1 can fall when the model was already well separated. "
               "Threshold moving and the plain arm use slightly different training sets (75% vs 100% of the "
               "training folds). Resampling is applied to the training folds only.",
    caveats_zh="数据量小：乳腺癌数据里只有约 40 个恶性样本，召回率以约 0.025 为步长变化。这些方法都是用精确率换召回率；"
               "模型本来就分得很开时 F1 可能下降。阈值移动与不处理所用的训练集略有不同（训练折的 75% 与 100%）。"
               "重采样只作用于训练折。",
    code=["deepnotes.data.resampling.SMOTE", "deepnotes.data.resampling.RandomUnderSampler",
          "deepnotes.data.imbalance.BalancedEnsemble", "deepnotes.data.imbalance.compute_class_weight",
          "deepnotes.data.imbalance.best_threshold", "deepnotes.metrics.average_precision_score"],
    seconds={"tiny": 0.5, "quick": 9, "full": 25},  # CPU seconds per seed measured on the 2-core machine
    references=["Chawla et al., SMOTE: Synthetic Minority Over-sampling Technique, JAIR 2002",
                "Liu, Wu & Zhou, Exploratory Undersampling for Class-Imbalance Learning, IEEE TSMC-B 2009",
                "Saito & Rehmsmeier, The precision-recall plot is more informative than the ROC plot when "
                "evaluating binary classifiers on imbalanced datasets, PLoS ONE 2015",
                "He & Garcia, Learning from Imbalanced Data, IEEE TKDE 2009"],
)
def k21(seed: int, budget: str) -> dict:
    rng = np.random.default_rng(seed)
    folds, steps, members = pick(budget, 3, 5, 5), pick(budget, 40, 150, 400), pick(budget, 2, 5, 7)
    sets = {"breast_cancer": imbalanced_breast_cancer(rng)}
    if budget != "tiny":
        sets["synthetic"] = imbalanced_synthetic(seed)
    results = {name: cross_validate(x, y, seed, folds, steps, members) for name, (x, y) in sets.items()}
    metrics_out = {f"{name}_{arm}_{key}": float(value)
                   for name, table in results.items() for arm, row in table.items() for key, value in row.items()}
    for name, (x, y) in sets.items():
        metrics_out[f"{name}_minority_fraction"] = float(y.mean())

    def mean_delta(arm, key):
        return float(np.mean([t[arm][key] - t["plain"][key] for t in results.values()]))

    const = [t["constant"] for t in results.values()]
    effects = {"a_accuracy_misleads": float(np.mean([c["accuracy"] - c["recall"] for c in const]))}
    for r in REMEDIES:
        effects[f"b_{r}_recall"] = mean_delta(r, "recall")
        effects[f"b_{r}_f1"] = mean_delta(r, "f1")
    score_changers = [r for r in REMEDIES if r != "threshold"]
    effects["c_ap_moves_more_than_roc_auc"] = float(np.mean(
        [abs(t[r]["ap"] - t["plain"]["ap"]) - abs(t[r]["roc_auc"] - t["plain"]["roc_auc"])
         for t in results.values() for r in score_changers]))
    effects["c_roc_auc_above_ap"] = float(np.mean([t["plain"]["roc_auc"] - t["plain"]["ap"]
                                                   for t in results.values()]))
    return {"metrics": metrics_out, "effects": effects}


@k21.figures
def k21_figures(results, out_dir):
    """Grouped bars: minority recall, F1 and AP per arm (mean over seeds), one panel per data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in DATASETS if f"{n}_plain_recall" in results[0]["metrics"]]
    fig, axes = plt.subplots(1, len(names), figsize=(6.5 * len(names), 4), squeeze=False)
    keys = ("recall", "f1", "ap", "roc_auc")
    for ax, name in zip(axes[0], names):
        for j, key in enumerate(keys):
            means = [np.mean([r["metrics"][f"{name}_{arm}_{key}"] for r in results]) for arm in ARMS]
            ax.bar(np.arange(len(ARMS)) + (j - 1.5) * 0.2, means, width=0.2, label=key)
        ax.set_xticks(range(len(ARMS)))
        ax.set_xticklabels(ARMS, rotation=20, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"K21 {name}: minority-class metrics (accuracy of 'always majority': "
                     f"{np.mean([r['metrics'][f'{name}_constant_accuracy'] for r in results]):.2f})", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7, loc="lower left", ncol=4, framealpha=0.9)
    fig.tight_layout()
    path = Path(out_dir) / "k21_imbalance.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]

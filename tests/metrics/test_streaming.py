"""Streaming metrics: batches accumulated over an epoch equal the metric of the whole epoch (sklearn).

Every comparison with sklearn goes through the shared oracle (`compare`), to 1e-12 absolute."""
from functools import partial

import numpy as np
import pytest
import sklearn.metrics as skm

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data, optim, train
from deepnotes.metrics import streaming
from tests.metrics.sk_oracle import compare

pytestmark = pytest.mark.covers("M1")

EXACT = dict(rtol=0, atol=1e-12)
SKLEARN = {  # each streaming name's sklearn function of (y_true, y_pred)
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    **{f"{kind}_{avg}": partial(fn, average=avg, zero_division=0)
       for kind, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score))
       for avg in ("macro", "weighted")},
}


def _epoch(seed, n, k, binary_logits=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[y]
    if binary_logits:
        return y, logits[:, 1] - logits[:, 0]
    return y, logits


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _batched(metric, y, logits, sizes):
    metric.reset()
    edges = np.cumsum([0, *sizes])
    for a, b in zip(edges[:-1], edges[1:]):
        metric.update(dn.tensor(logits[a:b]), dn.tensor(y[a:b]))
    return metric.compute()


def _check_batched(name, y, logits, sizes, reference):
    compare(f"streaming {name}", lambda: _batched(streaming.Metric.from_name(name), y, logits, sizes), reference,
            what=f"streaming {name} over batches {sizes}", **EXACT)


@pytest.mark.parametrize("name", sorted(streaming.REFERENCE))
@pytest.mark.parametrize("k", [2, 4])
def test_confusion_based_metrics_equal_sklearn_on_the_whole_epoch(name, k):
    for seed in range(3):
        y, logits = _epoch(seed, 97, k)
        _check_batched(name, y, logits, [10, 1, 40, 46], lambda: SKLEARN[name](y, logits.argmax(axis=1)))


def test_auc_and_average_precision_over_batches():
    y, logits = _epoch(0, 120, 2)
    p = _softmax(logits)[:, 1]
    _check_batched("auc", y, logits, [7, 50, 63], lambda: skm.roc_auc_score(y, p))
    _check_batched("average_precision", y, logits, [60, 60], lambda: skm.average_precision_score(y, p))
    y, z = _epoch(1, 80, 2, binary_logits=True)  # one binary logit per sample
    _check_batched("auc", y, z, [30, 50], lambda: skm.roc_auc_score(y, z))
    y, logits = _epoch(2, 90, 4)  # multiclass: macro one-vs-rest
    _check_batched("auc", y, logits, [45, 45], lambda: skm.roc_auc_score(y, _softmax(logits), multi_class="ovr"))


def test_mean_of_batch_f1_is_not_epoch_f1():
    """Why streaming: averaging per-batch F1 gives a different (wrong) number."""
    y, logits = _epoch(3, 60, 3)
    pred = logits.argmax(axis=1)
    batch_mean = np.mean([skm.f1_score(y[i:i + 6], pred[i:i + 6], average="macro", zero_division=0)
                          for i in range(0, 60, 6)])
    epoch = _batched(streaming.Metric.from_name("f1_macro"), y, logits, [6] * 10)
    compare("streaming f1_macro", lambda: epoch, lambda: skm.f1_score(y, pred, average="macro"), **EXACT)
    assert abs(epoch - batch_mean) > 1e-3


def test_fit_logs_streaming_metrics_in_history():
    split = data.load_breast_cancer()
    loader = data.DataLoader(data.TensorDataset(split.x_train, split.y_train), batch_size=64, shuffle=True)
    val = data.DataLoader(data.TensorDataset(split.x_test, split.y_test), batch_size=50)
    model = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 2))
    history = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2), loader, val,
                        epochs=2, metrics=["accuracy", "f1_macro", "auc"], progress=False)
    for key in ("train_acc", "train_f1_macro", "train_auc", "val_acc", "val_f1_macro", "val_auc"):
        assert len(history[key]) == 2, key
    # the validation numbers are the whole validation set's, computed by sklearn from the model's outputs
    with dn.no_grad():
        model.eval()
        logits = model(dn.tensor(split.x_test)).numpy()
    p = _softmax(logits.astype(np.float64))
    compare("fit history val_auc", lambda: history.val_auc[-1], lambda: skm.roc_auc_score(split.y_test, p[:, 1]),
            rtol=0, atol=1e-9)  # float32 logits of batches of 50 against the whole set's
    compare("fit history val_f1_macro", lambda: history.val_f1_macro[-1],
            lambda: skm.f1_score(split.y_test, p.argmax(1), average="macro"))
    assert history.best("val_auc").value == max(history.val_auc)


def test_unknown_metric_names_the_choices():
    with pytest.raises(ValueError, match="f1_macro"):
        train.evaluate(nn.Linear(2, 2), None, [], metrics=["f2"])


@pytest.mark.covers("M1")
def test_progress_bar_shows_the_streaming_metrics(capsys):
    """Every metric of train and validation in the bar at the epoch's end (running values between
    batches are shown too, but the bar redraws at most every 0.1 s, so they are not asserted)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    ds = data.TensorDataset(x, (x[:, 0] > 0).astype(np.int64))
    model = nn.Linear(3, 2)
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), data.DataLoader(ds, batch_size=16),
              data.DataLoader(ds, batch_size=32), epochs=1, metrics=["accuracy", "f1_macro", "auc"], progress=True)
    err = capsys.readouterr().err
    for key in ("train_f1_macro=", "train_auc=", "val_f1_macro=", "val_auc="):
        assert key in err, key

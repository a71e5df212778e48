"""Tests for deepnotes.train.fit: the loop, History, evaluate, accuracy, and an end-to-end MLP on digits (E5)."""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.optim as optim
from deepnotes.data import DataLoader, TensorDataset, load_digits
from deepnotes.train import Callback, History, accuracy, evaluate, fit

cross_entropy = nn.functional.cross_entropy


def _data(n=64, d=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = np.argmax(x[:, :classes], axis=1).astype(np.int64)  # learnable: the largest of the first features
    return TensorDataset(x, y)


def _mlp(d=5, classes=3):
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, classes))


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch", batch, logs["size"]))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_fit_returns_a_history_with_one_entry_per_epoch():
    model = _mlp()
    history = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), DataLoader(_data(), batch_size=16),
                  val_loader=DataLoader(_data(seed=1), batch_size=64), epochs=3, progress=False)
    assert isinstance(history, History) and len(history) == 3
    for key in History.KEYS:
        assert len(history[key]) == 3, key
    assert history.epoch == [0, 1, 2] and history.lr == [0.1] * 3
    assert all(s > 0 for s in history.seconds)
    assert all(0 <= a <= 1 for a in history.train_acc + history.val_acc)
    assert history.train_loss[-1] < history.train_loss[0]
    assert set(history.to_dict()) >= set(History.KEYS)


def test_fit_without_validation_or_metrics_leaves_those_lists_empty():
    model = _mlp()
    history = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), DataLoader(_data(), batch_size=16),
                  epochs=2, metrics=(), progress=False)
    assert history.val_loss == history.val_acc == history.train_acc == [] and len(history.train_loss) == 2
    assert "val_loss" not in history


def test_start_epoch_trains_only_the_remaining_epochs():
    model = _mlp()
    history = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), DataLoader(_data(), batch_size=16),
                  epochs=5, start_epoch=3, progress=False)
    assert history.epoch == [3, 4]


def test_train_loss_is_the_batch_size_weighted_mean():
    ds = _data(n=10)
    model = _mlp()
    losses = []

    class Batches(Callback):
        def on_batch_end(self, batch, logs=None):
            losses.append((logs["loss"], logs["size"]))

    history = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), DataLoader(ds, batch_size=4),
                  epochs=1, callbacks=[Batches()], progress=False)
    assert [n for _, n in losses] == [4, 4, 2]
    assert history.train_loss[0] == pytest.approx(sum(v * n for v, n in losses) / 10)


@pytest.mark.covers("O1")
@pytest.mark.parametrize("batch_size, steps_per_epoch", [(64, 1), (16, 4), (1, 64)])
def test_batch_size_sets_the_number_of_optimizer_steps(batch_size, steps_per_epoch):
    """Full-batch GD takes one step per epoch, mini-batch GD N/B, stochastic GD N."""
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.01)
    steps = []
    original_step = opt.step

    def counting_step(*args, **kwargs):
        steps.append(1)
        return original_step(*args, **kwargs)

    opt.step = counting_step
    fit(model, cross_entropy, opt, DataLoader(_data(), batch_size=batch_size), epochs=2, progress=False)
    assert len(steps) == 2 * steps_per_epoch


def test_callback_hooks_run_in_order_with_the_epoch_logs():
    rec = Recorder()
    model = _mlp()
    fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), DataLoader(_data(n=20), batch_size=8),
        val_loader=DataLoader(_data(n=8), batch_size=8), epochs=2, callbacks=[rec], progress=False)
    keys = ["epoch", "lr", "seconds", "train_acc", "train_loss", "val_acc", "val_loss"]
    assert rec.events == [
        "train_begin",
        ("epoch_begin", 0), ("batch", 0, 8), ("batch", 1, 8), ("batch", 2, 4), ("epoch_end", 0, keys),
        ("epoch_begin", 1), ("batch", 0, 8), ("batch", 1, 8), ("batch", 2, 4), ("epoch_end", 1, keys),
        "train_end",
    ]
    assert rec.model is model


def test_a_callback_can_stop_training():
    class StopAfterTwo(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.stop_training = epoch >= 1

    model = _mlp()
    history = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), DataLoader(_data(), batch_size=16),
                  epochs=10, callbacks=[StopAfterTwo()], progress=False)
    assert len(history) == 2


def test_scheduler_steps_once_per_epoch():
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, cross_entropy, opt, DataLoader(_data(), batch_size=32), epochs=5, scheduler=sched,
                  progress=False)
    assert history.lr == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_reduce_lr_on_plateau_gets_the_validation_loss():
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.0)  # no learning: the validation loss never improves
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    opt.param_groups[0]["lr"] = 0.0
    seen = []
    original = sched.step
    sched.step = lambda metric: seen.append(metric) or original(metric)
    history = fit(model, cross_entropy, opt, DataLoader(_data(), batch_size=32), epochs=3,
                  val_loader=DataLoader(_data(seed=2), batch_size=64), scheduler=sched, progress=False)
    assert seen == history.val_loss


def test_progress_bar_runs(capsys):
    model = _mlp()
    fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), DataLoader(_data(), batch_size=16),
        val_loader=DataLoader(_data(seed=1), batch_size=64), epochs=1, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "val_acc" in err and "items/s" in err


def test_bad_batches_are_reported():
    model = _mlp()
    with pytest.raises(ValueError, match="pair \\(inputs, targets\\), got tuple of length 3"):
        fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1),
            [(dn.ones(2, 5), dn.tensor([0, 1]), dn.ones(2))], progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), DataLoader(_data()), metrics=("f1",))


def test_evaluate_uses_eval_mode_and_no_grad_and_restores_each_modules_mode():
    model = nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.9), nn.Linear(16, 3))
    model.train()
    model[1].eval()  # a mixed state that model.train() alone could not restore
    loader = DataLoader(_data(), batch_size=64)
    first = evaluate(model, cross_entropy, loader)
    assert evaluate(model, cross_entropy, loader) == first  # dropout off: deterministic
    assert set(first) == {"loss", "accuracy"}
    assert [m.training for m in model.modules()] == [True, True, False, True]
    assert all(p.grad is None for p in model.parameters())
    x, y = next(iter(loader))
    assert first["loss"] == pytest.approx(cross_entropy(model.eval()(x), y).item(), rel=1e-6)
    assert first["accuracy"] == accuracy(model(x), y)
    assert evaluate(model, None, loader, metrics=("accuracy",)).keys() == {"accuracy"}


@pytest.mark.parametrize("output, target, expected", [
    ([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0], [5.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [0, 2, 1, 1], 0.75),  # class indices
    ([[2.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]], 0.5),  # one-hot targets
    ([1.5, -0.3, 0.2, -2.0], [1, 0, 0, 0], 0.75),  # binary logits (N,)
    ([[1.5], [-0.3], [0.2]], [[1.0], [1.0], [1.0]], 2 / 3),  # binary logits (N, 1)
    ([[1.5], [-0.3]], [1, 0], 1.0),  # (N, 1) logits with (N,) labels
    (np.zeros((2, 3, 4, 4)), np.zeros((2, 4, 4), np.int64), 1.0),  # per-pixel classes (N, C, H, W)
])
def test_accuracy_conventions(output, target, expected):
    assert accuracy(dn.tensor(np.asarray(output, np.float32)), dn.tensor(np.asarray(target))) == pytest.approx(expected)


def test_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"cannot match output of shape \(4, 3\) with target of shape \(5,\)"):
        accuracy(np.zeros((4, 3)), np.zeros(5))


def test_history_docstring_example_runs():
    import doctest

    from deepnotes.train import history as history_module

    result = doctest.testmod(history_module)
    assert result.attempted > 0 and result.failed == 0


def test_history_best_and_round_trip():
    history = History()
    for epoch, (loss, acc) in enumerate([(1.0, 0.5), (0.6, 0.7), (float("nan"), 0.9), (0.8, 0.6)]):
        history.append({"epoch": epoch, "val_loss": loss, "val_acc": acc})
    assert history.best("val_loss") == (1, 0.6)
    assert history.best("val_acc") == (2, 0.9)
    assert history.best("val_acc", mode="min") == (0, 0.5)
    assert History.from_dict(history.to_dict()).to_dict() == history.to_dict()
    with pytest.raises(KeyError, match="train_loss"):
        history.best("train_loss")
    with pytest.raises(AttributeError, match="no quantity 'val_f1'"):
        history.val_f1


@pytest.mark.covers("E5", "O1")
def test_mlp_on_digits_reaches_90_percent_test_accuracy():
    split = load_digits()
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    history = fit(model, cross_entropy, optim.Adam(model.parameters(), lr=3e-3),
                  DataLoader(split.train_dataset(), batch_size=64, shuffle=True),
                  val_loader=DataLoader(split.test_dataset(), batch_size=360), epochs=8, progress=False)
    assert history.val_acc[-1] > 0.90, history
    assert evaluate(model, cross_entropy, DataLoader(split.test_dataset(), batch_size=100))["accuracy"] > 0.90

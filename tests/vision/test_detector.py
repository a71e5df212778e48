"""The single-shot detector: anchor layout, targets, loss, a few training steps, detection format,
the training command; a long training that must reach the stated mAP50 is marked slow."""
import argparse
import json

import numpy as np
import pytest

import deepnotes as dn
from deepnotes.data.shapes import load_shapes
from deepnotes.vision.detector import FPN_SIZES, SINGLE_SIZES, SingleShotDetector
from deepnotes.vision.train import cli_train, evaluate_detector, fit_detector


@pytest.fixture(scope="module")
def split():
    return load_shapes(n_train=16, n_test=8, seed=0)


@pytest.mark.covers("D2", "D4")
@pytest.mark.parametrize("head, cells, per_cell", [("single", [64], 6), ("fpn", [256, 64], 3)])
def test_outputs_line_up_with_anchors(head, cells, per_cell):
    model = SingleShotDetector(3, head=head, width=4)
    logits, offsets = model(dn.tensor(np.zeros((2, 1, 64, 64), np.float32)))
    anchors = model.anchors((64, 64))
    assert logits.shape == (2, sum(cells) * per_cell, 4) and offsets.shape == (2, len(anchors), 4)
    first = anchors[: cells[0] * per_cell].reshape(int(cells[0] ** 0.5), int(cells[0] ** 0.5), per_cell, 4)
    stride = 64 / int(cells[0] ** 0.5)
    np.testing.assert_allclose((first[2, 5, :, :2] + first[2, 5, :, 2:]) / 2, [[5.5 * stride, 2.5 * stride]] * per_cell)
    sizes = SINGLE_SIZES if head == "single" else FPN_SIZES[0]
    np.testing.assert_allclose(first[0, 0, :, 2] - first[0, 0, :, 0], sizes)
    with pytest.raises(ValueError, match="multiples of 8"):
        model.anchors((60, 64))


@pytest.mark.covers("D2")
def test_targets_give_every_object_a_positive_anchor(split):
    model = SingleShotDetector(3, head="single", width=4)
    labels, offsets = model.targets(split.y_train, (64, 64))
    for lab, t in zip(labels, split.y_train):
        assert (lab > 0).sum() >= len(t["boxes"])
        assert set(np.unique(lab[lab > 0]) - 1) <= set(t["labels"].tolist())
    anchors = model.anchors((64, 64))
    i, a = np.argwhere(labels > 0)[0]
    decoded = model.coder.decode(offsets[i, a][None], anchors[a][None])[0]
    assert np.abs(np.asarray(split.y_train[i]["boxes"]) - decoded).max(1).min() < 1e-4


@pytest.mark.covers("D2", "D3")
def test_a_few_steps_reduce_the_loss(split):
    dn.manual_seed(0)
    model = SingleShotDetector(3, head="fpn", width=4)
    history = fit_detector(model, split.x_train, split.y_train, epochs=6, lr=1e-2, batch_size=8, progress=False)
    assert all(np.isfinite(history)) and history[-1] < 0.92 * history[0]


def test_detect_format_and_pyramid(split):
    model = SingleShotDetector(3, head="single", width=4)
    for scales in [(1,), (1, 2), (0.5, 1)]:
        dets = model.detect(split.x_test[:3], scales=scales, max_detections=50)
        assert len(dets) == 3
        for d in dets:
            assert d["boxes"].shape[1] == 4 and len(d["boxes"]) == len(d["scores"]) == len(d["labels"]) <= 50
            assert d["boxes"].min() >= 0 and d["boxes"].max() <= 64
            assert np.all(np.diff(d["scores"]) <= 0) and set(d["labels"].tolist()) <= {0, 1, 2}
    ap, _ = evaluate_detector(model, split.x_test, split.y_test, split.area_ranges)
    assert -1 <= ap["map_small"] <= 1
    with pytest.raises(ValueError, match="detect: scales must be among"):
        model.detect(split.x_test[:1], scales=(3,))


def test_cli_train_writes_png_and_json(tmp_path, capsys):
    args = argparse.Namespace(epochs=1, lr=3e-3, batch_size=8, seed=0, out=str(tmp_path), json=True,
                              no_progress=True, n_train=16, n_test=8, width=4, head="fpn")
    assert cli_train(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"map", "map_50", "map_small", "map_medium", "map_large", "map_50_small", "seconds", "cpu_seconds"} <= set(result)
    assert (tmp_path / "detections.png").stat().st_size > 1000
    assert json.loads((tmp_path / "metrics.json").read_text())["head"] == "fpn"


@pytest.mark.slow
@pytest.mark.covers("D2", "D4")
def test_trained_fpn_detector_reaches_map50_on_medium_and_large(tmp_path):
    from deepnotes.data.shapes import AREA_RANGES

    split = load_shapes(n_train=2000, n_test=300, seed=0)
    dn.manual_seed(0)
    model = SingleShotDetector(3, head="fpn", width=16)
    fit_detector(model, split.x_train, split.y_train, epochs=8, lr=3e-3, batch_size=32, progress=False)
    medium_large = {k: v for k, v in AREA_RANGES.items() if k != "small"}
    ap, _ = evaluate_detector(model, split.x_test, split.y_test, medium_large, iou_thresholds=[0.5])
    assert ap["map_medium"] >= 0.7 and ap["map_large"] >= 0.7

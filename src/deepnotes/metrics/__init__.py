"""deepnotes.metrics: classification metrics with scikit-learn's names, arguments and edge cases (M1).

NumPy arrays in, floats or arrays out.  Label metrics in `classification`
(accuracy, confusion matrix, precision / recall / F-beta, MCC, log loss, the
report), score metrics in `ranking` (ROC and PR curves, their areas,
calibration), streaming versions for the training loop in `streaming`,
figures in `plots`.  Every function is checked against scikit-learn.
"""
from .classification import (
    UndefinedMetricWarning, accuracy_score, balanced_accuracy_score, classification_report, confusion_matrix,
    f1_score, fbeta_score, log_loss, matthews_corrcoef, precision_recall_fscore_support, precision_score,
    recall_score,
)
from .ranking import (
    auc, average_precision_score, calibration_curve, precision_recall_curve, roc_auc_score, roc_curve,
)
from .streaming import Metric

__all__ = [
    "UndefinedMetricWarning", "accuracy_score", "balanced_accuracy_score", "classification_report",
    "confusion_matrix", "f1_score", "fbeta_score", "log_loss", "matthews_corrcoef",
    "precision_recall_fscore_support", "precision_score", "recall_score", "auc", "average_precision_score",
    "calibration_curve", "precision_recall_curve", "roc_auc_score", "roc_curve", "Metric",
]

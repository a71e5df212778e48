"""deepnotes.metrics: classification metrics with scikit-learn's names, arguments and edge cases (M1).

NumPy arrays in, floats or arrays out.  Label metrics in `classification`
(accuracy, confusion matrix, MCC, Hamming and log loss, the report), the
set-wise scores in `fscore` (precision / recall / F-beta / Jaccard, per-label
confusion matrices), score metrics in `ranking` (ROC and PR curves, their
areas, partial AUC, calibration), multilabel ranking scores in
`label_ranking` (coverage error, LRAP, ranking loss), streaming versions for the training loop in
`streaming`, figures in `plots`.  Binary, multiclass and multilabel (0/1
indicator matrix) targets where scikit-learn accepts them.  Every function is
checked against scikit-learn.
"""
from .classification import (
    accuracy_score, balanced_accuracy_score, classification_report, confusion_matrix, hamming_loss, log_loss,
    matthews_corrcoef,
)
from .fscore import (
    UndefinedMetricWarning, f1_score, fbeta_score, jaccard_score, multilabel_confusion_matrix,
    precision_recall_fscore_support, precision_score, recall_score,
)
from .label_ranking import coverage_error, label_ranking_average_precision_score, label_ranking_loss
from .ranking import (
    auc, average_precision_score, calibration_curve, precision_recall_curve, roc_auc_score, roc_curve,
)
from .streaming import Metric

__all__ = [
    "UndefinedMetricWarning", "accuracy_score", "balanced_accuracy_score", "classification_report",
    "confusion_matrix", "f1_score", "fbeta_score", "hamming_loss", "jaccard_score", "log_loss", "matthews_corrcoef",
    "multilabel_confusion_matrix", "precision_recall_fscore_support", "precision_score", "recall_score", "auc",
    "average_precision_score", "calibration_curve", "precision_recall_curve", "roc_auc_score", "roc_curve", "Metric",
    "coverage_error", "label_ranking_average_precision_score", "label_ranking_loss",
]

"""deepnotes.data: datasets, samplers, the DataLoader and built-in datasets (PyTorch's names)."""
from .dataset import Dataset, Subset, TensorDataset, random_split
from .datasets import Split, get_dataset, load_breast_cancer, load_digits, load_mnist1d
from .loader import (
    DataLoader, RandomSampler, Sampler, SequentialSampler, WeightedRandomSampler, default_collate, default_convert,
)
from . import sequences, transforms  # noqa: E402,F401  (synthetic sequence tasks; augmentation)
# imbalanced classes (M2, L4) and distribution shift (R8)
from . import feature_selection, imbalance, resampling, shift  # noqa: E402,F401
from .imbalance import (  # noqa: E402,F401
    BalancedEnsemble, SelectKBest, balanced_sample_weights, best_threshold, compute_class_weight, f_classif,
    mutual_info_classif,
)
from .resampling import (  # noqa: E402,F401
    ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler, RandomUnderSampler, make_imbalanced,
)
# PyTorch's other data utilities (torch.utils.data), and worker processes for DataLoader(num_workers=k)
from .dataset import ConcatDataset, IterableDataset  # noqa: E402,F401
from .loader import BatchSampler, SubsetRandomSampler  # noqa: E402,F401
from .workers import get_worker_info  # noqa: E402,F401

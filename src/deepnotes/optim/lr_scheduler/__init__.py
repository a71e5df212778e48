"""Learning-rate schedules, as `torch.optim.lr_scheduler` (inventory O7).

A scheduler rewrites `group["lr"]` of its optimizer's param groups each time
`scheduler.step()` is called (once per epoch or per batch, *after*
`optimizer.step()`).  Too high a learning rate diverges or oscillates, too low
crawls; schedules start high to make progress and end low to settle.

Conventions (PyTorch's, kept exactly so the numbers match):

* `last_epoch` counts the scheduler's steps; construction performs step 0,
  so right after construction the lr is the schedule's value at 0.
* Each group remembers its starting lr as `group["initial_lr"]`; `base_lrs`
  are those.
* Most schedules are computed *recursively* from the current `group["lr"]`
  (so that they compose with other changes to the lr, as in PyTorch);
  `step(epoch)` (deprecated in PyTorch) uses the closed form instead.

Modules: `base` (LRScheduler, LambdaLR), `decay` (StepLR, MultiStepLR,
ConstantLR, LinearLR, ExponentialLR), `annealing` (CosineAnnealingLR,
CosineAnnealingWarmRestarts, OneCycleLR), `plateau` (ReduceLROnPlateau,
SequentialLR).
"""
from .annealing import CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR
from .base import LambdaLR, LRScheduler
from .decay import ConstantLR, ExponentialLR, LinearLR, MultiStepLR, StepLR
from .plateau import ReduceLROnPlateau, SequentialLR

__all__ = [
    "LRScheduler", "LambdaLR",
    "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
    "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
    "ReduceLROnPlateau", "SequentialLR",
]

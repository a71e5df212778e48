"""deepnotes.optim: optimizers and learning-rate schedulers, with torch.optim's names and semantics.

    opt = dn.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    sched = dn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()     # backprop: fills p.grad
        opt.step()                          # gradient descent: consumes p.grad
        sched.step()
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW, NAdam
from .optimizer import Optimizer, required
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "required", "SGD", "Adam", "AdamW", "NAdam", "Adagrad", "RMSprop", "lr_scheduler"]

# Second-order and sparse optimizers, test functions, constrained optimization (inventory O1, O2, O5, O6, O9, T2).
from . import constrained, cost, testfunctions  # noqa: E402
from .constrained import kkt_check, minimize_augmented_lagrangian  # noqa: E402
from .cost import second_order_cost  # noqa: E402
from .ftrl import FTRL  # noqa: E402
from .lbfgs import LBFGS  # noqa: E402
from .newton import Newton  # noqa: E402

__all__ += ["LBFGS", "FTRL", "Newton", "second_order_cost", "minimize_augmented_lagrangian", "kkt_check",
            "constrained", "cost", "testfunctions"]
from .adadelta import Adadelta, Adamax, RAdam  # noqa: E402
from .rprop import ASGD, Rprop  # noqa: E402

__all__ += ["Adadelta", "Adamax", "RAdam", "ASGD", "Rprop"]

from ..unsupported import unsupported_optim_attribute as __getattr__  # noqa: E402,F401

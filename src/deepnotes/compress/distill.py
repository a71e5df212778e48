"""Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network").

The student matches the teacher's softened distribution p_T = softmax(z_teacher / T) as well as
the labels::

    loss = alpha * T^2 * KL(p_T(teacher) || p_T(student))  +  (1 - alpha) * CE(student, targets)

Why T^2: the soft term's gradient w.r.t. a student logit is (q_i - p_i) / T, and for large T the
difference q_i - p_i itself shrinks like 1/T (both distributions flatten toward uniform, with
q_i - p_i ~ (v_i - z_i) / (N T)), so the gradient shrinks like 1/T^2. Multiplying by T^2 keeps the
soft term's weight relative to the hard term roughly constant when T changes, so alpha means the
same thing at every temperature. `soft_gradient_norm` measures it.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F

__all__ = ["distillation_loss", "soft_gradient_norm", "distill"]


def distillation_loss(student_logits, teacher_logits, targets, T=4.0, alpha=0.9, t_squared=True):
    """alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE(student, targets).

    Args:
        student_logits: (N, C) Tensor.
        teacher_logits: (N, C) Tensor or array; treated as a constant (no gradient flows to the teacher).
        targets: (N,) integer class labels.
        T: temperature > 0. alpha: weight of the soft term in [0, 1].
        t_squared: multiply the soft term by T^2 (True, Hinton et al.); False shows what happens without.

    The KL term is averaged over the batch ('batchmean', the mathematically correct KL per sample).
    """
    fn = "distillation_loss"
    if not (isinstance(T, (int, float)) and T > 0):
        raise ValueError(f"{fn}: T must be a number > 0, got {T!r}")
    if not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"{fn}: alpha must be in [0, 1], got {alpha!r}")
    if not isinstance(student_logits, Tensor) or student_logits._data.ndim != 2:
        raise ValueError(f"{fn}: student_logits must be an (N, C) Tensor, got "
                         f"{getattr(getattr(student_logits, 'data', student_logits), 'shape', type(student_logits))}")
    teacher = np.asarray(teacher_logits._data if isinstance(teacher_logits, Tensor) else teacher_logits)
    if teacher.shape != student_logits._data.shape:
        raise ValueError(f"{fn}: teacher_logits shape {teacher.shape} != student_logits shape "
                         f"{student_logits._data.shape}")
    teacher = Tensor(teacher.astype(student_logits._data.dtype))
    soft_targets = F.softmax(teacher, dim=1, temperature=T)
    log_student = F.log_softmax(student_logits, dim=1, temperature=T)
    soft = F.kl_div(log_student, soft_targets, reduction="batchmean")
    if t_squared:
        soft = soft * float(T * T)
    hard = F.cross_entropy(student_logits, targets if isinstance(targets, Tensor) else Tensor(np.asarray(targets)))
    return soft * float(alpha) + hard * float(1.0 - alpha)


def soft_gradient_norm(student_logits, teacher_logits, T, t_squared=False):
    """The norm of d(soft term)/d(student logits), with or without the T^2 factor (alpha = 1, no labels)."""
    s = Tensor(np.asarray(student_logits, dtype=np.float64), requires_grad=True)
    p_teacher = F.softmax(Tensor(np.asarray(teacher_logits, dtype=np.float64)), dim=1, temperature=T)
    kl = F.kl_div(F.log_softmax(s, dim=1, temperature=T), p_teacher, reduction="batchmean")
    (kl * (float(T * T) if t_squared else 1.0)).backward()
    return float(np.linalg.norm(s.grad.numpy()))


def distill(student, teacher, optimizer, x, y, epochs, batch_size=64, T=4.0, alpha=0.9, t_squared=True,
            seed=0):
    """Train ``student`` on (x, y) with `distillation_loss` against ``teacher`` (kept in eval mode).

    The teacher's logits are computed once (it does not change). Data order comes from
    ``np.random.default_rng(seed)``. Returns the mean training loss of each epoch.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"distill: epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    teacher.eval()
    with no_grad():
        teacher_logits = np.concatenate([teacher(Tensor(x[i:i + 1024]))._data for i in range(0, len(x), 1024)])
    rng = np.random.default_rng(seed)
    history = []
    student.train()
    for _ in range(epochs):
        order, losses = rng.permutation(len(x)), []
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            optimizer.zero_grad()
            loss = distillation_loss(student(Tensor(x[idx])), teacher_logits[idx], y[idx], T, alpha, t_squared)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    student.eval()
    return history

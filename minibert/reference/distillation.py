r"""NumPy reference for DistilBERT's loss (Sanh et al., 2019), written term by term from the formulas, in float64.
:mod:`minibert.models.distilbert.distillation` is checked against it.

.. math::  \mathcal{L} = \alpha_{ce}\, T^2 \frac{1}{N}\sum_n \sum_v p^T_{t,nv} \log\frac{p^T_{t,nv}}{p^T_{s,nv}}
           + \alpha_{mlm} \frac{1}{N}\sum_n -\log p^1_{s,n y_n}
           + \alpha_{cos} \frac{1}{M}\sum_m \Big(1 - \frac{h_{s,m} \cdot h_{t,m}}{\lVert h_{s,m}\rVert \lVert h_{t,m}\rVert}\Big)
"""
from __future__ import annotations

import numpy as np

__all__ = ["softmax_at", "kl_divergence", "distillation_terms"]


def softmax_at(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(z / T)`` over the last axis, stabilised by subtracting the row maximum."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def kl_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``KL(p || q)`` per row, with ``0 log 0 = 0``."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return terms.sum(axis=-1)


def distillation_terms(student_logits, teacher_logits, targets, student_hidden, teacher_hidden, temperature,
                       alpha_ce, alpha_mlm, alpha_cos) -> dict[str, float]:
    """The three terms (unweighted) and the weighted total."""
    ce = temperature ** 2 * kl_divergence(softmax_at(teacher_logits, temperature),
                                          softmax_at(student_logits, temperature)).mean()
    p_student = softmax_at(student_logits, 1.0)
    mlm = -np.log(p_student[np.arange(len(targets)), targets]).mean()
    s, t = np.asarray(student_hidden, np.float64), np.asarray(teacher_hidden, np.float64)
    cosine = (s * t).sum(-1) / (np.linalg.norm(s, axis=-1) * np.linalg.norm(t, axis=-1))
    cos = (1.0 - cosine).mean()
    return {"ce": ce, "mlm": mlm, "cos": cos, "loss": alpha_ce * ce + alpha_mlm * mlm + alpha_cos * cos}

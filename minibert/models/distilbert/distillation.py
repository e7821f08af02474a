r"""Knowledge distillation as DistilBERT trains it (Sanh et al., 2019, section 2; Hinton et al., 2015).

A teacher's output distribution says more than the one correct token: which wrong answers are almost right. The
student learns from it through a softmax at temperature :math:`T`, which flattens both distributions so that the
small probabilities count:

.. math::  p_i^{T} = \frac{\exp(z_i / T)}{\sum_j \exp(z_j / T)}

DistilBERT's training loss is a weighted sum of three terms over a masked-LM batch:

.. math::  \mathcal{L} = \alpha_{ce}\, T^2\, \mathrm{KL}\!\left(p_t^{T} \,\middle\|\, p_s^{T}\right)
           + \alpha_{mlm}\, \mathcal{L}_{mlm} + \alpha_{cos}\, \big(1 - \cos(h_s, h_t)\big)

- the *distillation* term at the masked positions. KL differs from the cross-entropy :math:`H(p_t^T, p_s^T)` of
  Hinton's formulation only by the teacher's entropy, a constant, so the gradients are the same; KL is 0 when the
  student matches. The :math:`T^2` keeps its gradient, :math:`T (p_s^T - p_t^T)`, about as large at every
  temperature (for large T it tends to matching the centred logits, :math:`(z_s - z_t) / N`);
- the ordinary *masked-LM* cross-entropy against the true tokens (at :math:`T = 1`);
- a *cosine* loss pulling the student's last hidden states towards the teacher's, at every real token.

The released DistilBERT used :math:`T = 2`, :math:`\alpha_{ce} = 5`, :math:`\alpha_{mlm} = 2`,
:math:`\alpha_{cos} = 1`. A weight of 0 switches its term off (it is not computed and needs no input), so
``alpha_ce=0, alpha_cos=0`` is plain masked-LM training of the student.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.outputs import ModelOutput
from minibert.core.inputs import IGNORE_INDEX

__all__ = ["soften", "DistillationTerms", "distillation_loss", "Distiller", "SANH_RECIPE"]

SANH_RECIPE = dict(temperature=2.0, alpha_ce=5.0, alpha_mlm=2.0, alpha_cos=1.0)


def _check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}")
    if not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}; T = 1 is the ordinary "
                         "softmax, T > 1 softens it (DistilBERT used 2)")
    return float(temperature)


def soften(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``softmax(logits / T)`` over the last axis: the soft targets (or predictions) at temperature ``T``."""
    return (logits / _check_temperature(temperature)).softmax(-1)


@dataclass(kw_only=True)
class DistillationTerms(ModelOutput):
    """The total ``loss``, each term before weighting (``None`` for a term whose weight is 0) and, as ``logits``,
    the student's logits at the scored positions."""

    ce: torch.Tensor | None = None
    mlm: torch.Tensor | None = None
    cos: torch.Tensor | None = None

    def as_dict(self) -> dict[str, float]:
        return {name: float(value.detach()) for name, value in
                (("loss", self.loss), ("ce", self.ce), ("mlm", self.mlm), ("cos", self.cos)) if value is not None}


def _check_weights(alpha_ce, alpha_mlm, alpha_cos) -> None:
    for name, value in (("alpha_ce", alpha_ce), ("alpha_mlm", alpha_mlm), ("alpha_cos", alpha_cos)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if alpha_ce == alpha_mlm == alpha_cos == 0:
        raise ValueError("all three weights are 0: nothing to learn from; DistilBERT used alpha_ce=5, alpha_mlm=2, "
                         "alpha_cos=1")


def _check_pair(name: str, student, teacher, what: str) -> None:
    for who, tensor in (("student", student), ("teacher", teacher)):
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise TypeError(f"{who} {name} must be a floating-point tensor, got {type(tensor).__name__}")
        if tensor.dim() != 2 or tensor.shape[0] == 0:
            raise ValueError(f"{who} {name} must be a non-empty ({what}) matrix, got shape {tuple(tensor.shape)}")
    if student.shape != teacher.shape:
        raise ValueError(f"student {name} {tuple(student.shape)} and teacher {name} {tuple(teacher.shape)} differ; "
                         f"they must be ({what}) for the same positions"
                         + (" and the same width (embedding size mismatch)" if name == "hidden states" else ""))


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor | None = None,
                      student_hidden: torch.Tensor | None = None, teacher_hidden: torch.Tensor | None = None, *,
                      temperature: float = 2.0, alpha_ce: float = 5.0, alpha_mlm: float = 2.0, alpha_cos: float = 1.0,
                      label_smoothing: float = 0.0) -> DistillationTerms:
    """DistilBERT's loss (module docstring) on already selected rows.

    ``student_logits``, ``teacher_logits``: ``(N, V)`` at the N masked positions; ``targets``: ``(N,)`` true token
    ids (needed when ``alpha_mlm > 0``); ``student_hidden``, ``teacher_hidden``: ``(M, H)`` last hidden states at
    the M real tokens (needed when ``alpha_cos > 0``). Terms are means over rows. No gradient reaches the teacher.
    """
    temperature = _check_temperature(temperature)
    _check_weights(alpha_ce, alpha_mlm, alpha_cos)
    _check_pair("logits", student_logits, teacher_logits, "positions, vocabulary")
    terms = DistillationTerms(loss=student_logits.new_zeros(()), logits=student_logits)
    if alpha_ce > 0:
        log_p_student = F.log_softmax(student_logits / temperature, dim=-1)
        log_p_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=-1)
        kl = F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)
        terms.ce = kl * temperature ** 2
        terms.loss = terms.loss + alpha_ce * terms.ce
    if alpha_mlm > 0:
        if targets is None:
            raise ValueError("alpha_mlm > 0 needs the true token ids (targets); pass them or set alpha_mlm=0")
        if not isinstance(targets, torch.Tensor) or targets.shape != student_logits.shape[:1]:
            raise ValueError(f"targets must be a ({student_logits.shape[0]},) tensor of token ids, one per row")
        terms.mlm = F.cross_entropy(student_logits, targets, label_smoothing=label_smoothing)
        terms.loss = terms.loss + alpha_mlm * terms.mlm
    if alpha_cos > 0:
        if student_hidden is None or teacher_hidden is None:
            raise ValueError("alpha_cos > 0 needs the student's and the teacher's hidden states; pass them or set "
                             "alpha_cos=0")
        _check_pair("hidden states", student_hidden, teacher_hidden, "tokens, hidden size")
        terms.cos = (1 - F.cosine_similarity(student_hidden, teacher_hidden.detach(), dim=-1)).mean()
        terms.loss = terms.loss + alpha_cos * terms.cos
    return terms


def _vocabulary(model) -> tuple[int, int]:
    if not (hasattr(model, "bert") and hasattr(model, "mlm")):
        raise TypeError(f"expected a masked-LM model (BertForMaskedLM, DistilBertForMaskedLM, ...), got "
                        f"{type(model).__name__}")
    return model.config.vocab_size, model.config.hidden_size


class Distiller(nn.Module):
    """A frozen teacher and a student trained with :func:`distillation_loss`, shaped like a masked-LM model so the
    course's :class:`~minibert.training.Trainer` trains it unchanged: ``forward(input_ids, attention_mask,
    labels)`` returns the terms with ``.loss``; without labels (or with ``positions``) it is the student.

    The teacher stays in eval mode (no dropout) and has ``requires_grad=False``, so only the student's parameters
    reach the optimizer.

    ``loss``: your own soft + hard terms, ``loss(student_logits, teacher_logits, labels, T, alpha_ce, alpha_mlm)``
    on the scored rows (``(N, V)`` logits, ``(N,)`` labels). The training loss is then its value plus the library's
    cosine term, and the terms reported beside it stay the library's: how chapter 10 trains a student with the
    loss the learner wrote.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module, temperature: float = 2.0, alpha_ce: float = 5.0,
                 alpha_mlm: float = 2.0, alpha_cos: float = 1.0, loss=None):
        super().__init__()
        (s_vocab, s_width), (t_vocab, t_width) = _vocabulary(student), _vocabulary(teacher)
        if s_vocab != t_vocab:
            raise ValueError(f"student vocabulary ({s_vocab}) and teacher vocabulary ({t_vocab}) differ; "
                             "distillation compares distributions over the same tokens")
        if alpha_cos > 0 and s_width != t_width:
            raise ValueError(f"embedding size mismatch: the cosine loss compares hidden states, student H={s_width} "
                             f"vs teacher H={t_width}; use the teacher's width or alpha_cos=0")
        self.temperature = _check_temperature(temperature)
        _check_weights(alpha_ce, alpha_mlm, alpha_cos)
        self.alpha_ce, self.alpha_mlm, self.alpha_cos = alpha_ce, alpha_mlm, alpha_cos
        if loss is not None and not callable(loss):
            raise TypeError(f"loss must be a function loss(student_logits, teacher_logits, labels, T, alpha_ce, "
                            f"alpha_mlm), got {type(loss).__name__}")
        self.loss = loss
        self.student = student
        self.teacher = teacher.eval().requires_grad_(False)
        self.config = student.config

    def train(self, mode: bool = True) -> "Distiller":
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, input_ids, attention_mask=None, labels=None, label_smoothing: float = 0.0, *,
                positions: torch.Tensor | None = None, token_type_ids=None):
        if labels is None or positions is not None:  # evaluation and inference: the student alone
            return self.student(input_ids, token_type_ids, attention_mask, positions=positions)
        if not isinstance(labels, torch.Tensor) or labels.shape != input_ids.shape:
            raise ValueError(f"labels must be shaped like input_ids {tuple(input_ids.shape)}, -100 where unscored")
        selected = labels != IGNORE_INDEX
        if not bool(selected.any()):
            raise ValueError("labels has no position to predict (all -100); mask at least one token")
        real = attention_mask.bool() if attention_mask is not None else torch.ones_like(input_ids, dtype=torch.bool)
        need_hidden = self.alpha_cos > 0
        student = self.student(input_ids, attention_mask=attention_mask, positions=selected,
                               output_hidden_states=need_hidden)
        if self.alpha_ce == 0 and not need_hidden:  # plain masked LM: the teacher has nothing to say
            teacher_logits, hidden = student.logits.detach(), (None, None)
        else:
            with torch.no_grad():
                teacher = self.teacher(input_ids, attention_mask=attention_mask, positions=selected,
                                       output_hidden_states=need_hidden)
            teacher_logits = teacher.logits
            hidden = (student.hidden_states[-1][real], teacher.hidden_states[-1][real]) if need_hidden else (None, None)
        terms = distillation_loss(student.logits, teacher_logits, labels[selected], *hidden,
                                  temperature=self.temperature, alpha_ce=self.alpha_ce, alpha_mlm=self.alpha_mlm,
                                  alpha_cos=self.alpha_cos, label_smoothing=label_smoothing)
        if self.loss is not None:  # the learner's soft + hard terms train the student; the cosine term stays ours
            terms.loss = self.loss(student.logits, teacher_logits, labels[selected], self.temperature, self.alpha_ce,
                                   self.alpha_mlm)
            if terms.cos is not None:
                terms.loss = terms.loss + self.alpha_cos * terms.cos
        return terms

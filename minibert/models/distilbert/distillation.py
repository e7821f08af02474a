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

*Task-specific* distillation (Sanh et al., section 4.2, the SQuAD student; Hinton et al., section 3, a *transfer
set* the teacher labels) applies the same soft term to a fine-tuned classifier's logits, next to the cross-entropy
with the true labels of the rows that have one:

.. math::  \mathcal{L}_{task} = T^2\, \mathrm{KL}\!\left(p_t^{T} \,\middle\|\, p_s^{T}\right) + \alpha\, \mathrm{CE}(z_s, y)

(:func:`task_distillation_loss`, :class:`TaskDistiller`; :func:`confidence` says how much a teacher's soft targets
differ from its hard labels).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.outputs import ModelOutput
from minibert.core.inputs import IGNORE_INDEX

__all__ = ["soften", "soft_target_loss", "DistillationTerms", "distillation_loss", "Distiller", "SANH_RECIPE",
           "TaskDistillationTerms", "task_distillation_loss", "TaskDistiller", "confidence"]

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


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    r""":math:`T^2\, \mathrm{KL}(p_t^T \| p_s^T)`, the mean over the rows of ``(N, C)`` logits; no gradient reaches
    the teacher."""
    temperature = _check_temperature(temperature)
    log_p_student = F.log_softmax(student_logits / temperature, dim=-1)
    log_p_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=-1)
    return F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True) * temperature ** 2


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
        terms.ce = soft_target_loss(student_logits, teacher_logits, temperature)
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


# -- task-specific distillation: a fine-tuned teacher's classifier logits -------------------------------------------
@dataclass(kw_only=True)
class TaskDistillationTerms(ModelOutput):
    r"""The total ``loss``, the ``soft`` term :math:`T^2\,\mathrm{KL}` and the ``hard`` cross-entropy (each before
    weighting, ``None`` when absent) and the student's ``logits``."""

    soft: torch.Tensor | None = None
    hard: torch.Tensor | None = None

    def as_dict(self) -> dict[str, float]:
        return {name: float(value.detach()) for name, value in
                (("loss", self.loss), ("soft", self.soft), ("hard", self.hard)) if value is not None}


def task_distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor | None = None,
                           labels: torch.Tensor | None = None, *, temperature: float = 2.0,
                           alpha: float = 1.0) -> TaskDistillationTerms:
    r""":math:`T^2\,\mathrm{KL}(p_t^T \| p_s^T) + \alpha\,\mathrm{CE}` on ``(N, C)`` classifier logits.

    The soft term is the mean over every row (``teacher_logits`` ``None``: no soft term); the hard term the mean
    over the rows whose label is not -100 (a transfer-set row the teacher labels has none). At least one term must
    be present."""
    if not isinstance(student_logits, torch.Tensor) or not student_logits.is_floating_point() \
            or student_logits.dim() != 2 or student_logits.shape[0] == 0:
        raise ValueError("student_logits must be a non-empty (rows, classes) floating-point matrix")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    terms = TaskDistillationTerms(loss=student_logits.new_zeros(()), logits=student_logits)
    if teacher_logits is not None:
        _check_pair("logits", student_logits, teacher_logits, "rows, classes")
        terms.soft = soft_target_loss(student_logits, teacher_logits, temperature)
        terms.loss = terms.loss + terms.soft
    if labels is not None:
        if not isinstance(labels, torch.Tensor) or labels.shape != student_logits.shape[:1]:
            raise ValueError(f"labels must be a ({student_logits.shape[0]},) tensor of classes, -100 where a row "
                             "has none")
        labelled = labels != IGNORE_INDEX
        if bool(labelled.any()) and alpha > 0:
            terms.hard = F.cross_entropy(student_logits[labelled], labels[labelled])
            terms.loss = terms.loss + alpha * terms.hard
    if terms.soft is None and terms.hard is None:
        raise ValueError("nothing to learn from: pass teacher_logits, or labels that are not all -100 with alpha > 0")
    return terms


class TaskDistiller(nn.Module):
    """A sequence classifier trained with :func:`task_distillation_loss`: ``forward(input_ids, attention_mask,
    labels, teacher_logits)`` with precomputed teacher logits (the teacher runs once over the transfer set, not
    every step). Without ``labels`` and ``teacher_logits`` it is the classifier. ``history`` keeps the terms of
    every training step. A student without segment embeddings ignores all-zero ``token_type_ids``."""

    def __init__(self, classifier: nn.Module, temperature: float = 2.0, alpha: float = 1.0):
        super().__init__()
        self.classifier, self.temperature, self.alpha = classifier, _check_temperature(temperature), alpha
        self.history: list[dict[str, float]] = []

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None, teacher_logits=None):
        if token_type_ids is not None and not self.classifier.config.type_vocab_size:
            if bool(token_type_ids.any()):
                raise ValueError("this student has no segment embeddings: it takes single sentences (token_type_ids"
                                 " all 0)")
            token_type_ids = None
        out = self.classifier(input_ids, token_type_ids, attention_mask)
        if labels is None and teacher_logits is None:
            return out
        terms = task_distillation_loss(out.logits, teacher_logits, labels, temperature=self.temperature,
                                       alpha=self.alpha)
        if self.training:
            self.history.append(terms.as_dict())
        return terms


@torch.no_grad()
def confidence(logits: torch.Tensor, temperature: float = 1.0) -> dict[str, float]:
    r"""How sure ``(N, C)`` logits are at ``temperature``: the mean largest probability, the mean entropy in nats
    and its maximum :math:`\ln C` (the uniform distribution)."""
    probabilities = soften(logits.float(), temperature)
    entropy = -(probabilities * probabilities.clamp_min(1e-30).log()).sum(-1)
    return {"mean_max_probability": float(probabilities.max(-1).values.mean()),
            "mean_entropy_nats": float(entropy.mean()), "max_entropy_nats": math.log(logits.shape[-1])}

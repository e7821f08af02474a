"""Chapter 10, the loss: 10.2, DistilBERT's soft targets and hard labels at the masked positions (build)."""
from __future__ import annotations

import math

import torch

from .. import exercise
from .parts import _number


# -- 10.2: DistilBERT's loss ---------------------------------------------------------------------------------------

def _distillation_case(seed: int, shape: tuple[int, ...], vocab: int, scored: float):
    g = torch.Generator().manual_seed(seed)
    student = torch.randn(*shape, vocab, generator=g) * 3
    teacher = torch.randn(*shape, vocab, generator=g) * 3
    labels = torch.randint(vocab, shape, generator=g)
    keep = torch.rand(shape, generator=g) < scored
    keep.view(-1)[0] = True  # at least one position to predict
    return student, teacher, labels.masked_fill(~keep, -100)


def _expected_terms(student, teacher, labels, temperature):
    """The library's soft (T^2 KL) and hard (cross-entropy) terms at the scored positions, as float64 numbers."""
    from minibert.models.distilbert.distillation import distillation_loss

    chosen = labels != -100
    terms = distillation_loss(student[chosen].double(), teacher[chosen].double(), labels[chosen],
                              temperature=temperature, alpha_ce=1.0, alpha_mlm=1.0, alpha_cos=0.0)
    return float(terms.ce), float(terms.mlm)


def _call_loss(answer, student, teacher, labels, temperature, alpha_ce, alpha_mlm):
    """Run the answer on leaf copies; returns (value, student leaf, teacher leaf, the returned tensor or None)."""
    s, t = student.clone().requires_grad_(True), teacher.clone().requires_grad_(True)
    out = answer(s, t, labels.clone(), temperature, alpha_ce, alpha_mlm)
    value = _number(out, "the loss")
    return value, s, t, out if isinstance(out, torch.Tensor) else None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)


def _diagnose_soft(got, student, teacher, labels, temperature) -> str | None:
    """What a soft term of ``got`` (alpha_ce = 1, alpha_mlm = 0) most likely did wrong."""
    from minibert.models.distilbert.distillation import distillation_loss

    chosen = labels != -100
    expected, _ = _expected_terms(student, teacher, labels, temperature)
    s, t = student[chosen].double(), teacher[chosen].double()

    def soft(a, b, temp=temperature):
        return float(distillation_loss(a, b, temperature=temp, alpha_ce=1, alpha_mlm=0, alpha_cos=0).ce)

    every = soft(student.reshape(-1, student.shape[-1]).double(), teacher.reshape(-1, teacher.shape[-1]).double())
    if temperature != 1 and _close(got * temperature ** 2, expected):
        return "the KL is right but the T ** 2 factor is missing: without it the soft targets' gradients shrink as 1/T²"
    if temperature != 1 and _close(got * temperature, expected):
        return "the factor is T ** 2, not T: it undoes the 1/T² by which the soft targets' gradients shrink"
    if _close(got, soft(t, s)):
        return "the divergence is taken the wrong way round: KL(teacher || student) weights by the teacher's probabilities"
    if not bool(chosen.all()) and _close(got, every):
        return ("you averaged over every position, including those whose label is -100; DistilBERT's soft term is "
                "computed where a token is masked (labels != -100)")
    if _close(got * s.shape[-1], expected):
        return ("you averaged over the vocabulary too (as .mean() over everything, or F.kl_div's reduction='mean', "
                "do): sum over the vocabulary, then average over the positions ('batchmean')")
    if _close(got, expected * s.shape[0]):
        return "you summed over the positions; DistilBERT averages the KL over them"
    student_plain = torch.log_softmax(s, -1)
    teacher_soft = torch.softmax(t / temperature, -1)
    one_sided = float((teacher_soft * (teacher_soft.log() - student_plain)).sum(-1).mean()) * temperature ** 2
    if temperature != 1 and _close(got, one_sided):
        return "soften both distributions: the student's log-probabilities must be taken at temperature T too"
    return None


@exercise("10.2", "DistilBERT's loss: soft targets and hard labels", kind="build",
          hints=("At the masked positions only, compare the student's and the teacher's distributions, both softened "
                 "at temperature T (KL from the teacher's to the student's), scale that by T squared, and add the "
                 "ordinary cross-entropy with the true tokens at temperature 1; weight the two terms. The teacher "
                 "is not trained: no gradient may reach it.",
                 "student_logits, teacher_logits: (..., V) float tensors (a batch (B, T, V), or rows (N, V)); "
                 "labels: (...) with -100 where nothing is predicted. chosen = labels != -100 selects rows (N, V). "
                 "torch.log_softmax(x / T, dim=-1); KL(p || q) = sum_v p (log p - log q) per row, then the mean over "
                 "rows (or F.kl_div(log_q, log_p, reduction='batchmean', log_target=True)); F.cross_entropy(x, y) "
                 "for the hard term; teacher_logits.detach(). Return a 0-d tensor.",
                 "\nchosen = labels != -100\n"
                 "student, teacher = student_logits[chosen], teacher_logits[chosen].detach()\n"
                 "log_p_student = torch.log_softmax(student / T, dim=-1)\n"
                 "log_p_teacher = ...\n"
                 "soft = T ** 2 * (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(-1).mean()\n"
                 "hard = ...  # cross-entropy of the student's own logits with labels[chosen]\n"
                 "return alpha_ce * soft + alpha_mlm * hard"),
          solution="""
          import torch

          def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
              chosen = labels != -100                        # the masked positions
              student = student_logits[chosen]               # (N, V)
              teacher = teacher_logits[chosen].detach()      # the teacher only teaches
              log_p_student = torch.log_softmax(student / T, dim=-1)
              log_p_teacher = torch.log_softmax(teacher / T, dim=-1)
              kl = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(dim=-1)
              soft = T ** 2 * kl.mean()
              log_p_hard = torch.log_softmax(student, dim=-1)  # temperature 1
              targets = labels[chosen].unsqueeze(-1)
              hard = -log_p_hard.gather(-1, targets).squeeze(-1).mean()
              return alpha_ce * soft + alpha_mlm * hard
          """,
          wrong=(
              # no T^2
              """
              import torch
              import torch.nn.functional as F

              def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
                  chosen = labels != -100
                  s, t = student_logits[chosen], teacher_logits[chosen].detach()
                  soft = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction="batchmean",
                                  log_target=True)
                  return alpha_ce * soft + alpha_mlm * F.cross_entropy(s, labels[chosen])
              """,
              # every position, masked or not, in the soft term
              """
              import torch
              import torch.nn.functional as F

              def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
                  V = student_logits.shape[-1]
                  s, t = student_logits.reshape(-1, V), teacher_logits.reshape(-1, V).detach()
                  soft = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction="batchmean",
                                  log_target=True) * T ** 2
                  return alpha_ce * soft + alpha_mlm * F.cross_entropy(s, labels.reshape(-1))
              """,
              # KL the wrong way round
              """
              import torch
              import torch.nn.functional as F

              def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
                  chosen = labels != -100
                  s, t = student_logits[chosen], teacher_logits[chosen].detach()
                  soft = F.kl_div(F.log_softmax(t / T, -1), F.log_softmax(s / T, -1), reduction="batchmean",
                                  log_target=True) * T ** 2
                  return alpha_ce * soft + alpha_mlm * F.cross_entropy(s, labels[chosen])
              """,
              # the hard labels at temperature T
              """
              import torch
              import torch.nn.functional as F

              def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
                  chosen = labels != -100
                  s, t = student_logits[chosen], teacher_logits[chosen].detach()
                  soft = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction="batchmean",
                                  log_target=True) * T ** 2
                  return alpha_ce * soft + alpha_mlm * F.cross_entropy(s / T, labels[chosen])
              """,
              # the teacher receives gradients
              """
              import torch
              import torch.nn.functional as F

              def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
                  chosen = labels != -100
                  s, t = student_logits[chosen], teacher_logits[chosen]
                  soft = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction="batchmean",
                                  log_target=True) * T ** 2
                  return alpha_ce * soft + alpha_mlm * F.cross_entropy(s, labels[chosen])
              """,
              # a mean over every entry: over the vocabulary as well as the positions
              """
              import torch
              import torch.nn.functional as F

              def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
                  chosen = labels != -100
                  s, t = student_logits[chosen], teacher_logits[chosen].detach()
                  soft = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="none").mean() * T ** 2
                  return alpha_ce * soft + alpha_mlm * F.cross_entropy(s, labels[chosen])
              """,
              # only the teacher is softened
              """
              import torch
              import torch.nn.functional as F

              def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
                  chosen = labels != -100
                  s, t = student_logits[chosen], teacher_logits[chosen].detach()
                  soft = F.kl_div(F.log_softmax(s, -1), F.log_softmax(t / T, -1), reduction="batchmean",
                                  log_target=True) * T ** 2
                  return alpha_ce * soft + alpha_mlm * F.cross_entropy(s, labels[chosen])
              """,
              # a NumPy number: right value, no gradient for the student
              """
              import numpy as np
              import torch
              import torch.nn.functional as F

              def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
                  chosen = labels != -100
                  s, t = student_logits[chosen], teacher_logits[chosen].detach()
                  soft = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction="batchmean",
                                  log_target=True) * T ** 2
                  return np.float64((alpha_ce * soft + alpha_mlm * F.cross_entropy(s, labels[chosen])).item())
              """,
          ),
          builds=("minibert.models.distilbert.distillation.distillation_loss",
                  "minibert.models.distilbert.distillation.Distiller",
                  "minibert.reference.distillation.distillation_terms",
                  "minibert.reference.distillation.kl_divergence"),
          shortcut="""
          from minibert.models.distilbert.distillation import distillation_loss

          def answer(student_logits, teacher_logits, labels, T, alpha_ce=5.0, alpha_mlm=2.0):
              chosen = labels != -100
              return distillation_loss(student_logits[chosen], teacher_logits[chosen], labels[chosen], temperature=T,
                                       alpha_ce=alpha_ce, alpha_mlm=alpha_mlm, alpha_cos=0).loss
          """)
def _(answer):
    from minibert.models.distilbert.distillation import distillation_loss

    cases = [("a (2, 7) batch, about half the positions masked", _distillation_case(1, (2, 7), 11, 0.5)),
             ("a (3, 5) batch, a quarter masked", _distillation_case(2, (3, 5), 23, 0.25)),
             ("a (1, 6) batch with a single masked position", _distillation_case(3, (1, 6), 50, 0.0)),
             ("6 rows (N, V) that are all scored", _distillation_case(4, (6,), 17, 1.0))]
    # the soft term alone, at several temperatures
    for what, (student, teacher, labels) in cases[:3]:
        for temperature in (1.0, 2.0, 4.0):
            got, *_ = _call_loss(answer, student, teacher, labels, temperature, 1.0, 0.0)
            expected, _ = _expected_terms(student, teacher, labels, temperature)
            if not _close(got, expected):
                reason = _diagnose_soft(got, student, teacher, labels, temperature)
                raise AssertionError(f"with alpha_ce = 1, alpha_mlm = 0 (the soft term alone) at T = {temperature:g}, "
                                     f"on {what}: " + (reason or f"{got:.4f} is not T² KL(teacher || student) "
                                                                 "averaged over the masked positions"))
    # the hard term alone: temperature 1 whatever T is
    for what, (student, teacher, labels) in cases[:2]:
        got, *_ = _call_loss(answer, student, teacher, labels, 2.0, 0.0, 1.0)
        _, expected = _expected_terms(student, teacher, labels, 2.0)
        if not _close(got, expected):
            _, at_t = _expected_terms(student / 2.0, teacher, labels, 1.0)
            if _close(got, at_t):
                raise AssertionError(f"with alpha_ce = 0, alpha_mlm = 1 (the hard term alone) on {what}: the "
                                     "cross-entropy with the true tokens is taken at temperature 1, not T")
            raise AssertionError(f"with alpha_ce = 0, alpha_mlm = 1 (the hard term alone) on {what}: {got:.4f} is not "
                                 "the cross-entropy of the student with the true tokens at the masked positions")
    # the mixture, on batches and on already selected rows; and the gradients
    for what, (student, teacher, labels) in cases:
        for temperature, alpha_ce, alpha_mlm in ((2.0, 5.0, 2.0), (3.0, 0.5, 1.5)):
            got, s, t, out = _call_loss(answer, student, teacher, labels, temperature, alpha_ce, alpha_mlm)
            soft, hard = _expected_terms(student, teacher, labels, temperature)
            expected = alpha_ce * soft + alpha_mlm * hard
            if not _close(got, expected):
                if _close(got, alpha_mlm * soft + alpha_ce * hard):
                    raise AssertionError(f"on {what}: alpha_ce weights the soft term and alpha_mlm the hard one; "
                                         "yours are the other way round")
                raise AssertionError(f"on {what} with T = {temperature:g}, alpha_ce = {alpha_ce:g}, alpha_mlm = "
                                     f"{alpha_mlm:g}: {got:.4f} is not alpha_ce x soft + alpha_mlm x hard (each term "
                                     "alone was right on the batches: are both computed the same way on (N, V) rows?)")
        if out is None or not out.requires_grad:
            raise AssertionError("the value is right, but the student cannot learn from it: return the torch tensor "
                                 "the computation produced (no .item(), no NumPy), so that gradients flow")
        student_grad, teacher_grad = torch.autograd.grad(out, (s, t), allow_unused=True)
        chosen = labels != -100
        reference_student = student.clone().double().requires_grad_(True)
        reference = distillation_loss(reference_student[chosen], teacher[chosen].double(), labels[chosen],
                                      temperature=temperature, alpha_ce=alpha_ce, alpha_mlm=alpha_mlm, alpha_cos=0)
        (reference_grad,) = torch.autograd.grad(reference.loss, reference_student)
        if teacher_grad is not None and bool(teacher_grad.abs().max() > 0):
            raise AssertionError("a gradient reached the teacher's logits: the teacher only teaches; detach its "
                                 "logits (teacher_logits.detach()) before using them")
        if student_grad is None or not torch.allclose(student_grad.double(), reference_grad, atol=1e-6, rtol=1e-4):
            raise AssertionError(f"on {what}: the loss is right but its gradient with respect to the student's logits "
                                 "is not: compute it with differentiable torch operations only")

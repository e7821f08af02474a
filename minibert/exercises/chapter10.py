"""Exercises of chapter 10 (DistilBERT: temperature, the distillation loss, the student's layers)."""
import numpy as np
import torch

from . import exercise


def _logits(seed: int, rows: int = 6, vocab: int = 23) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, vocab, generator=g) * 3, torch.randn(rows, vocab, generator=g) * 3


@exercise("10.1", "a softmax with temperature",
          hints="divide the logits by T before the softmax: softmax(z / T) over the last axis.",
          solution="""
          import torch

          def answer(logits, T):
              return torch.softmax(logits / T, dim=-1)
          """,
          wrong="""
          import torch

          def answer(logits, T):
              return torch.softmax(logits, dim=-1) / T
          """)
def _(answer):
    from minibert.models.distilbert.distillation import soften

    logits = _logits(0)[0]
    for temperature in (0.5, 1.0, 2.0, 10.0):
        got = answer(logits, temperature)
        assert isinstance(got, torch.Tensor) and got.shape == logits.shape, \
            f"return a tensor shaped like the logits {tuple(logits.shape)}"
        if not torch.allclose(got.sum(-1), torch.ones(logits.shape[0]), atol=1e-5):
            raise AssertionError(f"at T = {temperature} the rows do not sum to 1: a softmax must come last")
        assert torch.allclose(got, soften(logits, temperature), atol=1e-6), \
            f"at T = {temperature} the probabilities differ from softmax(z / T)"
    flat = answer(logits, 1000.0)
    assert torch.allclose(flat, torch.full_like(flat, 1 / logits.shape[1]), atol=1e-2)


@exercise("10.2", "the distillation term",
          hints="KL(p_t || p_s) = sum_v p_t (log p_t - log p_s), both at temperature T; average over the rows and "
               "multiply by T ** 2.",
          solution="""
          import torch

          def answer(student_logits, teacher_logits, T):
              log_p_student = torch.log_softmax(student_logits / T, dim=-1)
              log_p_teacher = torch.log_softmax(teacher_logits / T, dim=-1)
              kl = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(-1)
              return T ** 2 * kl.mean()
          """,
          wrong="""
          import torch

          def answer(student_logits, teacher_logits, T):
              log_p_student = torch.log_softmax(student_logits / T, dim=-1)
              log_p_teacher = torch.log_softmax(teacher_logits / T, dim=-1)
              return (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(-1).mean()
          """)
def _(answer):
    from minibert.models.distilbert.distillation import distillation_loss

    student, teacher = _logits(1)
    for temperature in (1.0, 2.0, 4.0):
        got = answer(student, teacher, temperature)
        expected = distillation_loss(student, teacher, temperature=temperature, alpha_ce=1, alpha_mlm=0,
                                     alpha_cos=0).ce
        got = torch.as_tensor(got, dtype=torch.float32)
        assert got.numel() == 1, "return one number: the mean over the rows"
        if temperature != 1 and torch.allclose(got * temperature ** 2, expected, rtol=1e-4):
            raise AssertionError("the KL is right but the T ** 2 factor is missing: without it the soft targets' "
                                 "gradients shrink as 1/T²")
        if torch.allclose(got, distillation_loss(teacher, student, temperature=temperature, alpha_ce=1, alpha_mlm=0,
                                                 alpha_cos=0).ce, rtol=1e-4):
            raise AssertionError("the divergence is taken the wrong way round: KL(teacher || student) weights by the "
                                 "teacher's probabilities")
        assert torch.allclose(got, expected, rtol=1e-4), f"at T = {temperature}: {float(got):.4f}, expected {float(expected):.4f}"


@exercise("10.3", "which teacher layers does the student keep?",
          hints="spread L_s indices evenly from 0 to L_t - 1, both ends included, rounding to the nearest layer "
               "(halves round up).",
          solution="""
          import math

          def answer(teacher_layers, student_layers):
              if student_layers == 1:
                  return [0]
              step = (teacher_layers - 1) / (student_layers - 1)
              return [math.floor(k * step + 0.5) for k in range(student_layers)]
          """,
          wrong="""
          def answer(teacher_layers, student_layers):
              return list(range(0, teacher_layers, teacher_layers // student_layers))[:student_layers]
          """)
def _(answer):
    from minibert.models.distilbert.model import spread_layers

    got = answer(12, 6)
    if list(got) == [0, 2, 4, 6, 8, 10]:
        raise AssertionError("that never uses the teacher's last layer, the one closest to the output; DistilBERT "
                             "kept 0, 2, 4, 7, 9, 11")
    assert list(got) == [0, 2, 4, 7, 9, 11], f"answer(12, 6) = {got}, expected DistilBERT's [0, 2, 4, 7, 9, 11]"
    for teacher, student in ((4, 2), (6, 3), (24, 6), (5, 5), (7, 1)):
        assert list(answer(teacher, student)) == spread_layers(teacher, student), \
            f"answer({teacher}, {student}) = {answer(teacher, student)}, expected {spread_layers(teacher, student)}"


@exercise("10.4", "why half the layers is not half the parameters",
          hints="DistilBERT-base has 66,362,880 parameters, BERT-base 109,482,240: the embeddings are not halved.",
          solution="answer = 1 - 66_362_880 / 109_482_240",
          wrong="answer = 0.5")
def _(answer):
    from minibert.core.config import BertConfig
    from minibert.core.parameter_count import count_parameters
    from minibert.models.bert.model import BertModel
    from minibert.models.distilbert.model import DistilBertConfig, DistilBertModel

    assert isinstance(answer, (float, int, np.floating)), f"expected a number, got {type(answer).__name__}"
    if 1 < answer <= 100:
        raise AssertionError("give a fraction between 0 and 1, not a percentage")
    if abs(answer - 0.5) < 1e-9:
        raise AssertionError("halving the layers halves the encoder, but the 23.8M-parameter embeddings stay whole")
    expected = 1 - count_parameters(lambda: DistilBertModel(DistilBertConfig())) / count_parameters(
        lambda: BertModel(BertConfig()))
    assert abs(answer - expected) < 1e-4, f"{answer:.4f} is not the fraction of BERT-base's parameters removed"

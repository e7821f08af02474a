"""Chapter 10, the parts: 10.1 (softmax with temperature), 10.3 (the layers a student keeps), 10.4 (what halving
the layers removes), 10.5 (predict what temperature does, then run)."""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .. import exercise


def _logits(seed: int, rows: int = 6, vocab: int = 23) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, vocab, generator=g) * 3, torch.randn(rows, vocab, generator=g) * 3


def _float_tensor(value, what: str, shape: tuple[int, ...]) -> torch.Tensor:
    """``value`` (a tensor or an array) as a float64 tensor of ``shape``, or a diagnosis."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
    else:
        try:
            tensor = torch.as_tensor(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            raise AssertionError(f"{what} should be a tensor shaped {shape}, got {type(value).__name__}") from None
    if tuple(tensor.shape) != shape:
        raise AssertionError(f"{what} should have shape {shape}, got {tuple(tensor.shape)}")
    return tensor.double()


def _number(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"{what} should be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise AssertionError(f"{what} should be one number, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise AssertionError(f"{what} should be a finite number, got {value!r}")
    return float(value)


# -- 10.1 ---------------------------------------------------------------------------------------------------------

@exercise("10.1", "a softmax with temperature", kind="build",
          hints=("The temperature rescales the logits, not the probabilities: the result must still be a probability "
                 "distribution over the last axis, flatter for T > 1 and sharper for T < 1.",
                 "logits is a float tensor (..., V); T a positive number. torch.softmax(x, dim=-1) is the ordinary "
                 "softmax (stable for large logits); return a tensor shaped like logits.",
                 "\nscaled = logits / ...\nreturn torch.softmax(scaled, dim=-1)"),
          solution="""
          import torch

          def answer(logits, T):
              return torch.softmax(logits / T, dim=-1)
          """,
          wrong=("""
          import torch

          def answer(logits, T):
              return torch.softmax(logits, dim=-1) / T
          """, """
          import torch

          def answer(logits, T):
              return torch.softmax(logits * T, dim=-1)
          """, """
          import torch

          def answer(logits, T):
              e = torch.exp(logits / T)
              return e / e.sum(dim=-1, keepdim=True)
          """, """
          import torch

          def answer(logits, T):
              return torch.softmax(logits / T, dim=0)
          """),
          builds=("minibert.models.distilbert.distillation.soften", "minibert.reference.distillation.softmax_at"),
          shortcut="""
          from minibert.models.distilbert.distillation import soften

          def answer(logits, T):
              return soften(logits, T)
          """)
def _(answer):
    from minibert.models.distilbert.distillation import soften

    logits = _logits(0)[0]
    for temperature in (0.5, 1.0, 2, 10.0):
        got = _float_tensor(answer(logits.clone(), temperature), f"answer(logits, {temperature})", tuple(logits.shape))
        expected = soften(logits, float(temperature)).double()
        if not torch.allclose(got.sum(-1), torch.ones(logits.shape[0], dtype=torch.float64), atol=1e-5):
            raise AssertionError(f"at T = {temperature} the rows (the last axis) do not sum to 1: the softmax must "
                                 "come last, over the vocabulary axis")
        if torch.allclose(got, expected, atol=1e-6):
            continue
        if torch.allclose(got, soften(logits * temperature * temperature, float(temperature)).double(), atol=1e-6):
            raise AssertionError(f"at T = {temperature}: T > 1 must flatten the distribution; you multiplied the "
                                 "logits by T instead of dividing")
        raise AssertionError(f"at T = {temperature} the probabilities differ from a softmax of the tempered logits")
    batch = torch.randn(2, 3, 7, generator=torch.Generator().manual_seed(1)) * 4
    got = _float_tensor(answer(batch.clone(), 3.0), "answer on a (2, 3, 7) batch", (2, 3, 7))
    assert torch.allclose(got, soften(batch, 3.0).double(), atol=1e-6), \
        "on a (2, 3, 7) batch of logits the result differs: soften over the last axis only"
    big = torch.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 5.0]])
    got = _float_tensor(answer(big.clone(), 0.5), "answer on large logits", (2, 3))
    if not bool(torch.isfinite(got).all()):
        raise AssertionError("logits around 1000 at T = 0.5 gave inf or NaN: exp overflows; subtract each row's "
                             "maximum first (torch.softmax does it for you)")
    assert torch.allclose(got, soften(big, 0.5).double(), atol=1e-6), "large logits give the wrong probabilities"
    flat = _float_tensor(answer(logits.clone(), 1000.0), "answer at T = 1000", tuple(logits.shape))
    assert torch.allclose(flat, torch.full_like(flat, 1 / logits.shape[1]), atol=1e-2), \
        "at a very high temperature the distribution should be nearly uniform"


# -- 10.3 ---------------------------------------------------------------------------------------------------------

@exercise("10.3", "which teacher layers does the student keep?", kind="build",
          hints=("Keep the teacher's first and last layers and spread the others evenly between them, each at the "
                 "nearest layer; when a position falls exactly halfway, take the deeper layer.",
                 "answer(teacher_layers, student_layers) returns a list of student_layers integer indices in "
                 "[0, teacher_layers - 1]. The k-th lies at k * (L_t - 1) / (L_s - 1). Python's round() rounds "
                 "halves to the even neighbour (round(2.5) == 2); math.floor(x + 0.5) rounds them up. One student "
                 "layer keeps layer 0.",
                 "\nif student_layers == 1:\n    return [0]\nstep = (teacher_layers - 1) / (student_layers - 1)\n"
                 "return [... for k in range(student_layers)]"),
          solution="""
          import math

          def answer(teacher_layers, student_layers):
              if student_layers == 1:
                  return [0]
              step = (teacher_layers - 1) / (student_layers - 1)
              return [math.floor(k * step + 0.5) for k in range(student_layers)]
          """,
          wrong=("""
          def answer(teacher_layers, student_layers):
              return list(range(0, teacher_layers, teacher_layers // student_layers))[:student_layers]
          """, """
          def answer(teacher_layers, student_layers):
              if student_layers == 1:
                  return [0]
              step = (teacher_layers - 1) / (student_layers - 1)
              return [round(k * step) for k in range(student_layers)]
          """, """
          def answer(teacher_layers, student_layers):
              if student_layers == 1:
                  return [0]
              step = (teacher_layers - 1) / (student_layers - 1)
              return [int(k * step) for k in range(student_layers)]
          """, """
          def answer(teacher_layers, student_layers):
              return [2 * k + 1 for k in range(student_layers)]
          """),
          builds=("minibert.models.distilbert.model.spread_layers",),
          shortcut="""
          from minibert.models.distilbert.model import spread_layers

          def answer(teacher_layers, student_layers):
              return spread_layers(teacher_layers, student_layers)
          """)
def _(answer):
    from minibert.models.distilbert.model import spread_layers

    def layers(teacher, student):
        got = answer(teacher, student)
        try:
            items = [value.item() if isinstance(value, (torch.Tensor, np.generic)) else value for value in got]
        except TypeError:
            raise AssertionError(f"answer({teacher}, {student}) should return a list of layer indices, got "
                                 f"{type(got).__name__}") from None
        if not all(isinstance(v, numbers.Integral) or (isinstance(v, float) and v.is_integer()) for v in items):
            raise AssertionError(f"answer({teacher}, {student}) should hold whole layer indices, got {items}")
        return [int(v) for v in items]

    got = layers(12, 6)
    if got == [0, 2, 4, 6, 8, 10]:
        raise AssertionError("that never uses the teacher's last layer, the one closest to the output; DistilBERT "
                             "kept 0, 2, 4, 7, 9, 11")
    assert got == [0, 2, 4, 7, 9, 11], f"answer(12, 6) = {got}, expected DistilBERT's [0, 2, 4, 7, 9, 11]"
    for teacher, student in ((4, 2), (6, 3), (10, 3), (24, 6), (5, 5), (7, 1), (np.int64(8), 4)):
        teacher = int(teacher)
        expected, got = spread_layers(teacher, student), layers(teacher, student)
        if got == expected:
            continue
        if len(got) != student:
            raise AssertionError(f"answer({teacher}, {student}) has {len(got)} layers; the student has {student}")
        if got[0] != 0 or got[-1] != teacher - 1 and student > 1:
            raise AssertionError(f"answer({teacher}, {student}) = {got}: keep the first (0) and the last "
                                 f"({teacher - 1}) teacher layers")
        raise AssertionError(f"answer({teacher}, {student}) = {got}: a position exactly halfway between two layers "
                             "(like 2.5) goes to the deeper one" if any(
                                 (k * (teacher - 1) / (student - 1)) % 1 == 0.5 for k in range(student))
                             else f"answer({teacher}, {student}) = {got}: each layer should be the nearest to its "
                                  "evenly spread position")


# -- 10.4 ---------------------------------------------------------------------------------------------------------

@exercise("10.4", "why half the layers is not half the parameters", kind="compute",
          hints=("Halving the layers halves the encoder only; the token, position and segment tables stay whole.",
                 "A fraction between 0 and 1: 1 - (DistilBERT's parameters) / (BERT-base's), with the counts "
                 "printed in section 1."),
          solution="answer = 1 - 66_362_880 / 109_482_240",
          wrong=("answer = 0.5", "answer = 39.4", "answer = 66_362_880 / 109_482_240", "answer = '39%'"))
def _(answer):
    from minibert.core.config import BertConfig
    from minibert.core.parameter_count import count_parameters
    from minibert.models.bert.model import BertModel
    from minibert.models.distilbert.model import DistilBertConfig, DistilBertModel

    value = _number(answer, "the fraction")
    if 1 < value <= 100:
        raise AssertionError("give a fraction between 0 and 1, not a percentage")
    if abs(value - 0.5) < 1e-9:
        raise AssertionError("halving the layers halves the encoder, but the 23.8M-parameter embeddings stay whole")
    expected = 1 - count_parameters(lambda: DistilBertModel(DistilBertConfig())) / count_parameters(
        lambda: BertModel(BertConfig()))
    if abs(value - (1 - expected)) < 1e-4:
        raise AssertionError("that is the fraction DistilBERT keeps; the question asks for the fraction it removes")
    assert abs(value - expected) < 1e-4, f"{value:.4f} is not the fraction of BERT-base's parameters removed"


# -- 10.5: predict, then run --------------------------------------------------------------------------------------

_CHANGES = ("higher", "lower", "same")


def _change(value, what: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in _CHANGES:
        raise AssertionError(f"{what}: say 'higher', 'lower' or 'same', got {value!r}")
    return value.strip().lower()


def _classify(before: float, after: float) -> str:
    ratio = after / before
    return "higher" if ratio > 2 else "lower" if ratio < 0.5 else "same"


def _temperature_experiment() -> dict:
    """The teacher's top probability, the plain KL and T^2 KL at T = 1 and T = 4, on fixed random logits
    (16 positions, 50 tokens; the student is the teacher plus noise), computed by the library."""
    from minibert.models.distilbert.distillation import distillation_loss, soften

    g = torch.Generator().manual_seed(2)
    teacher = torch.randn(16, 50, generator=g) * 2
    student = teacher + torch.randn(16, 50, generator=g)
    measured = {}
    for temperature in (1.0, 4.0):
        scaled = float(distillation_loss(student, teacher, temperature=temperature, alpha_ce=1, alpha_mlm=0,
                                         alpha_cos=0).ce)
        measured[temperature] = {"top": float(soften(teacher, temperature).max(-1).values.mean()),
                                 "kl": scaled / temperature ** 2, "scaled": scaled}
    return measured


@exercise("10.5", "predict: what does T = 4 do to the soft targets and the loss?", kind="predict",
          hints=("A higher temperature flattens both distributions. What does flattening do to the largest "
                 "probability, and to how different two distributions can be? Then ask what multiplying by T ** 2 "
                 "= 16 does to a number that shrank.",
                 "Give answer = (top probability, plain KL, T² x KL), each 'higher', 'lower' or 'same' for going "
                 "from T = 1 to T = 4, where 'same' means within a factor of 2."),
          solution="answer = ('lower', 'lower', 'same')",
          wrong=("answer = ('lower', 'lower', 'lower')", "answer = ('higher', 'higher', 'higher')",
                 "answer = ('lower', 'same', 'higher')", "answer = ('lower', 'lower', 'much the same')"))
def _(answer):
    if isinstance(answer, (str, dict)) or not isinstance(answer, (tuple, list)) or len(answer) != 3:
        raise AssertionError("give three words, answer = (top probability, plain KL, T² x KL), each 'higher', "
                             "'lower' or 'same'")
    predicted = tuple(_change(value, what) for value, what in zip(answer, ("top probability", "plain KL", "T² x KL")))
    m = _temperature_experiment()
    one, four = m[1.0], m[4.0]
    measured = tuple(_classify(one[k], four[k]) for k in ("top", "kl", "scaled"))
    explanation = (
        f"Measured by the library on fixed random logits (16 positions, 50 tokens, the student = the teacher plus "
        f"noise): the teacher's top probability {one['top']:.3f} at T = 1, {four['top']:.3f} at T = 4 ({measured[0]}); "
        f"the plain KL {one['kl']:.4f} -> {four['kl']:.4f} ({measured[1]}, x{four['kl'] / one['kl']:.3f}); T² x KL "
        f"{one['scaled']:.3f} -> {four['scaled']:.3f} ({measured[2]}, x{four['scaled'] / one['scaled']:.2f}). "
        "Flattening lowers the top probability and brings the two distributions closer, so the plain KL (and its "
        "gradient) collapses, roughly like 1/T²; multiplying by T² = 16 gives the soft term back the same order of "
        "size as at T = 1, which is why DistilBERT can keep alpha_ce fixed whatever T it picks.")
    if predicted != measured:
        wrong = [what for what, p, q in zip(("top probability", "plain KL", "T² x KL"), predicted, measured) if p != q]
        raise AssertionError(f"your prediction for {', '.join(wrong)} differs from the run. {explanation}")
    print(explanation)

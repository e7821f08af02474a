"""Chapter 08, the recipe's numbers and details: 08.1 (static masks), 08.2 (position ids), 08.3 (batch sizes)."""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .. import exercise


# -- conversions that accept what a learner naturally returns ----------------------------------------------------

def _number(value, what: str = "a number") -> float:
    """A finite real number from an int, float, NumPy or torch scalar; AssertionError (a diagnosis) otherwise."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"expected {what}, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise AssertionError(f"expected {what}, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"expected {what}, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise AssertionError(f"expected {what}, got {value}")
    return value


def _count(value, what: str = "a whole number") -> int:
    number = _number(value, what)
    if not number.is_integer():
        raise AssertionError(f"expected {what}, got {number}")
    return int(number)


def _integer_tensor(value, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    """``value`` (tensor, array or nested lists) as a long tensor of ``shape``, or a diagnosis."""
    try:
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"{name} should be a tensor of integers shaped {shape}, got {type(value).__name__}") \
            from None
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        if tensor.dtype == torch.bool or not torch.equal(tensor, tensor.round()):
            raise AssertionError(f"{name} should hold integers, got dtype {tensor.dtype}")
    if tuple(tensor.shape) != shape:
        raise AssertionError(f"{name} should have shape {shape}, got {tuple(tensor.shape)}")
    return tensor.long()


# -- 08.1 ---------------------------------------------------------------------------------------------------------

@exercise("08.1", "how often does the model see the same mask?", kind="compute",
          hints=("Each of the `duplicates` copies carries its own fixed mask, and every epoch goes over all the "
                 "sequences once; how many epochs fall to each copy?",
                 "answer(epochs, duplicates) returns a number (it need not be whole). BERT: answer(40, 10) is "
                 "the number RoBERTa's section 4.1 quotes."),
          solution="""
          def answer(epochs, duplicates):
              return epochs / duplicates
          """,
          wrong=("""
          def answer(epochs, duplicates):
              return epochs
          """, """
          def answer(epochs, duplicates):
              return duplicates / epochs
          """, """
          def answer(epochs, duplicates):
              return epochs // duplicates
          """, """
          def answer(epochs, duplicates):
              return 1
          """))
def _(answer):
    for epochs, duplicates in ((40, 10), (40, 1), (10, 10), (30, 4), (np.int64(100), np.int64(8))):
        expected = epochs / duplicates
        got = _number(answer(epochs, duplicates), f"a number for answer({epochs}, {duplicates})")
        if abs(got - expected) < 1e-9:
            continue
        if duplicates > 1 and abs(got - epochs) < 1e-9:
            raise AssertionError("that is how often the model sees each *sequence*; the duplicates share the "
                                 "epochs between different masks")
        if abs(got - 1) < 1e-9:
            raise AssertionError("1 is dynamic masking's answer (a new mask at every visit); with static masks "
                                 "the copies come back")
        if expected != int(expected) and abs(got - math.floor(expected)) < 1e-9:
            raise AssertionError(f"answer({epochs}, {duplicates}) = {got:g}: the average need not be a whole "
                                 "number; avoid integer division")
        raise AssertionError(f"answer({epochs}, {duplicates}) = {got:g}; with {duplicates} masked copies over "
                             f"{epochs} epochs that is not how often one (sequence, mask) pair comes back")


# -- 08.2 ---------------------------------------------------------------------------------------------------------

def _roberta_positions(ids: torch.Tensor, pad: int) -> torch.Tensor:
    from minibert.models.bert.model import BertEmbeddings
    from minibert.models.roberta import RobertaConfig

    return BertEmbeddings(RobertaConfig.tiny(pad_token_id=pad)).position_ids(ids)


@exercise("08.2", "RoBERTa's position ids", kind="build",
          hints=("Number the real tokens of each row in order, counting only real tokens (so left padding does not "
                 "shift them), start right after the padding index, and give every padding token the padding index "
                 "itself.",
                 "input_ids is a (B, T) integer tensor. `input_ids != pad` marks the real tokens; "
                 "torch.cumsum(x, dim=1) counts along each row; multiplying by the 0/1 mask zeroes the padding. "
                 "Return a (B, T) integer tensor.",
                 "\nreal = (input_ids != pad).long()\ncounts = real.cumsum(dim=1)   # 1, 2, 3 ... at real tokens\n"
                 "return ...  # keep the counts at real tokens only, then shift everything by pad"),
          solution="""
          def answer(input_ids, pad):
              real = (input_ids != pad).long()
              return real.cumsum(dim=1) * real + pad
          """,
          wrong=("""
          import torch

          def answer(input_ids, pad):
              return torch.arange(input_ids.shape[1]).expand_as(input_ids) + pad + 1
          """, """
          def answer(input_ids, pad):
              real = (input_ids != pad).long()
              return real.cumsum(dim=1) + pad
          """, """
          def answer(input_ids, pad):
              real = (input_ids != pad).long()
              return real.cumsum(dim=1) * real
          """, """
          import torch

          def answer(input_ids, pad):
              numbered = torch.arange(input_ids.shape[1]).expand_as(input_ids) + pad + 1
              return torch.where(input_ids != pad, numbered, torch.full_like(input_ids, pad))
          """),
          builds=("minibert.models.bert.model.BertEmbeddings.position_ids",
                  "transformers.models.roberta.modeling_roberta.RobertaEmbeddings.create_position_ids_from_input_ids"),
          shortcut="""
          from minibert.models.bert.model import BertEmbeddings
          from minibert.models.roberta import RobertaConfig

          def answer(input_ids, pad):
              return BertEmbeddings(RobertaConfig.tiny(pad_token_id=pad)).position_ids(input_ids)
          """)
def _(answer):
    cases = []
    for pad in (1, 4, 0):
        ids = torch.tensor([[9, 8, 7, pad, pad], [pad, pad, 9, 8, 7], [9, 9, 9, 9, 9], [pad] * 5])
        cases.append((f"right, left and no padding, pad = {pad}", ids, pad))
    generator = torch.Generator().manual_seed(8)
    for rows, length, pad in ((3, 7, 1), (5, 12, 1), (2, 9, 3), (1, 1, 1)):
        ids = torch.randint(5, 50, (rows, length), generator=generator)
        ids[torch.rand(rows, length, generator=generator) < 0.3] = pad
        cases.append((f"a random ({rows}, {length}) batch with padding here and there, pad = {pad}", ids, pad))
    for what, ids, pad in cases:
        expected = _roberta_positions(ids, pad)
        got = _integer_tensor(answer(ids.clone(), pad), "the position ids", tuple(ids.shape))
        if torch.equal(got, expected):
            continue
        padding = ids == pad
        if padding.any() and not torch.equal(got[padding], expected[padding]):
            raise AssertionError(f"on {what}: padding tokens must all get position {pad}, the padding index "
                                 f"(RoBERTa gives padding its own position row)")
        unpadded = ~padding.any(1)
        if unpadded.any() and not torch.equal(got[unpadded], expected[unpadded]):
            offset = (got[unpadded] - expected[unpadded]).unique()
            if offset.numel() == 1:
                raise AssertionError(f"on {what}: the rows without padding are shifted by {int(offset)}: the first "
                                     f"real token gets pad + 1 = {pad + 1}")
            raise AssertionError(f"on {what}: even rows without padding are numbered wrongly; real tokens get "
                                 "pad + 1, pad + 2, ... in order")
        raise AssertionError(f"on {what}: right for rows without padding, but real tokens after padding must be "
                             "numbered by how many real tokens precede them (left padding must not shift them)")


# -- 08.3 ---------------------------------------------------------------------------------------------------------

@exercise("08.3", "the same number of sequences in bigger batches", kind="compute",
          hints=("What stays fixed when RoBERTa compares batch sizes is the number of sequences seen in training: "
                 "steps x batch size.",
                 "BERT's budget is 256 sequences per step for 1,000,000 steps; answer(batch_size) returns the number "
                 "of steps (a float is fine)."),
          solution="""
          def answer(batch_size):
              return 256 * 1_000_000 / batch_size
          """,
          wrong=("""
          def answer(batch_size):
              return 1_000_000 / batch_size
          """, """
          def answer(batch_size):
              return batch_size * 1_000_000 / 256
          """, """
          def answer(batch_size):
              return 1_000_000
          """))
def _(answer):
    for batch in (256, 2048, 8192, np.int64(512), 3000):
        expected = 256 * 1_000_000 / int(batch)
        got = _number(answer(batch), f"a number of steps for answer({batch})")
        if abs(got - expected) < 1:
            continue
        if int(batch) != 256 and abs(got - 1_000_000) < 1:
            raise AssertionError(f"answer({batch}) = {got:,.0f}: at the same number of steps a bigger batch sees "
                                 "more sequences; the comparison keeps the sequences fixed")
        if abs(got * int(batch) - 256 * 1_000_000) > 1 and abs(got * 256 - 1_000_000 * int(batch)) < 1:
            raise AssertionError(f"answer({batch}) = {got:,.0f}: bigger batches need fewer steps, not more")
        raise AssertionError(f"answer({batch}) = {got:,.0f}: {batch} x that many steps is not BERT's number of "
                             "sequences (256 x 1,000,000)")

"""Exercises of chapter 08 (RoBERTa: the recipe and its details).

08.1 how often BERT's static masks repeat (compute), 08.2 RoBERTa's position ids (build), 08.3 bigger batches at the
same number of sequences (compute), 08.4 the masked-data pipeline with dynamic and static masking (build: the learner's
function then feeds the course's Trainer), 08.5 how many different masks a sentence meets (predict, then run).
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from . import exercise


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
                 "real = (input_ids != pad).long()\ncounts = real.cumsum(dim=1)   # 1, 2, 3 ... at real tokens\n"
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


# -- 08.4: the masked-data pipeline ------------------------------------------------------------------------------

PAD, CLS, SEP, MASK = 0, 2, 3, 4
_LENGTH = 34


def _pipeline_data():
    """Eight blocks ``[CLS] ... [SEP]`` of 4 to 32 ordinary tokens, and chapter 05's masker over a 60-id vocabulary."""
    from minibert.masking import Masker

    generator = torch.Generator().manual_seed(5)
    lengths = (30, 12, 6, 25, 9, 18, 4, 32)
    blocks = [[CLS] + torch.randint(5, 60, (n,), generator=generator).tolist() + [SEP] for n in lengths]
    return blocks, Masker(mask_token_id=MASK, vocab_size=60, special_ids={PAD, 1, CLS, SEP, MASK})


def _library_batch(blocks, masker, indices, epoch, seed, dynamic):
    from minibert.masking.dataset import MaskedLMDataset

    return MaskedLMDataset(blocks, masker, PAD, seed=seed, dynamic=dynamic, length=_LENGTH).batch(indices, epoch)


def _pipeline_batch(answer, blocks, masker, indices, epoch, seed, dynamic) -> dict:
    got = answer(blocks, masker, list(indices), epoch, pad_id=PAD, length=_LENGTH, seed=seed, dynamic=dynamic)
    if not isinstance(got, dict) or not {"input_ids", "attention_mask", "labels"} <= set(got):
        raise AssertionError("return a dict with 'input_ids', 'attention_mask' and 'labels' (what the Trainer reads), "
                             f"got {type(got).__name__}" + (f" with keys {sorted(got)}" if isinstance(got, dict) else ""))
    shape = (len(indices), _LENGTH)
    return {name: _integer_tensor(got[name], name, shape) for name in ("input_ids", "attention_mask", "labels")}


def _predicted(batch: dict) -> torch.Tensor:
    return batch["labels"] != -100


@exercise("08.4", "the masked-data pipeline: dynamic and static masking", kind="build",
          hints=("A mask must depend only on which example it is (and, with dynamic masking, which epoch it is): "
                 "never on the batch it lands in or on how often you called the function. Static masking is the "
                 "same rule with the epoch frozen at the one in which BERT's preprocessing drew its masks.",
                 "example_generator(seed, epoch, index) -> a torch.Generator for one example; "
                 "masker(torch.tensor(block), generator) masks one 1-D example and returns a MaskedBatch with "
                 "1-D .input_ids and .labels (-100 where nothing is predicted). Build three (B, length) long "
                 "tensors: input_ids filled with pad_id, attention_mask 1 on real tokens and 0 on padding, labels "
                 "-100 on padding.",
                 "input_ids = torch.full((len(indices), length), pad_id, dtype=torch.long)\n"
                 "labels = torch.full((len(indices), length), -100, dtype=torch.long)\n"
                 "for row, index in enumerate(indices):\n"
                 "    generator = example_generator(seed, ..., index)   # which epoch for static masking?\n"
                 "    masked = masker(torch.tensor(blocks[index]), generator)\n"
                 "    ...  # copy masked.input_ids and masked.labels into the row, set the attention mask"),
          solution="""
          import torch
          from minibert.masking.dataset import example_generator

          def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
              rows = len(indices)
              input_ids = torch.full((rows, length), pad_id, dtype=torch.long)
              attention_mask = torch.zeros((rows, length), dtype=torch.long)
              labels = torch.full((rows, length), -100, dtype=torch.long)
              for row, index in enumerate(indices):
                  block = torch.tensor(blocks[index], dtype=torch.long)
                  # dynamic: a new mask in every epoch; static: the mask of epoch 0, forever
                  generator = example_generator(seed, epoch if dynamic else 0, index)
                  masked = masker(block, generator)
                  n = len(block)
                  input_ids[row, :n] = masked.input_ids
                  attention_mask[row, :n] = 1
                  labels[row, :n] = masked.labels
              return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
          """,
          wrong=(
              # one generator for the whole batch: an example's mask depends on its neighbours
              """
              import torch
              from minibert.masking.dataset import example_generator, pad_batch

              def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
                  ids, mask = pad_batch([blocks[i] for i in indices], pad_id, length)
                  generator = example_generator(seed, epoch if dynamic else 0, 0)
                  masked = masker(ids, generator, attention_mask=mask)
                  labels = masked.labels.masked_fill(mask == 0, -100)
                  return {"input_ids": masked.input_ids, "attention_mask": mask, "labels": labels}
              """,
              # the row in the batch instead of the example's index
              """
              import torch
              from minibert.masking.dataset import example_generator, pad_batch

              def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
                  examples = [masker(torch.tensor(blocks[i]), example_generator(seed, epoch if dynamic else 0, row))
                              for row, i in enumerate(indices)]
                  ids, mask = pad_batch([e.input_ids.tolist() for e in examples], pad_id, length)
                  labels, _ = pad_batch([e.labels.tolist() for e in examples], -100, length)
                  return {"input_ids": ids, "attention_mask": mask, "labels": labels}
              """,
              # static masking everywhere: the epoch is ignored
              """
              import torch
              from minibert.masking.dataset import example_generator, pad_batch

              def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
                  examples = [masker(torch.tensor(blocks[i]), example_generator(seed, 0, i)) for i in indices]
                  ids, mask = pad_batch([e.input_ids.tolist() for e in examples], pad_id, length)
                  labels, _ = pad_batch([e.labels.tolist() for e in examples], -100, length)
                  return {"input_ids": ids, "attention_mask": mask, "labels": labels}
              """,
              # dynamic masking everywhere: `dynamic=False` is ignored
              """
              import torch
              from minibert.masking.dataset import example_generator, pad_batch

              def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
                  examples = [masker(torch.tensor(blocks[i]), example_generator(seed, epoch, i)) for i in indices]
                  ids, mask = pad_batch([e.input_ids.tolist() for e in examples], pad_id, length)
                  labels, _ = pad_batch([e.labels.tolist() for e in examples], -100, length)
                  return {"input_ids": ids, "attention_mask": mask, "labels": labels}
              """,
              # labels padded with the padding id instead of -100
              """
              import torch
              from minibert.masking.dataset import example_generator, pad_batch

              def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
                  examples = [masker(torch.tensor(blocks[i]), example_generator(seed, epoch if dynamic else 0, i))
                              for i in indices]
                  ids, mask = pad_batch([e.input_ids.tolist() for e in examples], pad_id, length)
                  labels, _ = pad_batch([e.labels.tolist() for e in examples], pad_id, length)
                  return {"input_ids": ids, "attention_mask": mask, "labels": labels}
              """,
              # the global random state: a new mask at every call, even for the same epoch
              """
              import torch
              from minibert.masking.dataset import pad_batch

              def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
                  examples = [masker(torch.tensor(blocks[i]), int(torch.randint(2**31, ()))) for i in indices]
                  ids, mask = pad_batch([e.input_ids.tolist() for e in examples], pad_id, length)
                  labels, _ = pad_batch([e.labels.tolist() for e in examples], -100, length)
                  return {"input_ids": ids, "attention_mask": mask, "labels": labels}
              """,
              # the right idea with a generator of one's own: valid masks, not the library's
              """
              import torch
              from minibert.masking.dataset import pad_batch

              def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
                  examples = [masker(torch.tensor(blocks[i]), 1000 * seed + 100 * (epoch if dynamic else 0) + i)
                              for i in indices]
                  ids, mask = pad_batch([e.input_ids.tolist() for e in examples], pad_id, length)
                  labels, _ = pad_batch([e.labels.tolist() for e in examples], -100, length)
                  return {"input_ids": ids, "attention_mask": mask, "labels": labels}
              """,
          ),
          builds=("minibert.masking.dataset.MaskedLMDataset", "minibert.training.recipes.SegmentPairDataset",
                  "transformers.DataCollatorForLanguageModeling"),
          shortcut="""
          from minibert.masking.dataset import MaskedLMDataset

          def answer(blocks, masker, indices, epoch, *, pad_id, length, seed=0, dynamic=True):
              data = MaskedLMDataset(blocks, masker, pad_id, seed=seed, dynamic=dynamic, length=length)
              return data.batch(indices, epoch)
          """)
def _(answer):
    blocks, masker = _pipeline_data()
    first = _pipeline_batch(answer, blocks, masker, [0, 1, 2], 0, 7, True)
    # padding and content
    for row, index in enumerate((0, 1, 2)):
        block = torch.tensor(blocks[index])
        n = len(block)
        where = f"example {index} ({n} tokens, padded to {_LENGTH})"
        expected_mask = torch.zeros(_LENGTH, dtype=torch.long)
        expected_mask[:n] = 1
        if not torch.equal(first["attention_mask"][row], expected_mask):
            raise AssertionError(f"{where}: attention_mask must be 1 on its {n} tokens and 0 on the padding after them")
        if not bool((first["input_ids"][row, n:] == PAD).all()):
            raise AssertionError(f"{where}: the padding positions of input_ids must hold pad_id")
        if not bool((first["labels"][row, n:] == -100).all()):
            raise AssertionError(f"{where}: labels must be -100 on the padding, or the loss would try to predict it")
        labels, inputs = first["labels"][row, :n], first["input_ids"][row, :n]
        chosen = labels != -100
        if not torch.equal(inputs[~chosen], block[~chosen]):
            raise AssertionError(f"{where}: a token without a label was changed; only the positions the masker "
                                 "picked may differ from the example")
        if not torch.equal(labels[chosen], block[chosen]):
            raise AssertionError(f"{where}: the labels must hold the original tokens at the picked positions")
        budget = masker.budget(n - 2)
        if int(chosen.sum()) != budget:
            raise AssertionError(f"{where} has {int(chosen.sum())} predictions, but the masker's budget for its "
                                 f"{n - 2} maskable tokens is {budget}: mask each example on its own, with the masker")
    # reproducible, and independent of the batch
    again = _pipeline_batch(answer, blocks, masker, [0, 1, 2], 0, 7, True)
    if any(not torch.equal(first[k], again[k]) for k in first):
        raise AssertionError("two calls with the same seed, epoch and examples gave different masks: a mask must be "
                             "reproducible, drawn from a generator that depends on (seed, epoch, example) only, not "
                             "from the global random state")
    for indices, row in (([1], 0), ([6, 1], 1), ([1, 0, 2], 0)):
        other = _pipeline_batch(answer, blocks, masker, indices, 0, 7, True)
        if not torch.equal(other["labels"][row], first["labels"][1]) or \
                not torch.equal(other["input_ids"][row], first["input_ids"][1]):
            raise AssertionError(f"example 1 got another mask in the batch {indices} than in the batch [0, 1, 2]: "
                                 "an example's mask must not depend on which examples share its batch, or where it "
                                 "sits in it (use the example's index, not its row)")
    # dynamic: new masks every epoch; static: the same masks in every epoch
    everything = list(range(len(blocks)))
    dynamic = [_predicted(_pipeline_batch(answer, blocks, masker, everything, e, 7, True)) for e in (0, 1, 2)]
    if torch.equal(dynamic[0], dynamic[1]) or torch.equal(dynamic[1], dynamic[2]):
        raise AssertionError("with dynamic=True every example kept its mask from one epoch to the next: dynamic "
                             "masking draws a new mask in every epoch")
    static = [_pipeline_batch(answer, blocks, masker, everything, e, 7, False) for e in (0, 1, 4)]
    if any(not torch.equal(s[k], static[0][k]) for s in static[1:] for k in s):
        raise AssertionError("with dynamic=False the masks changed between epochs: static masking draws each "
                             "example's mask once and keeps it for the whole training")
    if torch.equal(_predicted(_pipeline_batch(answer, blocks, masker, everything, 0, 8, True)), dynamic[0]):
        raise AssertionError("seed 8 gave the same masks as seed 7: the masks must depend on the seed")
    # the library's masks exactly (so the pipeline can replace the library's in the Trainer)
    for indices, epoch, seed, dynamic_masking in (([0, 1, 2], 0, 7, True), (everything, 2, 7, True),
                                                  ([6, 2], 3, 3, False), ([5, 3, 7], 1, 0, True)):
        got = _pipeline_batch(answer, blocks, masker, indices, epoch, seed, dynamic_masking)
        expected = _library_batch(blocks, masker, indices, epoch, seed, dynamic_masking)
        if any(not torch.equal(got[k], expected[k].long()) for k in got):
            kind = "dynamic" if dynamic_masking else "static"
            raise AssertionError(f"your masks are reproducible and well formed, but in epoch {epoch} ({kind}, seed "
                                 f"{seed}) they are not the ones the library's pipeline draws; take each example's "
                                 "generator from example_generator(seed, epoch, index) (which epoch for static "
                                 "masking?) and mask the 1-D example with the masker")


# -- 08.5: predict, then run --------------------------------------------------------------------------------------

def _distinct_masks(epochs: int = 10) -> tuple[dict, dict]:
    """Distinct sets of predicted positions over ``epochs`` epochs of dynamic masking, for a 64-token block and a
    6-token sentence (4 maskable tokens), with the library's pipeline; and each one's budget."""
    from minibert.masking import Masker
    from minibert.masking.dataset import MaskedLMDataset

    generator = torch.Generator().manual_seed(0)
    long_block = [CLS] + torch.randint(5, 60, (62,), generator=generator).tolist() + [SEP]
    short = [CLS, 17, 23, 9, 41, SEP]
    masker = Masker(mask_token_id=MASK, vocab_size=60, special_ids={PAD, 1, CLS, SEP, MASK})
    data = MaskedLMDataset([long_block, short], masker, PAD, seed=1, dynamic=True)
    counts, budgets = {}, {}
    for index, name in ((0, "block"), (1, "sentence")):
        seen = {tuple(data.example(index, epoch).labels.ne(-100).nonzero().flatten().tolist())
                for epoch in range(epochs)}
        counts[name], budgets[name] = len(seen), masker.budget(len(data.blocks[index]) - 2)
    return counts, budgets


@exercise("08.5", "predict: how many different masks in 10 epochs?", kind="predict",
          hints=("Count how many different sets of positions the masker could pick at all, for each of the two "
                 "sequences, and compare with the 10 draws.",
                 "The masker picks max(1, round(0.15 n)) of the n maskable tokens (the [CLS] and [SEP] never); there "
                 "are C(n, k) = math.comb(n, k) sets of k positions among n. Give answer = (block, sentence), two "
                 "whole numbers."),
          solution="answer = (10, 4)",
          wrong=("answer = (10, 10)", "answer = (1, 1)", "answer = (9, 4)", "answer = ('ten', 4)"))
def _(answer):
    if isinstance(answer, dict) or not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("give two whole numbers, answer = (block, sentence): the distinct masks of the "
                             "64-token block and of the 6-token sentence")
    block, sentence = (_count(value, "a whole number of masks") for value in answer)
    counts, budgets = _distinct_masks()
    explanation = (
        f"Measured with the library's pipeline (seeded), 10 epochs of dynamic masking: the 64-token block met "
        f"{counts['block']} different masks, the 6-token sentence {counts['sentence']}. The block has 62 maskable "
        f"tokens and a budget of {budgets['block']} predictions: {math.comb(62, budgets['block']):,} possible sets "
        f"of positions, so every epoch brings a new one. The sentence has 4 maskable tokens "
        f"and a budget of max(1, round(0.15 x 4)) = {budgets['sentence']}: only {math.comb(4, budgets['sentence'])} "
        "possible masks, so 10 epochs must repeat them (10 draws usually meet all of them, not always: with "
        "another seed it can be one fewer). Dynamic masking cannot give a short sentence more variety than it has.")
    if (block, sentence) != (counts["block"], counts["sentence"]):
        raise AssertionError(f"you predicted ({block}, {sentence}). {explanation}")
    print(explanation)

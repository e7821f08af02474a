"""Chapter 08, masking on the fly: 08.4 (build the masked-data pipeline) and 08.5 (predict, then run)."""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import exercise
from .recipe import _count, _integer_tensor


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
                 "never on the batch it lands in or on how often you called the function. Static masking draws "
                 "each example's mask once and meets it again in every epoch.",
                 "example_generator(seed, epoch, index) -> a torch.Generator for one example; "
                 "masker(torch.tensor(block), generator) masks one 1-D example and returns a MaskedBatch with "
                 "1-D .input_ids and .labels (-100 where nothing is predicted). Build three (B, length) long "
                 "tensors: input_ids filled with pad_id, attention_mask 1 on real tokens and 0 on padding, labels "
                 "-100 on padding.",
                 "\ninput_ids = torch.full((len(indices), length), pad_id, dtype=torch.long)\n"
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
    if isinstance(answer, (np.ndarray, torch.Tensor)) and answer.ndim == 1:
        answer = list(answer)
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

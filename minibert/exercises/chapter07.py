"""Exercises of chapter 07 (fine-tuning): extractive QA's span head and its loss built from scratch, the best valid
answer span, labels on first pieces, and entities from BIO tags.

07.1 (section 5) is swapped into the fine-tuned QA model of the chapter with :func:`~minibert.core.swap.swap_in`:
same logits, same loss, same answers as the library's head.
"""
from __future__ import annotations

import numbers

from . import exercise


def _as_int(value, what: str) -> int:
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "item") and not isinstance(value, int):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise AssertionError(f"{what} should be one integer, got an array") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise AssertionError(f"{what} should be an integer, got {value!r}")
    return int(value)


# -- 07.1 -----------------------------------------------------------------------------------------------------------

def _build_head(answer, hidden_size):
    import torch

    head = answer(hidden_size)
    if not isinstance(head, torch.nn.Module):
        raise AssertionError(f"answer({hidden_size}) should build your head, a torch.nn.Module, got "
                             f"{type(head).__name__}")
    shapes = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    if shapes != {"weight": (2, hidden_size), "bias": (2,)}:
        raise AssertionError(f"your head's parameters are {shapes}; name and shape them as the skeleton does, "
                             f"weight (2, H) and bias (2,), so that a trained head's weights can be loaded into it")
    return head


def _head_outputs(head, hidden, start=None, end=None, what=""):
    import torch

    try:
        out = head(hidden) if start is None else head(hidden, start, end)
    except Exception as err:  # noqa: BLE001 (the learner's code broke on an input the chapter describes)
        if start is not None and bool((start >= hidden.shape[1]).any() | (end >= hidden.shape[1]).any()):
            raise AssertionError(f"{what}: your head raised {type(err).__name__} ({err}) for an answer position "
                                 "outside the sequence (an answer cut off by truncation): clamp positions to T and "
                                 "let the loss ignore T, as transformers does") from None
        raise
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise AssertionError(f"{what}: forward should return three things, (start_logits, end_logits, loss), with "
                             f"loss None when no positions are given; got {type(out).__name__}")
    start_logits, end_logits, loss = out
    for name, t in (("start_logits", start_logits), ("end_logits", end_logits)):
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(hidden.shape[:2]):
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise AssertionError(f"{what}: {name} should be a tensor of shape (B, T) = {tuple(hidden.shape[:2])}, "
                                 f"got {shape}")
    return start_logits, end_logits, loss


@exercise("07.1", "extractive QA's span head and its loss", kind="build",
          hints=(
              "Every token gets two scores from its final hidden vector: a dot product with a start vector S and "
              "one with an end vector E (plus a bias each): that is one linear layer H -> 2. The loss treats the "
              "start and the end as two classification problems over the T positions and averages the two "
              "cross-entropies. An answer cut off by truncation has no position in the sequence: it must not "
              "count.",
              "`scores = hidden @ self.weight.T + self.bias` is (B, T, 2); `scores[..., 0]` are the start logits, "
              "`scores[..., 1]` the end logits, each (B, T). Positions are (B,) LongTensors: "
              "`p.clamp(0, T)` moves an out-of-range one to T, and `F.cross_entropy(logits, p, ignore_index=T)` "
              "ignores it. Return `(start_logits, end_logits, loss)`, loss None without positions.",
              "def forward(self, hidden, start_positions=None, end_positions=None):\n"
              "    scores = hidden @ self.weight.T + self.bias\n"
              "    start_logits, end_logits = scores[..., 0], scores[..., 1]\n"
              "    if start_positions is None:\n"
              "        return start_logits, end_logits, None\n"
              "    T = hidden.shape[1]\n"
              "    start = start_positions.clamp(0, T)\n"
              "    ...\n"
              "    loss = (... + ...) / 2"),
          solution="""
          import torch
          import torch.nn.functional as F
          from torch import nn


          class SpanHead(nn.Module):
              def __init__(self, hidden_size):
                  super().__init__()
                  self.weight = nn.Parameter(torch.zeros(2, hidden_size))  # row 0: the start vector S, row 1: E
                  self.bias = nn.Parameter(torch.zeros(2))

              def forward(self, hidden, start_positions=None, end_positions=None):
                  scores = hidden @ self.weight.T + self.bias  # (B, T, 2)
                  start_logits, end_logits = scores[..., 0], scores[..., 1]
                  if start_positions is None or end_positions is None:
                      return start_logits, end_logits, None
                  length = hidden.shape[1]  # an answer outside the sequence is moved to T and ignored
                  start = start_positions.reshape(-1).clamp(0, length)
                  end = end_positions.reshape(-1).clamp(0, length)
                  loss = (F.cross_entropy(start_logits, start, ignore_index=length)
                          + F.cross_entropy(end_logits, end, ignore_index=length)) / 2
                  return start_logits, end_logits, loss


          def answer(hidden_size):
              return SpanHead(hidden_size)
          """,
          wrong=(
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # start and end rows swapped
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      end_logits, start_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      t = hidden.shape[1]
                      loss = (F.cross_entropy(start_logits, start_positions.clamp(0, t), ignore_index=t)
                              + F.cross_entropy(end_logits, end_positions.clamp(0, t), ignore_index=t)) / 2
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # the sum of the two losses, not their mean
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      t = hidden.shape[1]
                      loss = (F.cross_entropy(start_logits, start_positions.clamp(0, t), ignore_index=t)
                              + F.cross_entropy(end_logits, end_positions.clamp(0, t), ignore_index=t))
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # positions outside the sequence are not handled
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      loss = (F.cross_entropy(start_logits, start_positions)
                              + F.cross_entropy(end_logits, end_positions)) / 2
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # an answer cut off is moved to the last token instead of ignored
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      last = hidden.shape[1] - 1
                      loss = (F.cross_entropy(start_logits, start_positions.clamp(0, last))
                              + F.cross_entropy(end_logits, end_positions.clamp(0, last))) / 2
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # the bias is never used
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      t = hidden.shape[1]
                      loss = (F.cross_entropy(start_logits, start_positions.clamp(0, t), ignore_index=t)
                              + F.cross_entropy(end_logits, end_positions.clamp(0, t), ignore_index=t)) / 2
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # only the start is trained
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      t = hidden.shape[1]
                      loss = F.cross_entropy(start_logits, start_positions.clamp(0, t), ignore_index=t)
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """),
          builds=("minibert.training.finetuning.QuestionAnsweringHead",),
          shortcut="""
          from minibert.training.finetuning import QuestionAnsweringHead

          def answer(hidden_size):
              return QuestionAnsweringHead(hidden_size)
          """)
def _(answer):
    import torch

    from minibert.core.swap import swap_in
    from minibert.training.finetuning import BertForQuestionAnswering, QuestionAnsweringHead

    g = torch.Generator().manual_seed(0)
    for hidden_size, batch, length in ((8, 3, 7), (16, 4, 11)):
        reference = QuestionAnsweringHead(hidden_size)
        with torch.no_grad():
            reference.weight.copy_(torch.randn(2, hidden_size, generator=g))
            reference.bias.copy_(torch.randn(2, generator=g))
        head = _build_head(answer, hidden_size)
        head.load_state_dict(reference.state_dict())
        hidden = torch.randn(batch, length, hidden_size, generator=g)
        what = f"for hidden states of shape {(batch, length, hidden_size)}"
        with torch.no_grad():
            start_ref, end_ref, _ = reference(hidden)
            start, end, loss = _head_outputs(head, hidden, what=what)
        if not torch.allclose(start, start_ref, atol=1e-5):
            if torch.allclose(start, end_ref, atol=1e-5):
                raise AssertionError(f"{what}: your start logits are the end logits: row 0 of weight (and bias[0]) "
                                     "scores the start, row 1 the end")
            if torch.allclose(start, start_ref - reference.bias[0], atol=1e-5):
                raise AssertionError(f"{what}: your start logits miss the bias: a linear layer adds it")
            raise AssertionError(f"{what}: your start logits are not S . h_i + b_0 for every token i")
        if not torch.allclose(end, end_ref, atol=1e-5):
            raise AssertionError(f"{what}: your end logits are not E . h_i + b_1 for every token i (E = row 1 of "
                                 "weight)")
        if loss is not None:
            raise AssertionError(f"{what}: without answer positions there is no loss to compute: return None")
        cases = [(torch.arange(batch) % length, (torch.arange(batch) + 2) % length, "inside the sequence")]
        cut = torch.arange(batch) % length
        cut[-1] = length + 3  # an answer cut off by truncation
        cases.append((cut, torch.where(cut > length, torch.tensor(length + 5), (cut + 1) % length),
                      "one answer outside the sequence"))
        for start_positions, end_positions, kind in cases:
            with torch.no_grad():
                _, _, loss_ref = reference(hidden, start_positions, end_positions)
                _, _, loss = _head_outputs(head, hidden, start_positions.clone(), end_positions.clone(),
                                           what=f"{what}, {kind}")
            if loss is None:
                raise AssertionError(f"{what}, {kind}: with answer positions, return the loss")
            try:
                value = float(loss.detach() if hasattr(loss, "detach") else loss)
            except (TypeError, ValueError, RuntimeError):
                raise AssertionError(f"{what}: the loss should be one number (a scalar tensor), got "
                                     f"{tuple(getattr(loss, 'shape', ())) or type(loss).__name__}") from None
            if abs(value - float(loss_ref)) > 1e-5:
                parts = [torch.nn.functional.cross_entropy(logits, p.clamp(0, length), ignore_index=length)
                         for logits, p in ((start_ref, start_positions), (end_ref, end_positions))]
                if abs(value - float(parts[0] + parts[1])) < 1e-5:
                    reason = "that is the sum of the start and end cross-entropies; the loss is their mean"
                elif abs(value - float(parts[0])) < 1e-5 or abs(value - float(parts[1])) < 1e-5:
                    reason = "that is one cross-entropy; the loss is the mean of the start's and the end's"
                elif kind != "inside the sequence":
                    reason = ("a position outside the sequence must not count at all: clamp it to T and give "
                              "the cross-entropy ignore_index=T")
                else:
                    reason = "the loss is the mean of the cross-entropies of the start and of the end positions"
                raise AssertionError(f"{what}, {kind}: your loss is {value:.4f}; {reason}")
    # in a model: the library's QA model with your head swapped in
    from minibert import BertConfig

    config = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=24)
    torch.manual_seed(0)
    model = BertForQuestionAnswering(config).eval()
    with torch.no_grad():
        model.qa_outputs.weight.normal_(0, 0.5, generator=g)
    mine = swap_in(model, QuestionAnsweringHead, lambda old: _build_head(answer, old.in_features))
    ids = torch.randint(5, 60, (3, 10), generator=g)
    positions = (torch.tensor([1, 4, 12]), torch.tensor([2, 6, 13]))
    with torch.no_grad():
        expected, got = model(ids, start_positions=positions[0], end_positions=positions[1]), \
            mine(ids, start_positions=positions[0], end_positions=positions[1])
    if not (torch.allclose(got.start_logits, expected.start_logits, atol=1e-5)
            and abs(float(got.loss) - float(expected.loss)) < 1e-5):
        raise AssertionError("your head gives the right outputs on its own, but not inside BertForQuestionAnswering: "
                             "forward(hidden, start_positions, end_positions) is called with the positions as the "
                             "second and third arguments")


# -- 07.2 -----------------------------------------------------------------------------------------------------------

@exercise("07.2", "the best valid answer span", kind="build",
          hints=(
              "The best start and the best end taken separately can give an end before the start, or a span far "
              "too long. Score every pair (i, j) with i <= j < i + max_length and keep the best; among equal "
              "scores keep the first one found, scanning starts then ends in increasing order.",
              "Two nested loops: `for i in range(len(start_logits))`, `for j in range(i, min(len(end_logits), "
              "i + max_length))`; score `start_logits[i] + end_logits[j]`; update only on a strictly higher "
              "score. Return the pair `(i, j)` of ints.",
              "best, pair = float('-inf'), None\n"
              "for i in range(len(start_logits)):\n"
              "    for j in range(i, min(len(end_logits), i + max_length)):\n"
              "        score = ...\n"
              "        if score > best:\n"
              "            ...\n"
              "return pair"),
          solution="""
          def answer(start_logits, end_logits, max_length):
              best, pair = float("-inf"), None
              for i in range(len(start_logits)):
                  for j in range(i, min(len(end_logits), i + max_length)):
                      score = start_logits[i] + end_logits[j]
                      if score > best:  # strictly: a tie keeps the first span found
                          best, pair = score, (i, j)
              return pair
          """,
          wrong=(
              """
              def answer(start_logits, end_logits, max_length):  # best start and best end, separately
                  i = max(range(len(start_logits)), key=lambda k: start_logits[k])
                  j = max(range(len(end_logits)), key=lambda k: end_logits[k])
                  return (i, j)
              """,
              """
              def answer(start_logits, end_logits, max_length):  # spans one token too long allowed
                  best, pair = float("-inf"), None
                  for i in range(len(start_logits)):
                      for j in range(i, min(len(end_logits), i + max_length + 1)):
                          if start_logits[i] + end_logits[j] > best:
                              best, pair = start_logits[i] + end_logits[j], (i, j)
                  return pair
              """,
              """
              def answer(start_logits, end_logits, max_length):  # a one-token answer is never considered
                  best, pair = float("-inf"), None
                  for i in range(len(start_logits)):
                      for j in range(i + 1, min(len(end_logits), i + max_length)):
                          if start_logits[i] + end_logits[j] > best:
                              best, pair = start_logits[i] + end_logits[j], (i, j)
                  return pair
              """,
              """
              def answer(start_logits, end_logits, max_length):  # ties go to the last span found
                  best, pair = float("-inf"), None
                  for i in range(len(start_logits)):
                      for j in range(i, min(len(end_logits), i + max_length)):
                          if start_logits[i] + end_logits[j] >= best:
                              best, pair = start_logits[i] + end_logits[j], (i, j)
                  return pair
              """),
          builds=("minibert.training.finetuning.best_span",),
          shortcut="""
          import torch
          from minibert.training.finetuning import best_span

          def answer(start_logits, end_logits, max_length):
              s, e, _ = best_span(torch.tensor([start_logits]), torch.tensor([end_logits]), max_answer_length=max_length)
              return int(s), int(e)
          """)
def _(answer):
    import torch

    from minibert.training.finetuning import best_span

    cases = [([0.0, 5.0, 0.0, 0.0], [4.0, 0.0, 1.0, 0.0], 3, "the best end comes before the best start"),
             ([3.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 9.0], 2, "the best end is too far from the start"),
             ([1.0, 2.0, 0.0], [0.0, 3.0, 0.0], 1, "max_length 1: one-token answers only"),
             ([1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0], 4, "every span scores the same"),
             ([-5.0, -3.0, -4.0], [-2.0, -6.0, -1.0], 2, "all logits negative"),
             ([0.5], [0.25], 3, "a sequence of one token")]
    g = torch.Generator().manual_seed(0)
    for k in (1, 2, 3, 12):
        cases.append((torch.randn(12, generator=g).tolist(), torch.randn(12, generator=g).tolist(), k,
                      "random logits"))
    for start, end, max_length, kind in cases:
        got = answer(list(start), list(end), max_length)
        if got is None:
            raise AssertionError(f"{kind} (max_length {max_length}): you return None, as if no span were valid; a "
                                 "single token (i == j) is a valid span, so there is always one")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise AssertionError(f"return the span as a pair (i, j), got {got!r}")
        i, j = (_as_int(x, "a span end") for x in got)
        s, e, _ = best_span(torch.tensor([start]), torch.tensor([end]), max_answer_length=max_length)
        if (i, j) == (int(s), int(e)):
            continue
        where = f"{kind} (max_length {max_length})"
        if not 0 <= i <= j < len(start):
            raise AssertionError(f"{where}: you return ({i}, {j}), not a span of the sequence: "
                                 "0 <= i <= j < len(logits)")
        if j - i + 1 > max_length:
            raise AssertionError(f"{where}: your span ({i}, {j}) has {j - i + 1} tokens, more than max_length")
        best = start[int(s)] + end[int(e)]
        if abs(start[i] + end[j] - best) < 1e-9:
            raise AssertionError(f"{where}: your span ({i}, {j}) ties with the best one; keep the FIRST span "
                                 "with the best score (smallest start, then smallest end)")
        raise AssertionError(f"{where}: your span ({i}, {j}) scores {start[i] + end[j]:.3f}, but a valid span "
                             "scores higher: try every start i and every end j with i <= j < i + max_length")


# -- 07.3 -----------------------------------------------------------------------------------------------------------

@exercise("07.3", "labels on first pieces", kind="build",
          hints=(
              "Labels belong to words, BERT sees pieces. A word's label goes on its FIRST piece only; the later "
              "pieces and the special tokens get the label the loss ignores.",
              "Walk `word_ids` (an int per token, None for special tokens) remembering the previous entry: a word "
              "id different from the previous one starts a word and gets `word_labels[w]`; everything else gets "
              "-100. Return a list of ints as long as `word_ids`.",
              "labels, previous = [], None\n"
              "for w in word_ids:\n"
              "    if w is None or w == previous:\n"
              "        ...\n"
              "    else:\n"
              "        ...\n"
              "    previous = w"),
          solution="""
          def answer(word_ids, word_labels):
              labels, previous = [], None
              for w in word_ids:
                  if w is None or w == previous:  # a special token, or a later piece of the same word
                      labels.append(-100)
                  else:
                      labels.append(word_labels[w])
                  previous = w
              return labels
          """,
          wrong=(
              """
              def answer(word_ids, word_labels):  # every piece labelled
                  return [-100 if w is None else word_labels[w] for w in word_ids]
              """,
              """
              def answer(word_ids, word_labels):  # the label on the LAST piece
                  labels = []
                  for k, w in enumerate(word_ids):
                      following = word_ids[k + 1] if k + 1 < len(word_ids) else None
                      labels.append(-100 if w is None or w == following else word_labels[w])
                  return labels
              """,
              """
              def answer(word_ids, word_labels):  # a word id seen before is never labelled again
                  labels, seen = [], set()
                  for w in word_ids:
                      labels.append(-100 if w is None or w in seen else word_labels[w])
                      if w is not None:
                          seen.add(w)
                  return labels
              """,
              """
              def answer(word_ids, word_labels):  # special tokens labelled 0 ('O')
                  labels, previous = [], None
                  for w in word_ids:
                      labels.append(0 if w is None else -100 if w == previous else word_labels[w])
                      previous = w
                  return labels
              """),
          builds=("minibert.training.finetuning.align_word_labels",),
          shortcut="""
          from minibert.training.finetuning import align_word_labels

          def answer(word_ids, word_labels):
              return align_word_labels(word_ids, word_labels)
          """)
def _(answer):
    import random

    import numpy as np

    from minibert.training.finetuning import align_word_labels

    cases = [([None, 0, 0, 1, 2, 2, 2, None], [3, 1, 2]), ([None, 0, 1, None], [0, 1]),
             ([None, 0, 0, 0, None, 0, 1, None], [2, 1]),  # a pair: word ids start again in the second segment
             ([None, 0, 1, 1, None, None, None], [1, 2])]  # padding
    rng = random.Random(7)
    for _ in range(10):
        ids, word = [None], 0
        for _ in range(rng.randint(1, 6)):
            ids += [word] * rng.randint(1, 3)
            word += 1
        cases.append((ids + [None], [rng.randint(0, 2) for _ in range(word)]))
    for word_ids, labels in cases:
        given = list(np.int64(labels)) if len(word_ids) % 2 else list(labels)
        got = answer(list(word_ids), given)
        if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != len(word_ids):
            raise AssertionError(f"return one label per token ({len(word_ids)} for word_ids {word_ids}), got {got!r}")
        got = [_as_int(x, "a label") for x in got]
        expected = align_word_labels(word_ids, labels)
        for k, (g, e) in enumerate(zip(got, expected)):
            if g == e:
                continue
            w = word_ids[k]
            if w is None:
                reason = "a special token is not scored: -100"
            elif e == -100:
                reason = f"it is a later piece of word {w}: only a word's first piece carries the label"
            else:
                reason = (f"it is the first piece of word {w} (the word id changes here; in a pair of segments the "
                          "word ids start again after [SEP]), so it carries the word's label")
            raise AssertionError(f"for word_ids {word_ids} your label for token {k} is {g}: {reason}")


# -- 07.4 -----------------------------------------------------------------------------------------------------------

@exercise("07.4", "entities from BIO tags", kind="build",
          hints=(
              "Read the tags left to right keeping the entity that is open (its start and type). B- always opens a "
              "new one; I- continues the open entity only if the type matches, else it opens one too (a stray "
              "I-); O closes. Do not forget the entity still open at the end.",
              "A tag is 'O', 'B-TYPE' or 'I-TYPE' (`tag[:2]`, `tag[2:]`). Return a set of `(start, end, type)` "
              "with `end` exclusive, e.g. {(0, 2, 'CODE')} for ['B-CODE', 'I-CODE', 'O'].",
              "spans, start, kind = set(), None, None\n"
              "for i, tag in enumerate(tags):\n"
              "    continues = tag.startswith('I-') and start is not None and tag[2:] == kind\n"
              "    if start is not None and not continues:\n"
              "        ...   # close the open entity at i\n"
              "    if tag != 'O' and not continues:\n"
              "        ...   # open a new one\n"
              "..."),
          solution="""
          def answer(tags):
              spans, start, kind = set(), None, None
              for i, tag in enumerate(tags):
                  continues = tag.startswith("I-") and start is not None and tag[2:] == kind
                  if start is not None and not continues:  # the open entity ends before i
                      spans.add((start, i, kind))
                      start = None
                  if tag != "O" and not continues:  # B-, or a stray I-, opens an entity
                      start, kind = i, tag[2:]
              if start is not None:
                  spans.add((start, len(tags), kind))
              return spans
          """,
          wrong=(
              """
              def answer(tags):  # every B- is a one-token entity
                  return {(i, i + 1, tag[2:]) for i, tag in enumerate(tags) if tag.startswith("B-")}
              """,
              """
              def answer(tags):  # a stray I- is dropped
                  spans, start, kind = set(), None, None
                  for i, tag in enumerate(tags):
                      continues = tag.startswith("I-") and start is not None and tag[2:] == kind
                      if start is not None and not continues:
                          spans.add((start, i, kind))
                          start = None
                      if tag.startswith("B-"):
                          start, kind = i, tag[2:]
                  if start is not None:
                      spans.add((start, len(tags), kind))
                  return spans
              """,
              """
              def answer(tags):  # I- continues whatever is open, whatever its type
                  spans, start, kind = set(), None, None
                  for i, tag in enumerate(tags):
                      continues = tag.startswith("I-") and start is not None
                      if start is not None and not continues:
                          spans.add((start, i, kind))
                          start = None
                      if tag != "O" and not continues:
                          start, kind = i, tag[2:]
                  if start is not None:
                      spans.add((start, len(tags), kind))
                  return spans
              """,
              """
              def answer(tags):  # the entity open at the end is lost
                  spans, start, kind = set(), None, None
                  for i, tag in enumerate(tags):
                      continues = tag.startswith("I-") and start is not None and tag[2:] == kind
                      if start is not None and not continues:
                          spans.add((start, i, kind))
                          start = None
                      if tag != "O" and not continues:
                          start, kind = i, tag[2:]
                  return spans
              """),
          builds=("minibert.training.finetuning.bio_spans", "minibert.training.finetuning.span_f1"),
          shortcut="""
          from minibert.training.finetuning import bio_spans

          def answer(tags):
              return bio_spans(tags)
          """)
def _(answer):
    import random

    from minibert.training.finetuning import bio_spans

    cases = [["B-CODE", "I-CODE", "O", "B-CODE"], ["O", "B-CODE", "B-CODE", "I-CODE", "I-CODE"],
             ["I-X", "I-X", "O", "B-Y", "I-X"], ["O", "O"], [], ["B-X", "I-Y", "I-Y"], ["B-A"]]
    rng = random.Random(11)
    tags = ["O", "B-A", "I-A", "B-B", "I-B"]
    cases += [[rng.choice(tags) for _ in range(rng.randint(1, 10))] for _ in range(30)]
    for case in cases:
        got = answer(list(case))
        try:
            got = {(int(s), int(e), str(t)) for s, e, t in got}
        except (TypeError, ValueError):
            raise AssertionError(f"return a set of (start, end, type) triples, got {got!r}") from None
        expected = bio_spans(case)
        if got == expected:
            continue
        extra, missing = sorted(got - expected), sorted(expected - got)
        if extra:
            s, e, t = extra[0]
            inside = any(es <= s and e <= ee and (es, ee) != (s, e) for es, ee, _ in expected)
            covers = any(s <= es and ee <= e and (es, ee) != (s, e) for es, ee, _ in expected)
            if inside:
                reason = "an entity runs on over the I- tags of its type that follow it"
            elif covers:
                reason = ("that glues tags together: an I- continues only an open entity of the SAME type, and a "
                          "B- always starts a new entity")
            else:
                reason = "it is not an entity of these tags (end is exclusive; the type is the opening tag's)"
            raise AssertionError(f"for {case} you return {(s, e, t)}: {reason}")
        s, e, t = missing[0]
        if e == len(case):
            reason = "an entity still open at the end of the tags is an entity too"
        elif case[s].startswith("I-"):
            reason = "an I- tag that continues nothing (a stray I-) starts an entity"
        else:
            reason = "some entity is missing"
        raise AssertionError(f"for {case} you find {len(got)} entities, not all of them: {reason}")

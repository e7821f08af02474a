"""Chapter 07: exercises 07.2, 07.3."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


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

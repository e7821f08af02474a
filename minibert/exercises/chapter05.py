"""Exercises of chapter 05 (masked language modelling)."""
import math

from . import exercise


@exercise("05.1", "what the model actually sees",
          hints="each share is rate times one entry of the split: [MASK] = rate * mask, random = rate * random, "
               "seen-but-predicted = rate * same.",
          solution="""
          def answer(rate, split):
              mask, random, same = split
              return (rate * mask, rate * random, rate * same)
          """,
          wrong="""
          def answer(rate, split):
              return tuple(split)
          """)
def _(answer):
    for rate, split in ((0.15, (0.8, 0.1, 0.1)), (0.4, (0.5, 0.25, 0.25)), (0.1, (1.0, 0.0, 0.0))):
        got = answer(rate, split)
        assert len(got) == 3, f"return three fractions, got {got!r}"
        expected = tuple(rate * s for s in split)
        assert all(math.isclose(g, e, abs_tol=1e-9) for g, e in zip(got, expected)), (
            f"for rate {rate} and split {split} you return {tuple(round(g, 4) for g in got)}; these are shares of "
            f"ALL tokens, not of the picked ones")


@exercise("05.2", "BERT's prediction budget",
          hints="min(max_predictions, max(1, round(rate * n))): Python's round, at least one, at most the cap.",
          solution="""
          def answer(n, rate, max_predictions):
              return min(max_predictions, max(1, round(rate * n)))
          """,
          wrong="""
          def answer(n, rate, max_predictions):
              return min(max_predictions, int(rate * n))
          """)
def _(answer):
    from ..masking import Masker

    for n, cap in ((3, 20), (10, 20), (57, 20), (128, 20), (512, 76), (200, 30), (1, 5)):
        masker = Masker(1, 10, {0}, max_predictions=cap)
        got, expected = answer(n, 0.15, cap), masker.budget(n)
        assert got == expected, f"for n={n}, max_predictions={cap} you return {got}, BERT picks {expected}"


@exercise("05.3", "word ids from WordPiece tokens",
          hints="count words: a token that does not start with ## (and is not special) starts a new word; "
               "## pieces take the current word's index; [CLS]/[SEP]/[PAD] get None.",
          solution="""
          def answer(tokens):
              ids, word = [], -1
              for token in tokens:
                  if token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]"):
                      ids.append(None)
                      continue
                  if not token.startswith("##"):
                      word += 1
                  ids.append(word)
              return ids
          """,
          wrong="""
          def answer(tokens):
              ids, word = [], -1
              for token in tokens:
                  if token in ("[CLS]", "[SEP]", "[PAD]"):
                      ids.append(None)
                      continue
                  word += 1
                  ids.append(word)
              return ids
          """)
def _(answer):
    from ..masking import wordpiece_word_ids

    cases = [["[CLS]", "token", "##ization", "works", "[SEP]"],
             ["[CLS]", "un", "##believ", "##able", "!", "[SEP]", "[PAD]"],
             ["[CLS]", "a", "b", "##c", "[SEP]", "d", "##e", "[SEP]"]]
    for tokens in cases:
        got = list(answer(tokens))
        assert got == wordpiece_word_ids(tokens), f"for {tokens} you return {got}, expected {wordpiece_word_ids(tokens)}"


@exercise("05.4", "the mean span length",
          hints="weights w_k = p (1-p)^(k-1) for k = 1..max_length; the mean is sum(k w_k) / sum(w_k).",
          solution="""
          def answer(p, max_length):
              weights = [p * (1 - p) ** (k - 1) for k in range(1, max_length + 1)]
              return sum(k * w for k, w in zip(range(1, max_length + 1), weights)) / sum(weights)
          """,
          wrong="""
          def answer(p, max_length):
              return min(1 / p, max_length)
          """)
def _(answer):
    from ..masking import span_length_distribution
    import torch

    for p, top in ((0.2, 10), (0.5, 4), (0.1, 30)):
        probs = span_length_distribution(p, top)
        expected = float((probs * torch.arange(1, top + 1)).sum())
        got = float(answer(p, top))
        assert math.isclose(got, expected, rel_tol=1e-6), (
            f"for p={p}, max_length={top} you return {got:.4f}, the truncated mean is {expected:.4f}")

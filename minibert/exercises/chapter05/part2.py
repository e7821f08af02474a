"""Chapter 05: exercises 05.2, 05.3, 05.4, 05.5."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


# -- 05.2 -----------------------------------------------------------------------------------------------------------

@exercise("05.2", "what the model actually sees", kind="compute",
          hints=(
              "The split says what happens to a PICKED token; the question asks about all tokens. Only a fraction "
              "`rate` of the tokens is picked at all.",
              "Return a tuple of three floats (shown as [MASK], replaced by a random token, unchanged but "
              "predicted), each a fraction of ALL tokens: multiply each entry of `split = (mask, random, same)` by "
              "`rate`."),
          solution="""
          def answer(rate, split):
              mask, random, same = split
              return (rate * mask, rate * random, rate * same)
          """,
          wrong=(
              """
              def answer(rate, split):  # shares of the picked tokens
                  return tuple(split)
              """,
              """
              def answer(rate, split):  # the unchanged tokens are not counted as predicted
                  mask, random, same = split
                  return (rate * mask, rate * random, 0.0)
              """,
              """
              def answer(rate, split):  # what is NOT shown as [MASK] is out of all tokens
                  mask, random, same = split
                  return (rate * mask, random, same)
              """))
def _(answer):
    for rate, split in ((0.15, (0.8, 0.1, 0.1)), (0.4, (0.5, 0.25, 0.25)), (0.1, (1.0, 0.0, 0.0)),
                        (0.3, (0.6, 0.3, 0.1))):
        got = answer(rate, split)
        if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != 3:
            raise AssertionError(f"return three fractions ([MASK], random, unchanged), got {got!r}")
        got = [_as_float(g, "each share") for g in got]
        expected = [rate * s for s in split]
        for name, g, e in zip(("[MASK]", "random", "unchanged"), got, expected):
            if not math.isclose(g, e, abs_tol=1e-9):
                raise AssertionError(
                    f"for rate {rate} and split {split} your {name} share is {g:.4g}: the shares are fractions of "
                    "ALL tokens, and only the picked ones (a fraction `rate`) are split; an unchanged picked token "
                    "is still predicted")


# -- 05.3 -----------------------------------------------------------------------------------------------------------

@exercise("05.3", "BERT's prediction budget", kind="compute",
          hints=(
              "A fixed count per sequence: 15% of the maskable tokens, rounded to the nearest whole token; a short "
              "sequence still gets one prediction, and a cap limits long ones.",
              "`round(rate * n)` (Python's round, as `Masker.budget`), then `max(1, ...)`, then "
              "`min(max_predictions, ...)`; return an int."),
          solution="""
          def answer(n, rate, max_predictions):
              return min(max_predictions, max(1, round(rate * n)))
          """,
          wrong=(
              """
              def answer(n, rate, max_predictions):  # int() cuts 2.55 down to 2
                  return min(max_predictions, max(1, int(rate * n)))
              """,
              """
              import math

              def answer(n, rate, max_predictions):  # rounds 3.3 up to 4
                  return min(max_predictions, max(1, math.ceil(rate * n)))
              """,
              """
              def answer(n, rate, max_predictions):  # a 3-token sentence gets no prediction
                  return min(max_predictions, round(rate * n))
              """,
              """
              def answer(n, rate, max_predictions):  # no cap
                  return max(1, round(rate * n))
              """))
def _(answer):
    from ...masking import Masker

    for n, cap in ((3, 20), (12, 20), (13, 20), (17, 20), (22, 20), (57, 20), (128, 20), (512, 76), (200, 30),
                   (1, 5)):
        got = _as_int(answer(n, 0.15, cap), f"the budget for n={n}")
        expected = Masker(1, 10, {0}, max_predictions=cap).budget(n)
        if got != expected:
            if got > cap:
                reason = "more than max_predictions allows"
            elif got == 0:
                reason = "every sequence gets at least one prediction"
            elif got < expected:
                reason = "rate x n is rounded to the NEAREST whole token (int() cuts the decimals off)"
            else:
                reason = "rate x n is rounded to the nearest whole token, not up"
            raise AssertionError(f"for n={n}, max_predictions={cap} you return {got}: {reason}")


# -- 05.4 -----------------------------------------------------------------------------------------------------------

@exercise("05.4", "word ids from WordPiece tokens", kind="build",
          hints=(
              "Count words as you read the tokens: a token that does not start with '##' starts a new word, a "
              "'##' piece continues the word before it. Special tokens belong to no word.",
              "Return a list as long as `tokens`: an int (0, 1, 2, ...) per token, `None` for '[CLS]', '[SEP]', "
              "'[PAD]' and '[MASK]'. '[UNK]' is a word like any other. A '##' piece right after a special token "
              "has no word to continue, so it starts one.",
              "ids, word, previous_was_word = [], -1, False\n"
              "for token in tokens:\n"
              "    if token in ('[CLS]', '[SEP]', '[PAD]', '[MASK]'):\n"
              "        ...\n"
              "        continue\n"
              "    if not (token.startswith('##') and previous_was_word):\n"
              "        word += 1\n"
              "    ..."),
          solution="""
          def answer(tokens):
              ids, word, previous_was_word = [], -1, False
              for token in tokens:
                  if token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]"):
                      ids.append(None)
                      previous_was_word = False
                      continue
                  if not (token.startswith("##") and previous_was_word):
                      word += 1
                  ids.append(word)
                  previous_was_word = True
              return ids
          """,
          wrong=(
              """
              def answer(tokens):  # every token a word
                  ids, word = [], -1
                  for token in tokens:
                      if token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]"):
                          ids.append(None)
                          continue
                      word += 1
                      ids.append(word)
                  return ids
              """,
              """
              def answer(tokens):  # [MASK] counted as a word
                  ids, word, previous_was_word = [], -1, False
                  for token in tokens:
                      if token in ("[CLS]", "[SEP]", "[PAD]"):
                          ids.append(None)
                          previous_was_word = False
                          continue
                      if not (token.startswith("##") and previous_was_word):
                          word += 1
                      ids.append(word)
                      previous_was_word = True
                  return ids
              """,
              """
              def answer(tokens):  # [UNK] treated as special
                  ids, word, previous_was_word = [], -1, False
                  for token in tokens:
                      if token.startswith("["):
                          ids.append(None)
                          previous_was_word = False
                          continue
                      if not (token.startswith("##") and previous_was_word):
                          word += 1
                      ids.append(word)
                      previous_was_word = True
                  return ids
              """,
              """
              def answer(tokens):  # a '##' piece after [SEP] continues the word before it
                  ids, word = [], -1
                  for token in tokens:
                      if token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]"):
                          ids.append(None)
                          continue
                      if not token.startswith("##"):
                          word += 1
                      ids.append(word)
                  return ids
              """),
          builds=("minibert.masking.wordpiece_word_ids", "minibert.masking.chinese_word_ids"),
          shortcut="""
          from minibert.masking import wordpiece_word_ids

          def answer(tokens):
              return wordpiece_word_ids(tokens)
          """)
def _(answer):
    import random

    from ...masking import wordpiece_word_ids

    cases = [["[CLS]", "token", "##ization", "works", "[SEP]"],
             ["[CLS]", "un", "##believ", "##able", "!", "[SEP]", "[PAD]"],
             ["[CLS]", "a", "b", "##c", "[SEP]", "d", "##e", "[SEP]"],
             ["[CLS]", "the", "[MASK]", "##s", "sat", "[SEP]"],
             ["[CLS]", "[UNK]", "##s", "[UNK]", "x", "[SEP]", "[PAD]", "[PAD]"],
             ["[CLS]", "a", "[SEP]", "##b", "c", "[SEP]"]]
    rng = random.Random(5)
    pool = ["the", "##s", "##ing", "run", "[UNK]", "[MASK]", "[SEP]", "x", "##y", ","]
    cases += [["[CLS]"] + [rng.choice(pool) for _ in range(rng.randint(1, 12))] + ["[SEP]"] for _ in range(30)]
    for tokens in cases:
        got = answer(list(tokens))
        if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != len(tokens):
            raise AssertionError(f"return one entry per token ({len(tokens)} for {tokens}), got {got!r}")
        got = [None if g is None else _as_int(g, "a word id") for g in got]
        expected = wordpiece_word_ids(tokens)
        for k, (g, e) in enumerate(zip(got, expected)):
            if g == e:
                continue
            token = tokens[k]
            if e is None:
                reason = f"{token!r} is a special token: it belongs to no word (None)"
            elif g is None:
                reason = f"{token!r} is a word (only [CLS], [SEP], [PAD] and [MASK] get None)"
            elif token.startswith("##") and k and expected[k - 1] is None:
                reason = f"{token!r} follows a special token: there is no word to continue, so it starts a new one"
            elif token.startswith("##"):
                reason = f"{token!r} continues the word before it"
            else:
                reason = f"{token!r} has no '##', so it starts a new word; words are numbered 0, 1, 2, ... in order"
            raise AssertionError(f"for {tokens} your word id for token {k} is {g}: {reason}")


# -- 05.5 -----------------------------------------------------------------------------------------------------------

@exercise("05.5", "the mean span length", kind="compute",
          hints=(
              "Span lengths follow a geometric distribution cut at max_length: the weights stop there, so they no "
              "longer sum to one and must be renormalised before taking the mean. The untruncated mean 1/p is too "
              "high.",
              "Weights w_k = p (1-p)^(k-1) for k = 1..max_length; return sum(k * w_k) / sum(w_k) as a float."),
          solution="""
          def answer(p, max_length):
              lengths = range(1, max_length + 1)
              weights = [p * (1 - p) ** (k - 1) for k in lengths]
              return sum(k * w for k, w in zip(lengths, weights)) / sum(weights)
          """,
          wrong=(
              """
              def answer(p, max_length):  # the untruncated geometric mean
                  return min(1 / p, max_length)
              """,
              """
              def answer(p, max_length):  # not renormalised
                  return sum(k * p * (1 - p) ** (k - 1) for k in range(1, max_length + 1))
              """,
              """
              def answer(p, max_length):  # lengths from 0
                  weights = [p * (1 - p) ** k for k in range(max_length)]
                  return sum(k * w for k, w in enumerate(weights)) / sum(weights)
              """))
def _(answer):
    import torch

    from ...masking import span_length_distribution

    for p, top in ((0.2, 10), (0.5, 4), (0.1, 30), (0.9, 3), (0.3, 1)):
        probs = span_length_distribution(p, top)
        expected = float((probs * torch.arange(1, top + 1)).sum())
        got = _as_float(answer(p, top), f"the mean for p={p}")
        if not math.isclose(got, expected, rel_tol=1e-6):
            unnormalised = float((torch.arange(1, top + 1) * p * (1 - p) ** torch.arange(top)).sum())
            if math.isclose(got, unnormalised, rel_tol=1e-6):
                hint = "the truncated weights no longer sum to one: divide by their sum"
            elif math.isclose(got, expected - 1, rel_tol=1e-6):
                hint = "span lengths start at 1 word, not 0"
            elif got > expected:
                hint = "the distribution is cut at max_length, which pulls the mean below 1/p"
            else:
                hint = "weights p (1-p)^(k-1) for k = 1..max_length, then their weighted mean"
            raise AssertionError(f"for p={p}, max_length={top} you return {got:.4f}, not the mean of the truncated, "
                                 f"renormalised geometric distribution: {hint}")

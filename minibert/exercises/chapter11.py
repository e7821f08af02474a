"""Exercises of chapter 11 (SpanBERT and ELECTRA).

11.1-11.4 are short computations; 11.5 builds SpanBERT's span selection (run inside the library's ``Masker`` in the
chapter), 11.6 asks for a prediction about the span boundary objective in a whole model, 11.7 builds the SBO head's
forward pass (swapped into the chapter's SpanBERT).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from . import exercise
from ._checks_11_14 import own_rng as _own_rng
from ._checks_11_14 import call as _call, choice as _choice, integer as _integer, number as _number
from ._checks_11_14 import tensor as _tensor


# -- 11.1 ---------------------------------------------------------------------------------------------------------
@exercise("11.1", "the mean span length", kind="compute",
          hints=("A geometric distribution clipped at 10 and renormalised: the mean is the weighted average of the "
                 "lengths 1..10, each weighted by its renormalised probability. Clipping removes the long tail, so "
                 "the mean falls below the unclipped mean 1 / p.",
                 "P(l) is proportional to p (1 - p)^(l - 1) for l = 1..10 with p = 0.2; divide the ten weights by "
                 "their sum, then take sum(l * P(l)). Plain Python floats or a torch.arange of the lengths both do.",
                 "weights = [p * (1 - p) ** (l - 1) for l in range(1, 11)]\n"
                 "answer = sum(l * w for l, w in zip(range(1, 11), weights)) / ..."),
          solution="""
          p, longest = 0.2, 10
          weights = [p * (1 - p) ** (l - 1) for l in range(1, longest + 1)]
          answer = sum(l * w for l, w in zip(range(1, longest + 1), weights)) / sum(weights)
          """,
          wrong=("answer = 1 / 0.2",
                 """
                 p = 0.2
                 answer = sum(l * p * (1 - p) ** (l - 1) for l in range(1, 11))
                 """,
                 """
                 p = 0.2
                 weights = [p * (1 - p) ** l for l in range(10)]
                 answer = sum(l * w for l, w in zip(range(10), weights)) / sum(weights)
                 """,
                 "answer = sum(range(1, 11)) / 10"))
@_own_rng
def _(answer):
    got = _number(answer, "the mean span length (a number)")
    lengths = torch.arange(1, 11, dtype=torch.float64)
    weights = 0.2 * 0.8 ** (lengths - 1)
    expected = float((lengths * weights).sum() / weights.sum())
    if abs(got - 5.0) < 1e-3:
        raise AssertionError("5 is the mean of the unclipped geometric distribution (1 / p); SpanBERT never draws "
                             "a span longer than 10 words")
    if abs(got - float((lengths * weights).sum())) < 1e-3:
        raise AssertionError(f"{got:.3f}: the ten clipped probabilities sum to less than 1; renormalise them")
    if abs(got - (expected - 1)) < 1e-3:
        raise AssertionError(f"{got:.3f}: lengths count from 1 word, not from 0")
    if abs(got - 5.5) < 1e-3:
        raise AssertionError("5.5 is the mean of a uniform choice among 1..10; the lengths are geometric: short "
                             "spans are much more likely")
    assert abs(got - expected) < 1e-3, (f"{got:.3f} is not the mean of Geo(0.2) clipped at 10 words; it must lie "
                                        f"between 1 and the unclipped mean 5")


# -- 11.2 ---------------------------------------------------------------------------------------------------------
@exercise("11.2", "what the span boundary objective reads", kind="compute",
          hints=("The boundaries are the two tokens just OUTSIDE the span, and the relative position tells the head "
                 "which token of the span it predicts, counting the first one as 1.",
                 "For a span covering positions start..end-1 (end exclusive) return, for each position i in "
                 "range(start, end), a tuple (i, left, right, relative) of four ints.",
                 "def answer(start, end):\n    return [(i, start - 1, ..., ...) for i in range(start, end)]"),
          solution="""
          def answer(start, end):
              return [(i, start - 1, end, i - start + 1) for i in range(start, end)]
          """,
          wrong=("""
                 def answer(start, end):
                     return [(i, start, end - 1, i - start) for i in range(start, end)]
                 """,
                 """
                 def answer(start, end):
                     return [(i, start - 1, end, i - start) for i in range(start, end)]
                 """,
                 """
                 def answer(start, end):
                     return [(i, start - 1, end + 1, i - start + 1) for i in range(start, end)]
                 """,
                 """
                 def answer(start, end):
                     return [(i, start - 1, end, i - start + 1) for i in range(start, end + 1)]
                 """))
@_own_rng
def _(answer):
    from minibert.models.spanbert import span_targets

    for start, end in ((3, 6), (1, 2), (5, 15), (1, 19), (18, 19)):
        rows = _call(answer, start, end)
        try:
            got = [tuple(_integer(v, "each entry") for v in row) for row in rows]
        except TypeError:
            raise AssertionError("return a list of tuples (position, left, right, relative position)") from None
        expected = [(i, left, right, i - left) for _, i, left, right in
                    span_targets([[(start, end)]], 1, 20, 20).tolist()]
        assert len(got) == end - start, f"span ({start}, {end}) has {end - start} tokens (end is exclusive), you listed {len(got)}"
        assert all(len(row) == 4 for row in got), "each row has four entries: position, left, right, relative position"
        assert [row[0] for row in got] == [row[0] for row in expected], (
            f"span ({start}, {end}): list the positions inside the span, in order")
        assert [row[1:3] for row in got] == [row[1:3] for row in expected], (
            f"span ({start}, {end}): the boundaries are the tokens just OUTSIDE the span, one on each side")
        assert got == expected, (f"span ({start}, {end}): the relative position of the span's first token is 1, "
                                 f"the next one 2, and so on")


# -- 11.3 ---------------------------------------------------------------------------------------------------------
@exercise("11.3", "replaced-token labels", kind="compute",
          hints=("A position counts as 'replaced' only if the discriminator's input really differs from the original "
                 "there. The generator sometimes samples the original token back.",
                 "original, corrupted: (batch, T) id tensors; masked: (batch, T) bool. Return a (batch, T) tensor of "
                 "0/1 (long or bool) that compares two of the three inputs elementwise.",
                 "return (corrupted ... original).long()"),
          solution="""
          import torch

          def answer(original, corrupted, masked):
              return (corrupted != original).long()
          """,
          wrong=("""
                 def answer(original, corrupted, masked):
                     return masked.long()
                 """,
                 """
                 def answer(original, corrupted, masked):
                     return (corrupted == original).long()
                 """,
                 """
                 def answer(original, corrupted, masked):
                     return masked.long() | (corrupted != original).long()
                 """))
@_own_rng
def _(answer):
    g = torch.Generator().manual_seed(0)
    for shape in ((4, 12), (1, 7), (3, 30)):
        original = torch.randint(5, 30, shape, generator=g)
        masked = torch.rand(shape, generator=g) < 0.4
        masked[0, 3] = True
        samples = torch.randint(5, 30, shape, generator=g)
        samples[0, 3] = original[0, 3]  # the generator guessed right here
        corrupted = torch.where(masked, samples, original)
        got = _tensor(_call(answer, original.clone(), corrupted.clone(), masked.clone()), "the labels")
        expected = (corrupted != original).long()
        assert tuple(got.shape) == shape, f"return one label per token: shape {shape}, got {tuple(got.shape)}"
        assert not got.is_floating_point() or bool(((got == 0) | (got == 1)).all()), "labels are 0 or 1"
        got = got.long()
        assert int(got[0, 3]) == 0, ("a masked position where the generator sampled the original token back must "
                                     "be labelled 0 (original): the discriminator sees the right token there")
        unmasked = ~masked
        assert bool((got[unmasked] == 0).all()), "positions the generator never touched are original (0)"
        assert torch.equal(got, expected), "a masked position whose token differs from the original must be 1"


# -- 11.4 ---------------------------------------------------------------------------------------------------------
@exercise("11.4", "the discriminator's loss", kind="compute",
          hints=("Binary cross-entropy between each token's logit and its 0/1 label, averaged over the real tokens "
                 "only: padding is not text and must not count, and every real token counts the same.",
                 "Select the real tokens with a boolean index (attention_mask == 1) on logits (batch, T) and labels "
                 "(batch, T), then F.binary_cross_entropy_with_logits(...) on the selected 1-D tensors (labels as "
                 "floats). The *_with_logits form stays exact for large logits.",
                 "real = attention_mask.bool()\nreturn F.binary_cross_entropy_with_logits(logits[real], ...)"),
          solution="""
          import torch.nn.functional as F

          def answer(logits, labels, attention_mask):
              real = attention_mask.bool()
              return F.binary_cross_entropy_with_logits(logits[real], labels[real].float())
          """,
          wrong=("""
                 import torch.nn.functional as F

                 def answer(logits, labels, attention_mask):
                     return F.binary_cross_entropy_with_logits(logits, labels.float())
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(logits, labels, attention_mask):
                     real = attention_mask.bool()
                     return F.binary_cross_entropy(torch.sigmoid(logits[real]), labels[real].float())
                 """,
                 """
                 import torch.nn.functional as F

                 def answer(logits, labels, attention_mask):
                     per_token = F.binary_cross_entropy_with_logits(logits, labels.float(), reduction="none")
                     mask = attention_mask.float()
                     return ((per_token * mask).sum(1) / mask.sum(1).clamp(min=1)).mean()
                 """,
                 """
                 import torch.nn.functional as F

                 def answer(logits, labels, attention_mask):
                     real = attention_mask.bool()
                     return F.binary_cross_entropy_with_logits(logits[real], labels[real].float(), reduction="sum")
                 """))
@_own_rng
def _(answer):
    g = torch.Generator().manual_seed(1)
    cases = []
    for shape, scale in (((3, 10), 3.0), ((2, 16), 40.0), ((4, 6), 1.0)):
        logits = torch.randn(shape, generator=g) * scale
        labels = (torch.rand(shape, generator=g) < 0.2).long()
        mask = torch.ones(shape, dtype=torch.long)
        mask[1, shape[1] // 2:] = 0
        if shape[0] > 2:
            mask[2, 2:] = 0
        if shape[0] > 3:
            mask[3, :] = 0  # a fully padded row
        cases.append((logits, labels, mask, scale))
    for dtype in (torch.float32, torch.float64):
        for logits, labels, mask, scale in cases:
            logits = logits.to(dtype)
            got = _call(answer, logits.clone(), labels.clone(), mask.clone())
            real = mask.bool()
            expected = F.binary_cross_entropy_with_logits(logits[real].double(), labels[real].double())
            got = _number(got, "one number: the mean loss")
            if not math.isfinite(got):
                raise AssertionError("the loss is not a finite number: padded positions (or a fully padded row) "
                                     "must not enter it")
            everything = F.binary_cross_entropy_with_logits(logits.double(), labels.double())
            if abs(got - float(everything)) < 1e-4 and abs(float(everything) - float(expected)) > 1e-3:
                raise AssertionError("your loss includes the padding positions: average over real tokens only")
            if abs(got - float(expected) * int(real.sum())) < 1e-3 * max(1.0, abs(got)):
                raise AssertionError("that is the sum over the real tokens; the loss is their mean")
            assert abs(got - float(expected)) < 1e-4 * max(1.0, float(expected)), (
                f"got {got:.4f}, expected a different value"
                + (" for logits as large as +-40: compute from the logits (binary_cross_entropy_with_logits), a "
                   "sigmoid rounds them to exactly 0 or 1 in float32" if scale > 10 else
                   ": every real token counts the same, however many a sequence has (do not average per row first)"))


# -- 11.5 ---------------------------------------------------------------------------------------------------------
def _groups(word_lengths, start: int = 1) -> list[tuple[int, int]]:
    groups, position = [], start
    for length in word_lengths:
        groups.append((position, position + length))
        position += length
    return groups


def _library_spans(groups, seed: int, rate: float = 0.15, p: float = 0.2, max_words: int = 10):
    from minibert.masking import Masker

    masker = Masker(0, 10, [0], rate=rate, unit="span", span_p=p, max_span=max_words)
    return masker._select_spans(list(groups), torch.Generator().manual_seed(seed))


@functools.lru_cache(maxsize=None)
def _library_statistics(length: int, draws: int, rate: float, p: float, max_words: int) -> tuple[float, float]:
    """Mean span length (words) and share of one-word spans of the library's selection on single-token words."""
    groups = _groups([1] * length)
    spans = [n for seed in range(draws) for _, _, n in _library_spans(groups, 1000 + seed, rate, p, max_words)]
    return float(np.mean(spans)), float(np.mean([n == 1 for n in spans]))


def _spans_of(result, where: str) -> list[tuple[int, int, int]]:
    if isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
        raise AssertionError(f"{where}: return a list of (start, end, n_words) triples, got {type(result).__name__}")
    spans = []
    for item in result:
        try:
            values = list(item)
        except TypeError:
            raise AssertionError(f"{where}: each span is a triple (start, end, n_words), got {item!r}") from None
        if len(values) != 3:
            raise AssertionError(f"{where}: each span is a triple (start, end, n_words), got {item!r}")
        spans.append(tuple(_integer(v, "a span's start, end and word count") for v in values))
    return sorted(spans)


def _check_spans(spans, groups, budget: int, max_words: int, where: str) -> None:
    starts = {s: k for k, (s, _) in enumerate(groups)}
    ends = {e: k for k, (_, e) in enumerate(groups)}
    picked = set()
    previous_end = None
    for start, end, n_words in spans:
        if start not in starts or end not in ends or ends[end] < starts[start]:
            raise AssertionError(f"{where}: the span ({start}, {end}) cuts a word or covers a position that is not "
                                 f"a maskable word; spans start and end at word boundaries")
        first, last = starts[start], ends[end]
        for k in range(first, last):
            if groups[k][1] != groups[k + 1][0]:
                raise AssertionError(f"{where}: the span ({start}, {end}) jumps over position {groups[k][1]}, which "
                                     f"is not a maskable word (a special token or a segment border); a span only "
                                     f"extends over neighbouring words")
        if n_words != last - first + 1:
            raise AssertionError(f"{where}: the span ({start}, {end}) covers {last - first + 1} words but says "
                                 f"{n_words}")
        if n_words > max_words:
            raise AssertionError(f"{where}: a span of {n_words} words; lengths are clipped at max_words = "
                                 f"{max_words}")
        if previous_end is not None and start < previous_end:
            raise AssertionError(f"{where}: two spans overlap (one ends at {previous_end}, the next starts at "
                                 f"{start}); a word is masked once")
        previous_end = end
        picked.update(range(first, last + 1))
    used = sum(end - start for start, end, _ in spans)
    if used > budget:
        raise AssertionError(f"{where}: {used} tokens masked, more than the budget; the budget is rate x (maskable "
                             f"tokens), rounded with Python's round() and at least 1, counted in TOKENS")
    if used < budget:
        fits = [groups[k] for k in range(len(groups)) if k not in picked and groups[k][1] - groups[k][0] <= budget - used]
        if fits:
            raise AssertionError(f"{where}: only {used} tokens masked though the word at {fits[0]} still fits in "
                                 f"the budget; keep adding spans until no unpicked word fits (the budget is rate x "
                                 f"maskable tokens, rounded with Python's round(), counted in tokens, not words)")


@exercise("11.5", "SpanBERT's span selection", kind="build",
          builds=("minibert.masking.mlm.Masker._select_spans", "minibert.masking.mlm.Masker.__call__"),
          shortcut="""
          from minibert.masking import Masker

          def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
              masker = Masker(0, 10, [0], rate=rate, unit="span", span_p=p, max_span=max_words)
              return masker._select_spans(groups, generator)
          """,
          hints=("Work in words, count in tokens. The budget is 15% of the maskable TOKENS. Then repeat: draw a span "
                 "length in words from the clipped geometric distribution, pick a random unpicked word that still "
                 "fits as the span's start, and extend the span over the following words while they are "
                 "neighbours, unpicked, within the drawn length and within the budget. Stop when the budget is "
                 "full or no unpicked word fits.",
                 "budget = max(1, round(rate * tokens)) with tokens = sum(end - start). Lengths: a float64 tensor "
                 "of p (1 - p)^(k - 1) for k = 1..max_words, normalised; torch.multinomial(weights, 1, "
                 "generator=generator) draws an index (length = index + 1). A random start: "
                 "torch.randint(len(candidates), (1,), generator=generator). Word w + 1 is a neighbour of word w "
                 "when groups[w + 1][0] == groups[w][1]. Return sorted (start, end, n_words) token ranges.",
                 "taken = [False] * len(groups)\nspans, used = [], 0\nwhile used < budget:\n"
                 "    candidates = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]\n"
                 "    if not candidates:\n        break\n"
                 "    length = int(torch.multinomial(weights, 1, generator=generator)) + 1\n"
                 "    first = last = candidates[int(torch.randint(len(candidates), (1,), generator=generator))]\n"
                 "    ...  # take `first`, then extend `last` while the next word is a free neighbour that fits\n"
                 "    spans.append((groups[first][0], groups[last][1], last - first + 1))\nreturn sorted(spans)"),
          solution="""
          import torch

          def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
              budget = max(1, round(rate * sum(end - start for start, end in groups)))
              k = torch.arange(1, max_words + 1, dtype=torch.float64)
              weights = p * (1 - p) ** (k - 1)
              weights = weights / weights.sum()
              taken = [False] * len(groups)
              spans, used = [], 0
              while used < budget:
                  candidates = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]
                  if not candidates:
                      break  # every free word is longer than what is left of the budget
                  length = int(torch.multinomial(weights, 1, generator=generator)) + 1
                  first = last = candidates[int(torch.randint(len(candidates), (1,), generator=generator))]
                  taken[first] = True
                  used += groups[first][1] - groups[first][0]
                  while last - first + 1 < length and last + 1 < len(groups):
                      start, end = groups[last + 1]
                      if taken[last + 1] or start != groups[last][1] or used + end - start > budget:
                          break
                      last += 1
                      taken[last] = True
                      used += end - start
                  spans.append((groups[first][0], groups[last][1], last - first + 1))
              return sorted(spans)
          """,
          wrong=(
              # token level: a span may cut a word
              """
              import torch

              def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
                  tokens = [(t, t + 1) for s, e in groups for t in range(s, e)]
                  budget = max(1, round(rate * len(tokens)))
                  weights = torch.tensor([p * (1 - p) ** k for k in range(max_words)], dtype=torch.float64)
                  taken, spans, used = [False] * len(tokens), [], 0
                  while used < budget:
                      free = [w for w in range(len(tokens)) if not taken[w]]
                      length = int(torch.multinomial(weights, 1, generator=generator)) + 1
                      first = last = free[int(torch.randint(len(free), (1,), generator=generator))]
                      taken[first], used = True, used + 1
                      while last - first + 1 < length and last + 1 < len(tokens) and not taken[last + 1] \\
                              and tokens[last + 1][0] == tokens[last][1] and used < budget:
                          last += 1
                          taken[last], used = True, used + 1
                      spans.append((tokens[first][0], tokens[last][1], last - first + 1))
                  return sorted(spans)
              """,
              # the budget counted in words
              """
              import torch

              def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
                  budget = max(1, round(rate * len(groups)))
                  weights = torch.tensor([p * (1 - p) ** k for k in range(max_words)], dtype=torch.float64)
                  taken, spans, used = [False] * len(groups), [], 0
                  while used < budget:
                      free = [w for w in range(len(groups)) if not taken[w]]
                      if not free:
                          break
                      length = int(torch.multinomial(weights, 1, generator=generator)) + 1
                      first = last = free[int(torch.randint(len(free), (1,), generator=generator))]
                      taken[first], used = True, used + 1
                      while last - first + 1 < length and last + 1 < len(groups) and not taken[last + 1] \\
                              and groups[last + 1][0] == groups[last][1] and used < budget:
                          last += 1
                          taken[last], used = True, used + 1
                      spans.append((groups[first][0], groups[last][1], last - first + 1))
                  return sorted(spans)
              """,
              # lengths never clipped: a plain geometric draw
              """
              import math
              import torch

              def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
                  budget = max(1, round(rate * sum(e - s for s, e in groups)))
                  taken, spans, used = [False] * len(groups), [], 0
                  while used < budget:
                      free = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]
                      if not free:
                          break
                      u = float(torch.rand(1, generator=generator))
                      length = 1 + int(math.log(1 - u) / math.log(1 - p))
                      first = last = free[int(torch.randint(len(free), (1,), generator=generator))]
                      taken[first], used = True, used + groups[first][1] - groups[first][0]
                      while last - first + 1 < length and last + 1 < len(groups) and not taken[last + 1] \\
                              and groups[last + 1][0] == groups[last][1] \\
                              and used + groups[last + 1][1] - groups[last + 1][0] <= budget:
                          last += 1
                          taken[last], used = True, used + groups[last][1] - groups[last][0]
                      spans.append((groups[first][0], groups[last][1], last - first + 1))
                  return sorted(spans)
              """,
              # spans run across a special token (no neighbour check)
              """
              import torch

              def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
                  budget = max(1, round(rate * sum(e - s for s, e in groups)))
                  weights = torch.tensor([p * (1 - p) ** k for k in range(max_words)], dtype=torch.float64)
                  taken, spans, used = [False] * len(groups), [], 0
                  while used < budget:
                      free = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]
                      if not free:
                          break
                      length = int(torch.multinomial(weights, 1, generator=generator)) + 1
                      first = last = free[int(torch.randint(len(free), (1,), generator=generator))]
                      taken[first], used = True, used + groups[first][1] - groups[first][0]
                      while last - first + 1 < length and last + 1 < len(groups) and not taken[last + 1] \\
                              and used + groups[last + 1][1] - groups[last + 1][0] <= budget:
                          last += 1
                          taken[last], used = True, used + groups[last][1] - groups[last][0]
                      spans.append((groups[first][0], groups[last][1], last - first + 1))
                  return sorted(spans)
              """,
              # always starts at the first free word
              """
              import torch

              def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
                  budget = max(1, round(rate * sum(e - s for s, e in groups)))
                  weights = torch.tensor([p * (1 - p) ** k for k in range(max_words)], dtype=torch.float64)
                  taken, spans, used = [False] * len(groups), [], 0
                  while used < budget:
                      free = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]
                      if not free:
                          break
                      length = int(torch.multinomial(weights, 1, generator=generator)) + 1
                      first = last = free[0]
                      taken[first], used = True, used + groups[first][1] - groups[first][0]
                      while last - first + 1 < length and last + 1 < len(groups) and not taken[last + 1] \\
                              and groups[last + 1][0] == groups[last][1] \\
                              and used + groups[last + 1][1] - groups[last + 1][0] <= budget:
                          last += 1
                          taken[last], used = True, used + groups[last][1] - groups[last][0]
                      spans.append((groups[first][0], groups[last][1], last - first + 1))
                  return sorted(spans)
              """,
              # every length equally likely
              """
              import torch

              def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
                  budget = max(1, round(rate * sum(e - s for s, e in groups)))
                  taken, spans, used = [False] * len(groups), [], 0
                  while used < budget:
                      free = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]
                      if not free:
                          break
                      length = int(torch.randint(1, max_words + 1, (1,), generator=generator))
                      first = last = free[int(torch.randint(len(free), (1,), generator=generator))]
                      taken[first], used = True, used + groups[first][1] - groups[first][0]
                      while last - first + 1 < length and last + 1 < len(groups) and not taken[last + 1] \\
                              and groups[last + 1][0] == groups[last][1] \\
                              and used + groups[last + 1][1] - groups[last + 1][0] <= budget:
                          last += 1
                          taken[last], used = True, used + groups[last][1] - groups[last][0]
                      spans.append((groups[first][0], groups[last][1], last - first + 1))
                  return sorted(spans)
              """,
              # random numbers from torch's global generator: not reproducible
              """
              import torch

              def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
                  budget = max(1, round(rate * sum(e - s for s, e in groups)))
                  weights = torch.tensor([p * (1 - p) ** k for k in range(max_words)], dtype=torch.float64)
                  taken, spans, used = [False] * len(groups), [], 0
                  while used < budget:
                      free = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]
                      if not free:
                          break
                      length = int(torch.multinomial(weights, 1)) + 1
                      first = last = free[int(torch.randint(len(free), (1,)))]
                      taken[first], used = True, used + groups[first][1] - groups[first][0]
                      while last - first + 1 < length and last + 1 < len(groups) and not taken[last + 1] \\
                              and groups[last + 1][0] == groups[last][1] \\
                              and used + groups[last + 1][1] - groups[last + 1][0] <= budget:
                          last += 1
                          taken[last], used = True, used + groups[last][1] - groups[last][0]
                      spans.append((groups[first][0], groups[last][1], last - first + 1))
                  return sorted(spans)
              """,
              # the budget rounded half up instead of with Python's round()
              """
              import math
              import torch

              def answer(groups, generator, rate=0.15, p=0.2, max_words=10):
                  budget = max(1, math.floor(rate * sum(e - s for s, e in groups) + 0.5))
                  weights = torch.tensor([p * (1 - p) ** k for k in range(max_words)], dtype=torch.float64)
                  taken, spans, used = [False] * len(groups), [], 0
                  while used < budget:
                      free = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]
                      if not free:
                          break
                      length = int(torch.multinomial(weights, 1, generator=generator)) + 1
                      first = last = free[int(torch.randint(len(free), (1,), generator=generator))]
                      taken[first], used = True, used + groups[first][1] - groups[first][0]
                      while last - first + 1 < length and last + 1 < len(groups) and not taken[last + 1] \\
                              and groups[last + 1][0] == groups[last][1] \\
                              and used + groups[last + 1][1] - groups[last + 1][0] <= budget:
                          last += 1
                          taken[last], used = True, used + groups[last][1] - groups[last][0]
                      spans.append((groups[first][0], groups[last][1], last - first + 1))
                  return sorted(spans)
              """,
          ))
@_own_rng
def _(answer):
    def run(groups, seed, **options):
        return _call(answer, list(groups), torch.Generator().manual_seed(seed), **options)

    def budget_of(groups, rate):
        return max(1, round(rate * sum(e - s for s, e in groups)))

    # a sentence of words of 1 to 4 pieces; two segments with a [SEP] between them; tiny inputs
    g = torch.Generator().manual_seed(11)
    pieces = (torch.randint(1, 5, (60,), generator=g) * (torch.rand(60, generator=g) < 0.35)).clamp(min=1).tolist()
    sentence = _groups(pieces)
    two_segments = _groups(pieces[:25]) + _groups(pieces[25:], start=_groups(pieces[:25])[-1][1] + 1)
    cases = [(sentence, {}), (two_segments, {}), (_groups([1] * 120), {}), (_groups([2] * 40), {}),
             (sentence, {"rate": 0.3}), (_groups([1] * 200), {"p": 0.5, "max_words": 3}),
             (_groups([1] * 30), {}), (_groups([1] * 10), {}),
             ([(4 * k + j + 1, 4 * k + j + 2) for k in range(30) for j in range(3)], {})]  # a gap every 3 words
    for groups, options in cases:
        rate, max_words = options.get("rate", 0.15), options.get("max_words", 10)
        for seed in range(3):
            where = f"{len(groups)} words, {sum(e - s for s, e in groups)} tokens" + \
                    (f", {', '.join(f'{k}={v}' for k, v in options.items())}" if options else "")
            spans = _spans_of(run(groups, seed, **options), where)
            _check_spans(spans, groups, budget_of(groups, rate), max_words, where)
    # the smallest inputs: the budget is at least one token; a budget no word fits leaves nothing to mask
    spans = _spans_of(run([(1, 2), (2, 4)], 0), "two words of 1 and 2 tokens")
    assert spans == [(1, 2, 1)], ("two words of 1 and 2 tokens: 15% of 3 tokens rounds to 0, but the budget is at "
                                  "least 1 token, and only the 1-token word fits it")
    spans = _spans_of(run([(1, 3), (3, 5), (5, 7)], 0), "three 2-token words")
    assert spans == [], ("three 2-token words: the budget is 1 token (15% of 6, at least 1) and no whole word fits "
                         "it, so nothing can be masked; return an empty list")
    # reproducible from the generator, and random
    first, again = run(sentence, 7), run(sentence, 7)
    assert _spans_of(first, "seed 7") == _spans_of(again, "seed 7"), (
        "two calls with generators seeded alike gave different spans: draw every random number from `generator`")
    assert len({tuple(_spans_of(run(sentence, seed), "")) for seed in range(8)}) > 1, (
        "every seed gives the same spans: the starts and lengths must be drawn at random")
    # the distribution of lengths and where spans start, against the library on long inputs
    for length, draws, rate, p, max_words in ((300, 40, 0.15, 0.2, 10), (200, 40, 0.15, 0.5, 3)):
        groups = _groups([1] * length)
        spans = [span for seed in range(draws) for span in
                 _spans_of(run(groups, 1000 + seed, rate=rate, p=p, max_words=max_words), "long input")]
        words = np.array([n for _, _, n in spans], dtype=float)
        mean, ones = _library_statistics(length, draws, rate, p, max_words)
        centre = float(np.mean([(s + e) / 2 for s, e, _ in spans])) / (length + 1)
        assert 0.35 < centre < 0.65, (f"on {length} one-token words the spans sit around {centre:.0%} of the way "
                                      f"along the sequence; a span starts at a word chosen uniformly among those free")
        assert abs(words.mean() - mean) < 0.4 and abs(np.mean(words == 1) - ones) < 0.08, (
            f"on {length} one-token words (p={p}, max_words={max_words}) your spans have a mean length of "
            f"{words.mean():.2f} words and {np.mean(words == 1):.0%} of them have one word; the clipped geometric "
            f"distribution (cut further by the budget) gives about {mean:.2f} and {ones:.0%}. Draw each length from "
            f"P(l) proportional to p (1 - p)^(l - 1), l = 1..max_words")


# -- 11.6 ---------------------------------------------------------------------------------------------------------
_SAME = ("same", "unchanged", "no", "no change", "not", "stay the same", "equal", "identical")
_DIFFERENT = ("different", "changes", "change", "changed", "yes", "they change", "move", "moves", "differ")


@exercise("11.6", "predict: does the SBO head see inside the span?", kind="predict",
          hints=("The head reads two hidden states and a position embedding. Ask where those hidden states come "
                 "from, and what each of them could read on its way there.",
                 "Answer 'same' or 'different': after changing the token at a position INSIDE a masked span, in a "
                 "whole SpanBertForPreTraining (encoder + SBO head), are the SBO logits for that span the same?"),
          solution="""
          answer = "different"
          """,
          wrong=('answer = "same"', "answer = 3"))
@_own_rng
def _(answer):
    from minibert import BertConfig
    from minibert.models.spanbert import SpanBertForPreTraining, span_targets

    said = _choice(answer, {"same": _SAME, "different": _DIFFERENT})
    config = BertConfig.tiny(vocab_size=60, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                             max_position_embeddings=32)
    torch.manual_seed(0)
    model = SpanBertForPreTraining(config, max_span_length=8).eval()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # weights far from their small initial values, as after training
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3 + float(name.endswith("norm.weight")))
    ids = torch.randint(5, 60, (1, 16), generator=g)
    changed = ids.clone()
    changed[0, 5] = (ids[0, 5] + 7) % 55 + 5
    spans = [[(4, 7)]]
    with torch.no_grad():
        before = model(ids, spans=spans).sbo_logits
        after = model(changed, spans=spans).sbo_logits
        hidden = model.bert(ids).last_hidden_state
        targets = span_targets(spans, 1, 16, 8)
        noisy = hidden.clone()
        noisy[0, 4:7] = torch.randn(3, 32, generator=g)
        head_alone = float((model.sbo(hidden, targets, model.bert.embeddings.token.weight)
                            - model.sbo(noisy, targets, model.bert.embeddings.token.weight)).abs().max())
    moved = float((after - before).abs().max())
    story = (f"Measured on a tiny random SpanBERT, span (4, 7), token 5 changed: the SBO logits moved by up to "
             f"{moved:.2f} in the whole model; under the head alone, changing the hidden states inside the span moves "
             f"them {'not at all' if head_alone == 0 else f'by {head_alone:.2f}'}. The head reads the two boundary states, but those come out of "
             f"the encoder, whose self-attention reads every token, the span's too. In pre-training the span is "
             f"all [MASK], so the boundaries must carry what the span held from the rest of the text.")
    if said == "same":
        raise AssertionError(f"the logits change. {story}")
    print(f"Right: {story}")


# -- 11.7 ---------------------------------------------------------------------------------------------------------
def _sbo_variants(head, hidden, targets, weight) -> dict[str, torch.Tensor]:
    """What typical slips compute, to name the slip (never shown to the learner as values)."""
    row, position, left, right = targets.unbind(1)
    relative = head.position((position - left - 1).clamp(max=head.max_span_length - 1))
    shifted = head.position((position - left).clamp(max=head.max_span_length - 1))

    def ffn(h0, act=F.gelu, norms=True):
        h1 = act(head.layer1(h0))
        h1 = head.norm1(h1) if norms else h1
        y = act(head.layer2(h1))
        return head.norm2(y) if norms else y

    both = (hidden[row, left], hidden[row, right])
    inside = (hidden[row, (left + 1)], hidden[row, (right - 1)])
    return {
        "swapped": F.linear(ffn(torch.cat([both[1], both[0], relative], -1)), weight, head.bias),
        "inside": F.linear(ffn(torch.cat([*inside, relative], -1)), weight, head.bias),
        "shifted": F.linear(ffn(torch.cat([*both, shifted], -1)), weight, head.bias),
        "relu": F.linear(ffn(torch.cat([*both, relative], -1), act=F.relu), weight, head.bias),
        "tanh": F.linear(ffn(torch.cat([*both, relative], -1), act=lambda x: F.gelu(x, approximate="tanh")),
                         weight, head.bias),
        "no norms": F.linear(ffn(torch.cat([*both, relative], -1), norms=False), weight, head.bias),
        "no bias": F.linear(ffn(torch.cat([*both, relative], -1)), weight),
    }


_SBO_SLIPS = {
    "swapped": "the left boundary comes first in the concatenation, then the right one, then the position",
    "inside": "the boundaries are the tokens just OUTSIDE the span (targets already give their positions)",
    "shifted": "the relative position of the span's first token is 1, stored in row 0 of head.position",
    "relu": "the activation is GeLU, not ReLU",
    "tanh": "the activation is the exact GeLU (F.gelu), not its tanh approximation",
    "no norms": "each layer is LayerNorm(GeLU(linear(...))): the two LayerNorms are missing",
    "no bias": "the scores are y @ embedding_weight.T plus head.bias",
}


@exercise("11.7", "the span boundary head", kind="build",
          builds=("minibert.models.spanbert.SpanBoundaryHead", "minibert.models.spanbert.SpanBoundaryHead.forward",
                  "minibert.models.spanbert.SpanBoundaryHead.represent"),
          shortcut="""
          def answer(head, hidden, targets, embedding_weight):
              return head(hidden, targets, embedding_weight)
          """,
          hints=("Each row of targets names one span token and its two boundaries. Gather the two boundary states, "
                 "add the embedding of the token's place inside the span, and pass the three through two layers "
                 "of GeLU then LayerNorm; score the result against every token embedding, as an MLM head does.",
                 "row, position, left, right = targets.unbind(1) (each (n,)); hidden[row, left] is (n, H). "
                 "head.position(position - left - 1) is (n, H) (row 0 = the first token of a span). "
                 "torch.cat([...], dim=-1) gives (n, 3H); head.layer1 maps 3H -> H, head.layer2 H -> E; F.gelu; "
                 "head.norm1, head.norm2. Logits: y @ embedding_weight.T + head.bias, (n, V).",
                 "row, position, left, right = targets.unbind(1)\n"
                 "h0 = torch.cat([hidden[row, left], hidden[row, right], head.position(...)], dim=-1)\n"
                 "h1 = head.norm1(F.gelu(head.layer1(h0)))\n"
                 "y = ...\nreturn y @ embedding_weight.T + head.bias"),
          solution="""
          import torch
          import torch.nn.functional as F

          def answer(head, hidden, targets, embedding_weight):
              row, position, left, right = targets.unbind(1)            # each (n,)
              boundaries = [hidden[row, left], hidden[row, right]]      # two (n, H)
              inside = head.position(position - left - 1)               # (n, H): row 0 = first token of the span
              h0 = torch.cat([*boundaries, inside], dim=-1)             # (n, 3H)
              h1 = head.norm1(F.gelu(head.layer1(h0)))                  # (n, H)
              y = head.norm2(F.gelu(head.layer2(h1)))                   # (n, E)
              return y @ embedding_weight.T + head.bias                 # (n, V)
          """,
          wrong=("""
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, right], hidden[row, left], head.position(position - left - 1)], -1)
                     y = head.norm2(F.gelu(head.layer2(head.norm1(F.gelu(head.layer1(h0))))))
                     return y @ embedding_weight.T + head.bias
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, left], hidden[row, right], head.position(position - left - 1)], -1)
                     y = head.norm2(F.relu(head.layer2(head.norm1(F.relu(head.layer1(h0))))))
                     return y @ embedding_weight.T + head.bias
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, left], hidden[row, right], head.position(position - left)], -1)
                     y = head.norm2(F.gelu(head.layer2(head.norm1(F.gelu(head.layer1(h0))))))
                     return y @ embedding_weight.T + head.bias
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, left], hidden[row, right], head.position(position - left - 1)], -1)
                     y = head.norm2(F.gelu(head.layer2(head.norm1(F.gelu(head.layer1(h0))))))
                     return y @ embedding_weight.T
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, left + 1], hidden[row, right - 1],
                                     head.position(position - left - 1)], -1)
                     y = head.norm2(F.gelu(head.layer2(head.norm1(F.gelu(head.layer1(h0))))))
                     return y @ embedding_weight.T + head.bias
                 """))
@_own_rng
def _(answer):
    from minibert import BertConfig
    from minibert.models.spanbert import SpanBoundaryHead, span_targets

    g = torch.Generator().manual_seed(3)
    for sizes, max_span, spans, length in (
            (dict(hidden_size=16), 8, [[(1, 4), (6, 7)], [(3, 10)], [(9, 11)]], 12),
            (dict(hidden_size=24, embedding_size=8), 6, [[(2, 8)], [(1, 2), (4, 6), (10, 13)]], 14)):
        config = BertConfig.tiny(vocab_size=40, num_attention_heads=2, **sizes)
        head = SpanBoundaryHead(config, max_span_length=max_span).eval()
        with torch.no_grad():
            for p in head.parameters():  # far from the initial values, so that every parameter shows
                p.copy_(torch.randn(p.shape, generator=g) * 0.5 + (1.0 if p.dim() == 1 and p.shape[0] != 40 else 0))
        hidden = torch.randn(len(spans), length, config.hidden_size, generator=g)
        weight = torch.randn(40, config.embedding_width, generator=g)
        targets = span_targets(spans, len(spans), length, max_span)
        with torch.no_grad():
            expected = head(hidden, targets, weight)
            got = _call(answer, head, hidden.clone(), targets.clone(), weight.clone())
            got = _tensor(got, "the logits")
            assert tuple(got.shape) == tuple(expected.shape), (
                f"return one row of {config.vocab_size} scores per span token: shape {tuple(expected.shape)}, got "
                f"{tuple(got.shape)}")
            got = got.to(expected.dtype)
            if not torch.allclose(got, expected, atol=1e-4, rtol=1e-4):
                for slip, value in _sbo_variants(head, hidden, targets, weight).items():
                    if torch.allclose(got, value, atol=1e-4, rtol=1e-4):
                        raise AssertionError(f"not the head's logits: {_SBO_SLIPS[slip]}")
                raise AssertionError("not the head's logits: check the order [left boundary; right boundary; "
                                     "position embedding], GeLU then LayerNorm in each layer, and the tied "
                                     "scores plus the bias")

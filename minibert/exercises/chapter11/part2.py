"""Chapter 11: exercises 11.5."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _check_spans, _groups, _library_statistics, _spans_of  # noqa: F401 (shared with part1's exercises)


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

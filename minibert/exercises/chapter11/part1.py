"""Chapter 11: exercises 11.1, 11.2, 11.3, 11.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


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

r"""Choosing what a masked language model must predict: BERT's 15% with 80/10/10, whole words, SpanBERT spans.

Devlin et al. (2019), section 3.1: pick 15% of the token positions; replace a picked token by ``[MASK]`` 80% of
the time, by a random token 10% of the time, and leave it unchanged 10% of the time; predict the original token
at every picked position. The loss only looks at the picked set :math:`M`:

.. math::  \mathcal{L}_{\mathrm{MLM}} = -\frac{1}{|M|}\sum_{t \in M} \log p_\theta(x_t \mid \tilde{x})

Variants, all behind one :class:`Masker`:

- ``selection="exact"``: BERT's ``create_pretraining_data.py`` picks exactly
  ``min(max_predictions, max(1, round(rate * n)))`` of the ``n`` maskable tokens of a sequence (a static mask,
  made once during preprocessing). ``selection="bernoulli"`` picks each token independently with probability
  ``rate`` (Hugging Face's collator; RoBERTa's *dynamic* masking draws such a mask anew every time a sequence is seen).
- ``unit="word"``: whole-word masking. A word (WordPiece ``##`` pieces, or a Chinese word found by a segmenter)
  is picked or left as a whole.
- ``unit="span"``: SpanBERT (Joshi et al., 2020). Span lengths in words follow a geometric distribution
  :math:`\ell \sim \mathrm{Geo}(p=0.2)` truncated at 10 (mean 3.8 words); spans are added until 15% of the tokens are
  covered, and the 80/10/10 decision is taken once per span.

Special tokens (``[CLS]``, ``[SEP]``...) and padding are never picked. Labels are the original ids at picked
positions and -100 elsewhere, the value ``torch.nn.functional.cross_entropy`` and ``BertForMaskedLM`` ignore.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

from minibert.core.checks import integer, number
from minibert.core.inputs import IGNORE_INDEX

__all__ = ["IGNORE_INDEX", "NOT_SELECTED", "MASKED", "RANDOM", "KEPT", "MaskedBatch", "Masker",
           "span_length_distribution", "as_generator"]

# What happened at each position (``MaskedBatch.decisions``).
NOT_SELECTED, MASKED, RANDOM, KEPT = 0, 1, 2, 3


def as_generator(seed_or_generator) -> torch.Generator:
    """A ``torch.Generator``: passed through, or made from an integer seed."""
    if isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    if isinstance(seed_or_generator, int) and not isinstance(seed_or_generator, bool):
        return torch.Generator().manual_seed(seed_or_generator)
    raise TypeError("pass a torch.Generator (or an integer seed) so that the random choices are reproducible, "
                    f"got {type(seed_or_generator).__name__}")


def span_length_distribution(p: float = 0.2, max_length: int = 10) -> torch.Tensor:
    """``P(length = k)`` for ``k = 1..max_length``: a geometric distribution truncated and renormalised, as in
    SpanBERT's code. For p=0.2, max_length=10 the mean is 3.797 words."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"span probability p must be in (0, 1], got {p}")
    integer("", "max span length", max_length, minimum=1)
    k = torch.arange(1, max_length + 1, dtype=torch.float64)
    weights = p * (1 - p) ** (k - 1)
    return weights / weights.sum()


@dataclass
class MaskedBatch:
    """``input_ids``: what the model sees; ``labels``: original ids where a prediction is due, -100 elsewhere;
    ``decisions``: per position NOT_SELECTED (0), MASKED (1), RANDOM (2) or KEPT (3); ``spans``: per row, the
    ``(start, end, n_words)`` position ranges that were picked together (words or spans; empty for tokens);
    for a 1-D input the tensors are 1-D and ``spans`` is that sequence's list."""

    input_ids: torch.Tensor
    labels: torch.Tensor
    decisions: torch.Tensor
    spans: list[list[tuple[int, int, int]]]


class Masker:
    """Masks token ids for masked-language-model training. Tokenizer-agnostic: it needs the ``[MASK]`` id, the
    vocabulary size and the ids never to touch (special tokens, padding); words come as ``word_ids``.

    >>> masker = Masker(mask_token_id=103, vocab_size=30522, special_ids={0, 100, 101, 102, 103})
    >>> batch = masker(input_ids, generator=torch.Generator().manual_seed(0))
    """

    UNITS = ("token", "word", "span")
    SELECTIONS = ("exact", "bernoulli")

    def __init__(self, mask_token_id: int, vocab_size: int, special_ids: Iterable[int], *, rate: float = 0.15,
                 split: Sequence[float] = (0.8, 0.1, 0.1), unit: str = "token", selection: str = "exact",
                 max_predictions: int | None = None, span_p: float = 0.2, max_span: int = 10,
                 span_selector=None):
        rate = number("", "masking rate", rate, 0.0, 1.0, low_open=True, high_open=True, why="the fraction of tokens to predict; BERT uses 0.15")
        split = tuple(float(x) for x in split)
        if len(split) != 3 or min(split) < 0 or not math.isclose(sum(split), 1.0, abs_tol=1e-6):
            raise ValueError(f"split must be three non-negative fractions ([MASK], random, unchanged) summing to 1, "
                             f"e.g. (0.8, 0.1, 0.1); got {split} (sum {sum(split):.6g})")
        if unit not in self.UNITS:
            raise ValueError(f"unit must be one of {self.UNITS}, got {unit!r}")
        if selection not in self.SELECTIONS:
            raise ValueError(f"selection must be one of {self.SELECTIONS}, got {selection!r}")
        if unit == "span" and selection != "exact":
            raise ValueError("span masking fills a budget of rate * n tokens; use selection='exact'")
        if span_selector is not None and (unit != "span" or not callable(span_selector)):
            raise ValueError("span_selector is a function that replaces SpanBERT's span selection: pass a callable, "
                             "with unit='span'")
        if span_selector is not None and max_predictions is not None:
            raise ValueError("a span_selector works out its own budget from the rate; leave max_predictions=None")
        integer("", "max_predictions", max_predictions, minimum=1, none=True)
        integer("", "vocab_size", vocab_size, minimum=2)
        if not 0 <= mask_token_id < vocab_size:
            raise ValueError(f"mask_token_id {mask_token_id} is outside the vocabulary [0, {vocab_size})")
        special = list(special_ids)
        for i in special:
            if isinstance(i, (str, bytes, float)) or (isinstance(i, torch.Tensor) and i.is_floating_point()):
                raise TypeError(f"special_ids must be token ids (integers), got {i!r}; turn tokens into ids with "
                                "tokenizer.convert_tokens_to_ids(...)")
        self.mask_token_id = int(mask_token_id)
        self.vocab_size = vocab_size
        self.special_ids = torch.tensor(sorted({int(i) for i in special} | {self.mask_token_id}), dtype=torch.long)
        # Random replacements are drawn from the ordinary tokens: a random [CLS] or [PAD] would teach nothing.
        ordinary = torch.ones(vocab_size, dtype=torch.bool)
        ordinary[self.special_ids[self.special_ids < vocab_size]] = False
        self.random_pool = ordinary.nonzero().squeeze(1)
        if self.random_pool.numel() == 0:
            raise ValueError("every id is special: there is no ordinary token to use as a random replacement")
        self.rate, self.split, self.unit, self.selection = float(rate), split, unit, selection
        self.max_predictions = max_predictions
        self.span_lengths = span_length_distribution(span_p, max_span) if unit == "span" else None
        self.span_p, self.max_span, self.span_selector = span_p, max_span, span_selector

    @classmethod
    def from_tokenizer(cls, tokenizer, **options) -> "Masker":
        """Read the ids from a minibert ``WordPieceTokenizer`` or a ``transformers`` tokenizer."""
        special = getattr(tokenizer, "special_ids", None)
        if special is None:
            special = tokenizer.all_special_ids
        vocab = getattr(tokenizer, "vocab", None)
        size = len(vocab) if vocab is not None else len(tokenizer)
        return cls(tokenizer.mask_token_id, size, special, **options)

    def __repr__(self) -> str:
        return (f"Masker(rate={self.rate}, split={self.split}, unit={self.unit!r}, selection={self.selection!r}, "
                f"max_predictions={self.max_predictions})")

    def budget(self, n_maskable: int) -> int:
        """How many tokens BERT's exact procedure picks among ``n_maskable``: min(max_pred, max(1, round(rate n)))."""
        k = max(1, round(self.rate * n_maskable))
        return min(k, self.max_predictions) if self.max_predictions is not None else k

    def maskable(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Boolean mask of the positions that may be picked: not special, not padding."""
        allowed = ~torch.isin(input_ids, self.special_ids)
        return allowed & attention_mask.bool() if attention_mask is not None else allowed

    def __call__(self, input_ids: torch.Tensor, generator=0, *, word_ids=None,
                 attention_mask: torch.Tensor | None = None) -> MaskedBatch:
        """Mask ``input_ids`` ``(batch, T)`` or ``(T,)``. ``word_ids`` (needed for ``unit="word"``/``"span"``): per
        position the index of its word, ``None``/-1 for special tokens, as a tensor or nested lists."""
        generator = as_generator(generator)
        ids, words, mask, single = self._check(input_ids, word_ids, attention_mask)
        maskable = self.maskable(ids, mask)
        empty = (~maskable.any(1)).nonzero().flatten().tolist()
        if empty:
            raise ValueError(f"sequence {empty[0]} has no maskable token (only special tokens or padding); "
                             "drop empty sequences before masking")
        spans: list[list[tuple[int, int, int]]] = [[] for _ in range(ids.shape[0])]
        if self.unit == "token":
            selected = self._select_tokens(maskable, generator)
            choice = torch.rand(ids.shape, generator=generator, dtype=torch.float64)
        else:
            selected = torch.zeros_like(maskable)
            choice = torch.zeros(ids.shape, dtype=torch.float64)
            for row in range(ids.shape[0]):
                groups = _word_groups(words[row], maskable[row])
                picked = self._select_spans(groups, generator) if self.unit == "span" else \
                    self._select_groups(groups, generator)
                for start, end, n_words in picked:
                    selected[row, start:end] = True
                spans[row] = picked
                if self.unit == "span":  # one decision per span
                    for (start, end, _), u in zip(picked, torch.rand(len(picked), generator=generator,
                                                                        dtype=torch.float64).tolist()):
                        choice[row, start:end] = u
                else:  # whole words: one decision per token, as in BERT's code
                    choice[row] = torch.rand(ids.shape[1], generator=generator, dtype=torch.float64)
        return self._apply(ids, selected, choice, spans, generator, single)

    # -- selection -----------------------------------------------------------------------------------------------
    def _select_tokens(self, maskable: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        scores = torch.rand(maskable.shape, generator=generator)
        if self.selection == "bernoulli":
            return maskable & (scores < self.rate)
        # exact: the k lowest random scores among the maskable positions form a uniform random k-subset
        counts = maskable.sum(1).tolist()
        k = torch.tensor([self.budget(n) for n in counts])
        rank = scores.masked_fill(~maskable, 2.0).argsort(dim=1, stable=True).argsort(dim=1, stable=True)
        return rank < k[:, None]

    def _select_groups(self, groups: list[tuple[int, int]], generator: torch.Generator) -> list[tuple[int, int, int]]:
        """Whole words: in a random order, take every word that still fits in the budget (BERT skips a word that
        would overflow and tries the next)."""
        if self.selection == "bernoulli":
            draws = torch.rand(len(groups), generator=generator).tolist()
            return [(s, e, 1) for (s, e), u in zip(groups, draws) if u < self.rate]
        budget = self.budget(sum(e - s for s, e in groups))
        picked, used = [], 0
        for g in torch.randperm(len(groups), generator=generator).tolist():
            start, end = groups[g]
            if used + end - start <= budget:
                picked.append((start, end, 1))
                used += end - start
            if used == budget:
                break
        return sorted(picked)

    def _select_spans(self, groups: list[tuple[int, int]], generator: torch.Generator) -> list[tuple[int, int, int]]:
        """SpanBERT: draw a length in words, start at a random unpicked word, extend over following words of the
        same segment while they are unpicked and fit in the token budget; repeat until the budget is full.

        With ``span_selector`` (chapter 11's exercise: the learner's own selection, run inside the masker) this calls
        ``span_selector(groups, generator, rate=..., p=..., max_words=...)`` instead; it returns the same
        ``(start, end, n_words)`` triples."""
        if self.span_selector is not None:
            return sorted((int(s), int(e), int(n)) for s, e, n in self.span_selector(
                groups, generator, rate=self.rate, p=self.span_p, max_words=self.max_span))
        budget = self.budget(sum(e - s for s, e in groups))
        taken = [False] * len(groups)
        spans, used = [], 0
        while used < budget:
            starts = [w for w, (s, e) in enumerate(groups) if not taken[w] and e - s <= budget - used]
            if not starts:
                break
            length = int(torch.multinomial(self.span_lengths, 1, generator=generator)) + 1
            first = last = starts[int(torch.randint(len(starts), (1,), generator=generator))]
            taken[first] = True
            used += groups[first][1] - groups[first][0]
            while last - first + 1 < length and last + 1 < len(groups):
                nxt = last + 1
                start, end = groups[nxt]
                if taken[nxt] or start != groups[last][1] or used + end - start > budget:
                    break
                taken[nxt], used, last = True, used + end - start, nxt
            spans.append((groups[first][0], groups[last][1], last - first + 1))
        return sorted(spans)

    # -- replacement ---------------------------------------------------------------------------------------------
    def _apply(self, ids, selected, choice, spans, generator, single) -> MaskedBatch:
        to_mask, to_random = self.split[0], self.split[0] + self.split[1]
        decisions = torch.full(ids.shape, NOT_SELECTED, dtype=torch.int8)
        decisions[selected & (choice < to_mask)] = MASKED
        decisions[selected & (choice >= to_mask) & (choice < to_random)] = RANDOM
        decisions[selected & (choice >= to_random)] = KEPT
        random_ids = self.random_pool[torch.randint(len(self.random_pool), ids.shape, generator=generator)]
        inputs = torch.where(decisions == MASKED, torch.full_like(ids, self.mask_token_id), ids)
        inputs = torch.where(decisions == RANDOM, random_ids, inputs)
        labels = torch.where(selected, ids, torch.full_like(ids, IGNORE_INDEX))
        if single:
            return MaskedBatch(inputs[0], labels[0], decisions[0], spans[0])
        return MaskedBatch(inputs, labels, decisions, spans)

    def _check(self, input_ids, word_ids, attention_mask):
        if not isinstance(input_ids, torch.Tensor) or input_ids.is_floating_point() or input_ids.dtype == torch.bool:
            raise TypeError("input_ids must be an integer torch.Tensor of token ids")
        if input_ids.dim() not in (1, 2) or input_ids.numel() == 0:
            raise ValueError(f"input_ids must be a non-empty (batch, T) or (T,) tensor, got shape {tuple(input_ids.shape)}")
        single = input_ids.dim() == 1
        ids = input_ids.long().unsqueeze(0) if single else input_ids.long()
        if int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size:
            raise ValueError(f"input_ids has ids outside the vocabulary [0, {self.vocab_size})")
        mask = None
        if attention_mask is not None:
            if not isinstance(attention_mask, torch.Tensor) or tuple(attention_mask.shape) != tuple(input_ids.shape):
                shape = tuple(attention_mask.shape) if isinstance(attention_mask, torch.Tensor) else type(attention_mask).__name__
                raise ValueError(f"attention_mask has shape {shape} but input_ids has {tuple(input_ids.shape)}")
            mask = attention_mask.reshape(ids.shape)
        words = None
        if self.unit != "token":
            if word_ids is None:
                raise ValueError(f"unit={self.unit!r} needs word_ids (which word each token belongs to); get them "
                                 "from the tokenizer's encoding, wordpiece_word_ids(tokens) or chinese_word_ids(tokens)")
            words = _word_id_tensor(word_ids, ids.shape, single)
        return ids, words, mask, single


def _word_id_tensor(word_ids, shape, single) -> torch.Tensor:
    if isinstance(word_ids, torch.Tensor):
        words = word_ids.long()
    else:
        rows = [word_ids] if single else list(word_ids)
        try:
            words = torch.tensor([[-1 if w is None else int(w) for w in row] for row in rows], dtype=torch.long)
        except (ValueError, TypeError):
            raise ValueError("word_ids rows must all have the length of their input_ids row") from None
    words = words.reshape(1, -1) if single and words.dim() == 1 else words
    if tuple(words.shape) != tuple(shape):
        raise ValueError(f"word_ids has shape {tuple(words.shape)} but input_ids has {tuple(shape)}; give one word "
                         "index per token (None or -1 for special tokens)")
    return words


def _word_groups(words: torch.Tensor, maskable: torch.Tensor) -> list[tuple[int, int]]:
    """Maximal runs of maskable positions sharing a word id, as ``(start, end)`` position ranges."""
    groups: list[tuple[int, int]] = []
    previous = None
    for t, (w, ok) in enumerate(zip(words.tolist(), maskable.tolist())):
        if not ok or w < 0:
            previous = None
            continue
        if previous is not None and w == previous and groups[-1][1] == t:
            groups[-1] = (groups[-1][0], t + 1)
        else:
            groups.append((t, t + 1))
        previous = w
    return groups

r"""Corrupting text for encoder-decoder pre-training: T5's span corruption and BART's five noise functions.

An encoder-decoder is trained to undo damage: the encoder reads a corrupted input :math:`\tilde x`, the decoder
writes a target :math:`y` token by token, and the loss is :math:`-\sum_t \log p(y_t \mid y_{<t}, \tilde x)`.
What differs between models is the damage and the target.

**T5** (Raffel et al., 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
section 3.1.4): drop 15% of the tokens in spans of mean length 3; each dropped span becomes one *sentinel* in the
input, and the target lists the dropped spans, each after its sentinel:

    input   Thank you <X> me to your party <Y> week .
    target  <X> for inviting <Y> last

Spans are placed as in T5's ``random_spans_noise_mask``: ``round(0.15 n)`` noise tokens are cut into
``round(noise / 3)`` non-empty spans at random (every composition equally likely), the rest into as many non-empty
gaps, and the two interleave starting with a gap.

**BART** (Lewis et al., 2020, "BART: Denoising Sequence-to-Sequence Pre-training", section 2.2): the target is the
whole original document and the input is damaged by one of: token masking (BERT-style ``[MASK]``), token deletion
(the model must find *where* tokens are missing), text infilling (spans with lengths drawn from Poisson(3) each
become ONE ``[MASK]``, so the model also learns how many tokens are missing; a 0-length span inserts a
``[MASK]``), sentence permutation, and document rotation (find the true start).

Everything works on plain Python lists of tokens (strings or ids); every random choice comes from a
``torch.Generator``, so a seed fixes the result.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import torch

from minibert.core.checks import integer, number
from minibert.masking.mlm import as_generator

__all__ = ["t5_noise_mask", "span_corrupt", "span_uncorrupt", "t5_span_corruption", "t5_span_length_pmf",
           "Noised", "token_masking", "token_deletion", "text_infilling", "sentence_permutation",
           "document_rotation", "poisson_span_lengths", "spans_of"]


def _tokens(tokens, name: str = "tokens") -> list:
    if isinstance(tokens, torch.Tensor):
        if tokens.dim() != 1:
            raise ValueError(f"{name} must be one sequence (1-D), got shape {tuple(tokens.shape)}")
        tokens = tokens.tolist()
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(f"{name} must be a list of tokens (strings or ids); split a text with text.split() first")
    if len(tokens) == 0:
        raise ValueError(f"{name} is empty: there is nothing to corrupt")
    return list(tokens)


def _random_segmentation(num_items: int, num_segments: int, generator: torch.Generator) -> list[int]:
    """Cut ``num_items`` into ``num_segments`` non-empty parts, every composition equally likely: choose which of
    the ``num_items - 1`` gaps between items start a new segment."""
    starts = torch.zeros(num_items - 1, dtype=torch.long)
    starts[: num_segments - 1] = 1
    starts = starts[torch.randperm(num_items - 1, generator=generator)]
    segment_id = torch.cat([torch.zeros(1, dtype=torch.long), starts.cumsum(0)])
    return torch.bincount(segment_id, minlength=num_segments).tolist()


def t5_noise_mask(length: int, noise_density: float = 0.15, mean_span_length: float = 3.0,
                  generator=0) -> list[bool]:
    """T5's ``random_spans_noise_mask``: ``True`` at the ``round(density * length)`` corrupted positions, in
    ``round(noise / mean_span_length)`` spans (at least one token and one span; at least one token stays)."""
    integer("", "length", length, minimum=2, why="one token to corrupt, one to keep")
    density = number("", "noise_density", noise_density, 0.0, 1.0, low_open=True, high_open=True)
    mean_span_length = number("", "mean_span_length", mean_span_length, low=1.0)
    generator = as_generator(generator)
    num_noise = min(max(int(round(length * density)), 1), length - 1)
    num_spans = max(int(round(num_noise / mean_span_length)), 1)
    num_spans = min(num_spans, length - num_noise)  # every span needs a gap before it
    noise_lengths = _random_segmentation(num_noise, num_spans, generator)
    keep_lengths = _random_segmentation(length - num_noise, num_spans, generator)
    mask: list[bool] = []
    for keep, noise in zip(keep_lengths, noise_lengths):
        mask += [False] * keep + [True] * noise
    return mask


def t5_span_length_pmf(num_noise: int, num_spans: int) -> dict[int, float]:
    """Exact distribution of one span's length under :func:`t5_noise_mask` (a uniformly random composition of
    ``num_noise`` into ``num_spans`` positive parts): ``P(l) = C(N - l - 1, k - 2) / C(N - 1, k - 1)``."""
    if num_spans == 1:
        return {num_noise: 1.0}
    total = math.comb(num_noise - 1, num_spans - 1)
    return {l: math.comb(num_noise - l - 1, num_spans - 2) / total for l in range(1, num_noise - num_spans + 2)}


def spans_of(mask: Sequence[bool]) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of ``True`` in ``mask``."""
    spans, start = [], None
    for i, value in enumerate(list(mask) + [False]):
        if value and start is None:
            start = i
        elif not value and start is not None:
            spans.append((start, i))
            start = None
    return spans


def span_corrupt(tokens, noise_mask: Sequence[bool], sentinels: Sequence[Hashable]) -> tuple[list, list]:
    """Replace each noise span by the next sentinel in the input; the target lists ``sentinel_k, span_k...``.
    Raises ValueError when there are more spans than sentinels (T5 has 100: ``<extra_id_0>`` .. ``<extra_id_99>``)."""
    tokens = _tokens(tokens)
    noise_mask = [bool(m) for m in noise_mask]
    if len(noise_mask) != len(tokens):
        raise ValueError(f"noise_mask has {len(noise_mask)} entries for {len(tokens)} tokens")
    sentinels = list(sentinels)
    clash = set(sentinels) & set(tokens)
    if clash:
        raise ValueError(f"the text already contains sentinel token(s) {sorted(map(str, clash))[:3]}; the target "
                         "could not be parsed back. Use sentinels outside the text's vocabulary")
    spans = spans_of(noise_mask)
    if len(spans) > len(sentinels):
        raise ValueError(f"sentinel budget exceeded: {len(spans)} noise spans but only {len(sentinels)} sentinels. "
                         f"Use a shorter sequence, a lower noise density or longer spans, or more sentinel tokens")
    inputs, targets, previous_end = [], [], 0
    for sentinel, (start, end) in zip(sentinels, spans):
        inputs += tokens[previous_end:start] + [sentinel]
        targets += [sentinel] + tokens[start:end]
        previous_end = end
    inputs += tokens[previous_end:]
    return inputs, targets


def span_uncorrupt(inputs, targets, sentinels: Sequence[Hashable]) -> list:
    """Put the target's spans back in place of the input's sentinels: the inverse of :func:`span_corrupt`."""
    sentinels = list(sentinels)
    index = {s: k for k, s in enumerate(sentinels)}
    pieces: dict[Any, list] = {}
    current = None
    for token in targets:
        if token in index:
            current = token
            pieces[current] = []
        elif current is None:
            raise ValueError("the target must start with a sentinel")
        else:
            pieces[current].append(token)
    restored = []
    for token in inputs:
        if token in index:
            if token not in pieces:
                raise ValueError(f"sentinel {token!r} is in the input but not in the target")
            restored += pieces[token]
        else:
            restored.append(token)
    return restored


def t5_span_corruption(tokens, sentinels: Sequence[Hashable], noise_density: float = 0.15,
                       mean_span_length: float = 3.0, generator=0) -> tuple[list, list]:
    """T5's pre-training example from ``tokens``: ``(input, target)`` (see the module docstring)."""
    tokens = _tokens(tokens)
    mask = t5_noise_mask(len(tokens), noise_density, mean_span_length, generator)
    return span_corrupt(tokens, mask, sentinels)


# -- BART ---------------------------------------------------------------------------------------------------------
@dataclass
class Noised:
    """A BART training pair. ``target`` is always the original document; ``source`` the damaged input.
    ``edits`` records what was done (positions, spans, an order, an offset) so it can be inspected and checked."""

    source: list
    target: list
    edits: dict = field(default_factory=dict)


def _choose(n: int, k: int, generator: torch.Generator) -> list[int]:
    return sorted(torch.randperm(n, generator=generator)[:k].tolist())


def token_masking(tokens, ratio: float = 0.15, mask_token: Hashable = "[MASK]", generator=0) -> Noised:
    """Replace ``round(ratio * n)`` random tokens by ``mask_token`` (BERT's masking, without the 80/10/10)."""
    tokens, ratio = _tokens(tokens), number("", "ratio", ratio, 0.0, 1.0, high_open=True)
    generator = as_generator(generator)
    positions = _choose(len(tokens), round(ratio * len(tokens)), generator)
    chosen = set(positions)
    source = [mask_token if i in chosen else t for i, t in enumerate(tokens)]
    return Noised(source, tokens, {"positions": positions})


def token_deletion(tokens, ratio: float = 0.15, generator=0) -> Noised:
    """Delete ``round(ratio * n)`` random tokens: unlike masking, the input does not say where they were."""
    tokens, ratio = _tokens(tokens), number("", "ratio", ratio, 0.0, 1.0, high_open=True)
    generator = as_generator(generator)
    positions = _choose(len(tokens), round(ratio * len(tokens)), generator)
    gone = set(positions)
    return Noised([t for i, t in enumerate(tokens) if i not in gone], tokens, {"positions": positions})


def poisson_span_lengths(budget: int, poisson_lambda: float = 3.0, generator=0) -> list[int]:
    """Span lengths drawn from Poisson(``poisson_lambda``) until they cover ``budget`` tokens; the last one is cut
    so that they sum to exactly ``budget`` (as fairseq's BART does). Zero lengths are kept: each is an insertion."""
    integer("", "budget", budget, minimum=0)
    poisson_lambda = number("", "poisson_lambda", poisson_lambda, low=0.0, low_open=True)
    generator = as_generator(generator)
    lengths: list[int] = []
    covered = 0
    rate = torch.full((max(8, 2 * int(budget / poisson_lambda) + 1),), float(poisson_lambda), dtype=torch.float64)
    while covered < budget:  # draw in batches; almost always one batch is enough
        for length in torch.poisson(rate, generator=generator).long().tolist():
            lengths.append(min(length, budget - covered))
            covered += lengths[-1]
            if covered == budget:
                break
    return lengths


def text_infilling(tokens, ratio: float = 0.3, poisson_lambda: float = 3.0, mask_token: Hashable = "[MASK]",
                   generator=0) -> Noised:
    """Cover ``round(ratio * n)`` tokens with spans of Poisson(``poisson_lambda``) lengths, each replaced by ONE
    ``mask_token``. Spans go into random gaps between the kept tokens (the same gap may take several).
    ``edits["spans"]``: ``(start, length)`` in the original, in order; one ``[MASK]`` in the source per span."""
    tokens, ratio = _tokens(tokens), number("", "ratio", ratio, 0.0, 1.0, high_open=True)
    generator = as_generator(generator)
    lengths = poisson_span_lengths(round(ratio * len(tokens)), poisson_lambda, generator)
    kept = len(tokens) - sum(lengths)
    order = torch.randperm(len(lengths), generator=generator).tolist()  # which span goes first in the text
    gaps = sorted(torch.randint(0, kept + 1, (len(lengths),), generator=generator).tolist())
    source, spans, position, kept_so_far = [], [], 0, 0
    for gap, which in zip(gaps, order):
        while kept_so_far < gap:  # copy kept tokens up to this gap
            source.append(tokens[position])
            position, kept_so_far = position + 1, kept_so_far + 1
        spans.append((position, lengths[which]))
        source.append(mask_token)
        position += lengths[which]
    source += tokens[position:]
    return Noised(source, tokens, {"spans": spans, "lengths": lengths})


def sentence_permutation(sentences: Sequence[Sequence], generator=0) -> Noised:
    """Shuffle the sentences of a document (a list of token lists); source and target are the flattened documents.
    ``edits["order"][k]`` is the original index of the k-th sentence of the source."""
    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or len(sentences) == 0:
        raise ValueError("sentences must be a non-empty list of sentences, each a list of tokens")
    sentences = [_tokens(s, "each sentence") for s in sentences]
    order = torch.randperm(len(sentences), generator=as_generator(generator)).tolist()
    source = [t for k in order for t in sentences[k]]
    return Noised(source, [t for s in sentences for t in s], {"order": order})


def document_rotation(tokens, generator=0) -> Noised:
    """Pick a token uniformly at random and rotate the document to start with it; the model must find the start.
    ``edits["offset"]``: the original index of the source's first token."""
    tokens = _tokens(tokens)
    offset = int(torch.randint(len(tokens), (1,), generator=as_generator(generator)))
    return Noised(tokens[offset:] + tokens[:offset], tokens, {"offset": offset})

"""Training a unigram-LM vocabulary by EM and pruning (Kudo, 2018, section 3.1).

With the vocabulary V fixed, the piece probabilities maximise the marginal likelihood of the corpus D, summed over
every segmentation S(X) of each word X (the segmentation is a hidden variable),

    L = sum_{X in D} log P(X) = sum_{X in D} log sum_{x in S(X)} prod_i p(x_i).

EM does it. E-step: the expected number of times each piece is used, c(x) = sum_X sum_{x' in S(X)} P(x' | X) *
#(x in x'), computed by forward-backward over each word's lattice (alpha: summed weight of the paths into a
position, beta: out of it; an edge's posterior is alpha(start) p(x) beta(end) / P(X)). M-step: p(x) = c(x) /
sum_y c(y). (SentencePiece's variant, ``bayesian=True``: log p(x) = digamma(c(x)) - digamma(sum_y c(y)), a
variational-Bayes update that pushes rare pieces further down, and pieces expected less than half a time are
dropped.) Each EM step never lowers L (plain M-step, no dropping; the tests check it).

The vocabulary is found by starting big and pruning. Seed: the frequent substrings of the words (each scored
count * length) plus every character. Then repeat: a few EM steps; for every piece x the loss of removing it,

    loss(x) = L - L_{V minus x},

approximated as in SentencePiece: the words whose Viterbi path uses x would instead use x's own best
segmentation without it, alt(x), so loss(x) ~= count(x) * [log p(x) - sum_{y in alt(x)} log p'(y)], where p' are
the Viterbi counts with count(x) moved onto alt(x), renormalised. (SentencePiece weights the bracket by the share
of words whose path uses x instead of by count(x).) Each round keeps the pieces with the largest loss, a fraction
``shrinking_factor`` of the vocabulary (never fewer than 10% above the target), and a last step keeps the most
probable pieces, as SentencePiece does. Single characters are always kept, so every word of the training text
stays representable.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

from minibert.core.checks import integer, number
from .bpe import count_words
from .unigram import UnigramTokenizer, _log_sum_exp, metaspace_pre_tokenize, viterbi_segment

__all__ = ["train_unigram", "seed_pieces", "em_step", "prune", "digamma"]


def digamma(x: float) -> float:
    """psi(x) = d/dx log Gamma(x) for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the
    asymptotic series (accurate to about 1e-14 there)."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    inverse2 = 1.0 / (x * x)
    return result + math.log(x) - 0.5 / x - inverse2 * (1 / 12 - inverse2 * (1 / 120 - inverse2 * (1 / 252 - inverse2 / 240)))


def seed_pieces(word_counts: dict[str, int], seed_size: int, max_piece_length: int = 16) -> dict[str, float]:
    """The starting vocabulary: every character, plus the ``seed_size`` substrings (2 to ``max_piece_length``
    characters, seen at least twice) with the largest count * length; log-probabilities proportional to that."""
    characters: Counter = Counter()
    substrings: Counter = Counter()
    for word, count in word_counts.items():
        for start in range(len(word)):
            characters[word[start]] += count
            for end in range(start + 2, min(len(word), start + max_piece_length) + 1):
                substrings[word[start:end]] += count
    ranked = sorted(((n * len(s), s) for s, n in substrings.items() if n >= 2), key=lambda t: (-t[0], t[1]))
    weights = dict(characters) | {s: float(w) for w, s in ranked[:seed_size]}
    log_total = math.log(sum(weights.values()))
    return {piece: math.log(w) - log_total for piece, w in weights.items()}


def _lattice(word: str, scores: dict[str, float], longest: int) -> list[list[tuple[int, str]]]:
    """edges_into[j]: (start, piece) for every piece word[start:j] of the vocabulary."""
    edges_into: list[list[tuple[int, str]]] = [[] for _ in range(len(word) + 1)]
    for start in range(len(word)):
        for end in range(start + 1, min(len(word), start + longest) + 1):
            if word[start:end] in scores:
                edges_into[end].append((start, word[start:end]))
    return edges_into


def em_step(word_counts: dict[str, int], scores: dict[str, float], bayesian: bool = False,
            keep: Iterable[str] = (), threshold: float = 0.5) -> tuple[dict[str, float], float]:
    """One EM step: (new log-probabilities, log-likelihood L of the corpus under the OLD ones).

    ``bayesian``: SentencePiece's digamma update, which also drops pieces expected fewer than ``threshold``
    times (except those in ``keep``)."""
    longest = max(map(len, scores))
    expected: Counter = Counter()
    likelihood = 0.0
    for word, count in word_counts.items():
        edges_into = _lattice(word, scores, longest)
        forward = [0.0] * (len(word) + 1)  # log of the summed weight of the paths into each position
        for end in range(1, len(word) + 1):
            forward[end] = _log_sum_exp([forward[s] + scores[p] for s, p in edges_into[end]])
        outgoing: list[list[float]] = [[] for _ in range(len(word) + 1)]
        backward = [0.0] * (len(word) + 1)  # ... and out of it
        for end in range(len(word), 0, -1):
            backward[end] = _log_sum_exp(outgoing[end]) if end < len(word) else 0.0
            for start, piece in edges_into[end]:
                outgoing[start].append(scores[piece] + backward[end])
        log_z = forward[len(word)]
        likelihood += count * log_z
        for end in range(1, len(word) + 1):
            for start, piece in edges_into[end]:
                expected[piece] += count * math.exp(forward[start] + scores[piece] + backward[end] - log_z)
    keep = set(keep)
    if bayesian:
        kept = {p: c for p, c in expected.items() if c >= threshold or p in keep}
        log_total = digamma(sum(kept.values()))
        # a kept piece used less than the threshold counts as used `threshold` times: digamma(c) -> -1/c near 0
        return {p: digamma(max(c, threshold)) - log_total for p, c in kept.items()}, likelihood
    log_total = math.log(sum(expected.values()))
    return {p: math.log(max(c, 1e-300)) - log_total for p, c in expected.items() if c > 0 or p in keep}, likelihood


def prune(word_counts: dict[str, int], scores: dict[str, float], target: int, shrinking_factor: float,
          keep: Iterable[str]) -> dict[str, float]:
    """Keep the pieces whose removal would cost the most likelihood: max(target, shrinking_factor * |V|) of them,
    the ``keep`` pieces (single characters) always among them."""
    keep = set(keep)
    counts: Counter = Counter()
    longest = max(map(len, scores))
    for word, count in word_counts.items():
        for piece in viterbi_segment(word, scores, -math.inf, longest):
            counts[piece] += count
    total = sum(counts.values())
    losses = []
    without = dict(scores)
    for piece in scores:
        if piece in keep:
            continue
        if counts[piece] == 0:
            losses.append((-math.inf, piece))  # unused by any Viterbi path: the first to go
            continue
        score = without.pop(piece)
        alternative = viterbi_segment(piece, without, -math.inf, longest)
        without[piece] = score
        # the piece's uses move onto its alternative pieces: each gains count(piece), the total len(alt) - 1 times
        log_total_after = math.log(total + counts[piece] * (len(alternative) - 1))
        log_p_alternative = sum(math.log(counts[y] + counts[piece]) - log_total_after for y in alternative)
        losses.append((counts[piece] * (math.log(counts[piece] / total) - log_p_alternative), piece))
    size = max(target, int(shrinking_factor * len(scores)))
    losses.sort(key=lambda t: (-t[0], t[1]))
    survivors = keep | {piece for _, piece in losses[:max(0, size - len(keep))]}
    return {piece: scores[piece] for piece in scores if piece in survivors}


def train_unigram(corpus, vocab_size: int, unk_token: str | None = "<unk>", special_tokens: Iterable[str] = (),
                  max_piece_length: int = 16, seed_size: int = 100_000, shrinking_factor: float = 0.75,
                  n_sub_iterations: int = 2, bayesian: bool = True, pre_tokenize=metaspace_pre_tokenize,
                  ) -> UnigramTokenizer:
    """A :class:`UnigramTokenizer` of ``vocab_size`` pieces trained on ``corpus`` (texts, cut into Metaspace words by
    ``pre_tokenize``; or a dict word -> count). Ids: ``unk_token``, the ``special_tokens`` (score 0), then the pieces
    from the most to the least probable. ``history`` on the result: (vocabulary size, log-likelihood per word)
    after each round. Deterministic: same input, same vocabulary."""
    specials = list(dict.fromkeys(([unk_token] if unk_token is not None else []) + list(special_tokens)))
    integer("", "max_piece_length", max_piece_length, minimum=1)
    integer("", "seed_size", seed_size, minimum=1)
    integer("", "n_sub_iterations", n_sub_iterations, minimum=1)
    number("", "shrinking_factor", shrinking_factor, low=0.0, high=1.0, low_open=True, high_open=True,
           why="the share of the pieces each pruning round keeps")
    word_counts = dict(count_words(corpus, pre_tokenize))
    characters = {c for word in word_counts for c in word}
    target = integer("", "vocab_size", vocab_size, minimum=1) - len(specials)
    if target < len(characters):
        raise ValueError(f"vocab_size={vocab_size} cannot hold the {len(characters)} characters of the corpus plus "
                         f"{len(specials)} special tokens: ask for at least {len(characters) + len(specials)}")
    scores = seed_pieces(word_counts, seed_size, max_piece_length)
    n_words = sum(word_counts.values())
    history = []
    pruned_target = max(target, math.ceil(1.1 * target))  # SentencePiece prunes to 10% above, then keeps the best
    while True:
        # once pruned to size, EM only re-estimates: no piece is dropped below the requested size
        keep = characters | (set(scores) if len(scores) <= pruned_target else set())
        for _ in range(n_sub_iterations):
            scores, likelihood = em_step(word_counts, scores, bayesian, keep=keep)
        history.append((len(scores), float(likelihood / n_words)))
        if len(scores) <= pruned_target:
            break
        scores = prune(word_counts, scores, pruned_target, shrinking_factor, keep=characters)
    if len(scores) > target:  # the most probable pieces, every character among them
        ranked = sorted((p for p in scores if p not in characters), key=lambda p: (-scores[p], p))
        survivors = characters | set(ranked[:target - len(characters)])
        scores = {p: s for p, s in scores.items() if p in survivors}
        history.append((len(scores), history[-1][1]))
    ordered = sorted(scores.items(), key=lambda t: (-t[1], t[0]))
    pieces = [(t, 0.0) for t in specials] + [(p, s) for p, s in ordered if p not in specials]
    tokenizer = UnigramTokenizer(pieces, unk_id=0 if unk_token is not None else None, special_tokens=specials)
    tokenizer.history = history
    return tokenizer

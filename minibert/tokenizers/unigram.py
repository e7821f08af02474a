"""The unigram language model of subwords (Kudo, 2018, "Subword Regularization: Improving Neural Network Translation
Models with Multiple Subword Candidates", section 3.1): a text is a sequence of pieces drawn independently,

    P(x) = prod_i p(x_i),      sum over the vocabulary V of p(x) = 1,

and the tokenizer picks the most probable segmentation of each word X among all segmentations S(X),

    x* = argmax_{x in S(X)} sum_i log p(x_i),

by Viterbi dynamic programming over the *lattice* of every vocabulary piece that fits somewhere in X: the best path
to position j is the best over pieces X[i:j] of (best path to i) + log p(X[i:j]). Section 2.2 of the paper trains
with *subword regularisation*: segmentations are sampled from P(x | X) proportional to P(x)^alpha (section 3.2; alpha
-> infinity gives Viterbi, alpha -> 0 uniform). :meth:`UnigramTokenizer.sample` does it exactly by
forward-filtering, backward-sampling: the forward pass sums (instead of maximising) the path weights, and the way
back draws each piece in proportion to (forward weight of its start) * p(piece)^alpha.

Conventions follow SentencePiece (Kudo and Richardson, 2018) and Hugging Face ``tokenizers``' Unigram model, so that
with the same pieces and scores the segmentation is identical: the *Metaspace* pre-tokenizer replaces each space by
"▁" (U+2581), puts one in front of the text, and starts a new word at every "▁"; a character that no piece covers
gets an unknown edge of score min(scores) - 10, and consecutive unknown characters fuse into one ``unk`` token (byte
fallback off); among equally good paths the one whose last piece starts first wins. The trainer (EM and pruning)
is :mod:`minibert.tokenizers.train_unigram`.
"""
from __future__ import annotations

import functools
import math
import os
import re
from pathlib import Path

import numpy as np

from minibert.core.checks import choice, number
from .basic import check_text
from .encoding import SubwordTokenizer

__all__ = ["UnigramTokenizer", "viterbi_segment", "segmentations", "metaspace_pre_tokenize", "METASPACE",
           "UNKNOWN_PENALTY"]

METASPACE = "\u2581"
UNKNOWN_PENALTY = 10.0  # an unknown character costs 10 nats more than the rarest piece (SentencePiece's kUnkPenalty)


def metaspace_pre_tokenize(text: str, replacement: str = METASPACE, prepend_scheme: str = "always",
                           split: bool = True) -> list[str]:
    """Spaces -> ``replacement``, one in front unless the text starts with one, a new word at each ``replacement``:
    "Hello  world" -> ['▁Hello', '▁', '▁world'] (only the space character: tabs and newlines stay inside words)."""
    if not text:
        return []
    text = text.replace(" ", replacement)
    if prepend_scheme != "never" and not text.startswith(replacement):
        text = replacement + text
    if not split:
        return [text]
    return [word for word in re.split(f"(?={re.escape(replacement)})", text) if word]


def viterbi_segment(word: str, scores: dict[str, float], unknown_score: float, longest: int | None = None
                    ) -> list[str]:
    """The most probable segmentation of ``word``: pieces whose log-probabilities ``scores[piece]`` add up to the most.

    A character that starts no one-character piece may also be taken alone at ``unknown_score``. best[j] is the
    score of the best path covering word[:j]; positions are visited left to right, and a later candidate replaces
    the one found so far only if it is strictly better (the tie rule of ``tokenizers`` and SentencePiece).
    ``longest``: the length of the longest piece, if the caller knows it (saves a pass over the vocabulary)."""
    longest = longest or max(map(len, scores), default=1)
    best = [0.0] + [-math.inf] * len(word)
    start_of = [-1] * (len(word) + 1)
    for start in range(len(word)):
        covered = False
        for end in range(start + 1, min(len(word), start + longest) + 1):
            score = scores.get(word[start:end])
            if score is None:
                continue
            covered = covered or end == start + 1
            if start_of[end] < 0 or best[start] + score > best[end]:
                best[end], start_of[end] = best[start] + score, start
        if not covered and (start_of[start + 1] < 0 or best[start] + unknown_score > best[start + 1]):
            best[start + 1], start_of[start + 1] = best[start] + unknown_score, start
    pieces, end = [], len(word)
    while end > 0:
        pieces.append(word[start_of[end]:end])
        end = start_of[end]
    return pieces[::-1]


def segmentations(word: str, scores: dict[str, float], unknown_score: float):
    """Every segmentation of ``word`` into pieces (and unknown single characters), with its total score: the brute
    force the tests and exercises compare Viterbi and sampling against (exponential: short words only)."""
    if not word:
        yield [], 0.0
        return
    for end in range(1, len(word) + 1):
        piece = word[:end]
        if piece in scores:
            score = scores[piece]
        elif end == 1:  # a character no piece covers
            score = unknown_score
        else:
            continue
        for rest, rest_score in segmentations(word[end:], scores, unknown_score):
            yield [piece] + rest, score + rest_score


def _log_sum_exp(values: list[float]) -> float:
    top = max(values)
    return top if top == -math.inf else top + math.log(sum(math.exp(v - top) for v in values))


class UnigramTokenizer(SubwordTokenizer):
    """A unigram-LM tokenizer: ``pieces`` is a list of (piece, log-probability score) in id order, as in
    ``tokenizer.json``; ``unk_id`` the id of the unknown token (None: unknown characters raise ValueError).

    ``tokenize`` returns the pieces as they appear in the text (an unknown stretch keeps its characters, as
    ``tokenizers`` does); ``encode`` gives ids. ``segmenter`` replaces the Viterbi function (same signature as
    :func:`viterbi_segment`): the chapter swaps the learner's one in."""

    def __init__(self, pieces, unk_id: int | None = 0, replacement: str = METASPACE, prepend_scheme: str = "always",
                 split: bool = True, special_tokens=(), model_max_length: int = 512, segmenter=None):
        if isinstance(pieces, dict):
            pieces = list(pieces.items())
        if not isinstance(pieces, (list, tuple)) or not pieces:
            raise TypeError("pieces must be a non-empty list of (piece, score) pairs, e.g. [('<unk>', 0.0), "
                            "('▁the', -3.2)]")
        for k, item in enumerate(pieces):
            if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str) and item[0]):
                raise TypeError(f"pieces[{k}] is {item!r}: each entry is a (non-empty str, float score) pair")
            number("", f"the score of {item[0]!r}", item[1])
        self.pieces = [(piece, float(score)) for piece, score in pieces]
        self.ids_to_tokens = [piece for piece, _ in self.pieces]
        self.vocab = {piece: i for i, piece in enumerate(self.ids_to_tokens)}
        if len(self.vocab) != len(self.pieces):
            raise ValueError("the pieces repeat an entry: each piece needs exactly one id")
        if unk_id is not None and not (isinstance(unk_id, int) and 0 <= unk_id < len(self.pieces)):
            raise ValueError(f"unk_id={unk_id!r} is not an id of these {len(self.pieces)} pieces: pass the index of "
                             "'<unk>' in pieces, or None")
        choice("", "prepend_scheme", prepend_scheme, ("always", "first", "never"))
        if not isinstance(replacement, str) or len(replacement) != 1:
            raise ValueError(f"replacement must be one character, got {replacement!r}")
        self.unk_id, self.replacement, self.prepend_scheme, self.split = unk_id, replacement, prepend_scheme, split
        self.unk_token = None if unk_id is None else self.ids_to_tokens[unk_id]
        self.special_tokens = [t for t in dict.fromkeys(special_tokens)]
        missing = [t for t in self.special_tokens if t not in self.vocab]
        if missing:
            raise ValueError(f"special tokens {missing} are not among the pieces")
        self.special_ids = {self.vocab[t] for t in self.special_tokens}  # what decode skips, as in tokenizers
        self.scores = {piece: score for piece, score in self.pieces}
        self.unknown_score = min(self.scores.values()) - UNKNOWN_PENALTY
        self._longest = max(map(len, self.scores))
        self.segmenter = segmenter or functools.partial(viterbi_segment, longest=self._longest)
        self.model_max_length = model_max_length
        self.pad_token_id = self.vocab.get("<pad>")
        by_length = sorted(self.special_tokens, key=len, reverse=True)
        self._special_pattern = re.compile("(" + "|".join(map(re.escape, by_length)) + ")") if by_length else None
        self._cache: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        return f"UnigramTokenizer({len(self)} pieces, unk={self.unk_token!r})"

    # ---- segmentation ----
    def words(self, text: str) -> list[str]:
        """The Metaspace words of ``text`` (special tokens, if any, are not split out here)."""
        return metaspace_pre_tokenize(text, self.replacement, self.prepend_scheme, self.split)

    def segment(self, word: str) -> list[str]:
        """Viterbi pieces of one pre-tokenized word, consecutive unknown characters fused into one piece."""
        cached = self._cache.get(word)
        if cached is None:
            cached = self._fuse_unknown(self.segmenter(word, self.scores, self.unknown_score))
            if len(self._cache) < 100_000:
                self._cache[word] = cached
        return cached

    def _is_unknown(self, piece: str) -> bool:
        return self.vocab.get(piece, self.unk_id) == self.unk_id

    def _fuse_unknown(self, pieces: list[str]) -> list[str]:
        if self.unk_id is None:
            unknown = [p for p in pieces if p not in self.vocab]
            if unknown:
                raise ValueError(f"{unknown[0]!r} is in no piece and this tokenizer has no unknown token (unk_id="
                                 "None): give it one, or add the character to the pieces")
            return pieces
        fused: list[str] = []
        previous_unknown = False
        for piece in pieces:
            unknown = self._is_unknown(piece)
            if unknown and previous_unknown:
                fused[-1] += piece
            else:
                fused.append(piece)
            previous_unknown = unknown
        return fused

    def _sections(self, text: str):
        """(is special, text) for each stretch of ``text`` between special tokens."""
        if self._special_pattern is None:
            yield False, text
            return
        for k, section in enumerate(self._special_pattern.split(text)):
            if section:
                yield bool(k % 2), section

    def _pieces_and_words(self, text: str, segment) -> tuple[list[str], list[int]]:
        pieces, word_ids, first, n_words = [], [], True, 0
        for special, section in self._sections(text):
            if special:
                words = [section]
            else:
                scheme = self.prepend_scheme if self.prepend_scheme == "always" or first else "never"
                words = metaspace_pre_tokenize(section, self.replacement, scheme, self.split)
            first = False
            for word in words:
                cut = [word] if special else segment(word)
                word_ids += [n_words] * len(cut)
                pieces += cut
                n_words += 1
        return pieces, word_ids

    def _encode_text(self, text: str) -> tuple[list[int], list[int]]:
        pieces, word_ids = self._pieces_and_words(text, self.segment)
        return [self.vocab.get(p, self.unk_id) for p in pieces], word_ids

    def tokenize(self, text: str) -> list[str]:
        """The pieces of ``text`` as they appear in it (an unknown stretch as its own characters)."""
        return self._pieces_and_words(check_text(text), self.segment)[0]

    def sample(self, text: str, alpha: float = 0.1, generator=None) -> list[str]:
        """One segmentation of ``text`` drawn with probability proportional to P(x)^alpha (subword regularisation,
        Kudo 2018, section 2.2): alpha large -> the Viterbi one; alpha -> 0 -> every segmentation alike.
        ``generator``: a ``numpy.random.Generator`` or an int seed (None: fresh randomness)."""
        alpha = number("", "alpha", alpha, low=0.0)
        if not isinstance(generator, np.random.Generator):
            if generator is not None and (isinstance(generator, bool) or not isinstance(generator, int)):
                raise TypeError(f"generator must be a numpy.random.Generator, an int seed or None, got {generator!r}")
            generator = np.random.default_rng(generator)
        return self._pieces_and_words(check_text(text),
                                      lambda word: self._fuse_unknown(self._sample_word(word, alpha, generator)))[0]

    def _edges(self, word: str) -> list[list[tuple[int, float]]]:
        """edges_into[j]: (start, score) of every lattice edge word[start:j] (unknown characters included)."""
        longest = self._longest
        edges_into: list[list[tuple[int, float]]] = [[] for _ in range(len(word) + 1)]
        for start in range(len(word)):
            for end in range(start + 1, min(len(word), start + longest) + 1):
                score = self.scores.get(word[start:end])
                if score is not None:
                    edges_into[end].append((start, score))
            if word[start] not in self.scores:
                edges_into[start + 1].append((start, self.unknown_score))
        return edges_into

    def _sample_word(self, word: str, alpha: float, generator: np.random.Generator) -> list[str]:
        edges_into = self._edges(word)
        forward = [0.0] * (len(word) + 1)  # log of the summed weight p^alpha of all paths into each position
        for end in range(1, len(word) + 1):
            forward[end] = _log_sum_exp([forward[s] + alpha * score for s, score in edges_into[end]])
        pieces, end = [], len(word)
        while end > 0:  # backward: draw the last piece in proportion to (paths up to its start) * p(piece)^alpha
            threshold, start = generator.random(), None
            for start, score in edges_into[end]:
                threshold -= math.exp(forward[start] + alpha * score - forward[end])
                if threshold < 0:
                    break
            pieces.append(word[start:end])
            end = start
        return pieces[::-1]

    # ---- encoding plumbing ----
    def _template(self, ids_a, ids_b):
        ids = ids_a + (ids_b or [])
        return ids, [0] * len(ids_a) + [1] * len(ids_b or []), [0] * len(ids)

    def _join(self, tokens: list[str]) -> str:
        """The Metaspace decoder: "▁" back to spaces, minus the one put in front of the text."""
        text = "".join(tokens).replace(self.replacement, " ")
        return text[1:] if self.prepend_scheme != "never" and text.startswith(" ") else text

    # ---- files ----
    @classmethod
    def from_file(cls, path: str | os.PathLike, **overrides) -> UnigramTokenizer:
        """Read a ``tokenizers`` ``tokenizer.json`` (model type Unigram), or a folder holding one."""
        from .files import load_unigram

        settings = load_unigram(Path(path))
        settings.update(overrides)
        return cls(**settings)

    from_pretrained = from_file

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``tokenizer.json`` (``path`` may be a folder or the file's name): ``tokenizers.Tokenizer.from_file``
        loads it and segments exactly as this tokenizer does."""
        from .files import save_unigram

        return save_unigram(self, Path(path))

    save_pretrained = save

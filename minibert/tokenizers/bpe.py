"""Byte-pair encoding (Sennrich, Haddow and Birch, 2016, "Neural Machine Translation of Rare Words with Subword
Units"): start from characters and repeatedly merge the most frequent adjacent pair,

    (a, b) = argmax_{(x, y)} count(x y),   count(x y) = sum over words w of freq(w) * #occurrences of x y in w,

adding the new symbol ``ab`` to the vocabulary, until the vocabulary has ``vocab_size`` entries.

Counting every pair of every word again after each merge costs O(corpus) per merge. The trainer here counts once
and then updates incrementally: merging ``a b`` only changes the words that contain it, and in those words only the
pairs around each merged occurrence (``x a`` -> ``x ab``, ``b y`` -> ``ab y``). A max-heap keyed on
``(count, smallest ids)`` picks the next merge; stale heap entries are refreshed lazily when they surface.

Ties and ids follow Hugging Face ``tokenizers``' BpeTrainer exactly, so the merges come out identical and in the
same order: ids are the special tokens, then the alphabet sorted by code point, then each new token as it is
made; among pairs with equal counts the one with the smallest ``(left id, right id)`` wins. (Like the reference,
a token that two different merges produce keeps one id, and a pair's own count is not reset after it is merged.)
``minibert.reference.tokenizer_trainers`` holds the recount-everything version used as a check and a baseline.
"""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

from minibert.core.checks import integer

__all__ = ["MergeStep", "BPE", "train_bpe", "count_words"]


@dataclass(frozen=True)
class MergeStep:
    """One training step: ``left`` + ``right`` -> ``token``. ``score`` is what chose it (the pair count for BPE,
    count / (count(left) * count(right)) for WordPiece); ``count`` is how often the pair occurred."""
    left: str
    right: str
    token: str
    score: float
    count: int


def count_words(corpus, pre_tokenize: Callable[[str], list[str]] = str.split) -> Counter:
    """Word frequencies of a corpus: an iterable of texts, or already a mapping word -> count."""
    if isinstance(corpus, str):
        raise TypeError("pass the corpus as a list of texts (a single str would be read character by character)")
    if isinstance(corpus, dict):
        counts = Counter()
        for word, count in corpus.items():
            if not isinstance(word, str):
                raise TypeError(f"word counts must map words (str) to counts, got the key {word!r}")
            integer("", f"the count of {word!r}", count, minimum=0)
            if word and count:
                counts[word] += count
    else:
        counts = Counter()
        for i, text in enumerate(corpus):
            if not isinstance(text, str):
                raise TypeError(f"corpus item {i} is a {type(text).__name__}, expected str")
            counts.update(pre_tokenize(text))
    if not counts:
        raise ValueError("the corpus is empty: there is no word to learn merges from")
    return counts


class BPE:
    """A trained BPE model: the vocabulary (token -> id), the merges in order, and the training history."""

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]], history: list[MergeStep] = (),
                 continuing_subword_prefix: str | None = None, end_of_word_suffix: str | None = None):
        self.vocab = dict(vocab)
        self.ids_to_tokens = sorted(self.vocab, key=self.vocab.get)
        self.merges = list(merges)
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.history = list(history)
        self.prefix, self.suffix = continuing_subword_prefix, end_of_word_suffix

    def __len__(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"BPE(vocab_size={len(self)}, merges={len(self.merges)})"

    def symbols(self, word: str) -> list[str]:
        """The word as initial symbols: characters, with the continuation prefix / end-of-word suffix if used."""
        chars = list(word)
        if self.prefix:
            chars[1:] = [self.prefix + c for c in chars[1:]]
        if self.suffix and chars:
            chars[-1] += self.suffix
        return chars

    def encode_word(self, word: str, merges: int | None = None) -> list[str]:
        """Apply the learned merges to one word, lowest rank first (only the first ``merges`` ones if given)."""
        ranks = self.ranks if merges is None else {p: r for p, r in self.ranks.items() if r < merges}
        return apply_merges(self.symbols(word), ranks, self.prefix)


def apply_merges(parts: list[str], ranks: dict[tuple[str, str], int], prefix: str | None = None) -> list[str]:
    """Repeatedly merge the adjacent pair with the lowest rank (all its occurrences, left to right)."""
    while len(parts) > 1:
        best = min(zip(parts, parts[1:]), key=lambda pair: ranks.get(pair, float("inf")))
        if best not in ranks:
            break
        left, right = best
        joined = left + (right[len(prefix):] if prefix and right.startswith(prefix) else right)
        merged, i = [], 0
        while i < len(parts):
            if i + 1 < len(parts) and parts[i] == left and parts[i + 1] == right:
                merged.append(joined)
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


def train_bpe(corpus, vocab_size: int, min_frequency: int = 2, special_tokens: Iterable[str] = (),
              pre_tokenize: Callable[[str], list[str]] = str.split, initial_alphabet: Iterable[str] = (),
              continuing_subword_prefix: str | None = None, end_of_word_suffix: str | None = None) -> BPE:
    """Learn BPE merges from ``corpus`` (texts, split into words by ``pre_tokenize``; or a dict word -> count).

    Stops when the vocabulary (special tokens + alphabet + merged tokens) reaches ``vocab_size`` or no pair occurs
    ``min_frequency`` times. ``initial_alphabet`` adds characters that must be in the vocabulary even if unseen
    (byte-level BPE passes all 256 byte symbols).
    """
    counts = count_words(corpus, pre_tokenize)
    special_tokens, initial_alphabet = list(special_tokens), set(initial_alphabet)
    integer("", "min_frequency", min_frequency, minimum=0)
    alphabet = sorted(set().union(*map(set, counts)) | initial_alphabet, key=ord)
    id_to_token: list[str] = list(dict.fromkeys(special_tokens))
    id_to_token += [c for c in alphabet if c not in id_to_token]
    if integer("", "vocab_size", vocab_size) < len(id_to_token):
        raise ValueError(f"vocab_size={vocab_size!r} is smaller than the {len(alphabet)} characters of the alphabet "
                         f"plus {len(special_tokens)} special tokens: ask for at least {len(id_to_token)}")
    model = BPE({t: i for i, t in enumerate(id_to_token)}, [], [], continuing_subword_prefix, end_of_word_suffix)
    token_to_id = model.vocab
    if continuing_subword_prefix or end_of_word_suffix:
        # prefixed/suffixed variants of the characters come next (sorted; the reference uses hash order here)
        for variant in sorted({s for word in counts for s in model.symbols(word)} - token_to_id.keys()):
            token_to_id[variant] = len(id_to_token)
            id_to_token.append(variant)
        words = [[token_to_id[s] for s in model.symbols(word)] for word in counts]
    else:
        words = [[token_to_id[c] for c in word] for word in counts]
    freqs = list(counts.values())

    # A pair (a, b) of ids is stored as the integer a * 2**32 + b: cheaper to build and hash than a tuple, and it
    # sorts like (a, b), which is the tie rule.
    pair_counts: defaultdict[int, int] = defaultdict(int)
    where: defaultdict[int, list[int]] = defaultdict(list)  # words that (once) held each pair
    for w, (symbols, freq) in enumerate(zip(words, freqs)):
        pairs = [a << 32 | b for a, b in zip(symbols, symbols[1:])]
        for pair in pairs:
            pair_counts[pair] += freq
        for pair in dict.fromkeys(pairs):
            where[pair].append(w)
    # A pair seen fewer than min_frequency times can never be merged (counts only fall), so it stays out of the
    # heap: the reference keeps it there, but it can never surface before training stops.
    floor = max(min_frequency, 1)
    heap = [(-pair_counts[pair], pair, k, positions)
            for k, (pair, positions) in enumerate(where.items()) if pair_counts[pair] >= floor]
    sequence = len(where)  # tie-breaker among identical heap keys: first pushed, first popped
    heapq.heapify(heap)

    merges, history = [], []
    while len(token_to_id) < vocab_size and heap:
        negative, pair, _, positions = heapq.heappop(heap)
        count = pair_counts[pair]
        if -negative != count:  # stale: some occurrences were merged away since it was pushed
            if count >= floor:
                heapq.heappush(heap, (-count, pair, sequence, positions))
                sequence += 1
            continue
        a, b = pair >> 32, pair & 0xFFFFFFFF
        right = id_to_token[b]
        if continuing_subword_prefix and right.startswith(continuing_subword_prefix):
            right = right[len(continuing_subword_prefix):]
        token = id_to_token[a] + right
        if token not in token_to_id:
            token_to_id[token] = len(id_to_token)
            id_to_token.append(token)
        new = token_to_id[token]
        merges.append((id_to_token[a], id_to_token[b]))
        history.append(MergeStep(id_to_token[a], id_to_token[b], token, float(count), count))
        # Replace each non-overlapping "a b" (left to right) by "new" and move the counts of the neighbouring
        # pairs: "x a" becomes "x new" and "b y" becomes "new y". (The merged pair's own count is left as it is,
        # like the reference: it is never looked at again.)
        created: defaultdict[int, list[int]] = defaultdict(list)
        for w in positions:
            symbols = words[w]
            occurrences = symbols.count(a)
            if not occurrences:
                continue  # the pair left this word in an earlier merge
            freq, i, last = freqs[w], -1, len(symbols) - 1
            for _ in range(occurrences):
                try:
                    i = symbols.index(a, i + 1)
                except ValueError:  # (when a == b, merging used up the next "a")
                    break
                if i < last and symbols[i + 1] == b:
                    if i:
                        left = symbols[i - 1] << 32
                        pair_counts[left | a] -= freq
                        pair_counts[left | new] += freq
                        created[left | new].append(w)
                    symbols[i] = new
                    del symbols[i + 1]
                    last -= 1
                    if i < last:
                        following = symbols[i + 1]
                        pair_counts[b << 32 | following] -= freq
                        pair_counts[new << 32 | following] += freq
                        created[new << 32 | following].append(w)
        for pair, where_new in created.items():
            if pair_counts[pair] >= floor:
                heapq.heappush(heap, (-pair_counts[pair], pair, sequence, where_new))
                sequence += 1
    # a pair merged twice (its token had two origins) keeps its last rank, as in the reference's saved files
    last = {pair: rank for rank, pair in enumerate(merges)}
    merges = [pair for rank, pair in enumerate(merges) if last[pair] == rank]
    return BPE(token_to_id, merges, history, continuing_subword_prefix, end_of_word_suffix)

"""Training a WordPiece vocabulary by likelihood score (Schuster and Nakajima, 2012; Wu et al., 2016).

Like BPE, training starts from characters (the first character of a word bare, the others as ``##`` continuations)
and merges adjacent pairs. Unlike BPE it does not take the most *frequent* pair but the one with the highest

    score(a, b) = count(a b) / (count(a) * count(b)),

the pair whose parts appear together more often than their own frequencies predict: merging it raises the
likelihood of the corpus under a unigram model the most. A frequent pair of frequent symbols (``##e ##s``) scores
low; a pair whose parts rarely occur apart (``##z ##a`` in "tokenization") scores high. Merging ``a`` with
``##b`` gives ``ab``; merging ``##g`` with ``##s`` gives ``##gs``. Ties go to the pair met first when the words are
read in corpus order, as in the Hugging Face course's implementation, whose worked example this reproduces.

Google never published its WordPiece trainer; this is the algorithm as the BERT literature and the course describe
it. (The ``tokenizers`` WordPieceTrainer is BPE with a ``##`` prefix: it ranks pairs by frequency.)

Rescoring every pair after each merge is slow, so counts are updated incrementally: a merge changes the pair counts
only in the words containing it, and the symbol counts of ``a``, ``b`` and the new token, so only the pairs that
contain ``a`` or ``b`` or sit in those words get a new score. A heap keyed on ``(-score, first occurrence)``
with lazily discarded stale entries picks the next merge. ``reference_trainers.naive_train_wordpiece`` rescores
everything every time; the tests check both give the same merges.
"""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from typing import Iterable

from minibert.core.checks import integer
from .basic import BasicTokenizer
from .bpe import MergeStep, count_words
from .wordpiece import BERT_SPECIAL_TOKENS, WordPieceTokenizer

__all__ = ["train_wordpiece", "wordpiece_alphabet", "pair_scores"]


def wordpiece_alphabet(words: Iterable[str], prefix: str = "##") -> list[str]:
    """Initial symbols: every first character bare, every later character with the prefix; sorted."""
    symbols = set()
    for word in words:
        symbols.add(word[0])
        symbols.update(prefix + c for c in word[1:])
    return sorted(symbols)


def pair_scores(word_counts: dict[str, int], prefix: str = "##") -> dict[tuple[str, str], tuple[float, int]]:
    """Before the first merge: every adjacent pair -> (score, count), in the order the pairs are first met."""
    symbol_counts: Counter = Counter()
    pair_counts: Counter = Counter()
    for word, count in word_counts.items():
        symbols = [word[0]] + [prefix + c for c in word[1:]]
        for s in symbols:
            symbol_counts[s] += count
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += count
    return {pair: (n / (symbol_counts[pair[0]] * symbol_counts[pair[1]]), n) for pair, n in pair_counts.items()}


def train_wordpiece(texts, vocab_size: int, min_frequency: int = 2,
                    special_tokens: Iterable[str] = BERT_SPECIAL_TOKENS, lowercase: bool = True,
                    prefix: str = "##", tokenize_chinese_chars: bool = True) -> WordPieceTokenizer:
    """Train a WordPiece vocabulary of (at most) ``vocab_size`` tokens on ``texts`` (a list of texts, split into
    words by BERT's basic tokenizer with ``lowercase``; or a dict word -> count).

    A pair must occur at least ``min_frequency`` times to be merged. The vocabulary is the special tokens, the
    sorted alphabet, then the merged tokens in the order they were made. The returned tokenizer's ``history``
    lists every merge (pair, score, count, new token). Deterministic: same input, same vocabulary.
    """
    special_tokens = list(dict.fromkeys(special_tokens))
    if "[UNK]" not in special_tokens:
        raise ValueError("special_tokens must include '[UNK]': WordPiece replaces words it cannot split by it")
    integer("", "min_frequency", min_frequency, minimum=1)
    basic = BasicTokenizer(lowercase=lowercase, tokenize_chinese_chars=tokenize_chinese_chars)
    counts = count_words(texts, basic.pre_tokenize)
    alphabet = [s for s in wordpiece_alphabet(counts, prefix) if s not in special_tokens]
    base = special_tokens + alphabet
    if integer("", "vocab_size", vocab_size) < len(base):
        raise ValueError(f"vocab_size={vocab_size!r} is smaller than the alphabet ({len(alphabet)} symbols: each "
                         f"character bare and with {prefix!r}) plus {len(special_tokens)} special tokens: "
                         f"ask for at least {len(base)}")
    tokens, history = _merge_by_score(counts, base, vocab_size, min_frequency, prefix)
    tokenizer = WordPieceTokenizer(tokens, lowercase=lowercase, tokenize_chinese_chars=tokenize_chinese_chars,
                                   prefix=prefix)
    tokenizer.history = history
    return tokenizer


def _merge_by_score(counts: Counter, base: list[str], vocab_size: int, min_frequency: int,
                    prefix: str) -> tuple[list[str], list[MergeStep]]:
    tokens = list(base)
    token_id = {t: i for i, t in enumerate(tokens)}
    length = [len(t) - len(prefix) if t.startswith(prefix) else len(t) for t in tokens]  # characters covered
    words = [[token_id[w[0]]] + [token_id[prefix + c] for c in w[1:]] for w in counts]
    freqs = list(counts.values())

    token_count: Counter = Counter()  # count(a): occurrences of each symbol in the corpus
    pair_count: Counter = Counter()
    where: dict[tuple[int, int], set[int]] = defaultdict(set)  # words holding each pair
    with_token: dict[int, set[tuple[int, int]]] = defaultdict(set)  # live pairs that contain each symbol
    for w, symbols in enumerate(words):
        for s in symbols:
            token_count[s] += freqs[w]
        for pair in zip(symbols, symbols[1:]):
            pair_count[pair] += freqs[w]
            where[pair].add(w)
            with_token[pair[0]].add(pair)
            with_token[pair[1]].add(pair)
    first_word = {pair: min(ws) for pair, ws in where.items()}
    position: dict[tuple[int, int], tuple[int, int]] = {}  # (first word, character offset) of each pair

    def first_position(pair: tuple[int, int]) -> tuple[int, int]:
        """Where the pair occurs first: its first word, and the character offset in it (which other merges
        cannot move), cached until a merge touches the pair."""
        if pair not in position:
            symbols, offset = words[first_word[pair]], 0
            for left, right in zip(symbols, symbols[1:]):
                if (left, right) == pair:
                    break
                offset += length[left]
            position[pair] = (first_word[pair], offset)
        return position[pair]

    current: dict[tuple[int, int], tuple] = {}  # the live heap key of every pair that can still be merged
    heap: list[tuple] = []

    def push(pair: tuple[int, int]) -> None:
        count = pair_count[pair]
        if count < min_frequency:  # counts only fall, so the pair is out for good
            current.pop(pair, None)
            with_token[pair[0]].discard(pair)
            with_token[pair[1]].discard(pair)
            return
        where_first = position.get(pair) or first_position(pair)
        key = (-(count / (token_count[pair[0]] * token_count[pair[1]])), where_first[0], where_first[1])
        if current.get(pair) != key:
            current[pair] = key
            heapq.heappush(heap, (*key, pair))

    for pair in list(where):
        push(pair)

    history: list[MergeStep] = []
    while len(tokens) < vocab_size and heap:
        *key, pair = heapq.heappop(heap)
        if current.get(pair) != tuple(key):
            continue  # stale: the pair changed (and was pushed again) or no longer qualifies
        del current[pair]
        a, b = pair
        token = tokens[a] + (tokens[b][len(prefix):] if tokens[b].startswith(prefix) else tokens[b])
        if token not in token_id:
            token_id[token] = len(tokens)
            tokens.append(token)
            length.append(length[a] + length[b])
        new = token_id[token]
        history.append(MergeStep(tokens[a], tokens[b], token, -key[0], pair_count[pair]))
        touched: set[tuple[int, int]] = set()
        for w in sorted(where[pair]):
            symbols, freq = words[w], freqs[w]
            old_pairs = list(zip(symbols, symbols[1:]))
            i = 0
            while i < len(symbols) - 1:
                if symbols[i] == a and symbols[i + 1] == b:
                    symbols[i:i + 2] = [new]
                    token_count[a] -= freq
                    token_count[b] -= freq
                    token_count[new] += freq
                i += 1
            new_pairs = list(zip(symbols, symbols[1:]))
            for p in old_pairs:
                pair_count[p] -= freq
            for p in new_pairs:
                pair_count[p] += freq
            gone, added = set(old_pairs) - set(new_pairs), set(new_pairs) - set(old_pairs)
            for p in gone:
                where[p].discard(w)
            for p in added:
                where[p].add(w)
                with_token[p[0]].add(p)
                with_token[p[1]].add(p)
                first_word[p] = min(first_word.get(p, w), w)
            touched.update(old_pairs, new_pairs)
        for p in touched:
            position.pop(p, None)
            if not where[p]:
                del where[p], first_word[p], pair_count[p]
                with_token[p[0]].discard(p)
                with_token[p[1]].discard(p)
                current.pop(p, None)
            elif first_word[p] not in where[p]:
                first_word[p] = min(where[p])
        for p in touched | with_token[a] | with_token[b]:
            if p in where:
                push(p)
    return tokens, history

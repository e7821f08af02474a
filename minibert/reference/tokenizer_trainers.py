"""Reference trainers: the textbook loops that recount every pair after every merge.

    repeat: count all adjacent pairs of all words;  pick the best pair;  merge it everywhere

They are short enough to check by reading, and slow: each merge costs a pass over the whole (word-counted)
corpus. The tests check that the incremental trainers (:func:`~minibert.tokenizers.bpe.train_bpe`,
:func:`~minibert.tokenizers.train_wordpiece.train_wordpiece`) learn exactly the same merges; the benchmark shows
what the incremental bookkeeping buys. Both take word counts (``{word: count}``) and return the merges as
``(left, right, new token, score)`` tuples.
"""
from __future__ import annotations

from collections import Counter

__all__ = ["naive_train_bpe", "naive_train_wordpiece"]


def _merge_everywhere(splits: list[list[str]], left: str, right: str, token: str) -> None:
    for symbols in splits:
        i = 0
        while i < len(symbols) - 1:
            if symbols[i] == left and symbols[i + 1] == right:
                symbols[i:i + 2] = [token]
            i += 1


def naive_train_bpe(word_counts: dict[str, int], vocab_size: int, min_frequency: int = 2,
                    special_tokens: tuple[str, ...] = (), initial_alphabet: tuple[str, ...] = ()) -> list[tuple]:
    """BPE by frequency, recounting every step. Ties: smallest (left id, right id), ids in the order of the
    vocabulary (special tokens, alphabet by code point, merged tokens): the rule of ``tokenizers``' BpeTrainer."""
    alphabet = sorted(set("".join(word_counts)) | set(initial_alphabet), key=ord)
    vocab = list(dict.fromkeys(list(special_tokens) + alphabet))
    ids = {t: i for i, t in enumerate(vocab)}
    splits = [list(word) for word in word_counts]
    freqs = list(word_counts.values())
    merges = []
    while len(vocab) < vocab_size:
        pairs = Counter()
        for symbols, freq in zip(splits, freqs):
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += freq
        if not pairs:
            break
        (left, right), count = max(pairs.items(), key=lambda item: (item[1], -ids[item[0][0]], -ids[item[0][1]]))
        if count < max(min_frequency, 1):
            break
        token = left + right
        if token not in ids:
            ids[token] = len(vocab)
            vocab.append(token)
        _merge_everywhere(splits, left, right, token)
        merges.append((left, right, token, count))
    return merges


def naive_train_wordpiece(word_counts: dict[str, int], vocab_size: int, min_frequency: int = 1,
                          special_tokens: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
                          prefix: str = "##") -> list[tuple]:
    """WordPiece by likelihood score count(ab) / (count(a) count(b)), rescoring every step. Ties: the pair met
    first when reading the words in order (the words in the order they first appear in the corpus)."""
    splits = [[word[0]] + [prefix + c for c in word[1:]] for word in word_counts]
    freqs = list(word_counts.values())
    vocab = list(special_tokens) + sorted({s for symbols in splits for s in symbols} - set(special_tokens))
    merges = []
    while len(vocab) < vocab_size:
        symbol_counts, pair_counts = Counter(), Counter()  # Counter keeps first-insertion order: the tie rule
        for symbols, freq in zip(splits, freqs):
            for s in symbols:
                symbol_counts[s] += freq
            for pair in zip(symbols, symbols[1:]):
                pair_counts[pair] += freq
        best, best_score = None, None
        for pair, count in pair_counts.items():
            score = count / (symbol_counts[pair[0]] * symbol_counts[pair[1]])
            if count >= min_frequency and (best_score is None or score > best_score):
                best, best_score = pair, score
        if best is None:
            break
        left, right = best
        token = left + right[len(prefix):] if right.startswith(prefix) else left + right
        if token not in vocab:
            vocab.append(token)
        _merge_everywhere(splits, left, right, token)
        merges.append((left, right, token, best_score))
    return merges

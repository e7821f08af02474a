"""Replaying a training run merge by merge: how each word is split after ``k`` merges, how many pieces a word
takes on average, how big the vocabulary is. The merge-stepper widget draws this; the numbers come from here.

Training applies merge ``k`` to every word before it looks for merge ``k+1``, so replaying the merges in order
reproduces exactly the splits the trainer saw (for BPE and WordPiece alike: a merge is ``left right -> token``).
Only words that contain ``left`` can change, so each merge touches just those words.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .bpe import BPE, MergeStep, count_words

__all__ = ["MergeTrace", "trace_merges", "initial_symbols"]


@dataclass
class MergeTrace:
    """``splits[k][i]``: the pieces of ``words[i]`` after ``k`` merges (k = 0 .. len(history))."""
    words: list[str]
    counts: list[int]
    splits: list[list[tuple[str, ...]]]
    pieces_per_word: list[float]
    vocab_sizes: list[int]
    history: list[MergeStep]
    score_name: str

    @property
    def steps(self) -> int:
        return len(self.history)


def initial_symbols(trained, word: str) -> list[str]:
    """How a trainer first cuts a word: characters (BPE), the first one bare and the rest ``##`` (WordPiece),
    or UTF-8 byte symbols (byte-level BPE)."""
    from .byte_level import ByteLevelBPETokenizer
    from .wordpiece import WordPieceTokenizer

    if isinstance(trained, WordPieceTokenizer):
        return [word[0]] + [trained.prefix + c for c in word[1:]]
    if isinstance(trained, ByteLevelBPETokenizer):
        return list(word)  # pre-tokens are already written in byte symbols
    if isinstance(trained, BPE):
        return trained.symbols(word)
    raise TypeError(f"expected a trained BPE, WordPieceTokenizer or ByteLevelBPETokenizer, got {type(trained).__name__}")


def _pre_tokenizer(trained):
    from .byte_level import ByteLevelBPETokenizer, byte_level_pre_tokenize
    from .wordpiece import WordPieceTokenizer

    if isinstance(trained, WordPieceTokenizer):
        return trained.basic.pre_tokenize
    if isinstance(trained, ByteLevelBPETokenizer):
        return lambda text: byte_level_pre_tokenize(text, trained.add_prefix_space)
    return str.split


def trace_merges(trained, corpus, words: list[str] | None = None, max_words: int = 10) -> MergeTrace:
    """Replay ``trained.history`` on ``corpus`` (texts, or a dict word -> count of pre-tokenized words).

    ``words`` picks the words to follow (default: the ``max_words`` most frequent words of three characters or
    more); ``pieces_per_word`` is averaged over every word of the corpus, weighted by its count."""
    history = list(getattr(trained, "history", None) or [])
    if not history:
        raise ValueError("this tokenizer has no training history: trace the result of train_bpe, train_wordpiece "
                         "or ByteLevelBPETokenizer.train, not a loaded one")
    counts = count_words(corpus, _pre_tokenizer(trained))
    if words is None:
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        words = [w for w in ranked if len(w) >= 3][:max_words] or ranked[:max_words]
    missing = [w for w in words if w not in counts]
    if missing:
        raise ValueError(f"words not in the corpus (after pre-tokenization): {missing[:5]}")
    splits = {w: initial_symbols(trained, w) for w in counts}
    containing: dict[str, set[str]] = defaultdict(set)
    for w, symbols in splits.items():
        for s in symbols:
            containing[s].add(w)
    total = sum(counts.values())
    pieces = sum(counts[w] * len(s) for w, s in splits.items())
    created = {step.token for step in history}
    vocab_size = len(trained.vocab) - len(created - set().union(*map(set, splits.values())))
    from .wordpiece import WordPieceTokenizer

    score_name = "score" if isinstance(trained, WordPieceTokenizer) else "frequency"
    trace = MergeTrace(list(words), [counts[w] for w in words], [[tuple(splits[w]) for w in words]],
                       [pieces / total], [vocab_size], history, score_name)
    seen = set(t for s in splits.values() for t in s)
    for step in history:
        for w in list(containing[step.left]):
            symbols, i, merged = splits[w], 0, 0
            while i < len(symbols) - 1:
                if symbols[i] == step.left and symbols[i + 1] == step.right:
                    symbols[i:i + 2] = [step.token]
                    merged += 1
                i += 1
            if merged:
                pieces -= merged * counts[w]
                containing[step.token].add(w)
                if step.left not in symbols:
                    containing[step.left].discard(w)
                if step.right not in symbols:
                    containing[step.right].discard(w)
        if step.token not in seen:
            seen.add(step.token)
            vocab_size += 1
        trace.splits.append([tuple(splits[w]) for w in words])
        trace.pieces_per_word.append(pieces / total)
        trace.vocab_sizes.append(vocab_size)
    return trace

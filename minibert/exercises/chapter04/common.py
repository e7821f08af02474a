"""Shared imports and helpers of chapter 04's exercises."""
from __future__ import annotations

import numbers
import random
from collections import Counter
from functools import lru_cache

from .. import exercise

SEED_COUNTS = {"мама": 1, "мыла": 2, "раму": 1, ",": 1, "маму": 1, "рама": 1}
HF_TOY_COUNTS = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}
SENNRICH_COUNTS = {"low": 5, "lower": 2, "newest": 6, "widest": 3}


def _as_float(value, what: str) -> float:
    """A Python, numpy or torch real number as a float; anything else is the learner's mistake, said plainly."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach()
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise AssertionError(f"{what} should be one number, got an array of shape "
                                 f"{tuple(getattr(value, 'shape', ()))}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be a number, got {type(value).__name__}")
    return float(value)


def _as_pieces(got, what: str) -> list[str]:
    if isinstance(got, str) or not isinstance(got, (list, tuple)) or not all(isinstance(p, str) for p in got):
        raise AssertionError(f"return the pieces of {what} as a list of strings, e.g. ['un', '##aff', '##able'], "
                             f"got {got!r}")
    return list(got)


# -- 04.1 -----------------------------------------------------------------------------------------------------------

def _wordpiece_diagnosis(word: str, vocab, got: list[str], expected: list[str]) -> str:
    """Why ``got`` is not WordPiece's segmentation of ``word`` (never the segmentation itself)."""
    shown = word if len(word) <= 30 else word[:27] + "..."
    if len(word) > 100:
        return (f"{shown!r} has {len(word)} characters; BERT gives up on a word longer than 100 characters "
                "(max_input_chars_per_word) before trying to split it")
    if expected == ["[UNK]"]:
        if "[UNK]" in got:
            return (f"for {shown!r} you return {got}: some position of the word matches no vocabulary piece, and "
                    "then BERT replaces the WHOLE word by one '[UNK]', it never keeps half a word")
        return (f"for {shown!r} you return {got}, but some position of this word matches no vocabulary piece "
                "(remember the '##' in front of every piece that does not start the word), so the whole word "
                "is unknown")
    if "[UNK]" in got:
        return (f"{shown!r} can be split into vocabulary pieces, yet you return {got}: at each position try "
                "every length, from the longest down to one character, before giving up, and look a piece that "
                "continues the word up WITH '##' in front (the vocabulary holds 'able' and '##able' apart)")
    for k, piece in enumerate(got):
        if k == 0 and piece.startswith("##"):
            return f"for {shown!r} your first piece {piece!r} has '##': only pieces that continue a word have it"
        if k > 0 and not piece.startswith("##"):
            return (f"for {shown!r} your piece {piece!r} (number {k + 1}) continues the word, so it must be "
                    "looked up (and returned) with '##' in front")
        if piece not in vocab:
            return f"for {shown!r} your piece {piece!r} is not in the vocabulary"
    spelled = "".join(p[2:] if k else p for k, p in enumerate(got))
    if spelled != word:
        return f"for {shown!r} your pieces {got} spell {spelled!r}, not the word"
    position = 0
    for mine, theirs in zip(got, expected):
        if mine != theirs:
            return (f"for {shown!r} your pieces are all in the vocabulary, but at character {position} a LONGER "
                    f"piece than your {mine!r} matches: greedy longest-match-first tries the longest piece first")
        position += len(mine) - (2 if mine.startswith("##") else 0)
    return f"for {shown!r} you return {got}: not the greedy longest-match-first pieces"


@lru_cache(maxsize=1)
def _real_words() -> tuple[tuple[str, ...], dict]:
    """Words of the course corpus (as BERT's basic tokenizer cuts them) and the course's 4,096-token vocabulary."""
    from ...corpus import load_text
    from ...tokenizers.course import course_tokenizer

    course = course_tokenizer()
    lines = load_text().splitlines()[:400]
    words = dict.fromkeys(w for line in lines for w in course.basic.pre_tokenize(line))
    extra = ["tokenization", "unaffable", "__getattribute__", "ёжик", "🙂", "naïve", "x" * 100, "x" * 101,
             "interpreter's", "0x7fffffff"]
    return tuple(list(words)[:600] + extra), course.vocab

__all__ = ['numbers', 'random', 'Counter', 'lru_cache', 'exercise', 'SEED_COUNTS', 'HF_TOY_COUNTS', 'SENNRICH_COUNTS', '_as_float', '_as_pieces', '_wordpiece_diagnosis', '_real_words']

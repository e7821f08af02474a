"""Which word each token belongs to: the unit of whole-word and span masking.

English WordPiece marks a word's continuation pieces with ``##`` ("token", "##ization"): a piece starting with
``##`` joins the word before it. Chinese BERT cuts text into single characters, so a word such as 西瓜 (watermelon)
is two tokens with no marker between them; whole-word masking for Chinese (Cui et al., 2019, "Pre-Training with
Whole Word Masking for Chinese BERT") asks a word segmenter where the words are. ``jieba`` is the segmenter used
here: 我喜欢吃西瓜，还喜欢跑步 -> 我 / 喜欢 / 吃 / 西瓜 / ， / 还 / 喜欢 / 跑步.

Both functions return one entry per token: the word's index, or ``None`` for special tokens, the shape of
Hugging Face's ``Encoding.word_ids()`` and of minibert's ``Encoding.word_ids``.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

__all__ = ["is_special_token", "wordpiece_word_ids", "chinese_word_ids", "jieba_segment"]

_SPECIAL = re.compile(r"^\[(CLS|SEP|PAD|MASK)\]$|^<(s|/s|pad|mask)>$")


def is_special_token(token: str) -> bool:
    """``[CLS]``, ``[SEP]``, ``[PAD]``, ``[MASK]`` (and their RoBERTa spellings). ``[UNK]`` is a word like any other."""
    return bool(_SPECIAL.match(token))


def _check_tokens(tokens) -> list[str]:
    if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
        raise TypeError("tokens must be a list of token strings, e.g. tokenizer.tokenize(text) or encoding.tokens")
    return list(tokens)


def wordpiece_word_ids(tokens: Sequence[str]) -> list[int | None]:
    """Word index of every WordPiece token: ``##`` pieces continue the previous word; specials get ``None``."""
    word_ids: list[int | None] = []
    current = -1
    previous_was_word = False
    for token in _check_tokens(tokens):
        if is_special_token(token):
            word_ids.append(None)
            previous_was_word = False
            continue
        if not (token.startswith("##") and previous_was_word):
            current += 1
        word_ids.append(current)
        previous_was_word = True
    return word_ids


def jieba_segment(text: str) -> list[str]:
    """Chinese word segmentation with ``jieba`` (quiet, deterministic: its default dictionary, HMM on)."""
    try:
        import jieba
    except ImportError:
        raise ImportError("Chinese whole-word masking needs the jieba segmenter: pip install jieba") from None
    import logging

    jieba.setLogLevel(logging.WARNING)
    return jieba.lcut(text)


def chinese_word_ids(tokens: Sequence[str], segment: Callable[[str], list[str]] | None = None) -> list[int | None]:
    """Word index of every token of a character-tokenized Chinese sentence, words found by ``segment``
    (default: jieba). A token belongs to the word holding its first character; ``##`` pieces join the previous word.
    The tokens (``##`` removed) must spell the text the segmenter sees, so segmenting is done on their join."""
    tokens = _check_tokens(tokens)
    segment = segment or jieba_segment
    pieces = [None if is_special_token(t) else (t[2:] if t.startswith("##") else t) for t in tokens]
    text = "".join(p for p in pieces if p is not None)
    if not text:
        return [None] * len(tokens)
    words = segment(text)
    if "".join(words) != text:
        raise ValueError("the segmenter changed the text (it must only cut it into words); got "
                         f"{''.join(words)!r} for {text!r}")
    owner = [i for i, word in enumerate(words) for _ in word]  # character -> word index
    word_ids: list[int | None] = []
    position = 0
    for token, piece in zip(tokens, pieces):
        if piece is None:
            word_ids.append(None)
            continue
        if token.startswith("##") and word_ids and word_ids[-1] is not None:
            word_ids.append(word_ids[-1])
        else:
            word_ids.append(owner[position])
        position += len(piece)
    return word_ids

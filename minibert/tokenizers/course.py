"""The course's own tokenizer: WordPiece trained by likelihood score on the offline corpus.

Chapter 04 trains it; the later chapters (masked LM, pre-training a tiny BERT) use it. Its vocabulary is shipped as
``minibert/data/course_vocab.txt`` (made by ``scripts/make_course_vocab.py``, which calls :func:`train_course_vocab`)
because training takes several seconds; ``course_tokenizer()`` loads it instantly. Other sizes are trained on
first use (and cached for the session).

    >>> tok = course_tokenizer()
    >>> tok.tokenize("The interpreter raises a ValueError.")
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from minibert.core.checks import integer
from .train_wordpiece import train_wordpiece
from .wordpiece import WordPieceTokenizer

__all__ = ["COURSE_VOCAB_SIZE", "COURSE_MIN_FREQUENCY", "COURSE_VOCAB_PATH", "course_tokenizer", "train_course_vocab"]

COURSE_VOCAB_SIZE = 4096
# Pairs must occur 10 times: the likelihood score loves pairs of rare symbols, and without a floor the small
# vocabulary of a tiny BERT would fill up with fragments of words seen once or twice (see chapter 04).
COURSE_MIN_FREQUENCY = 10
COURSE_VOCAB_PATH = Path(__file__).resolve().parent.parent / "data" / "course_vocab.txt"


def train_course_vocab(vocab_size: int = COURSE_VOCAB_SIZE) -> WordPieceTokenizer:
    """Train the course tokenizer from scratch (uncased, like bert-base-uncased) on ``minibert.corpus``."""
    from ..corpus import load_text

    return train_wordpiece(load_text().splitlines(), vocab_size, min_frequency=COURSE_MIN_FREQUENCY)


@lru_cache(maxsize=4)
def _course_tokenizer(vocab_size: int) -> WordPieceTokenizer:
    if vocab_size == COURSE_VOCAB_SIZE and COURSE_VOCAB_PATH.exists():
        return WordPieceTokenizer.from_pretrained(COURSE_VOCAB_PATH)
    return train_course_vocab(vocab_size)


def course_tokenizer(vocab_size: int = COURSE_VOCAB_SIZE) -> WordPieceTokenizer:
    """The deterministic WordPiece tokenizer of the course (uncased, ``vocab_size`` tokens at most, 4096 by
    default: instant, from the shipped vocabulary). Ids 0-4 are [PAD], [UNK], [CLS], [SEP], [MASK]."""
    return _course_tokenizer(integer("", "vocab_size", vocab_size))

"""Real English text that works offline: prose from CPython's own documentation, shipped inside the package.

``scripts/make_corpus.py`` made ``minibert/data/python_docs.txt`` from ``pydoc_data.topics`` and the standard
library's docstrings (about 600 KB, 97k words, 221 documents). It is committed rather than rebuilt at run time so that
every Python version sees the same text and the notebooks print the same numbers.

    >>> docs = load_documents()            # list of documents, each a list of sentences
    >>> train, held_out = split_documents(docs, held_out=0.1, seed=0)
"""
from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

__all__ = ["CORPUS_PATH", "load_documents", "load_text", "random_windows", "split_documents"]

CORPUS_PATH = Path(__file__).resolve().parent / "data" / "python_docs.txt"


@lru_cache(maxsize=1)
def _documents() -> tuple[tuple[str, tuple[str, ...]], ...]:
    try:
        raw = CORPUS_PATH.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"the course corpus is missing at {CORPUS_PATH}; reinstall minibert or run "
                                "`python scripts/make_corpus.py`") from None
    documents = []
    for block in raw.strip().split("\n\n"):
        lines = block.splitlines()
        documents.append((lines[0].removeprefix("# "), tuple(lines[1:])))
    return tuple(documents)


def load_documents(with_titles: bool = False) -> list:
    """The corpus as documents, each a list of sentences (with ``with_titles``, ``(title, sentences)`` pairs)."""
    if with_titles:
        return [(title, list(sentences)) for title, sentences in _documents()]
    return [list(sentences) for _, sentences in _documents()]


def load_text() -> str:
    """All sentences joined, one per line: the form tokenizer trainers take."""
    return "\n".join(sentence for _, sentences in _documents() for sentence in sentences)


def split_documents(documents: list, held_out: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """Shuffle whole documents with ``seed`` and hold out a fraction of them (never split a document across
    train and test: sentences of one document share words, which would flatter the held-out score)."""
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be a fraction in (0, 1), got {held_out}")
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    cut = max(1, round(len(documents) * held_out))
    return [documents[i] for i in order[cut:]], [documents[i] for i in order[:cut]]


def random_windows(stream, length: int, count: int, generator):
    """``count`` windows of ``length`` consecutive ids drawn at random starts from a 1-D tensor ``stream`` (how the
    tiny left-to-right models of chapters 03 and 14 see their corpus): a ``(count, length)`` tensor."""
    import torch

    if not isinstance(stream, torch.Tensor) or stream.dim() != 1:
        raise TypeError("stream must be a 1-D tensor of token ids (the corpus encoded end to end)")
    if len(stream) <= length:
        raise ValueError(f"the stream has {len(stream)} ids, too few for windows of {length}")
    starts = torch.randint(0, len(stream) - length, (count,), generator=generator)
    return torch.stack([stream[s:s + length] for s in starts.tolist()])

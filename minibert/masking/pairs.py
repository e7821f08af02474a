"""Turning documents into training inputs: BERT's sentence pairs (NSP), ALBERT's sentence order (SOP) and
RoBERTa's FULL-SENTENCES packing.

Documents are lists of sentences, each sentence a list of token ids (no special tokens).

- **NSP** (Devlin et al., 2019, section 3.1, task 2): segment A is a run of sentences; half the time B is the text
  that really follows A (label 0, "IsNext"), half the time B is taken from a random *other* document (label 1,
  "NotNext"). A and B are filled up to ``max_tokens`` and then trimmed, a token at a time from the front or the back
  of the longer one, as BERT's ``create_pretraining_data.py`` does.
- **SOP** (Lan et al., 2020, ALBERT, section 3.1): A and B are always consecutive text of one document; half the
  time they are swapped (label 1). Topic cues no longer give the answer away; only the order does.
- **FULL-SENTENCES** (Liu et al., 2019, RoBERTa, section 4.2): no pairs, no NSP. Fill each input with whole
  consecutive sentences up to ``max_tokens``, running on into the next document with an extra ``[SEP]`` between.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from minibert.core.checks import integer
from .mlm import as_generator

__all__ = ["SentencePair", "nsp_pairs", "sop_pairs", "pack_full_sentences", "encode_pair", "check_documents"]

Document = Sequence[Sequence[int]]


@dataclass
class SentencePair:
    """Two segments of token ids and the label of the pair task (NSP: 1 = B is random; SOP: 1 = swapped)."""

    a: list[int]
    b: list[int]
    label: int


def check_documents(documents) -> list[list[list[int]]]:
    """Documents as lists of sentences of ids; empty sentences are dropped (they carry nothing to predict)."""
    if isinstance(documents, (str, torch.Tensor)) or not hasattr(documents, "__iter__"):
        raise TypeError("documents must be a list of documents, each a list of sentences of token ids")
    out = []
    for d, document in enumerate(documents):
        sentences = []
        for sentence in document:
            if isinstance(sentence, str):
                raise TypeError(f"document {d} holds text; tokenize it first (sentences must be lists of ids)")
            ids = [int(x) for x in sentence]
            if ids:
                sentences.append(ids)
        out.append(sentences)
    if not any(out):
        raise ValueError("the documents hold no tokens")
    return out


def _randint(generator: torch.Generator, low: int, high: int) -> int:
    """Uniform integer in [low, high]."""
    return int(torch.randint(low, high + 1, (1,), generator=generator))


def _truncate_pair(a: list[int], b: list[int], max_tokens: int, generator: torch.Generator) -> None:
    """Trim the longer segment, one token from its front or back at random, until both fit (BERT's rule)."""
    while len(a) + len(b) > max_tokens:
        longer = a if len(a) > len(b) else b
        if torch.rand(1, generator=generator).item() < 0.5:
            del longer[0]
        else:
            longer.pop()


def _chunks(document: list[list[int]], target: int):
    """Runs of consecutive sentences holding about ``target`` tokens (the last run may be shorter)."""
    chunk, length = [], 0
    for sentence in document:
        chunk.append(sentence)
        length += len(sentence)
        if length >= target:
            yield chunk
            chunk, length = [], 0
    if chunk:
        yield chunk


def _split_chunk(chunk: list[list[int]], generator) -> tuple[list[int], list[int]] | None:
    """A = the first ``k`` sentences, B = the rest, ``k`` random; a lone sentence is cut at a random token."""
    if len(chunk) >= 2:
        k = _randint(generator, 1, len(chunk) - 1)
        return [t for s in chunk[:k] for t in s], [t for s in chunk[k:] for t in s]
    tokens = chunk[0]
    if len(tokens) < 2:
        return None
    k = _randint(generator, 1, len(tokens) - 1)
    return tokens[:k], tokens[k:]


def _pairs(documents, max_tokens: int, generator, order: bool) -> list[SentencePair]:
    documents = check_documents(documents)
    integer("", "max_tokens", max_tokens, minimum=5, why="[CLS] A [SEP] B [SEP]")
    if not order and sum(1 for d in documents if d) < 2:
        raise ValueError("NSP needs at least two non-empty documents to draw random next sentences from")
    generator = as_generator(generator)
    budget = max_tokens - 3  # room for [CLS], [SEP], [SEP]
    pairs = []
    for index, document in enumerate(documents):
        for chunk in _chunks(document, budget):
            split = _split_chunk(chunk, generator)
            if split is None:
                continue
            a, b = split
            label = int(torch.rand(1, generator=generator).item() < 0.5)
            if order:  # SOP: same text, maybe swapped
                if label:
                    a, b = b, a
            elif label:  # NSP: replace B by text from another document, starting at a random sentence
                other = index
                while other == index or not documents[other]:
                    other = _randint(generator, 0, len(documents) - 1)
                start = _randint(generator, 0, len(documents[other]) - 1)
                b = [t for s in documents[other][start:] for t in s][: max(1, budget - len(a))]
            a, b = list(a), list(b)
            _truncate_pair(a, b, budget, generator)
            if a and b:
                pairs.append(SentencePair(a, b, label))
    return pairs


def nsp_pairs(documents, max_tokens: int = 128, generator=0) -> list[SentencePair]:
    """BERT's next-sentence-prediction pairs: label 0 = B follows A in the document, 1 = B is from another one."""
    return _pairs(documents, max_tokens, generator, order=False)


def sop_pairs(documents, max_tokens: int = 128, generator=0) -> list[SentencePair]:
    """ALBERT's sentence-order pairs: A and B consecutive in one document; label 1 = they were swapped."""
    return _pairs(documents, max_tokens, generator, order=True)


def encode_pair(a: Sequence[int], b: Sequence[int] | None, cls_id: int, sep_id: int) -> tuple[list[int], list[int]]:
    """``[CLS] a [SEP] (b [SEP])`` and its token types (0 for A and the first specials, 1 for B)."""
    ids = [cls_id, *a, sep_id]
    types = [0] * len(ids)
    if b is not None:
        ids += [*b, sep_id]
        types += [1] * (len(b) + 1)
    return ids, types


def pack_full_sentences(documents, max_tokens: int, cls_id: int, sep_id: int) -> list[list[int]]:
    """RoBERTa's FULL-SENTENCES inputs: ``[CLS] s1 s2 ... [SEP]``, each at most ``max_tokens`` long, whole
    sentences taken in order across document boundaries, with a ``[SEP]`` where a document ends. A sentence longer
    than a whole input is cut into input-sized pieces (nothing is dropped)."""
    documents = check_documents(documents)
    integer("", "max_tokens", max_tokens, minimum=3, why="[CLS] x [SEP]")
    budget = max_tokens - 2
    blocks: list[list[int]] = []
    current: list[int] = []

    def flush():
        nonlocal current
        while current and current[-1] == sep_id:  # a block never ends on a bare document separator
            current.pop()
        if current:
            blocks.append([cls_id, *current, sep_id])
        current = []

    for document in documents:
        if not document:
            continue
        if current and len(current) + 1 <= budget:
            current.append(sep_id)  # document boundary
        for sentence in document:
            for start in range(0, len(sentence), budget):
                piece = sentence[start:start + budget]
                if len(current) + len(piece) > budget:
                    flush()
                current.extend(piece)
    flush()
    return blocks

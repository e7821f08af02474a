"""Pre-training data: text -> token ids -> packed inputs -> masked batches, reproducibly and shardable.

Static vs dynamic masking (Liu et al., 2019, RoBERTa, section 4.1): BERT masked its data once while preprocessing
(duplicated 10 times with different masks), so a sequence seen in several epochs meets the same few masks again.
RoBERTa draws a new mask every time a sequence is fed to the model. Here the mask of example ``i`` in epoch ``e``
is drawn from a generator seeded by ``(seed, e, i)``: dynamic masking changes it every epoch, static masking pins
``e = 0``. Either way a mask depends only on *which* example it is, never on batch size, on how many processes
share the work, or on where training was interrupted, which is what makes multi-process training equal to a
single process and a resumed run equal to an uninterrupted one.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch

from minibert.core.checks import integer
from minibert.core.inputs import IGNORE_INDEX
from .mlm import Masker
from .pairs import check_documents, pack_full_sentences

__all__ = ["token_ids", "encode_documents", "pad_batch", "example_generator", "epoch_order", "MaskedLMDataset"]


def token_ids(tokenizer, text: str) -> list[int]:
    """Ids of ``text`` without special tokens, from a minibert ``WordPieceTokenizer`` or a ``transformers`` one."""
    try:
        encoded = tokenizer.encode(text, add_special_tokens=False)
    except TypeError:  # a tokenizer without the switch: drop its special tokens ourselves
        encoded = tokenizer.encode(text)
        special = set(getattr(tokenizer, "special_ids", None) or tokenizer.all_special_ids)
        return [int(i) for i in getattr(encoded, "input_ids", encoded) if int(i) not in special]
    return [int(i) for i in getattr(encoded, "input_ids", encoded)]


def encode_documents(documents: Sequence[Sequence[str]], tokenizer) -> list[list[list[int]]]:
    """Tokenize documents given as lists of sentences (``minibert.corpus.load_documents()``)."""
    return [[token_ids(tokenizer, sentence) for sentence in document] for document in documents]


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int, length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into ``(input_ids, attention_mask)``; ``length`` fixes the width (never truncates)."""
    if not sequences:
        raise ValueError("pad_batch needs at least one sequence")
    longest = max(len(s) for s in sequences)
    length = longest if length is None else length
    if longest > length:
        raise ValueError(f"a sequence has {longest} tokens, more than length={length}; pack or split it first")
    ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, :len(sequence)] = torch.as_tensor(list(sequence), dtype=torch.long)
        mask[row, :len(sequence)] = 1
    return ids, mask


def example_generator(seed: int, epoch: int, index: int) -> torch.Generator:
    """The generator that masks example ``index`` in ``epoch``: a function of the three numbers only."""
    return torch.Generator().manual_seed(((seed * 1_000_003 + epoch) * 1_000_033 + index) % (2**63 - 1))


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The shuffled order of ``n`` examples in ``epoch`` (the same on every process)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 7919 + epoch)).tolist()


class MaskedLMDataset:
    """Packed token blocks, masked on the fly.

    ``blocks``: lists of ids, each already wrapped in ``[CLS] ... [SEP]`` (see :meth:`from_documents`).
    ``dynamic``: a new mask every epoch (RoBERTa) or the same mask forever (BERT's static masking).
    """

    def __init__(self, blocks: Sequence[Sequence[int]], masker: Masker, pad_id: int, seed: int = 0,
                 dynamic: bool = True, length: int | None = None):
        if not blocks:
            raise ValueError("the dataset is empty: no blocks of token ids")
        self.blocks = [list(b) for b in blocks]
        self.masker, self.pad_id, self.seed, self.dynamic = masker, pad_id, seed, dynamic
        self.length = length or max(len(b) for b in self.blocks)

    @classmethod
    def from_documents(cls, documents, masker: Masker, cls_id: int, sep_id: int, pad_id: int, max_tokens: int,
                       **options) -> "MaskedLMDataset":
        """FULL-SENTENCES packing of tokenized documents into inputs of at most ``max_tokens``."""
        blocks = pack_full_sentences(check_documents(documents), max_tokens, cls_id, sep_id)
        return cls(blocks, masker, pad_id, length=max_tokens, **options)

    def __len__(self) -> int:
        return len(self.blocks)

    def example(self, index: int, epoch: int = 0):
        """One masked example: ``MaskedBatch`` with 1-D tensors."""
        generator = example_generator(self.seed, epoch if self.dynamic else 0, index)
        return self.masker(torch.tensor(self.blocks[index]), generator)

    def batch(self, indices: Sequence[int], epoch: int = 0) -> dict[str, torch.Tensor]:
        """``input_ids``, ``attention_mask`` and ``labels`` (-100 where nothing is predicted, padding included)."""
        examples = [self.example(i, epoch) for i in indices]
        ids, mask = pad_batch([e.input_ids.tolist() for e in examples], self.pad_id, self.length)
        labels, _ = pad_batch([e.labels.tolist() for e in examples], IGNORE_INDEX, self.length)
        labels[mask == 0] = IGNORE_INDEX
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    def global_batches(self, batch_size: int, epoch: int, shuffle: bool = True) -> list[list[int]]:
        """The epoch's global batches of example indices (an incomplete last batch is dropped when shuffling,
        so every optimizer step sees the same number of sequences)."""
        integer("", "batch_size", batch_size, minimum=1)
        order = epoch_order(len(self), self.seed, epoch) if shuffle else list(range(len(self)))
        stop = len(order) - len(order) % batch_size if shuffle else len(order)
        return [order[i:i + batch_size] for i in range(0, stop, batch_size)]

    def evaluation_batches(self, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
        """Every example once, in order, with its epoch-0 mask: a fixed test set."""
        for indices in self.global_batches(batch_size, epoch=0, shuffle=False):
            yield self.batch(indices, epoch=0)

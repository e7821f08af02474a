"""From token ids to model inputs: special tokens, sentence pairs, truncation, padding, batches.

BERT reads one or two segments framed by special tokens (Devlin et al., 2019, section 3 and figure 2)::

    single:  [CLS] A [SEP]              token_type_ids  0 0..0 0
    pair:    [CLS] A [SEP] B [SEP]      token_type_ids  0 0..0 0 1..1 1

RoBERTa (Liu et al., 2019) frames them as ``<s> A </s>`` and ``<s> A </s></s> B </s>`` with one token type.
Truncation never happens silently: a sequence longer than ``max_length`` raises unless ``truncation=True``, and then
the *longest first* rule of Hugging Face ``tokenizers`` decides how many tokens each segment keeps.

:class:`SubwordTokenizer` holds what the WordPiece and byte-level BPE tokenizers share; a subclass supplies the
vocabulary, ``_encode_text`` (text -> ids and word indices) and ``_join`` (tokens -> text).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from minibert.core.checks import integer
from .basic import check_text

__all__ = ["Encoding", "SubwordTokenizer", "truncated_lengths"]


@dataclass
class Encoding:
    """One encoded text (or pair). ``word_ids[i]`` is the index of the word token ``i`` came from (counted per
    segment, as in ``transformers``), ``None`` for the special tokens the template added."""
    input_ids: list[int]
    token_type_ids: list[int]
    attention_mask: list[int]
    tokens: list[str]
    word_ids: list[int | None]
    special_tokens_mask: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)


def truncated_lengths(len_a: int, len_b: int | None, budget: int) -> tuple[int, int | None]:
    """How many tokens each segment keeps when together they must fit in ``budget`` (longest first).

    The shorter segment is kept whole when the longer one can absorb the cut; otherwise both get half the budget,
    the longer one (the second one, on a tie) taking the odd token. This is ``tokenizers``' LongestFirst rule.
    """
    if len_b is None:
        return min(len_a, budget), None
    if len_a + len_b <= budget:
        return len_a, len_b
    short, long_ = sorted((len_a, len_b))
    keep_short, keep_long = (short, max(short, budget - short)) if short <= budget else (short, short)
    if keep_short + keep_long > budget:
        keep_short, keep_long = budget // 2, budget // 2 + budget % 2
    return (keep_long, keep_short) if len_a > len_b else (keep_short, keep_long)


class SubwordTokenizer:
    """Shared plumbing. Subclasses set ``vocab`` (token -> id), ``ids_to_tokens``, ``special_ids``,
    ``model_max_length`` and ``pad_token_id``, and implement ``_encode_text``, ``_template`` and ``_join``."""

    vocab: dict[str, int]
    ids_to_tokens: list[str]
    special_ids: set[int]
    model_max_length: int = 512
    pad_token_id: int | None = None

    def __len__(self) -> int:
        return len(self.ids_to_tokens)

    # -- supplied by subclasses --
    def _encode_text(self, text: str) -> tuple[list[int], list[int]]:
        raise NotImplementedError

    def _template(self, ids_a: list[int], ids_b: list[int] | None) -> tuple[list[int], list[int], list[int]]:
        """The full sequence with special tokens: (ids, token types, 1 where the template added a token)."""
        raise NotImplementedError

    def _join(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def num_special_tokens(self, pair: bool = False) -> int:
        ids, _, _ = self._template([], [] if pair else None)
        return len(ids)

    # -- public API --
    def convert_tokens_to_ids(self, tokens: list[str]) -> list[int]:
        missing = [t for t in tokens if t not in self.vocab]
        if missing:
            raise ValueError(f"tokens not in the vocabulary: {missing[:5]}")
        return [self.vocab[t] for t in tokens]

    def convert_ids_to_tokens(self, ids) -> list[str]:
        return [self.ids_to_tokens[i] for i in self._check_ids(ids)]

    def _check_ids(self, ids) -> list[int]:
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if isinstance(ids, int):
            ids = [ids]
        ids = list(ids)
        for i in ids:
            integer("", "a token id", i)
            if not 0 <= i < len(self.ids_to_tokens):
                raise ValueError(f"token id {i} is out of range for a vocabulary of {len(self.ids_to_tokens)}: "
                                 "was it made by another tokenizer?")
        return ids

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text``, without special tokens."""
        ids, _ = self._encode_text(check_text(text))
        return [self.ids_to_tokens[i] for i in ids]

    def encode(self, text: str, pair: str | None = None, add_special_tokens: bool = True,
               max_length: int | None = None, truncation: bool = False) -> Encoding:
        """Encode a text or a pair of texts. Longer than ``max_length``: ValueError, or cut with ``truncation``."""
        if truncation not in (True, False):
            raise TypeError(f"truncation must be True or False, got {truncation!r}")
        ids_a, words_a = self._encode_text(check_text(text))
        ids_b, words_b = self._encode_text(check_text(pair, "pair")) if pair is not None else (None, None)
        n_special = self.num_special_tokens(pair is not None) if add_special_tokens else 0
        if max_length is not None:
            room = f"the {n_special} special tokens and at least one more" if n_special else ""
            integer("", "max_length", max_length, minimum=n_special + 1, why=room)
            total = len(ids_a) + (len(ids_b) if ids_b is not None else 0) + n_special
            if total > max_length:
                if not truncation:
                    raise ValueError(f"the encoding has {total} tokens, more than max_length={max_length}: pass "
                                     "truncation=True to cut it (longest segment first), or split the text")
                keep_a, keep_b = truncated_lengths(len(ids_a), None if ids_b is None else len(ids_b),
                                                   max_length - n_special)
                ids_a, words_a = ids_a[:keep_a], words_a[:keep_a]
                if ids_b is not None:
                    ids_b, words_b = ids_b[:keep_b], words_b[:keep_b]
        if add_special_tokens:
            ids, types, special = self._template(ids_a, ids_b)
            words = iter(words_a + (words_b or []))
            word_ids = [None if s else next(words) for s in special]
        else:
            ids = ids_a + (ids_b or [])
            types = [0] * len(ids_a) + [1] * len(ids_b or [])
            special, word_ids = [0] * len(ids), words_a + (words_b or [])
        return Encoding(ids, types, [1] * len(ids), [self.ids_to_tokens[i] for i in ids], word_ids, special)

    def __call__(self, texts, pairs=None, padding: bool | str = True, truncation: bool = False,
                 max_length: int | None = None, return_tensors: str | None = "pt", add_special_tokens: bool = True):
        """Encode a batch: a dict of ``(batch, T)`` ``input_ids``, ``token_type_ids`` and ``attention_mask``
        (torch long tensors with ``return_tensors="pt"``, lists with ``None``).

        ``padding=True`` pads to the longest sequence, ``"max_length"`` to ``max_length``. Sequences longer than
        ``max_length`` (default: ``model_max_length``) raise unless ``truncation=True``.
        """
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, (list, tuple)) or not texts:
            raise TypeError("texts must be a str or a non-empty list of str")
        if pairs is not None:
            pairs = [pairs] if isinstance(pairs, str) else pairs
            if not isinstance(pairs, (list, tuple)) or len(pairs) != len(texts):
                raise ValueError(f"pairs must be a list as long as texts ({len(texts)}), got "
                                 f"{len(pairs) if isinstance(pairs, (list, tuple)) else type(pairs).__name__}")
        if padding not in (True, False, "longest", "max_length"):
            raise ValueError(f"padding must be True/'longest', 'max_length' or False, got {padding!r}")
        if return_tensors not in ("pt", None):
            raise ValueError(f"return_tensors must be 'pt' or None, got {return_tensors!r}")
        limit = self.model_max_length if max_length is None else max_length
        encodings = []
        for i, text in enumerate(texts):
            try:
                encodings.append(self.encode(text, None if pairs is None else pairs[i], add_special_tokens,
                                             max_length=limit, truncation=truncation))
            except (ValueError, TypeError) as err:
                raise type(err)(f"text {i} of the batch: {err}") from None
        width = max(len(e) for e in encodings)
        if padding == "max_length":
            if max_length is None:
                raise ValueError("padding='max_length' needs max_length")
            width = max_length
        if padding and width > 0 and any(len(e) < width for e in encodings) and self.pad_token_id is None:
            raise ValueError("this tokenizer has no padding token; pass padding=False or add one")
        if not padding and len({len(e) for e in encodings}) > 1 and return_tensors == "pt":
            raise ValueError("sequences have different lengths: tensors need padding=True")
        batch = {"input_ids": [], "token_type_ids": [], "attention_mask": []}
        for e in encodings:
            extra = width - len(e) if padding else 0
            batch["input_ids"].append(e.input_ids + [self.pad_token_id] * extra)
            batch["token_type_ids"].append(e.token_type_ids + [0] * extra)
            batch["attention_mask"].append(e.attention_mask + [0] * extra)
        if return_tensors == "pt":
            import torch

            return {key: torch.tensor(value, dtype=torch.long) for key, value in batch.items()}
        return batch

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        """Token ids -> text (lowercased and without accents for an uncased model: normalising is one-way)."""
        ids = self._check_ids(ids)
        if skip_special_tokens:
            ids = [i for i in ids if i not in self.special_ids]
        return self._join([self.ids_to_tokens[i] for i in ids])

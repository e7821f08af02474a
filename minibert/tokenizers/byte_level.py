"""Byte-level BPE (Radford et al., 2019, GPT-2; used by RoBERTa, Liu et al., 2019): BPE over the UTF-8 *bytes* of
the text instead of its characters, so the base vocabulary is exactly 256 symbols and nothing is ever unknown:

    text --UTF-8--> bytes --byte_to_symbol--> 256 printable symbols --BPE merges--> tokens

Two details make it work in practice:

* The byte -> symbol table (``bytes_to_unicode``) maps each byte to a *printable* character, so tokens are readable
  strings and files stay text: the 188 printable bytes (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) stand for
  themselves and the 68 others (space, control bytes, ...) are shifted to U+0100 onwards, so a space is ``Ġ``.
* A regex pre-tokenizer cuts the text into pieces that merges may not cross: contractions (``'s``, ``'ll``),
  runs of letters or digits or other symbols with at most one leading space, and whitespace. A word keeps its
  leading space (``Ġworld``), which is how decoding restores the spaces.

Decoding maps symbols back to bytes and the bytes to text. Any sequence of ids decodes, but a slice can end inside a
multi-byte character: those bytes become U+FFFD, as in ``transformers``. :meth:`ByteLevelBPETokenizer.encode_bytes`
takes raw bytes, even bytes that are not UTF-8 (a damaged file), and :meth:`decode_bytes` gives them back exactly.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from .basic import check_text
from .bpe import BPE, apply_merges, count_words, train_bpe
from .encoding import SubwordTokenizer

__all__ = ["bytes_to_unicode", "GPT2_PATTERN", "gpt2_pattern", "byte_level_pre_tokenize", "ByteLevelBPETokenizer"]

# GPT-2's pre-tokenizer: contractions, letters, digits, other symbols (each run with at most one leading space),
# whitespace not followed by a non-space, other whitespace. \p{L} and \p{N} need the `regex` package.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@lru_cache(maxsize=1)
def gpt2_pattern():
    try:
        import regex
    except ImportError:
        raise ImportError("byte-level BPE needs the `regex` package for GPT-2's pre-tokenizer (Unicode letter and "
                          "number classes): pip install regex") from None
    return regex.compile(GPT2_PATTERN)


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table: byte value -> printable character (printable Latin-1 bytes map to themselves)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, shifted = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return table


@lru_cache(maxsize=1)
def _symbol_to_byte() -> dict[str, int]:
    return {symbol: byte for byte, symbol in bytes_to_unicode().items()}


def _pieces(text: str, add_prefix_space: bool) -> list[str]:
    if add_prefix_space and not text.startswith(" "):
        text = " " + text
    return gpt2_pattern().findall(text)


@lru_cache(maxsize=1)
def _latin1_to_symbols() -> dict[int, str]:
    return {byte: symbol for byte, symbol in bytes_to_unicode().items()}


def _to_symbols(data: bytes) -> str:
    # bytes -> the Latin-1 character of each byte value -> its printable stand-in, in one C-level pass
    return data.decode("latin-1").translate(_latin1_to_symbols())


def byte_level_pre_tokenize(text: str, add_prefix_space: bool = False) -> list[str]:
    """Text -> pre-tokens written with byte symbols: ``"Hello world"`` -> ``["Hello", "Ġworld"]``."""
    return [_to_symbols(piece.encode("utf-8")) for piece in _pieces(text, add_prefix_space)]


class ByteLevelBPETokenizer(SubwordTokenizer):
    """GPT-2/RoBERTa-style tokenizer. ``vocab`` maps token -> id, ``merges`` are ``(left, right)`` pairs in the
    order they were learned. If the vocabulary has RoBERTa's ``<s>`` and ``</s>``, ``encode`` frames texts as
    ``<s> A </s>`` and pairs as ``<s> A </s></s> B </s>``; otherwise it adds nothing."""

    CACHE_SIZE = 1 << 17

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]], special_tokens=(),
                 add_prefix_space: bool = False, model_max_length: int = 512, history=()):
        self.model = BPE(vocab, merges, history)
        self.vocab, self.ids_to_tokens = self.model.vocab, self.model.ids_to_tokens
        if sorted(self.vocab.values()) != list(range(len(self.vocab))):
            raise ValueError("vocabulary ids must be 0, 1, ..., n-1 with no gaps or repeats")
        missing = [s for s in bytes_to_unicode().values() if s not in self.vocab]
        if missing:
            raise ValueError(f"the vocabulary lacks {len(missing)} of the 256 byte symbols (e.g. {missing[0]!r}): "
                             "a byte-level vocabulary must hold them all, or some text could not be encoded")
        for left, right in merges:
            if left not in self.vocab or right not in self.vocab or left + right not in self.vocab:
                raise ValueError(f"merge {left!r} {right!r} uses or makes a token that is not in the vocabulary")
        self.special_tokens = [t for t in special_tokens if t in self.vocab]
        self.special_ids = {self.vocab[t] for t in self.special_tokens}
        self.add_prefix_space = bool(add_prefix_space)
        self.model_max_length = int(model_max_length)
        self.history = self.model.history
        self.pad_token_id = self.vocab.get("<pad>")
        self.bos_token_id, self.eos_token_id = self.vocab.get("<s>"), self.vocab.get("</s>")
        self.mask_token_id, self.unk_token_id = self.vocab.get("<mask>"), self.vocab.get("<unk>")
        alternatives = sorted(self.special_tokens, key=len, reverse=True)
        self._special_pattern = re.compile("(" + "|".join(map(re.escape, alternatives)) + ")") \
            if alternatives else None
        self._cache: dict[str, tuple[int, ...]] = {}

    def __repr__(self) -> str:
        return f"ByteLevelBPETokenizer(vocab_size={len(self)}, merges={len(self.model.merges)})"

    @property
    def merges(self) -> list[tuple[str, str]]:
        return self.model.merges

    @classmethod
    def train(cls, texts, vocab_size: int, min_frequency: int = 2, special_tokens=(),
              add_prefix_space: bool = False) -> ByteLevelBPETokenizer:
        """Learn merges on ``texts`` starting from all 256 byte symbols (same merges as ``tokenizers``'
        BpeTrainer with the ByteLevel pre-tokenizer and ``initial_alphabet=ByteLevel.alphabet()``)."""
        special_tokens = list(special_tokens)
        # count the pre-tokens first and write each distinct one in byte symbols once
        pieces = count_words(texts, lambda text: _pieces(check_text(text), add_prefix_space))
        counts = {_to_symbols(piece.encode("utf-8")): count for piece, count in pieces.items()}
        model = train_bpe(counts, vocab_size, min_frequency, special_tokens,
                          initial_alphabet=bytes_to_unicode().values())
        return cls(model.vocab, model.merges, special_tokens, add_prefix_space, history=model.history)

    # ---- encoding ----
    def _piece_ids(self, piece: str | bytes) -> tuple[int, ...]:
        """Token ids of one pre-token (a str, or bytes for encode_bytes), cached."""
        ids = self._cache.get(piece)
        if ids is None:
            data = piece.encode("utf-8", errors="surrogateescape") if isinstance(piece, str) else piece
            ids = tuple(self.vocab[t] for t in apply_merges(list(_to_symbols(data)), self.model.ranks))
            if len(self._cache) < self.CACHE_SIZE:
                self._cache[piece] = ids
        return ids

    def _encode_text(self, text: str) -> tuple[list[int], list[int]]:
        ids: list[int] = []
        lengths: list[int] = []
        segments = self._special_pattern.split(text) if self._special_pattern else [text]
        for k, segment in enumerate(segments):
            if k % 2:  # a special token written in the text
                ids.append(self.vocab[segment])
                lengths.append(1)
                continue
            for piece in (_pieces(segment, self.add_prefix_space) if segment else []):
                piece_ids = self._piece_ids(piece)
                ids += piece_ids
                lengths.append(len(piece_ids))
        return ids, [w for w, n in enumerate(lengths) for _ in range(n)]

    def encode_bytes(self, data: bytes) -> list[int]:
        """Token ids of raw bytes, which need not be valid UTF-8 (no special tokens are added or recognised).
        Invalid bytes are kept as they are: ``decode_bytes(encode_bytes(data)) == data`` for any ``data``."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"encode_bytes takes bytes, got {type(data).__name__}; use encode() for str")
        # undecodable bytes become lone surrogates so the regex can cut the text; each piece goes back to bytes
        text = bytes(data).decode("utf-8", errors="surrogateescape")
        return [i for piece in _pieces(text, self.add_prefix_space)
                for i in self._piece_ids(piece.encode("utf-8", errors="surrogateescape"))]

    def decode_bytes(self, ids, skip_special_tokens: bool = True) -> bytes:
        ids = self._check_ids(ids)
        to_byte = _symbol_to_byte()
        out = bytearray()
        for i in ids:
            if i in self.special_ids:
                if not skip_special_tokens:
                    out += self.ids_to_tokens[i].encode("utf-8")
                continue
            out += bytes(to_byte[s] for s in self.ids_to_tokens[i])
        return bytes(out)

    def _join(self, tokens: list[str]) -> str:
        to_byte = _symbol_to_byte()
        out = bytearray()
        for token in tokens:
            out += token.encode("utf-8") if token in self.special_tokens else bytes(to_byte[s] for s in token)
        return out.decode("utf-8", errors="replace")

    def _template(self, ids_a, ids_b):
        bos, eos = self.bos_token_id, self.eos_token_id
        if bos is None or eos is None:  # GPT-2 style: nothing added
            ids = ids_a + (ids_b or [])
            return ids, [0] * len(ids), [0] * len(ids)
        ids = [bos] + ids_a + [eos]
        special = [1] + [0] * len(ids_a) + [1]
        if ids_b is not None:
            ids += [eos] + ids_b + [eos]
            special += [1] + [0] * len(ids_b) + [1]
        return ids, [0] * len(ids), special

    # ---- files ----
    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        """Write ``vocab.json``, ``merges.txt``, ``tokenizer.json`` and ``tokenizer_config.json``."""
        from .files import _write_json, bpe_tokenizer_json, write_bpe_files

        folder = Path(folder)
        write_bpe_files(folder, self.vocab, self.merges)
        roberta = self.bos_token_id is not None and self.eos_token_id is not None
        post = {"type": "RobertaProcessing", "sep": ["</s>", self.eos_token_id], "cls": ["<s>", self.bos_token_id],
                "trim_offsets": True, "add_prefix_space": self.add_prefix_space} if roberta else None
        _write_json(folder / "tokenizer.json", bpe_tokenizer_json(self.vocab, self.merges, self.special_tokens,
                                                                  self.add_prefix_space, post))
        config = {"tokenizer_class": "RobertaTokenizer" if roberta else "GPT2Tokenizer",
                  "add_prefix_space": self.add_prefix_space, "model_max_length": self.model_max_length,
                  "special_tokens": self.special_tokens}
        _write_json(folder / "tokenizer_config.json", config)
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, **overrides) -> ByteLevelBPETokenizer:
        """Load ``vocab.json`` + ``merges.txt`` (or ``tokenizer.json``) from a folder."""
        from .files import _read_json, read_bpe_files

        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder: pass the folder holding vocab.json and merges.txt")
        vocab, merges, settings = read_bpe_files(folder)
        config_file = folder / "tokenizer_config.json"
        config = _read_json(config_file, "tokenizer config") if config_file.exists() else {}
        specials = config.get("special_tokens") or [t for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
                                                    if t in vocab]
        settings = {"add_prefix_space": config.get("add_prefix_space", settings.get("add_prefix_space", False)),
                    **overrides}
        return cls(vocab, merges, specials, **settings)

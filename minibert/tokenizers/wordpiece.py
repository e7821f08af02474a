"""WordPiece: split each word into the longest vocabulary pieces, left to right (Wu et al., 2016; BERT, 2019).

For a word ``w = c_1 ... c_n`` and a vocabulary ``V``, greedy longest-match-first takes

    piece_1 = the longest prefix c_1..c_j of w with c_1..c_j in V,
    piece_k = the longest "##" + c_i..c_j in V that continues where piece_{k-1} stopped,

until the word is used up. If some position has no match, or the word has more than ``max_input_chars_per_word``
(100) characters, the whole word becomes ``[UNK]``: BERT never emits half a word. So with a vocabulary holding
``un``, ``##aff`` and ``##able``, ``unaffable`` becomes ``un ##aff ##able``.

:class:`WordPieceTokenizer` is BERT's whole tokenizer: special tokens written in the text (``[MASK]``) are kept as
they are, the rest goes through the :class:`~minibert.tokenizers.basic.BasicTokenizer` and then WordPiece, word by
word, with a cache (real text repeats its words, so most words are looked up, not matched). It reads and writes
``vocab.txt`` folders that ``transformers.BertTokenizer`` loads, and ids are identical to it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .basic import BasicTokenizer
from .encoding import SubwordTokenizer

__all__ = ["WordPieceTokenizer", "greedy_longest_match", "BERT_SPECIAL_TOKENS"]

BERT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def greedy_longest_match(word: str, vocab, unk_token: str = "[UNK]", prefix: str = "##",
                         max_input_chars_per_word: int = 100, longest_piece: int | None = None) -> list[str]:
    """WordPiece pieces of one (already normalised) word. ``longest_piece``, the length of the longest vocabulary
    entry without its prefix, only saves time: no longer piece can match."""
    if len(word) > max_input_chars_per_word:
        return [unk_token]
    longest = len(word) if longest_piece is None else longest_piece
    pieces, start = [], 0
    while start < len(word):
        for end in range(min(len(word), start + longest), start, -1):
            piece = word[start:end] if start == 0 else prefix + word[start:end]
            if piece in vocab:
                break
        else:
            return [unk_token]
        pieces.append(piece)
        start = end
    return pieces


class WordPieceTokenizer(SubwordTokenizer):
    """BERT's tokenizer. ``vocab`` is a list of tokens (id = position) or a dict token -> id covering 0..n-1.

    >>> tok = WordPieceTokenizer.from_pretrained("path/to/bert")          # a folder with vocab.txt
    >>> tok.encode("Hello, world!").tokens
    ['[CLS]', 'hello', ',', 'world', '!', '[SEP]']
    """

    CACHE_SIZE = 1 << 18

    def __init__(self, vocab, lowercase: bool = True, strip_accents: bool | None = None,
                 tokenize_chinese_chars: bool = True, unk_token: str = "[UNK]", pad_token: str = "[PAD]",
                 cls_token: str = "[CLS]", sep_token: str = "[SEP]", mask_token: str = "[MASK]",
                 prefix: str = "##", max_input_chars_per_word: int = 100, model_max_length: int = 512):
        tokens = _tokens_in_id_order(vocab)
        if unk_token not in tokens:
            raise ValueError(f"the vocabulary has no unknown token {unk_token!r}: WordPiece needs one for words it "
                             f"cannot split. Add {unk_token!r} to the vocabulary (train_wordpiece adds it).")
        self.ids_to_tokens = tokens
        self.vocab = {token: i for i, token in enumerate(tokens)}
        self.basic = BasicTokenizer(lowercase, strip_accents, tokenize_chinese_chars)
        self.lowercase = self.basic.lowercase
        self.prefix = prefix
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.model_max_length = int(model_max_length)
        self.unk_token, self.pad_token, self.cls_token = unk_token, pad_token, cls_token
        self.sep_token, self.mask_token = sep_token, mask_token
        self.special_tokens = [t for t in (pad_token, unk_token, cls_token, sep_token, mask_token) if t in self.vocab]
        self.special_ids = {self.vocab[t] for t in self.special_tokens}
        self._longest_piece = max(len(t[len(prefix):] if t.startswith(prefix) else t) for t in tokens)
        # special tokens typed in the text stay whole (leftmost, longest first), as in transformers
        alternatives = sorted(self.special_tokens, key=len, reverse=True)
        self._special_pattern = re.compile("(" + "|".join(map(re.escape, alternatives)) + ")")
        self._cache: dict[str, tuple[int, ...]] = {}
        self.history: list = []  # the merges that made the vocabulary, when train_wordpiece did

    def __repr__(self) -> str:
        return f"WordPieceTokenizer(vocab_size={len(self)}, lowercase={self.lowercase})"

    def _id(self, token: str) -> int | None:
        return self.vocab.get(token)

    unk_token_id = property(lambda self: self._id(self.unk_token))
    pad_token_id = property(lambda self: self._id(self.pad_token))
    cls_token_id = property(lambda self: self._id(self.cls_token))
    sep_token_id = property(lambda self: self._id(self.sep_token))
    mask_token_id = property(lambda self: self._id(self.mask_token))

    def word_pieces(self, word: str) -> list[str]:
        """WordPiece pieces of one normalised word (no caching; for teaching and tests)."""
        return greedy_longest_match(word, self.vocab, self.unk_token, self.prefix, self.max_input_chars_per_word,
                                    self._longest_piece)

    def _word_ids(self, word: str) -> tuple[int, ...]:
        ids = self._cache.get(word)
        if ids is None:
            ids = tuple(self.vocab[p] for p in self.word_pieces(word))
            if len(self._cache) < self.CACHE_SIZE:
                self._cache[word] = ids
        return ids

    def _encode_text(self, text: str) -> tuple[list[int], list[int]]:
        ids: list[int] = []
        lengths: list[int] = []
        cache = self._cache
        for k, segment in enumerate(self._special_pattern.split(text)):
            if k % 2:  # a special token written in the text
                ids.append(self.vocab[segment])
                lengths.append(1)
                continue
            for word in self.basic.pre_tokenize(segment):
                pieces = cache.get(word) or self._word_ids(word)
                ids += pieces
                lengths.append(len(pieces))
        word_ids = [w for w, n in enumerate(lengths) for _ in range(n)]
        return ids, word_ids

    def _template(self, ids_a, ids_b):
        cls, sep = self.cls_token_id, self.sep_token_id
        if cls is None or sep is None:
            raise ValueError(f"this vocabulary has no {self.cls_token!r} or {self.sep_token!r}: "
                             "encode with add_special_tokens=False")
        ids = [cls] + ids_a + [sep]
        types = [0] * len(ids)
        if ids_b is not None:
            ids += ids_b + [sep]
            types += [1] * (len(ids_b) + 1)
        special = [1] + [0] * len(ids_a) + [1] + ([] if ids_b is None else [0] * len(ids_b) + [1])
        return ids, types, special

    _CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))

    def _join(self, tokens: list[str]) -> str:
        """Glue ``##`` continuations to the previous piece, separate words by spaces, and tidy the spaces before
        punctuation token by token (as transformers' WordPiece decoder does: `it ' s` stays apart)."""
        out = []
        for i, token in enumerate(tokens):
            if i and token.startswith(self.prefix):
                token = token[len(self.prefix):]
            elif i:
                token = " " + token
            for dirty, clean in self._CLEANUP:
                token = token.replace(dirty, clean)
            out.append(token)
        return "".join(out)

    # ---- files ----
    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, **overrides) -> WordPieceTokenizer:
        """Load a folder holding ``vocab.txt`` (and optionally ``tokenizer_config.json`` / ``tokenizer.json``
        for the lowercasing flags), a ``vocab.txt`` file, or a ``tokenizer.json`` file."""
        from .files import load_wordpiece

        tokens, settings = load_wordpiece(Path(path))
        settings.update(overrides)
        return cls(tokens, **settings)

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        """Write ``vocab.txt``, ``tokenizer_config.json``, ``special_tokens_map.json`` and ``tokenizer.json``:
        what ``transformers.BertTokenizer.from_pretrained`` and ``tokenizers.Tokenizer.from_file`` read."""
        from .files import save_wordpiece

        return save_wordpiece(self, Path(folder))


def _tokens_in_id_order(vocab) -> list[str]:
    if isinstance(vocab, dict):
        ids = sorted(vocab.values())
        if ids != list(range(len(ids))):
            raise ValueError("vocabulary ids must be 0, 1, ..., n-1 with no gaps or repeats")
        tokens = [None] * len(ids)
        for token, i in vocab.items():
            tokens[i] = token
    elif isinstance(vocab, (list, tuple)):
        tokens = list(vocab)
    else:
        raise TypeError(f"vocab must be a list of tokens or a dict token -> id, got {type(vocab).__name__}")
    if not tokens:
        raise ValueError("the vocabulary is empty")
    bad = [t for t in tokens if not isinstance(t, str) or not t or t != t.strip()]
    if bad:
        raise ValueError(f"vocabulary tokens must be non-empty strings without surrounding whitespace, got {bad[:3]}")
    if len(set(tokens)) != len(tokens):
        seen, repeated = set(), []
        for t in tokens:
            (repeated.append(t) if t in seen else seen.add(t))
        raise ValueError(f"the vocabulary repeats tokens {repeated[:5]}: each token needs exactly one id")
    return tokens

"""BERT's basic tokenizer: clean, normalise and split text into words before WordPiece sees it.

Devlin et al. (2019), "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
section 3 and Google's ``tokenization.py``. For a text ``x`` the words are

    words(x) = split_punctuation(split_whitespace(lower(strip_marks(NFD(space_cjk(clean(x)))))))

1. ``clean``: drop NUL, U+FFFD and control characters; every kind of whitespace becomes a plain space.
2. ``space_cjk``: put spaces around each CJK ideograph, so Chinese is tokenised character by character
   (Chinese has no spaces between words; BERT's Chinese vocabulary holds single characters).
3. ``NFD`` then ``strip_marks``: decompose ``é`` into ``e`` + U+0301 and drop the nonspacing mark (uncased models).
4. ``lower``: character by character (``Σ`` always becomes ``σ``, never the final ``ς``).
5. split on whitespace, then make every punctuation character a word of its own.

Each step is a method below so the chapter can show them one at a time; :meth:`BasicTokenizer.pre_tokenize` does
all of them at once with two ``str.translate`` passes whose per-character tables are filled lazily (and one
``NFD``), which is what makes it fast. The tests check that both routes agree, and that they agree with Hugging
Face ``tokenizers`` (BertNormalizer + BertPreTokenizer) on every Unicode code point.
"""
from __future__ import annotations

import re

from .charclasses import is_cjk, is_dropped, is_mark, is_punctuation, is_whitespace, lower, nfd

__all__ = ["BasicTokenizer", "check_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(text, name: str = "text") -> str:
    """Reject what cannot be tokenised: non-strings and strings holding lone surrogates (not valid Unicode)."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}"
                        + ("; decode bytes first, e.g. data.decode('utf-8')" if isinstance(text, bytes) else ""))
    if not text.isascii():
        surrogate = _SURROGATE.search(text)
        if surrogate:
            raise ValueError(f"{name} holds a lone surrogate U+{ord(surrogate.group()):04X} at index "
                             f"{surrogate.start()}: it is not a Unicode character and has no UTF-8 form. It usually "
                             "comes from bytes decoded with errors='surrogateescape'; decode with errors='replace' "
                             "instead.")
    return text


class _LazyTable(dict):
    """A ``str.translate`` table that computes a character's replacement the first time it is seen."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def __missing__(self, code_point: int) -> str:
        value = self[code_point] = self.rule(chr(code_point))
        return value


class BasicTokenizer:
    """Text -> words, exactly as BERT does it (``lowercase=True`` for uncased models, ``False`` for cased ones).

    ``strip_accents=None`` follows ``lowercase``, as in BERT: uncased models also drop accents.
    """

    def __init__(self, lowercase: bool = True, strip_accents: bool | None = None, tokenize_chinese_chars: bool = True):
        self.lowercase = bool(lowercase)
        self.strip_accents = self.lowercase if strip_accents is None else bool(strip_accents)
        self.tokenize_chinese_chars = bool(tokenize_chinese_chars)
        # before NFD: clean + CJK spacing; after NFD: marks, lowercase and spaces around punctuation
        self._before_nfd = _LazyTable(self._rule_before_nfd)
        self._after_nfd = _LazyTable(self._rule_after_nfd)

    def __repr__(self) -> str:
        return (f"BasicTokenizer(lowercase={self.lowercase}, strip_accents={self.strip_accents}, "
                f"tokenize_chinese_chars={self.tokenize_chinese_chars})")

    # ---- the steps, one at a time (what the chapter shows) ----
    @staticmethod
    def clean(text: str) -> str:
        return "".join(" " if is_whitespace(c) else c for c in text if not is_dropped(c))

    def space_cjk(self, text: str) -> str:
        if not self.tokenize_chinese_chars:
            return text
        return "".join(f" {c} " if is_cjk(c) else c for c in text)

    def strip_marks(self, text: str) -> str:
        if not self.strip_accents:
            return text
        return "".join(c for c in nfd(text) if not is_mark(c))

    def lower(self, text: str) -> str:
        return "".join(lower(c) for c in text) if self.lowercase else text

    @staticmethod
    def split_punctuation(words: list[str]) -> list[str]:
        pieces: list[str] = []
        for word in words:
            current = ""
            for c in word:
                if is_punctuation(c):
                    pieces += [current, c] if current else [c]
                    current = ""
                else:
                    current += c
            if current:
                pieces.append(current)
        return pieces

    def normalize(self, text: str) -> str:
        """Steps 1-4: the normalised text (what the words are cut from)."""
        return self.lower(self.strip_marks(self.space_cjk(self.clean(check_text(text)))))

    def steps(self, text: str) -> list[tuple[str, object]]:
        """Every intermediate result, for display: ``[(step name, value), ...]``."""
        shown = [("input", check_text(text))]
        for name, step in [("clean", self.clean), ("space around CJK", self.space_cjk),
                           ("NFD + strip accents", self.strip_marks), ("lowercase", self.lower)]:
            shown.append((name, step(shown[-1][1])))
        shown.append(("split on whitespace", shown[-1][1].split()))
        shown.append(("split off punctuation", self.split_punctuation(shown[-1][1])))
        return shown

    # ---- all steps at once (what encoding uses) ----
    def _rule_before_nfd(self, c: str) -> str:
        if is_dropped(c):
            return ""
        if is_whitespace(c):
            return " "
        return f" {c} " if self.tokenize_chinese_chars and is_cjk(c) else c

    def _rule_after_nfd(self, c: str) -> str:
        if self.strip_accents and is_mark(c):
            return ""
        lowered = lower(c) if self.lowercase else c
        return "".join(f" {x} " if is_punctuation(x) else x for x in lowered)

    def pre_tokenize(self, text: str) -> list[str]:
        """Text -> words (whitespace removed, punctuation characters and CJK ideographs on their own)."""
        text = check_text(text).translate(self._before_nfd)
        if self.strip_accents and not text.isascii():
            text = nfd(text)
        return text.translate(self._after_nfd).split()

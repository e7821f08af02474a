"""The character classes BERT's basic tokenizer works with (Devlin et al., 2019, and Google's ``tokenization.py``).

Every character of the input gets one of these answers, in this order::

    dropped      NUL, U+FFFD and control/format characters (Cc, Cf, Co)  -> removed
    whitespace   \\t \\n \\r and Unicode spaces                              -> " "
    CJK          an ideograph in the CJK Unified/Compatibility blocks     -> " " + c + " "  (one word per character)
    mark         a nonspacing mark (Mn), after NFD                         -> removed when accents are stripped
    punctuation  Unicode P* plus every ASCII symbol (so ``$ ^ ` + < = > |`` count)  -> split off as its own word

Unicode keeps adding characters, so "is this a nonspacing mark?" depends on which version of the Unicode tables
answers. The reference we check against (Hugging Face ``tokenizers``) uses older tables than today's Python, and it
keeps unassigned code points instead of dropping them. To give identical ids on every code point, and the same ids
under any Python, the dropped/whitespace/mark/punctuation classes are read from
``minibert/data/bert_unicode_tables.txt`` (code-point ranges made by ``scripts/make_bert_unicode_tables.py``).
The same file lists the few characters whose lowercase or canonical decomposition (NFD) the reference computes
differently from this Python (letters added in Unicode 16; U+11938, decomposed since Unicode 13). The CJK ranges are BERT's own definition and are written out below.
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path

__all__ = ["TABLES_PATH", "CJK_RANGES", "is_dropped", "is_whitespace", "is_mark", "is_punctuation", "is_cjk",
           "lower", "nfd", "tables_unicode_version"]

TABLES_PATH = Path(__file__).resolve().parent.parent / "data" / "bert_unicode_tables.txt"

# BERT's "Chinese character" blocks: CJK Unified Ideographs and their extensions A-E, and the compatibility
# ideographs. Hiragana, Katakana and Hangul are not in them: those are split into words by whitespace as usual.
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


class _RangeSet:
    """A set of code points stored as sorted, disjoint ranges: membership is one binary search."""

    def __init__(self, spans: list[tuple[int, int]]):
        spans = sorted(spans)
        self.starts = [a for a, _ in spans]
        self.ends = [b for _, b in spans]

    def __contains__(self, char: str) -> bool:
        cp = ord(char)
        i = bisect_right(self.starts, cp) - 1
        return i >= 0 and cp <= self.ends[i]


@lru_cache(maxsize=1)
def _tables() -> dict:
    try:
        lines = TABLES_PATH.read_text(encoding="ascii").splitlines()
    except FileNotFoundError:
        raise FileNotFoundError(f"BERT's character tables are missing at {TABLES_PATH}; reinstall minibert or run "
                                "`python scripts/make_bert_unicode_tables.py`") from None
    tables = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        name, *spans = line.split()
        if name == "unicode":
            tables[name] = spans[0]
            continue
        if name in ("lower", "nfd"):
            tables[name] = {chr(int(a, 16)): "".join(chr(int(c, 16)) for c in b.split("+"))
                            for a, b in (span.split(">") for span in spans)}
            continue
        parsed = []
        for span in spans:
            first, _, last = span.partition("-")
            parsed.append((int(first, 16), int(last or first, 16)))
        tables[name] = _RangeSet(parsed)
    return tables


def is_dropped(char: str) -> bool:
    """Removed by text cleaning: NUL, U+FFFD (the replacement character) and control/format/private-use characters.
    Tab, newline and carriage return are whitespace, not controls."""
    return char in _tables()["dropped"]


def is_whitespace(char: str) -> bool:
    return char in _tables()["whitespace"]


def is_mark(char: str) -> bool:
    """A nonspacing mark (category Mn), e.g. U+0301 COMBINING ACUTE ACCENT: what accent stripping removes after NFD."""
    return char in _tables()["mark"]


def is_punctuation(char: str) -> bool:
    return char in _tables()["punctuation"]


def lower(char: str) -> str:
    """Lowercase one character (Python's ``str.lower``, plus the letters newer than this Python's Unicode)."""
    return _tables()["lower"].get(char) or char.lower()


def nfd(text: str) -> str:
    """Canonical decomposition (NFD), as the reference computes it."""
    overrides = _tables()["nfd"]
    if not any(char in text for char in overrides):
        return unicodedata.normalize("NFD", text)
    # these characters are starters (combining class 0), so cutting the text at them cannot change the reordering
    pieces = re.split("([" + "".join(overrides) + "])", text)
    return "".join(overrides.get(piece) or unicodedata.normalize("NFD", piece) for piece in pieces)


def tables_unicode_version() -> str:
    """The Unicode version of the Python that made the tables (their ``lower`` overrides are relative to it)."""
    return _tables()["unicode"]


_CJK = _RangeSet(list(CJK_RANGES))


def is_cjk(char: str) -> bool:
    return char in _CJK

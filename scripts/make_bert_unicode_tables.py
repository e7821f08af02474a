"""Pin the character classes of BERT's tokenizer to the Unicode tables its reference implementation uses.

    python scripts/make_bert_unicode_tables.py      # writes minibert/data/bert_unicode_tables.txt

BERT's basic tokenizer asks four questions about every character: is it a control character (dropped), whitespace
(becomes a space), a nonspacing mark (dropped when accents are stripped), punctuation (split off)? Google's
original code answered them with Python's ``unicodedata``; the reference we check against (Hugging Face
``tokenizers``, the Rust library behind ``transformers.BertTokenizer``) answers them with older Unicode tables, and
it does not count unassigned code points as control characters. About 500 of the 1,112,064 code points get a
different answer (marks and punctuation added to Unicode since, e.g. U+07FD NKO DANTAYALAN, U+2E4F CORNISH VERSE
DIVIDER; U+166D, punctuation in old tables and a symbol today).

To produce identical ids on *every* character, and the same ids whatever Python (and so whatever Unicode version)
runs the course, ``minibert`` reads the four classes from a small file of code-point ranges. This script makes that
file by asking the reference, one code point at a time, what it does with it. Everything else BERT's tokenizer does
(NFD, lowercasing, the CJK ranges, greedy WordPiece) is computed by ``minibert`` itself.
"""
from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "minibert" / "data" / "bert_unicode_tables.txt"


def ranges(code_points: list[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for cp in sorted(code_points):
        if spans and spans[-1][1] == cp - 1:
            spans[-1] = (spans[-1][0], cp)
        else:
            spans.append((cp, cp))
    return spans


def main() -> int:
    import tokenizers
    from tokenizers.normalizers import NFD, BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    split = BertPreTokenizer()
    classes: dict[str, list[int]] = {"dropped": [], "whitespace": [], "mark": [], "punctuation": []}
    lowercase: dict[int, str] = {}  # only where the reference lowercases differently from this Python
    decomposed: dict[int, str] = {}  # only where the reference's NFD differs from this Python's
    nfd = NFD()
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates are not characters; Python strings may hold them, UTF-8 and Rust cannot
        char = chr(cp)
        cleaned = clean.normalize_str(char)
        if cleaned == "":
            classes["dropped"].append(cp)
        elif cleaned == " " and char != " ":
            classes["whitespace"].append(cp)
        if unicodedata.normalize("NFD", char) == char and strip.normalize_str(char) == "":
            classes["mark"].append(cp)
        if [piece for piece, _ in split.pre_tokenize_str(f"a{char}b")] == ["a", char, "b"]:
            classes["punctuation"].append(cp)
        if nfd.normalize_str(char) != unicodedata.normalize("NFD", char):
            decomposed[cp] = nfd.normalize_str(char)
            assert unicodedata.combining(char) == 0, "minibert splits the text at these characters before NFD"
        if lower.normalize_str(char) != char.lower():
            lowercase[cp] = lower.normalize_str(char)
    classes["whitespace"].append(ord(" "))
    lines = [f"# BERT's character classes as Hugging Face tokenizers {tokenizers.__version__} sees them.",
             "# Made by scripts/make_bert_unicode_tables.py; read by minibert/tokenizers/charclasses.py.",
             "# One class per line: name, then code-point ranges in hex (a single code point or first-last).",
             "# 'lower' and 'nfd' list code point>result (hex, '+'-joined) where the reference lowercases or decomposes",
             f"# differently from Python {sys.version.split()[0]} (Unicode {unicodedata.unidata_version}): "
             "characters whose Unicode data changed between its tables and this Python's.",
             f"unicode {unicodedata.unidata_version}"]
    for name, members in classes.items():
        spans = ranges(members)
        lines.append(name + " " + " ".join(f"{a:X}" if a == b else f"{a:X}-{b:X}" for a, b in spans))
        print(f"{name:12} {len(members):7,} code points in {len(spans):4} ranges")
    for name, table in [("lower", lowercase), ("nfd", decomposed)]:
        lines.append(name + " " + " ".join(f"{cp:X}>" + "+".join(f"{ord(c):X}" for c in value)
                                           for cp, value in sorted(table.items())))
        print(f"{name:12} {len(table):7,} code points where the reference differs from this Python")
    OUT.write_text("\n".join(lines) + "\n", encoding="ascii")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Chapter 04: exercises 04.5, 04.6."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _bpe_reference, _random_counts  # noqa: F401 (shared with part1's exercises)


# -- 04.5 -----------------------------------------------------------------------------------------------------------

@exercise("04.5", "BPE: encoding a new word", kind="build",
          hints=(
              "Start from the word's characters. Among the adjacent pairs of the current symbols, find the one "
              "that was learned EARLIEST (lowest rank); merge it wherever it occurs, left to right; repeat until no "
              "adjacent pair is a learned merge.",
              "`ranks = {pair: rank for rank, pair in enumerate(merges)}`; candidates `zip(parts, parts[1:])`; "
              "`min(candidates, key=lambda p: ranks.get(p, float('inf')))`; stop when that pair is not in `ranks`. "
              "Return the list of symbols, e.g. ['lo', 'w', 'est</w>'].",
              "parts = list(word)\n"
              "while len(parts) > 1:\n"
              "    best = min(zip(parts, parts[1:]), key=lambda p: ranks.get(p, float('inf')))\n"
              "    if best not in ranks:\n"
              "        break\n"
              "    merged, i = [], 0\n"
              "    while i < len(parts):\n"
              "        ...   # join parts[i], parts[i + 1] when they are `best`, else keep parts[i]\n"
              "    parts = merged"),
          solution="""
          def answer(word, merges):
              ranks = {pair: rank for rank, pair in enumerate(merges)}
              parts = list(word)
              while len(parts) > 1:
                  best = min(zip(parts, parts[1:]), key=lambda pair: ranks.get(pair, float("inf")))
                  if best not in ranks:
                      break
                  merged, i = [], 0
                  while i < len(parts):
                      if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best:
                          merged.append(parts[i] + parts[i + 1])
                          i += 2
                      else:
                          merged.append(parts[i])
                          i += 1
                  parts = merged
              return parts
          """,
          wrong=(
              """
              def answer(word, merges):  # applies each merge once, in order, at its first occurrence only
                  parts = list(word)
                  for left, right in merges:
                      for i in range(len(parts) - 1):
                          if parts[i] == left and parts[i + 1] == right:
                              parts[i:i + 2] = [left + right]
                              break
                  return parts
              """,
              """
              def answer(word, merges):  # merges the most recent (highest-rank) pair first
                  ranks = {pair: rank for rank, pair in enumerate(merges)}
                  parts = list(word)
                  while len(parts) > 1:
                      known = [p for p in zip(parts, parts[1:]) if p in ranks]
                      if not known:
                          break
                      best = max(known, key=ranks.get)
                      i = [k for k, p in enumerate(zip(parts, parts[1:])) if p == best][0]
                      parts[i:i + 2] = [best[0] + best[1]]
                  return parts
              """,
              """
              def answer(word, merges):  # greedy longest vocabulary match, as WordPiece does
                  vocab = set(word) | {a + b for a, b in merges}
                  parts, start = [], 0
                  while start < len(word):
                      end = max(e for e in range(start + 1, len(word) + 1) if word[start:e] in vocab or e == start + 1)
                      parts.append(word[start:end])
                      start = end
                  return parts
              """),
          builds=("minibert.tokenizers.bpe.BPE.encode_word", "minibert.tokenizers.bpe.apply_merges"),
          shortcut="""
          from minibert.tokenizers.bpe import apply_merges

          def answer(word, merges):
              return apply_merges(list(word), {pair: rank for rank, pair in enumerate(merges)})
          """)
def _(answer):
    from ...tokenizers.bpe import apply_merges

    cases = []
    for counts, n in ((SENNRICH_COUNTS, 10), (HF_TOY_COUNTS, 6), ({"aaaa": 3, "aaab": 2}, 4)):
        merges = _bpe_reference(counts, n)
        words = ["lowest", "newer", "wider", "low", "slow", "hugs", "bug", "pugs", "aaaaa", "aaa", "ab", "x", ""]
        cases += [(w, merges) for w in words if w]
    for seed in range(4):
        counts = _random_counts(seed)
        merges = _bpe_reference(counts, 12)
        rng = random.Random(seed + 10)
        cases += [("".join(rng.choice("abcd") for _ in range(rng.randint(1, 9))), merges) for _ in range(20)]
    for word, merges in cases:
        got = _as_pieces(answer(word, [tuple(m) for m in merges]), repr(word))
        expected = apply_merges(list(word), {pair: rank for rank, pair in enumerate(merges)})
        if got != expected:
            if "".join(got) != word:
                raise AssertionError(f"for {word!r} your symbols {got} do not spell the word")
            ranks = {pair: rank for rank, pair in enumerate(merges)}
            left = [p for p in zip(got, got[1:]) if p in ranks]
            if left:
                raise AssertionError(f"for {word!r} you stop at {got}, but {left[0]} is still a learned merge: "
                                     "repeat until no adjacent pair is one")
            raise AssertionError(f"for {word!r} you return {got}: replay the merges by rank, the earliest learned "
                                 "first, each time on the symbols the previous merges left (all occurrences, "
                                 "left to right)")


# -- 04.6 -----------------------------------------------------------------------------------------------------------

@exercise("04.6", "text as byte symbols", kind="compute",
          hints=(
              "Byte-level BPE never sees characters: it sees the UTF-8 bytes of the text, and writes each byte as "
              "one printable symbol. A character outside ASCII is two to four bytes, so two to four symbols.",
              "`text.encode('utf-8')` gives the bytes (iterating over it gives integers 0-255); "
              "`bytes_to_unicode()` is a dict byte -> symbol; join the symbols into one string."),
          solution="""
          from minibert.tokenizers import bytes_to_unicode

          def answer(text):
              table = bytes_to_unicode()
              return "".join(table[b] for b in text.encode("utf-8"))
          """,
          wrong=(
              """
              from minibert.tokenizers import bytes_to_unicode

              def answer(text):  # characters, not bytes
                  table = bytes_to_unicode()
                  return "".join(table.get(ord(c), c) for c in text)
              """,
              """
              def answer(text):  # the bytes themselves, not their printable symbols
                  return text.encode("utf-8").decode("latin-1")
              """))
def _(answer):
    from ...tokenizers.byte_level import byte_level_pre_tokenize

    for text in ["hello world", "naïve café", "Мама мыла раму", "你好", "🙂 ok", " \n\t", "a\u0301"]:
        got = answer(text)
        if not isinstance(got, str):
            raise AssertionError(f"return one string of byte symbols, got {type(got).__name__}")
        expected = "".join(byte_level_pre_tokenize(text))  # the pre-tokens cover the whole text
        if got != expected:
            n_bytes = len(text.encode("utf-8"))
            if len(got) != n_bytes:
                raise AssertionError(f"{text!r} is {len(text)} characters but {n_bytes} UTF-8 bytes; you return "
                                     f"{len(got)} symbols: one symbol per byte")
            raise AssertionError(f"for {text!r} you have one symbol per byte, but not the symbols of "
                                 "bytes_to_unicode(): a space, a newline or a byte >= 128 is not shown as itself")

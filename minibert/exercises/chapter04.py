"""Exercises of chapter 04 (tokenizers): WordPiece's greedy encoder and a BPE trainer built from scratch, the
WordPiece score, BPE's encoding of a new word, and text as byte symbols.

04.1 (section 2) and 04.2 (section 5) are build exercises: the chapter then runs the learner's encoder on real text
against BERT's tokenizer, and the learner's trainer against ``train_bpe``.
"""
from __future__ import annotations

import numbers
import random
from collections import Counter
from functools import lru_cache

from . import exercise

SEED_COUNTS = {"мама": 1, "мыла": 2, "раму": 1, ",": 1, "маму": 1, "рама": 1}
HF_TOY_COUNTS = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}
SENNRICH_COUNTS = {"low": 5, "lower": 2, "newest": 6, "widest": 3}


def _as_float(value, what: str) -> float:
    """A Python, numpy or torch real number as a float; anything else is the learner's mistake, said plainly."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach()
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise AssertionError(f"{what} should be one number, got an array of shape "
                                 f"{tuple(getattr(value, 'shape', ()))}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be a number, got {type(value).__name__}")
    return float(value)


def _as_pieces(got, what: str) -> list[str]:
    if isinstance(got, str) or not isinstance(got, (list, tuple)) or not all(isinstance(p, str) for p in got):
        raise AssertionError(f"return the pieces of {what} as a list of strings, e.g. ['un', '##aff', '##able'], "
                             f"got {got!r}")
    return list(got)


# -- 04.1 -----------------------------------------------------------------------------------------------------------

def _wordpiece_diagnosis(word: str, vocab, got: list[str], expected: list[str]) -> str:
    """Why ``got`` is not WordPiece's segmentation of ``word`` (never the segmentation itself)."""
    shown = word if len(word) <= 30 else word[:27] + "..."
    if len(word) > 100:
        return (f"{shown!r} has {len(word)} characters; BERT gives up on a word longer than 100 characters "
                "(max_input_chars_per_word) before trying to split it")
    if expected == ["[UNK]"]:
        if "[UNK]" in got:
            return (f"for {shown!r} you return {got}: some position of the word matches no vocabulary piece, and "
                    "then BERT replaces the WHOLE word by one '[UNK]', it never keeps half a word")
        return (f"for {shown!r} you return {got}, but some position of this word matches no vocabulary piece "
                "(remember the '##' in front of every piece that does not start the word), so the whole word "
                "is unknown")
    if "[UNK]" in got:
        return (f"{shown!r} can be split into vocabulary pieces, yet you return {got}: at each position try "
                "every length, from the longest down to one character, before giving up, and look a piece that "
                "continues the word up WITH '##' in front (the vocabulary holds 'able' and '##able' apart)")
    for k, piece in enumerate(got):
        if k == 0 and piece.startswith("##"):
            return f"for {shown!r} your first piece {piece!r} has '##': only pieces that continue a word have it"
        if k > 0 and not piece.startswith("##"):
            return (f"for {shown!r} your piece {piece!r} (number {k + 1}) continues the word, so it must be "
                    "looked up (and returned) with '##' in front")
        if piece not in vocab:
            return f"for {shown!r} your piece {piece!r} is not in the vocabulary"
    spelled = "".join(p[2:] if k else p for k, p in enumerate(got))
    if spelled != word:
        return f"for {shown!r} your pieces {got} spell {spelled!r}, not the word"
    position = 0
    for mine, theirs in zip(got, expected):
        if mine != theirs:
            return (f"for {shown!r} your pieces are all in the vocabulary, but at character {position} a LONGER "
                    f"piece than your {mine!r} matches: greedy longest-match-first tries the longest piece first")
        position += len(mine) - (2 if mine.startswith("##") else 0)
    return f"for {shown!r} you return {got}: not the greedy longest-match-first pieces"


@lru_cache(maxsize=1)
def _real_words() -> tuple[tuple[str, ...], dict]:
    """Words of the course corpus (as BERT's basic tokenizer cuts them) and the course's 4,096-token vocabulary."""
    from ..corpus import load_text
    from ..tokenizers.course import course_tokenizer

    course = course_tokenizer()
    lines = load_text().splitlines()[:400]
    words = dict.fromkeys(w for line in lines for w in course.basic.pre_tokenize(line))
    extra = ["tokenization", "unaffable", "__getattribute__", "ёжик", "🙂", "naïve", "x" * 100, "x" * 101,
             "interpreter's", "0x7fffffff"]
    return tuple(list(words)[:600] + extra), course.vocab


@exercise("04.1", "WordPiece: greedy longest-match-first", kind="build",
          hints=(
              "Walk through the word from left to right. At each position try the longest remaining piece first "
              "and shorten it one character at a time until the vocabulary has it; a piece that does not start "
              "the word is looked up with '##' in front. If some position matches nothing at all, the whole word "
              "is unknown. A word longer than 100 characters is unknown at once.",
              "`word[start:end]` for `end` from `len(word)` down to `start + 1`; `piece in vocab` (vocab is a dict "
              "token -> id, or a set); pieces after the first are `'##' + word[start:end]`. Return a list of "
              "strings such as ['un', '##aff', '##able'], or ['[UNK]'].",
              "if len(word) > 100: return ['[UNK]']\n"
              "pieces, start = [], 0\n"
              "while start < len(word):\n"
              "    for end in range(len(word), start, -1):\n"
              "        piece = word[start:end] if start == 0 else '##' + word[start:end]\n"
              "        if piece in vocab:\n"
              "            break\n"
              "    else:          # no break: nothing matched at `start`\n"
              "        return ...\n"
              "    ...            # keep the piece, move `start`"),
          solution="""
          def answer(word, vocab):
              if len(word) > 100:  # BERT's max_input_chars_per_word
                  return ["[UNK]"]
              pieces, start = [], 0
              while start < len(word):
                  for end in range(len(word), start, -1):
                      piece = word[start:end] if start == 0 else "##" + word[start:end]
                      if piece in vocab:
                          break
                  else:  # nothing matched at this position: the whole word is unknown
                      return ["[UNK]"]
                  pieces.append(piece)
                  start = end
              return pieces
          """,
          wrong=(
              """
              def answer(word, vocab):  # keeps the pieces matched before the failure
                  pieces, start = [], 0
                  while start < len(word):
                      for end in range(len(word), start, -1):
                          piece = word[start:end] if start == 0 else "##" + word[start:end]
                          if piece in vocab:
                              break
                      else:
                          pieces.append("[UNK]")
                          break
                      pieces.append(piece)
                      start = end
                  return pieces
              """,
              """
              def answer(word, vocab):  # no limit on the word's length
                  pieces, start = [], 0
                  while start < len(word):
                      for end in range(len(word), start, -1):
                          piece = word[start:end] if start == 0 else "##" + word[start:end]
                          if piece in vocab:
                              break
                      else:
                          return ["[UNK]"]
                      pieces.append(piece)
                      start = end
                  return pieces
              """,
              """
              def answer(word, vocab):  # shortest match first
                  if len(word) > 100:
                      return ["[UNK]"]
                  pieces, start = [], 0
                  while start < len(word):
                      for end in range(start + 1, len(word) + 1):
                          piece = word[start:end] if start == 0 else "##" + word[start:end]
                          if piece in vocab:
                              break
                      else:
                          return ["[UNK]"]
                      pieces.append(piece)
                      start = end
                  return pieces
              """,
              """
              def answer(word, vocab):  # looks continuation pieces up without '##'
                  if len(word) > 100:
                      return ["[UNK]"]
                  pieces, start = [], 0
                  while start < len(word):
                      for end in range(len(word), start, -1):
                          if word[start:end] in vocab:
                              break
                      else:
                          return ["[UNK]"]
                      pieces.append(word[start:end] if start == 0 else "##" + word[start:end])
                      start = end
                  return pieces
              """,
              """
              def answer(word, vocab):  # an unknown character becomes [UNK], the rest is kept
                  if len(word) > 100:
                      return ["[UNK]"]
                  pieces, start = [], 0
                  while start < len(word):
                      for end in range(len(word), start, -1):
                          piece = word[start:end] if start == 0 else "##" + word[start:end]
                          if piece in vocab:
                              break
                      else:
                          pieces.append("[UNK]")
                          start += 1
                          continue
                      pieces.append(piece)
                      start = end
                  return pieces
              """),
          builds=("minibert.tokenizers.wordpiece.greedy_longest_match", "minibert.tokenizers.WordPieceTokenizer"),
          shortcut="""
          from minibert.tokenizers import greedy_longest_match

          def answer(word, vocab):
              return greedy_longest_match(word, vocab)
          """)
def _(answer):
    from ..tokenizers.wordpiece import greedy_longest_match

    toy = {"[UNK]", "un", "una", "##aff", "##able", "##a", "##ff", "##b", "##le", "b", "##u", "##gs", "hugs", "hu",
           "##g", "h", "g", "##s", "x", "##x", "##z"}
    cases = [(w, toy) for w in ["unaffable", "hugs", "bugs", "hug", "unable", "bum", "unaffablez", "un", "h", "hugg",
                                "zed", "xz", "x" * 100, "x" * 101, "x" * 150]]
    rng = random.Random(4)
    for size in (3, 8, 20):  # random vocabularies over a small alphabet: many near misses
        vocab = {"[UNK]"} | {("##" if rng.random() < 0.6 else "") + "".join(rng.choice("abc") for _ in
                                                                          range(rng.randint(1, 3))) for _ in range(size)}
        cases += [("".join(rng.choice("abc") for _ in range(rng.randint(1, 9))), vocab) for _ in range(25)]
    words, course_vocab = _real_words()
    cases += [(w, course_vocab) for w in words]
    for k, (word, vocab) in enumerate(cases):
        given = vocab if vocab is course_vocab else (set(vocab) if k % 2 else dict.fromkeys(vocab, 0))
        got = _as_pieces(answer(word, given), repr(word[:30]))
        expected = greedy_longest_match(word, vocab)
        if got != expected:
            raise AssertionError(_wordpiece_diagnosis(word, vocab, got, expected))


# -- 04.2 -----------------------------------------------------------------------------------------------------------

def _bpe_reference(word_counts: dict, num_merges: int) -> list[tuple[str, str]]:
    from ..reference.tokenizer_trainers import naive_train_bpe

    alphabet = set("".join(word_counts))
    merges = naive_train_bpe(dict(word_counts), len(alphabet) + num_merges, min_frequency=1)
    return [(left, right) for left, right, _, _ in merges[:num_merges]]


def _bpe_pair_counts(word_counts: dict, merges: list[tuple[str, str]]) -> Counter:
    """Adjacent-pair counts after replaying ``merges`` (the reference's merge rule: left to right, no overlap)."""
    splits = [list(word) for word in word_counts]
    for left, right in merges:
        for symbols in splits:
            i = 0
            while i < len(symbols) - 1:
                if symbols[i] == left and symbols[i + 1] == right:
                    symbols[i:i + 2] = [left + right]
                i += 1
    pairs = Counter()
    for symbols, count in zip(splits, word_counts.values()):
        for pair in zip(symbols, symbols[1:]):
            pairs[pair] += count
    return pairs


def _as_merges(got, word_counts) -> list[tuple[str, str]]:
    if isinstance(got, (str, bytes)) or not isinstance(got, (list, tuple)):
        raise AssertionError(f"return the merges as a list of pairs (left, right), got {type(got).__name__}")
    merges = []
    for k, merge in enumerate(got):
        if isinstance(merge, str) or not isinstance(merge, (list, tuple)) or len(merge) != 2 or \
                not all(isinstance(s, str) for s in merge):
            raise AssertionError(f"merge {k + 1} is {merge!r}: each merge should be a pair of strings (left, right), "
                                 "the two symbols that were joined, e.g. ('e', 's')")
        merges.append((merge[0], merge[1]))
    return merges


def _bpe_diagnosis(word_counts: dict, num_merges: int, got: list, expected: list) -> str:
    where = f"on the word counts {word_counts}" if len(str(word_counts)) < 90 else "on random word counts"
    for k, (mine, theirs) in enumerate(zip(got, expected)):
        if mine == theirs:
            continue
        pairs = _bpe_pair_counts(word_counts, expected[:k])
        if mine not in pairs:
            return (f"{where}, your merge {k + 1} {mine} does not occur side by side inside any word at that point: "
                    "count pairs within each word only (a pair never spans two words), and after each merge "
                    "replace the pair in every word, left to right, before counting again")
        best = max(pairs.values())
        if pairs[mine] < best:
            return (f"{where}, your merge {k + 1} {mine} occurs {pairs[mine]} times at that point, but another pair "
                    "occurs more often: count every adjacent pair of every word, times the word's count, on the "
                    "words as the merges so far left them")
        return (f"{where}, your merge {k + 1} {mine} ties with another pair ({best} times each) and should lose the "
                "tie: among equally frequent pairs take the one with the smallest (left id, right id), where the "
                "ids are the alphabet sorted by code point, then each new token in the order it was made (not "
                "string order, not the order in which pairs are met)")
    if len(got) < len(expected):
        return (f"{where} you return {len(got)} merges for num_merges={num_merges}, but pairs were left to merge "
                "(a pair seen once still counts)")
    if len(got) > num_merges:
        return f"{where} you return {len(got)} merges for num_merges={num_merges}"
    return (f"{where} you return {len(got)} merges, but after {len(expected)} every word is a single symbol: stop "
            "when no pair is left")


def _random_counts(seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    alphabet = "abcd" + ("é" if seed % 2 else "")
    words = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(rng.randint(6, 14))}
    return {w: rng.randint(1, 5) for w in sorted(words)}


@exercise("04.2", "a BPE trainer", kind="build",
          hints=(
              "Start with every word split into characters. Repeat: count every adjacent pair of symbols inside "
              "each word (times the word's count), take the most frequent pair, and replace it by the joined "
              "symbol in every word. Ties go to the pair with the smallest ids: the alphabet sorted by code point "
              "comes first, then each new token in the order it was made.",
              "`splits = {word: list(word) ...}`; a `collections.Counter` of pairs `zip(symbols, symbols[1:])`; "
              "ids: `{c: i for i, c in enumerate(sorted(alphabet))}`, a new token gets `len(ids)` unless it already "
              "has one; best = `max(pairs, key=lambda p: (pairs[p], -ids[p[0]], -ids[p[1]]))`. Merge left to "
              "right without overlap ('a a a' -> 'aa a'). Return `[(left, right), ...]` with at most `num_merges` "
              "pairs, fewer if no pair is left.",
              "splits = [list(word) for word in word_counts]\n"
              "ids = {c: i for i, c in enumerate(sorted(set(''.join(word_counts))))}\n"
              "merges = []\n"
              "for _ in range(num_merges):\n"
              "    pairs = Counter()\n"
              "    for symbols, count in zip(splits, word_counts.values()):\n"
              "        ...           # count the adjacent pairs\n"
              "    if not pairs:\n"
              "        break\n"
              "    left, right = max(pairs, key=...)\n"
              "    ids.setdefault(left + right, len(ids))\n"
              "    ...               # replace left, right by left + right in every word; remember the merge"),
          solution="""
          from collections import Counter

          def answer(word_counts, num_merges):
              splits = [list(word) for word in word_counts]
              ids = {c: i for i, c in enumerate(sorted(set("".join(word_counts))))}  # the alphabet by code point
              merges = []
              for _ in range(num_merges):
                  pairs = Counter()
                  for symbols, count in zip(splits, word_counts.values()):
                      for pair in zip(symbols, symbols[1:]):
                          pairs[pair] += count
                  if not pairs:
                      break
                  left, right = max(pairs, key=lambda p: (pairs[p], -ids[p[0]], -ids[p[1]]))
                  ids.setdefault(left + right, len(ids))  # a token made twice keeps its first id
                  for symbols in splits:  # merge left to right, never overlapping
                      i = 0
                      while i < len(symbols) - 1:
                          if symbols[i] == left and symbols[i + 1] == right:
                              symbols[i:i + 2] = [left + right]
                          i += 1
                  merges.append((left, right))
              return merges
          """,
          wrong=(
              """
              from collections import Counter

              def answer(word_counts, num_merges):  # ties: the pair met first (the paper's code)
                  splits = [list(word) for word in word_counts]
                  merges = []
                  for _ in range(num_merges):
                      pairs = Counter()
                      for symbols, count in zip(splits, word_counts.values()):
                          for pair in zip(symbols, symbols[1:]):
                              pairs[pair] += count
                      if not pairs:
                          break
                      left, right = max(pairs, key=pairs.get)
                      for symbols in splits:
                          i = 0
                          while i < len(symbols) - 1:
                              if symbols[i] == left and symbols[i + 1] == right:
                                  symbols[i:i + 2] = [left + right]
                              i += 1
                      merges.append((left, right))
                  return merges
              """,
              """
              from collections import Counter

              def answer(word_counts, num_merges):  # ties: string order, as if new tokens were characters
                  splits = [list(word) for word in word_counts]
                  merges = []
                  for _ in range(num_merges):
                      pairs = Counter()
                      for symbols, count in zip(splits, word_counts.values()):
                          for pair in zip(symbols, symbols[1:]):
                              pairs[pair] += count
                      if not pairs:
                          break
                      best = max(pairs.values())
                      left, right = min(p for p in pairs if pairs[p] == best)
                      for symbols in splits:
                          i = 0
                          while i < len(symbols) - 1:
                              if symbols[i] == left and symbols[i + 1] == right:
                                  symbols[i:i + 2] = [left + right]
                              i += 1
                      merges.append((left, right))
                  return merges
              """,
              """
              from collections import Counter

              def answer(word_counts, num_merges):  # one long sequence: pairs across word boundaries
                  symbols = [c for word, count in word_counts.items() for _ in range(count) for c in word]
                  ids = {c: i for i, c in enumerate(sorted(set(symbols)))}
                  merges = []
                  for _ in range(num_merges):
                      pairs = Counter(zip(symbols, symbols[1:]))
                      if not pairs:
                          break
                      left, right = max(pairs, key=lambda p: (pairs[p], -ids[p[0]], -ids[p[1]]))
                      ids.setdefault(left + right, len(ids))
                      i = 0
                      while i < len(symbols) - 1:
                          if symbols[i] == left and symbols[i + 1] == right:
                              symbols[i:i + 2] = [left + right]
                          i += 1
                      merges.append((left, right))
                  return merges
              """,
              """
              from collections import Counter

              def answer(word_counts, num_merges):  # counts each word once, whatever its count
                  splits = [list(word) for word in word_counts]
                  ids = {c: i for i, c in enumerate(sorted(set("".join(word_counts))))}
                  merges = []
                  for _ in range(num_merges):
                      pairs = Counter(p for symbols in splits for p in zip(symbols, symbols[1:]))
                      if not pairs:
                          break
                      left, right = max(pairs, key=lambda p: (pairs[p], -ids[p[0]], -ids[p[1]]))
                      ids.setdefault(left + right, len(ids))
                      for symbols in splits:
                          i = 0
                          while i < len(symbols) - 1:
                              if symbols[i] == left and symbols[i + 1] == right:
                                  symbols[i:i + 2] = [left + right]
                              i += 1
                      merges.append((left, right))
                  return merges
              """,
              """
              from collections import Counter

              def answer(word_counts, num_merges):  # merges from the right: 'a a a' -> 'a aa'
                  splits = [list(word) for word in word_counts]
                  ids = {c: i for i, c in enumerate(sorted(set("".join(word_counts))))}
                  merges = []
                  for _ in range(num_merges):
                      pairs = Counter()
                      for symbols, count in zip(splits, word_counts.values()):
                          for pair in zip(symbols, symbols[1:]):
                              pairs[pair] += count
                      if not pairs:
                          break
                      left, right = max(pairs, key=lambda p: (pairs[p], -ids[p[0]], -ids[p[1]]))
                      ids.setdefault(left + right, len(ids))
                      for symbols in splits:
                          i = len(symbols) - 2
                          while i >= 0:
                              if symbols[i] == left and symbols[i + 1] == right:
                                  symbols[i:i + 2] = [left + right]
                                  i -= 1
                              i -= 1
                      merges.append((left, right))
                  return merges
              """),
          builds=("minibert.tokenizers.bpe.train_bpe", "minibert.reference.tokenizer_trainers.naive_train_bpe"),
          shortcut="""
          from minibert.tokenizers import train_bpe

          def answer(word_counts, num_merges):
              alphabet = set("".join(word_counts))
              bpe = train_bpe(dict(word_counts), len(alphabet) + num_merges, min_frequency=1)
              return [(m.left, m.right) for m in bpe.history][:num_merges]
          """)
def _(answer):
    cases = [(SENNRICH_COUNTS, 12),
             ({"zyx": 3, "ab": 3}, 4),                     # ties between characters: code-point order
             ({"abc": 2, "ab": 2, "bd": 2}, 3),            # a tie between a new token and characters: ids, not strings
             ({"aaaa": 1, "aaa": 2}, 3),                   # overlapping pairs: merge left to right
             ({"xa": 5, "ax": 5, "q": 3}, 3),              # word boundaries
             ({"ab": 1}, 5),                               # fewer pairs than asked: stop
             (SEED_COUNTS, 10)]
    cases += [(_random_counts(seed), 14) for seed in range(6)]
    for word_counts, num_merges in cases:
        got = _as_merges(answer(dict(word_counts), num_merges), word_counts)
        expected = _bpe_reference(word_counts, num_merges)
        if got != expected:
            raise AssertionError(_bpe_diagnosis(word_counts, num_merges, got, expected))


# -- 04.3 -----------------------------------------------------------------------------------------------------------

@exercise("04.3", "the WordPiece score of a pair", kind="build",
          hints=(
              "Write every word as WordPiece training starts it: its first letter bare, the others with '##'. Count "
              "how often each symbol and each adjacent pair of symbols occurs (every occurrence, times the word's "
              "count); the score divides the pair's count by the product of its parts' counts.",
              "`symbols = [word[0]] + ['##' + c for c in word[1:]]`; two `collections.Counter`s, one of symbols and "
              "one of pairs `zip(symbols, symbols[1:])`, each incremented by the word's count; return a float "
              "count(pair) / (count(left) * count(right)).",
              "symbols, pairs = Counter(), Counter()\n"
              "for word, count in word_counts.items():\n"
              "    split = [word[0]] + ['##' + c for c in word[1:]]\n"
              "    for s in split:\n"
              "        ...\n"
              "    for p in zip(split, split[1:]):\n"
              "        ...\n"
              "return ..."),
          solution="""
          from collections import Counter

          def answer(word_counts, pair):
              symbols, pairs = Counter(), Counter()
              for word, count in word_counts.items():
                  split = [word[0]] + ["##" + c for c in word[1:]]
                  for s in split:
                      symbols[s] += count
                  for p in zip(split, split[1:]):
                      pairs[p] += count
              left, right = pair
              return pairs[pair] / (symbols[left] * symbols[right])
          """,
          wrong=(
              """
              from collections import Counter

              def answer(word_counts, pair):  # the pair's frequency, as BPE would rank it
                  pairs = Counter()
                  for word, count in word_counts.items():
                      split = [word[0]] + ["##" + c for c in word[1:]]
                      for p in zip(split, split[1:]):
                          pairs[p] += count
                  return pairs[pair] / sum(pairs.values())
              """,
              """
              from collections import Counter

              def answer(word_counts, pair):  # ignores the words' counts
                  symbols, pairs = Counter(), Counter()
                  for word in word_counts:
                      split = [word[0]] + ["##" + c for c in word[1:]]
                      symbols.update(split)
                      pairs.update(zip(split, split[1:]))
                  return pairs[pair] / (symbols[pair[0]] * symbols[pair[1]])
              """,
              """
              from collections import Counter

              def answer(word_counts, pair):  # counts a symbol once per word
                  symbols, pairs = Counter(), Counter()
                  for word, count in word_counts.items():
                      split = [word[0]] + ["##" + c for c in word[1:]]
                      for s in set(split):
                          symbols[s] += count
                      for p in zip(split, split[1:]):
                          pairs[p] += count
                  return pairs[pair] / (symbols[pair[0]] * symbols[pair[1]])
              """,
              """
              from collections import Counter

              def answer(word_counts, pair):  # a letter is the same symbol wherever it stands
                  letters, pairs = Counter(), Counter()
                  for word, count in word_counts.items():
                      for c in word:
                          letters[c] += count
                      for p in zip(word, word[1:]):
                          pairs[p] += count
                  a, b = pair[0].removeprefix("##"), pair[1].removeprefix("##")
                  return pairs[(a, b)] / (letters[a] * letters[b])
              """),
          builds=("minibert.tokenizers.train_wordpiece.pair_scores",
                  "minibert.reference.tokenizer_trainers.naive_train_wordpiece",
                  "minibert.tokenizers.train_wordpiece.train_wordpiece"),
          shortcut="""
          from minibert.tokenizers.train_wordpiece import pair_scores

          def answer(word_counts, pair):
              return pair_scores(word_counts)[pair][0]
          """)
def _(answer):
    from ..tokenizers.train_wordpiece import pair_scores

    rng = random.Random(3)
    randoms = [{"".join(rng.choice("ab") for _ in range(rng.randint(1, 5))): rng.randint(1, 4) for _ in range(6)}
               for _ in range(3)]
    for counts in [SEED_COUNTS, HF_TOY_COUNTS, {"aaa": 2, "ab": 1}, *randoms]:
        for pair, (score, _) in pair_scores(counts).items():
            got = _as_float(answer(dict(counts), pair), f"the score of {pair}")
            if abs(got - score) > 1e-9 * max(1.0, score):
                shown = f"on {counts}" if len(str(counts)) < 80 else "on random word counts"
                raise AssertionError(
                    f"{shown} your score for {pair} is {got:.4g}, which is not count(pair) / (count(left) * "
                    "count(right)): count every occurrence of each symbol and pair, times the word's count, and keep "
                    "'##' on every letter but a word's first (a letter starting a word is another symbol than the "
                    "same letter inside one)")


# -- 04.4 -----------------------------------------------------------------------------------------------------------

@exercise("04.4", "BPE: encoding a new word", kind="build",
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
    from ..tokenizers.bpe import apply_merges

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


# -- 04.5 -----------------------------------------------------------------------------------------------------------

@exercise("04.5", "text as byte symbols", kind="compute",
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
    from ..tokenizers.byte_level import byte_level_pre_tokenize

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

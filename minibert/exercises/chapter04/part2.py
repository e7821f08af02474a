"""Chapter 04: exercises 04.2, 04.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _as_merges, _bpe_diagnosis, _bpe_reference, _random_counts  # noqa: F401 (shared with part1's exercises)


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


# -- 04.4 -----------------------------------------------------------------------------------------------------------

@exercise("04.4", "the WordPiece score of a pair", kind="build",
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
    from ...tokenizers.train_wordpiece import pair_scores

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

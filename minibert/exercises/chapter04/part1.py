"""Chapter 04: exercises 04.1."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


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
    from ...tokenizers.wordpiece import greedy_longest_match

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
    from ...reference.tokenizer_trainers import naive_train_bpe

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

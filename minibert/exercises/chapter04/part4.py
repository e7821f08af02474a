"""Chapter 04: exercise 04.3, Viterbi segmentation for the unigram language model (section 7)."""
from __future__ import annotations

import math

from .common import *  # noqa: F401,F403 (imports and helpers)


def _segment_score(word: str, pieces: list[str], scores: dict, unknown_score: float) -> float:
    """Total log-probability of ``pieces`` as a segmentation of ``word``; AssertionError if it is not one."""
    shown = word if len(word) <= 30 else word[:27] + "..."
    if "".join(pieces) != word:
        if set(word) - set("".join(pieces)):
            raise AssertionError(f"for {shown!r} your pieces {pieces} spell {''.join(pieces)!r}: every character must be "
                         "covered; a character that no piece covers is taken alone, at unknown_score")
        raise AssertionError(f"for {shown!r} your pieces {pieces} spell {''.join(pieces)!r}, not the word")
    total = 0.0
    for piece in pieces:
        if piece in scores:
            total += scores[piece]
        elif len(piece) == 1:
            total += unknown_score
        else:
            raise AssertionError(f"for {shown!r} your piece {piece!r} is not in the vocabulary (only a single character may "
                         "be outside it, at unknown_score)")
    return total


def _viterbi_cases():
    from ...tokenizers.unigram import metaspace_pre_tokenize

    toy = {"▁": -2.0, "▁un": -3.0, "▁u": -6.0, "n": -4.0, "aff": -5.0, "a": -3.0, "f": -3.5, "ff": -4.5,
           "able": -4.0, "ab": -3.5, "le": -3.0, "l": -4.0, "e": -3.0, "b": -4.0, "▁unaffable": -16.0}
    cases = [("▁unaffable", toy), ("▁unable", toy), ("▁affle", toy), ("▁a", toy), ("a", toy), ("▁", toy),
             ("▁unaffablez", toy), ("▁zz", toy), ("x", toy), ("▁ab€le", toy)]
    # greedy longest-match loses here: 'abc' is a piece but 'ab' + 'cd' is far more probable
    cases.append(("abcd", {"abc": -9.0, "ab": -2.0, "cd": -2.0, "a": -5.0, "b": -5.0, "c": -5.0, "d": -5.0}))
    # the best single piece is not the best path: 'xyz' alone (-4) beats 'xy' + 'z' only when summed
    cases.append(("xyz", {"xy": -1.0, "z": -6.0, "x": -3.0, "yz": -2.0, "y": -3.0, "xyz": -4.0}))
    rng = random.Random(6)
    for _ in range(120):
        alphabet = "abcdé"[:rng.randint(2, 5)]
        pieces = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(2, 14))}
        scores = {p: -rng.uniform(0.1, 9.0) for p in pieces}
        cases.append(("".join(rng.choice(alphabet + "z") for _ in range(rng.randint(1, 9))), scores))
    from ...corpus import load_text

    words = [w for line in load_text().splitlines()[:40] for w in metaspace_pre_tokenize(line)]
    vocabulary = {}
    for word in words:
        for _ in range(3):
            i = rng.randrange(len(word))
            vocabulary[word[i:i + rng.randint(1, 6)]] = -rng.uniform(1.0, 14.0)
    cases += [(word, vocabulary) for word in dict.fromkeys(words)]
    return cases


@exercise("04.3", "Unigram LM: Viterbi segmentation", kind="build",
          hints=(
              "Dynamic programming from left to right: best[j] is the highest total log-probability of any way to "
              "cut word[:j] into pieces, and best[j] = max over pieces word[i:j] of best[i] + scores[word[i:j]]. "
              "Remember for each j where its best last piece starts, then walk back from the end. A character that "
              "no one-character piece covers may be taken alone at unknown_score.",
              "best = [0.0] + [-math.inf] * len(word); start_of = [None] * (len(word) + 1). For every start i "
              "and end j > i: piece = word[i:j]; if piece in scores, try best[i] + scores[piece] for best[j]. If "
              "word[i] is not in scores, try best[i] + unknown_score for best[i + 1]. Return a list of str, e.g. "
              "['▁un', 'aff', 'able'].",
              "for i in range(len(word)):\n"
              "    for j in range(i + 1, len(word) + 1):\n"
              "        piece = word[i:j]\n"
              "        if piece in scores and best[i] + scores[piece] > best[j]:\n"
              "            best[j], start_of[j] = best[i] + scores[piece], i\n"
              "    if word[i] not in scores and ...:   # the unknown edge\n"
              "        ...\n"
              "pieces, j = [], len(word)\n"
              "while j > 0:\n"
              "    ...   # prepend word[start_of[j]:j], move j"),
          solution="""
          import math

          def answer(word, scores, unknown_score):
              best = [0.0] + [-math.inf] * len(word)   # best[j]: best total log-probability of word[:j]
              start_of = [None] * (len(word) + 1)      # where the last piece of that best path starts
              for i in range(len(word)):
                  for j in range(i + 1, len(word) + 1):
                      piece = word[i:j]
                      if piece in scores and best[i] + scores[piece] > best[j]:
                          best[j], start_of[j] = best[i] + scores[piece], i
                  if word[i] not in scores and best[i] + unknown_score > best[i + 1]:
                      best[i + 1], start_of[i + 1] = best[i] + unknown_score, i
              pieces, j = [], len(word)
              while j > 0:
                  pieces.insert(0, word[start_of[j]:j])
                  j = start_of[j]
              return pieces
          """,
          wrong=(
              """
              def answer(word, scores, unknown_score):  # greedy longest match, as WordPiece does
                  pieces, i = [], 0
                  while i < len(word):
                      for j in range(len(word), i, -1):
                          if word[i:j] in scores:
                              break
                      else:
                          j = i + 1
                      pieces.append(word[i:j])
                      i = j
                  return pieces
              """,
              """
              import math

              def answer(word, scores, unknown_score):  # keeps the best single piece, does not sum along the path
                  best = [0.0] + [-math.inf] * len(word)
                  start_of = [None] * (len(word) + 1)
                  for i in range(len(word)):
                      for j in range(i + 1, len(word) + 1):
                          piece = word[i:j]
                          if piece in scores and scores[piece] > best[j]:
                              best[j], start_of[j] = scores[piece], i
                      if word[i] not in scores and unknown_score > best[i + 1]:
                          best[i + 1], start_of[i + 1] = unknown_score, i
                  pieces, j = [], len(word)
                  while j > 0:
                      pieces.insert(0, word[start_of[j]:j])
                      j = start_of[j]
                  return pieces
              """,
              """
              import math

              def answer(word, scores, unknown_score):  # no edge for unknown characters: they are skipped
                  best = [0.0] + [-math.inf] * len(word)
                  start_of = [None] * (len(word) + 1)
                  for i in range(len(word)):
                      if best[i] == -math.inf and i:
                          best[i], start_of[i] = best[i - 1], None
                      for j in range(i + 1, len(word) + 1):
                          piece = word[i:j]
                          if piece in scores and best[i] + scores[piece] > best[j]:
                              best[j], start_of[j] = best[i] + scores[piece], i
                  pieces, j = [], len(word)
                  while j > 0:
                      if start_of[j] is None:
                          j -= 1
                          continue
                      pieces.insert(0, word[start_of[j]:j])
                      j = start_of[j]
                  return pieces
              """,
              """
              import math

              def answer(word, scores, unknown_score):  # adds probabilities, not log-probabilities
                  best = [0.0] + [-math.inf] * len(word)
                  start_of = [None] * (len(word) + 1)
                  for i in range(len(word)):
                      for j in range(i + 1, len(word) + 1):
                          piece = word[i:j]
                          if piece in scores and best[i] + math.exp(scores[piece]) > best[j]:
                              best[j], start_of[j] = best[i] + math.exp(scores[piece]), i
                      if word[i] not in scores and best[i] + math.exp(unknown_score) > best[i + 1]:
                          best[i + 1], start_of[i + 1] = best[i] + math.exp(unknown_score), i
                  pieces, j = [], len(word)
                  while j > 0:
                      pieces.insert(0, word[start_of[j]:j])
                      j = start_of[j]
                  return pieces
              """),
          builds=("minibert.tokenizers.unigram.viterbi_segment", "tokenizers.models.Unigram"),
          shortcut="""
          from minibert.tokenizers.unigram import viterbi_segment

          def answer(word, scores, unknown_score):
              return viterbi_segment(word, scores, unknown_score)
          """)
def _(answer):
    from ...tokenizers.unigram import viterbi_segment

    for word, scores in _viterbi_cases():
        unknown_score = min(scores.values()) - 10.0
        got = _as_pieces(answer(word, dict(scores), unknown_score), repr(word[:30]))
        expected = viterbi_segment(word, scores, unknown_score)
        best = _segment_score(word, expected, scores, unknown_score)
        mine = _segment_score(word, got, scores, unknown_score)
        if not math.isclose(mine, best, rel_tol=0.0, abs_tol=1e-9):
            shown = word if len(word) <= 30 else word[:27] + "..."
            raise AssertionError(
                f"for {shown!r} your pieces {got} score {mine:.3f} in total, but a segmentation with a higher total "
                f"log-probability exists ({best:.3f}): the best path to position j is the best over every piece "
                "word[i:j] of (best path to i) + scores[piece], summed along the path, and every piece length counts "
                "(the longest piece is not always best)")

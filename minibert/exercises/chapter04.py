"""Exercises of chapter 04 (tokenizers): the WordPiece score, greedy longest match, one BPE step, byte symbols."""
from . import exercise

SEED_COUNTS = {"мама": 1, "мыла": 2, "раму": 1, ",": 1, "маму": 1, "рама": 1}
HF_TOY_COUNTS = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}


@exercise("04.1", "the WordPiece score of a pair",
          hints="split each word as first letter + '##'-letters, count every symbol and every adjacent pair "
               "(times the word's count), then score = count(pair) / (count(left) * count(right)).",
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
              return pairs[pair] / (symbols[pair[0]] * symbols[pair[1]])
          """,
          wrong="""
          from collections import Counter

          def answer(word_counts, pair):  # frequency of the pair, as BPE would rank it
              pairs = Counter()
              for word, count in word_counts.items():
                  split = [word[0]] + ["##" + c for c in word[1:]]
                  for p in zip(split, split[1:]):
                      pairs[p] += count
              return pairs[pair] / sum(pairs.values())
          """)
def _(answer):
    from ..tokenizers.train_wordpiece import pair_scores

    for counts in (SEED_COUNTS, HF_TOY_COUNTS):
        for pair, (score, _) in pair_scores(counts).items():
            got = answer(dict(counts), pair)
            assert isinstance(got, float), f"return a float, got {type(got).__name__}"
            assert abs(got - score) < 1e-12, (f"score{pair} should be {score:.4f} on {counts}, you return {got:.4f}; "
                                              "the score divides by the counts of both parts")


@exercise("04.2", "greedy longest-match-first",
          hints="from the current position, try the longest remaining substring first (with '##' unless you are at "
               "the start of the word) and shorten it until it is in the vocabulary; if nothing matches, the whole "
               "word is ['[UNK]'], not just the unmatched part.",
          solution="""
          def answer(word, vocab):
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
          wrong="""
          def answer(word, vocab):
              pieces, start = [], 0
              while start < len(word):
                  for end in range(len(word), start, -1):
                      piece = word[start:end] if start == 0 else "##" + word[start:end]
                      if piece in vocab:
                          break
                  else:
                      pieces.append("[UNK]")  # only the part that did not match
                      break
                  pieces.append(piece)
                  start = end
              return pieces
          """)
def _(answer):
    from ..tokenizers import greedy_longest_match

    vocab = {"[UNK]", "un", "una", "##aff", "##able", "##a", "##ff", "##b", "##le", "b", "##u", "##gs", "hugs", "hu",
             "##g", "h"}
    for word in ["unaffable", "hugs", "bugs", "hug", "unable", "bum", "unaffablez", "un", "h"]:
        got = list(answer(word, set(vocab)))
        expected = greedy_longest_match(word, vocab)
        assert got == expected, f"{word!r} should give {expected}, you return {got}"


@exercise("04.3", "the first BPE merge",
          hints="count every adjacent character pair over all words (times the word's count); take the most "
               "frequent; among ties take the pair whose characters come first in code-point order (the smallest "
               "ids), as tokenizers does.",
          solution="""
          from collections import Counter

          def answer(word_counts):
              pairs = Counter()
              for word, count in word_counts.items():
                  for p in zip(word, word[1:]):
                      pairs[p] += count
              return max(pairs, key=lambda p: (pairs[p], -ord(p[0]), -ord(p[1])))
          """,
          wrong="""
          from collections import Counter

          def answer(word_counts):
              pairs = Counter()
              for word, count in word_counts.items():
                  for p in zip(word, word[1:]):
                      pairs[p] += count
              return pairs.most_common(1)[0][0]  # ties: whichever pair was counted first
          """)
def _(answer):
    from ..tokenizers import train_bpe

    cases = [SEED_COUNTS, HF_TOY_COUNTS, {"low": 5, "lower": 2, "newest": 6, "widest": 3},
             {"zyx": 3, "ab": 3}, {"ba": 1, "cd": 1, "ab": 1}]
    for counts in cases:
        first = train_bpe(dict(counts), 10_000, min_frequency=1).history[0]
        got = tuple(answer(dict(counts)))
        assert got == (first.left, first.right), (f"on {counts} the first merge is {(first.left, first.right)} "
                                                  f"(seen {first.count} times), you return {got}")


@exercise("04.4", "text as byte symbols",
          hints="encode the text to UTF-8 bytes, then map every byte (not every character) through "
               "bytes_to_unicode(): a character outside ASCII becomes two to four symbols.",
          solution="""
          from minibert.tokenizers import bytes_to_unicode

          def answer(text):
              table = bytes_to_unicode()
              return "".join(table[b] for b in text.encode("utf-8"))
          """,
          wrong="""
          from minibert.tokenizers import bytes_to_unicode

          def answer(text):
              table = bytes_to_unicode()
              return "".join(table.get(ord(c), c) for c in text)  # characters, not bytes
          """)
def _(answer):
    from ..tokenizers.byte_level import byte_level_pre_tokenize

    for text in ["hello world", "naïve café", "Мама мыла раму", "你好", "🙂 ok", " \n\t"]:
        got = answer(text)
        expected = "".join(byte_level_pre_tokenize(text))  # the pre-tokens cover the whole text
        assert got == expected, (f"{text!r} should become {expected!r} ({len(expected)} symbols, one per UTF-8 "
                                 f"byte), you return {got!r}")

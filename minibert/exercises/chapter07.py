"""Exercises of chapter 07 (fine-tuning)."""
from . import exercise


@exercise("07.1", "the best valid answer span",
          hints="loop over every start i and every end j from i to i + max_length - 1; keep the best "
               "start_logits[i] + end_logits[j].",
          solution="""
          def answer(start_logits, end_logits, max_length):
              best, pair = float("-inf"), None
              for i in range(len(start_logits)):
                  for j in range(i, min(len(end_logits), i + max_length)):
                      if start_logits[i] + end_logits[j] > best:
                          best, pair = start_logits[i] + end_logits[j], (i, j)
              return pair
          """,
          wrong="""
          def answer(start_logits, end_logits, max_length):
              i = max(range(len(start_logits)), key=lambda k: start_logits[k])
              j = max(range(len(end_logits)), key=lambda k: end_logits[k])
              return (i, j)
          """)
def _(answer):
    import torch

    from minibert.training.finetuning import best_span

    cases = [([0.0, 5.0, 0.0, 0.0], [4.0, 0.0, 1.0, 0.0], 3)]  # best end comes before the best start
    g = torch.Generator().manual_seed(0)
    cases += [(torch.randn(12, generator=g).tolist(), torch.randn(12, generator=g).tolist(), k) for k in (1, 3, 12)]
    for start, end, max_length in cases:
        s, e, _ = best_span(torch.tensor([start]), torch.tensor([end]), max_answer_length=max_length)
        got = tuple(int(x) for x in answer(start, end, max_length))
        assert got == (int(s), int(e)), (f"for start {[round(x, 2) for x in start]}, end {[round(x, 2) for x in end]}, "
                                         f"max_length {max_length} you return {got}, the best valid span is "
                                         f"{(int(s), int(e))}")


@exercise("07.2", "labels on first pieces",
          hints="walk the word ids; a word id different from the previous one is a first piece; None is special.",
          solution="""
          def answer(word_ids, word_labels):
              labels, previous = [], None
              for w in word_ids:
                  labels.append(-100 if w is None or w == previous else word_labels[w])
                  previous = w
              return labels
          """,
          wrong="""
          def answer(word_ids, word_labels):
              return [-100 if w is None else word_labels[w] for w in word_ids]
          """)
def _(answer):
    from minibert.training.finetuning import align_word_labels

    for word_ids, labels in (([None, 0, 0, 1, 2, 2, 2, None], [3, 1, 2]), ([None, 0, 1, None], [0, 1]),
                             ([None, 0, 0, 0, None, 0, 1, None], [2, 1])):
        got, expected = list(answer(word_ids, labels)), align_word_labels(word_ids, labels)
        assert got == expected, f"for word_ids {word_ids} and word labels {labels} you return {got}, expected {expected}"


@exercise("07.3", "entities from BIO tags",
          hints="scan left to right; close the open entity when the tag is not I- of its type; B- (or a stray I-) "
               "opens a new one; close what is open at the end.",
          solution="""
          def answer(tags):
              spans, start, kind = set(), None, None
              for i, tag in enumerate(list(tags) + ["O"]):
                  inside = tag.startswith("I-") and kind == tag[2:]
                  if start is not None and not inside:
                      spans.add((start, i, kind))
                      start = kind = None
                  if tag.startswith("B-") or (tag.startswith("I-") and not inside):
                      start, kind = i, tag[2:]
              return spans
          """,
          wrong="""
          def answer(tags):
              return {(i, i + 1, tag[2:]) for i, tag in enumerate(tags) if tag.startswith("B-")}
          """)
def _(answer):
    from minibert.training.finetuning import bio_spans

    for tags in (["B-CODE", "I-CODE", "O", "B-CODE"], ["O", "B-CODE", "B-CODE", "I-CODE", "I-CODE"],
                 ["I-X", "I-X", "O", "B-Y", "I-X"], ["O", "O"]):
        got, expected = set(answer(tags)), bio_spans(tags)
        assert got == expected, f"for {tags} you return {sorted(got)}, expected {sorted(expected)}"

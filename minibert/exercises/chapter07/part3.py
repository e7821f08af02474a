"""Chapter 07: exercises 07.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


# -- 07.4 -----------------------------------------------------------------------------------------------------------

@exercise("07.4", "entities from BIO tags", kind="build",
          hints=(
              "Read the tags left to right keeping the entity that is open (its start and type). B- always opens a "
              "new one; I- continues the open entity only if the type matches, else it opens one too (a stray "
              "I-); O closes. Do not forget the entity still open at the end.",
              "A tag is 'O', 'B-TYPE' or 'I-TYPE' (`tag[:2]`, `tag[2:]`). Return a set of `(start, end, type)` "
              "with `end` exclusive, e.g. {(0, 2, 'CODE')} for ['B-CODE', 'I-CODE', 'O'].",
              "spans, start, kind = set(), None, None\n"
              "for i, tag in enumerate(tags):\n"
              "    continues = tag.startswith('I-') and start is not None and tag[2:] == kind\n"
              "    if start is not None and not continues:\n"
              "        ...   # close the open entity at i\n"
              "    if tag != 'O' and not continues:\n"
              "        ...   # open a new one\n"
              "..."),
          solution="""
          def answer(tags):
              spans, start, kind = set(), None, None
              for i, tag in enumerate(tags):
                  continues = tag.startswith("I-") and start is not None and tag[2:] == kind
                  if start is not None and not continues:  # the open entity ends before i
                      spans.add((start, i, kind))
                      start = None
                  if tag != "O" and not continues:  # B-, or a stray I-, opens an entity
                      start, kind = i, tag[2:]
              if start is not None:
                  spans.add((start, len(tags), kind))
              return spans
          """,
          wrong=(
              """
              def answer(tags):  # every B- is a one-token entity
                  return {(i, i + 1, tag[2:]) for i, tag in enumerate(tags) if tag.startswith("B-")}
              """,
              """
              def answer(tags):  # a stray I- is dropped
                  spans, start, kind = set(), None, None
                  for i, tag in enumerate(tags):
                      continues = tag.startswith("I-") and start is not None and tag[2:] == kind
                      if start is not None and not continues:
                          spans.add((start, i, kind))
                          start = None
                      if tag.startswith("B-"):
                          start, kind = i, tag[2:]
                  if start is not None:
                      spans.add((start, len(tags), kind))
                  return spans
              """,
              """
              def answer(tags):  # I- continues whatever is open, whatever its type
                  spans, start, kind = set(), None, None
                  for i, tag in enumerate(tags):
                      continues = tag.startswith("I-") and start is not None
                      if start is not None and not continues:
                          spans.add((start, i, kind))
                          start = None
                      if tag != "O" and not continues:
                          start, kind = i, tag[2:]
                  if start is not None:
                      spans.add((start, len(tags), kind))
                  return spans
              """,
              """
              def answer(tags):  # the entity open at the end is lost
                  spans, start, kind = set(), None, None
                  for i, tag in enumerate(tags):
                      continues = tag.startswith("I-") and start is not None and tag[2:] == kind
                      if start is not None and not continues:
                          spans.add((start, i, kind))
                          start = None
                      if tag != "O" and not continues:
                          start, kind = i, tag[2:]
                  return spans
              """),
          builds=("minibert.training.finetuning.bio_spans", "minibert.training.finetuning.span_f1"),
          shortcut="""
          from minibert.training.finetuning import bio_spans

          def answer(tags):
              return bio_spans(tags)
          """)
def _(answer):
    import random

    from minibert.training.finetuning import bio_spans

    cases = [["B-CODE", "I-CODE", "O", "B-CODE"], ["O", "B-CODE", "B-CODE", "I-CODE", "I-CODE"],
             ["I-X", "I-X", "O", "B-Y", "I-X"], ["O", "O"], [], ["B-X", "I-Y", "I-Y"], ["B-A"]]
    rng = random.Random(11)
    tags = ["O", "B-A", "I-A", "B-B", "I-B"]
    cases += [[rng.choice(tags) for _ in range(rng.randint(1, 10))] for _ in range(30)]
    for case in cases:
        got = answer(list(case))
        try:
            got = {(int(s), int(e), str(t)) for s, e, t in got}
        except (TypeError, ValueError):
            raise AssertionError(f"return a set of (start, end, type) triples, got {got!r}") from None
        expected = bio_spans(case)
        if got == expected:
            continue
        extra, missing = sorted(got - expected), sorted(expected - got)
        if extra:
            s, e, t = extra[0]
            inside = any(es <= s and e <= ee and (es, ee) != (s, e) for es, ee, _ in expected)
            covers = any(s <= es and ee <= e and (es, ee) != (s, e) for es, ee, _ in expected)
            if inside:
                reason = "an entity runs on over the I- tags of its type that follow it"
            elif covers:
                reason = ("that glues tags together: an I- continues only an open entity of the SAME type, and a "
                          "B- always starts a new entity")
            else:
                reason = "it is not an entity of these tags (end is exclusive; the type is the opening tag's)"
            raise AssertionError(f"for {case} you return {(s, e, t)}: {reason}")
        s, e, t = missing[0]
        if e == len(case):
            reason = "an entity still open at the end of the tags is an entity too"
        elif case[s].startswith("I-"):
            reason = "an I- tag that continues nothing (a stray I-) starts an entity"
        else:
            reason = "some entity is missing"
        raise AssertionError(f"for {case} you find {len(got)} entities, not all of them: {reason}")

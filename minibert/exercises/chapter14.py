"""Exercises of chapter 14 (the family: GPT, T5, BART, XLM)."""
import math

import torch

from . import exercise


@exercise("14.1", "T5 span corruption by hand",
          hints="walk through the spans of the mask (runs of True): the input gets the next sentinel in place of "
               "the whole span, the target gets that sentinel followed by the span's tokens.",
          solution="""
          def answer(tokens, noise_mask, sentinels):
              inputs, targets, k, previous = [], [], 0, False
              for token, noisy in zip(tokens, noise_mask):
                  if noisy and not previous:  # a new span starts: one sentinel in each sequence
                      inputs.append(sentinels[k])
                      targets.append(sentinels[k])
                      k += 1
                  if noisy:
                      targets.append(token)
                  else:
                      inputs.append(token)
                  previous = noisy
              return inputs, targets
          """,
          wrong="""
          def answer(tokens, noise_mask, sentinels):
              inputs, targets, k = [], [], 0
              for token, noisy in zip(tokens, noise_mask):
                  if noisy:  # a sentinel per corrupted token instead of per span
                      inputs.append(sentinels[k])
                      targets += [sentinels[k], token]
                      k += 1
                  else:
                      inputs.append(token)
              return inputs, targets
          """)
def _(answer):
    from minibert.models.family.noise import span_corrupt

    sentinels = [f"<extra_id_{k}>" for k in range(20)]
    tokens = "Thank you for inviting me to your party last week .".split()
    mask = [t in ("for", "inviting", "last") for t in tokens]
    got = answer(tokens, mask, sentinels)
    expected = span_corrupt(tokens, mask, sentinels)
    assert isinstance(got, tuple) and len(got) == 2, "return a pair (inputs, targets)"
    assert list(got[0]) == expected[0], f"the input should be {' '.join(expected[0])!r}, got {' '.join(map(str, got[0]))!r}"
    assert list(got[1]) == expected[1], f"the target should be {' '.join(expected[1])!r}, got {' '.join(map(str, got[1]))!r}"
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        n = int(torch.randint(2, 30, (1,), generator=g))
        tokens = torch.randint(0, 9, (n,), generator=g).tolist()
        mask = (torch.rand(n, generator=g) < 0.4).tolist()
        got, expected = answer(tokens, mask, sentinels), span_corrupt(tokens, mask, sentinels)
        assert (list(got[0]), list(got[1])) == expected, f"wrong for tokens {tokens} and mask {[int(m) for m in mask]}"


@exercise("14.2", "top-k filtering",
          hints="find the k-th largest score of each row (logits.topk(k, dim=-1).values[..., -1:]) and set every score "
               "below it to float('-inf'); softmax then gives those tokens probability 0.",
          solution="""
          import torch

          def answer(logits, k):
              kth = logits.topk(k, dim=-1).values[..., -1:]
              return logits.masked_fill(logits < kth, float("-inf"))
          """,
          wrong="""
          import torch

          def answer(logits, k):
              kth = logits.topk(k, dim=-1).values[..., -1:]
              return logits.masked_fill(logits < kth, 0.0)
          """)
def _(answer):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 50, generator=g)
    for k in (1, 5, 50):
        got = answer(logits.clone(), k)
        assert isinstance(got, torch.Tensor) and got.shape == logits.shape, f"return a tensor shaped {tuple(logits.shape)}"
        probabilities = got.softmax(-1)
        kept = (probabilities > 0).sum(-1)
        assert bool((kept == k).all()), f"with k={k}, {kept.tolist()} tokens per row keep a probability above 0"
        top = logits.topk(k, dim=-1).indices
        assert bool((probabilities.gather(-1, top) > 0).all()), f"with k={k} the {k} best tokens must be kept"
        assert torch.allclose(got.gather(-1, top), logits.gather(-1, top)), "the kept scores must not change"


@exercise("14.3", "XLM's translation LM positions",
          hints="each half is `</s> sentence </s>`, so it has n + 2 tokens; positions count 0, 1, ... within each half.",
          solution="""
          def answer(n_source, n_target):
              return list(range(n_source + 2)) + list(range(n_target + 2))
          """,
          wrong="""
          def answer(n_source, n_target):
              return list(range(n_source + n_target + 4))
          """)
def _(answer):
    from minibert.models.family.xlm import translation_lm_input

    for n, m in ((4, 4), (1, 6), (9, 2)):
        expected = translation_lm_input(["x"] * n, ["y"] * m, 0, 1).position_ids.tolist()
        got = [int(p) for p in answer(n, m)]
        assert len(got) == n + m + 4, f"for {n} + {m} words the input has {n + m + 4} tokens (4 separators), got {len(got)}"
        assert got == expected, f"for ({n}, {m}) expected {expected}, got {got}: do the positions restart?"


@exercise("14.4", "how many sentinels does T5 need?",
          hints="round(0.15 * 512) noise tokens, divided into round(noise / 3) spans; one sentinel per span.",
          solution="""
          answer = round(round(0.15 * 512) / 3)
          """,
          wrong="""
          answer = round(0.15 * 512)
          """)
def _(answer):
    from minibert.models.family.noise import spans_of, t5_noise_mask

    assert isinstance(answer, int), f"expected a whole number, got {answer!r}"
    needed = len(spans_of(t5_noise_mask(512)))
    assert answer == needed, (f"{answer} is not it: 512 tokens at 15% give {round(0.15 * 512)} noise tokens; how many "
                              f"spans of mean length 3 is that?")
    assert math.isclose(needed, 26)

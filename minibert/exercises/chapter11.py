"""Exercises of chapter 11 (SpanBERT and ELECTRA)."""
import torch
import torch.nn.functional as F

from . import exercise


@exercise("11.1", "the mean span length",
          hints="P(l) is proportional to p (1 - p)^(l - 1) for l = 1..10; normalise the ten weights to sum to 1, then "
               "take sum(l * P(l)). Clipping at 10 pulls the mean below 1 / p = 5.",
          solution="""
          p, longest = 0.2, 10
          weights = [p * (1 - p) ** (l - 1) for l in range(1, longest + 1)]
          answer = sum(l * w for l, w in zip(range(1, longest + 1), weights)) / sum(weights)
          """,
          wrong="""
          answer = 1 / 0.2
          """)
def _(answer):
    assert isinstance(answer, (int, float)), f"expected a number, got {type(answer).__name__}"
    lengths = torch.arange(1, 11, dtype=torch.float64)
    weights = 0.2 * 0.8 ** (lengths - 1)
    expected = float((lengths * weights).sum() / weights.sum())
    assert abs(answer - expected) < 1e-3, (f"{answer:.3f} is not the mean of Geo(0.2) clipped at 10 words; "
                                           f"did you renormalise the ten probabilities (the untruncated mean is 5)?")


@exercise("11.2", "what the span boundary objective reads",
          hints="for a span covering positions start..end-1, the boundaries are start - 1 and end, and the relative "
               "position of token i counts from 1: i - start + 1.",
          solution="""
          def answer(start, end):
              return [(i, start - 1, end, i - start + 1) for i in range(start, end)]
          """,
          wrong="""
          def answer(start, end):
              return [(i, start, end - 1, i - start) for i in range(start, end)]
          """)
def _(answer):
    from minibert.models.spanbert import span_targets

    for start, end in ((3, 6), (1, 2), (5, 15)):
        got = [tuple(int(v) for v in row) for row in answer(start, end)]
        expected = [(i, left, right, i - left) for _, i, left, right in span_targets([[(start, end)]], 1, 20, 20).tolist()]
        assert len(got) == end - start, f"span ({start}, {end}) has {end - start} tokens, you listed {len(got)}"
        assert got == expected, (f"for the span ({start}, {end}) expected {expected[:2]}..., got {got[:2]}...: the "
                                 f"boundaries lie OUTSIDE the span")


@exercise("11.3", "replaced-token labels",
          hints="a position is 'replaced' (1) only where the corrupted token differs from the original: a generator "
               "sample that equals the original counts as original (0), even though that position was masked.",
          solution="""
          import torch

          def answer(original, corrupted, masked):
              return (corrupted != original).long()
          """,
          wrong="""
          import torch

          def answer(original, corrupted, masked):
              return masked.long()
          """)
def _(answer):
    g = torch.Generator().manual_seed(0)
    original = torch.randint(5, 30, (4, 12), generator=g)
    masked = torch.rand(4, 12, generator=g) < 0.4
    masked[0, 3] = True
    samples = torch.randint(5, 30, (4, 12), generator=g)
    samples[0, 3] = original[0, 3]  # the generator guessed right here
    corrupted = torch.where(masked, samples, original)
    got = answer(original.clone(), corrupted.clone(), masked.clone())
    expected = (corrupted != original).long()
    assert isinstance(got, torch.Tensor) and got.shape == original.shape, "return a tensor shaped like the input"
    assert int(got[0, 3]) == 0, "position (0, 3) was masked but the generator sampled the original token: label 0"
    assert torch.equal(got.long(), expected), "labels must be 1 exactly where corrupted != original"


@exercise("11.4", "the discriminator's loss",
          hints="binary cross-entropy with logits, averaged over the real tokens only: "
               "F.binary_cross_entropy_with_logits(logits[real], labels[real].float()) with real = attention_mask == 1.",
          solution="""
          import torch.nn.functional as F

          def answer(logits, labels, attention_mask):
              real = attention_mask.bool()
              return F.binary_cross_entropy_with_logits(logits[real], labels[real].float())
          """,
          wrong="""
          import torch.nn.functional as F

          def answer(logits, labels, attention_mask):
              return F.binary_cross_entropy_with_logits(logits, labels.float())
          """)
def _(answer):
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 10, generator=g) * 3
    labels = (torch.rand(3, 10, generator=g) < 0.2).long()
    mask = torch.ones(3, 10, dtype=torch.long)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    got = answer(logits, labels, mask)
    real = mask.bool()
    expected = F.binary_cross_entropy_with_logits(logits[real], labels[real].float())
    assert isinstance(got, torch.Tensor) and got.dim() == 0, "return one number (a 0-d tensor): the mean loss"
    assert torch.allclose(got, expected, atol=1e-6), (f"got {float(got):.4f}, expected {float(expected):.4f}: "
                                                      f"padding positions must not count")

"""Chapter 03: exercises 03.5."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _POOL_SOLUTION  # noqa: F401 (shared with part1's exercises)


@exercise("03.5", "mean pooling", kind="build",
          hints=(
              "A sentence vector is the average of its real tokens' vectors: padding must neither add to the sum "
              "nor to the count. A sentence with no real token at all must give zeros, not NaN.",
              "hidden (B, T, H), attention_mask (B, T) of 1/0 (ints, floats or booleans): mask.to(hidden.dtype)"
              ".unsqueeze(-1) is (B, T, 1) and broadcasts over H; .sum(dim=1) sums over T; .clamp(min=1e-9) keeps "
              "a count of 0 from dividing by zero. Return (B, H), not normalised.",
              "weights = attention_mask.to(hidden.dtype).unsqueeze(-1)\n"
              "total = (hidden * weights).sum(dim=1)\n"
              "count = ...\n"
              "return total / count"),
          solution=_POOL_SOLUTION,
          wrong=(
              "def answer(hidden, attention_mask):\n    return hidden.mean(1)\n",
              _variant(_POOL_SOLUTION, ".clamp(min=1e-9)", "", "a sentence without real tokens divides by zero"),
              _variant(_POOL_SOLUTION, "count = weights.sum(dim=1).clamp(min=1e-9)",
                       "count = hidden.shape[1]", "divides by T"),
              _variant(_POOL_SOLUTION, "    return total / count\n",
                       "    import torch\n    return torch.nn.functional.normalize(total / count, dim=-1)\n",
                       "normalised"),
          ),
          builds=("minibert.models.bert.model.mean_pool",),
          shortcut="""
          from minibert import mean_pool

          def answer(hidden, attention_mask):
              return mean_pool(hidden, attention_mask, normalize=False)
          """)
def _(answer):
    from minibert.models.bert.model import mean_pool

    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(4, 7, 5, generator=g, dtype=torch.float64)
    lengths = torch.tensor([7, 4, 2, 0])
    real = torch.arange(7)[None, :] < lengths[:, None]
    for mask, kind in [(real.long(), "an int 0/1 mask"), (real, "a boolean mask"), (real.float(), "a float mask")]:
        label = f"a (4, 7, 5) batch with {kind} (lengths 7, 4, 2 and 0)"
        got = _tensor(answer(hidden.clone(), mask.clone()), f"the result for {label}")
        expected = mean_pool(hidden, real.long(), normalize=False)
        assert tuple(got.shape) == (4, 5), f"{label}: expected a (batch, H) = (4, 5) result, got {tuple(got.shape)}"
        if _close(got, expected, atol=1e-10):
            continue
        if _close(got[:3], expected[:3], atol=1e-10):
            raise AssertionError(f"{label}: the sentence with no real token gives "
                                 f"{'NaN' if torch.isnan(got[3]).any() else 'something other than zeros'}: its "
                                 "count is 0, so keep the divisor away from 0 (the sum is 0 anyway)")
        if _close(got, hidden.mean(1), atol=1e-10):
            raise AssertionError(f"{label}: the padding positions are included in the average; use the mask")
        if _close(got[:3], F.normalize(expected[:3], dim=-1), atol=1e-10):
            raise AssertionError(f"{label}: right direction, but the exercise asks for the mean itself, not "
                                 "normalised to length 1")
        if _close(got[:3], (hidden * real[..., None]).sum(1)[:3] / 7, atol=1e-10):
            raise AssertionError(f"{label}: padding is left out of the sum but not out of the count: divide by the "
                                 "number of REAL tokens of each sentence")
        raise AssertionError(f"{label}: the values differ from the mean over each sentence's real tokens")
    single = _tensor(answer(hidden[:1, :3].float(), torch.ones(1, 3, dtype=torch.long)), "the result in float32")
    assert _close(single, hidden[:1, :3].float().double().mean(1), atol=1e-6), (
        "one float32 sentence without padding should give the plain mean of its token vectors")

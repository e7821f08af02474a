"""Chapter 01: exercises 01.3, 01.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _attention_diagnosis  # noqa: F401 (shared with part1's exercises)


@exercise("01.3", "attention from scratch", kind="build",
          hints=(
              "Every query meets every key: their dot products, scaled by the square root of the key width, are the "
              "scores. Masked (query, key) pairs must end up with weight exactly 0, even in a row where every key is "
              "masked (no NaN there). A softmax over the keys turns scores into weights; the output mixes the "
              "values with them.",
              "q (..., T_q, d), k (..., T_k, d), v (..., T_k, d_v): scores = q @ np.swapaxes(k, -1, -2) is (..., "
              "T_q, T_k); np.where(mask, scores, np.finfo(scores.dtype).min) hides masked pairs without -inf; "
              "softmax(scores, axis=-1) (your 01.1 or minibert.reference.softmax); weights @ v is (..., T_q, d_v). "
              "Return the pair (output, weights).",
              "scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])\n"
              "if mask is not None:\n"
              "    scores = np.where(mask, scores, ...)\n"
              "weights = softmax(scores, axis=-1)\n"
              "return ..., weights"),
          solution="""
          import numpy as np
          from minibert.reference import softmax

          def answer(q, k, v, mask=None):
              scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
              if mask is not None:
                  scores = np.where(mask, scores, np.finfo(scores.dtype).min)
              weights = softmax(scores, axis=-1)
              return weights @ v, weights
          """,
          wrong=(
              """
              import numpy as np
              from minibert.reference import softmax

              def answer(q, k, v, mask=None):  # no scale
                  scores = q @ np.swapaxes(k, -1, -2)
                  if mask is not None:
                      scores = np.where(mask, scores, np.finfo(scores.dtype).min)
                  weights = softmax(scores, axis=-1)
                  return weights @ v, weights
              """,
              """
              import numpy as np
              from minibert.reference import softmax

              def answer(q, k, v, mask=None):  # scaled by the width of the values
                  scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(v.shape[-1])
                  if mask is not None:
                      scores = np.where(mask, scores, np.finfo(scores.dtype).min)
                  weights = softmax(scores, axis=-1)
                  return weights @ v, weights
              """,
              """
              import numpy as np
              from minibert.reference import softmax

              def answer(q, k, v, mask=None):  # -inf: a fully masked row becomes NaN
                  scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
                  if mask is not None:
                      scores = np.where(mask, scores, -np.inf)
                  weights = softmax(scores, axis=-1)
                  return weights @ v, weights
              """,
              """
              import numpy as np
              from minibert.reference import softmax

              def answer(q, k, v, mask=None):  # multiplies the scores by the mask
                  scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
                  if mask is not None:
                      scores = scores * mask
                  weights = softmax(scores, axis=-1)
                  return weights @ v, weights
              """,
              """
              import numpy as np
              from minibert.reference import softmax

              def answer(q, k, v, mask=None):  # softmax over the queries
                  scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
                  if mask is not None:
                      scores = np.where(mask, scores, np.finfo(scores.dtype).min)
                  weights = softmax(scores, axis=-2)
                  return weights @ v, weights
              """,
          ),
          builds=("minibert.reference.scaled_dot_product_attention", "minibert.reference.multi_head_attention",
                  "minibert.core.attention.scaled_dot_product_attention",
                  "torch.nn.functional.scaled_dot_product_attention"),
          shortcut="""
          from minibert.reference import scaled_dot_product_attention

          def answer(q, k, v, mask=None):
              return scaled_dot_product_attention(q, k, v, mask)
          """)
def _(answer):
    rng = np.random.default_rng(1)
    lengths = np.array([6, 4])
    padding = (np.arange(6)[None, :] < lengths[:, None])[:, None, None, :]          # (2, 1, 1, 6)
    empty = np.zeros((2, 1, 1, 6), dtype=bool)
    empty[0] = True                                                                 # sequence 1: nothing to see
    cases = [
        ((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 5), None, "without a mask"),
        ((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 5), ref.causal_mask(6), "with a causal mask"),
        ((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 5), padding, "with a padding mask"),
        ((4, 8), (7, 8), (7, 3), None, "with 4 queries and 7 keys"),
        ((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 5), empty, "with a sequence whose keys are all masked"),
        ((1, 1, 1, 4), (1, 1, 1, 4), (1, 1, 1, 4), None, "with a single token"),
    ]
    for q_shape, k_shape, v_shape, mask, what in cases:
        q, k, v = rng.standard_normal(q_shape), rng.standard_normal(k_shape), rng.standard_normal(v_shape)
        with np.errstate(all="ignore"):
            result = answer(q.copy(), k.copy(), v.copy(), None if mask is None else mask.copy())
        assert isinstance(result, (tuple, list)) and len(result) == 2, (
            f"{what}: return a pair (output, weights), got {type(result).__name__}")
        out, weights = _array(result[0], "the output"), _array(result[1], "the weights")
        expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v, mask)
        assert weights.shape == expected_w.shape, (
            f"{what}: the weights should have shape {expected_w.shape} (..., queries, keys), got {weights.shape}")
        if not (np.allclose(weights, expected_w, atol=1e-9) and out.shape == expected_out.shape
                and np.allclose(out, expected_out, atol=1e-9)):
            raise AssertionError(_attention_diagnosis(q, k, v, mask, weights, out, expected_w, expected_out, what))


# -- 01.4 -------------------------------------------------------------------------------------------------------

@exercise("01.4", "the size of multi-head attention", kind="compute",
          hints=(
              "Count the matrices and the bias vectors of the block, not the heads: the heads are slices of the "
              "projections, so they add no parameter of their own. There are four projections (queries, keys, "
              "values, and the output one, W^O), each with a bias.",
              "Each projection is an nn.Linear(768, 768): a (768, 768) weight and 768 biases. Does the number of "
              "heads appear anywhere in that count?"),
          solution="answer = 4 * (768 * 768 + 768)",
          wrong=("answer = 3 * (768 * 768 + 768)", "answer = 4 * 768 * 768",
                 "answer = 12 * (3 * (768 * 64 + 64) + 768 * 768 + 768)", "answer = 12 * 4 * (768 * 768 + 768)"))
def _(answer):
    got = _whole_number(answer, "the parameter count")
    per_projection = 768 * 768 + 768
    if got == 3 * per_projection:
        raise AssertionError(f"{got:,} counts the query, key and value projections but not the output one (W^O)")
    if got == 4 * 768 * 768:
        raise AssertionError(f"{got:,} forgets the biases")
    if got == 12 * 3 * (768 * 64 + 64) + 12 * per_projection or got == 12 * 4 * per_projection:
        raise AssertionError(f"{got:,} grows with the number of heads; the 12 heads are slices of one (768, 768) "
                             "projection each, so they add nothing")
    assert got == 4 * per_projection, f"{got:,} is not the parameter count of BERT-base's attention block"


# -- 01.5 -------------------------------------------------------------------------------------------------------

_MHA_SOLUTION = """
import math

import torch
from torch import nn


class MyAttention(nn.Module):
    def __init__(self, hidden_size, num_heads):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size {hidden_size} is not a multiple of num_heads {num_heads}")
        self.num_heads, self.head_size = num_heads, hidden_size // num_heads
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, hidden_size)

    def split(self, x):
        # (B, T, H) -> (B, heads, T, H / heads)
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_size).transpose(1, 2)

    def forward(self, x, mask=None, need_weights=False):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size)
        if mask is not None:
            scores = scores + mask  # 0 = attend, the most negative float = masked
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(x.shape)  # merge the heads back: (B, T, H)
        return self.output(context), (weights if need_weights else None)


def answer(hidden_size, num_heads):
    return MyAttention(hidden_size, num_heads)
"""


def _variant(source: str, old: str, new: str, note: str) -> str:
    """A registered wrong answer: the model solution with one typical mistake put in."""
    if old not in source:
        raise ValueError(f"cannot make the wrong answer {note!r}: {old!r} is not in the solution")
    return f"# {note}\n" + source.replace(old, new, 1)


_MHA_WRONGS = (
    _variant(_MHA_SOLUTION, " / math.sqrt(self.head_size)", "", "no scale"),
    _variant(_MHA_SOLUTION, "math.sqrt(self.head_size)", "math.sqrt(self.num_heads * self.head_size)",
             "scaled by the whole width"),
    _variant(_MHA_SOLUTION, "scores = scores + mask", "pass", "the mask is ignored"),
    _variant(_MHA_SOLUTION, "scores = scores + mask", 'scores = scores.masked_fill(mask < 0, float("-inf"))',
             "masked scores set to -inf"),
    _variant(_MHA_SOLUTION, "(weights @ v).transpose(1, 2).reshape(x.shape)", "(weights @ v).reshape(x.shape)",
             "heads merged without the transpose"),
    _variant(_MHA_SOLUTION, "x.view(batch, length, self.num_heads, self.head_size).transpose(1, 2)",
             "x.view(batch, self.num_heads, length, self.head_size)", "heads split without the transpose"),
    _variant(_MHA_SOLUTION, "scores.softmax(dim=-1)", "scores.softmax(dim=-2)", "softmax over the queries"),
    _variant(_MHA_SOLUTION, "return self.output(context), (", "return context, (", "no output projection"),
)

_MHA_NAMES = ("query", "key", "value", "output")


def _randomized(module: torch.nn.Module, seed: int, scale: float = 0.5) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale)
    return module


def _same_parts(module, reference, what: str, skeleton: str) -> None:
    """Parameter names and shapes of ``module`` are those of ``reference`` (so its weights load), else a diagnosis."""
    if not isinstance(module, torch.nn.Module):
        raise AssertionError(f"{what} should be a torch.nn.Module (your class, built), got {type(module).__name__}")
    try:
        got = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    except AttributeError as err:
        raise AssertionError(f"{what} is not set up as a torch module ({err}): did __init__ start with "
                             "super().__init__()?") from None
    expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        raise AssertionError(f"{what} cannot carry the library's weights: "
                             + "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "",
                                                     f"unexpected {', '.join(extra)}" if extra else "") if p)
                             + f". {skeleton}")
    shapes = [k for k in expected if expected[k] != got[k]]
    if shapes:
        k = shapes[0]
        raise AssertionError(f"{what}: {k} has shape {got[k]}, the library's has {expected[k]}. {skeleton}")


def _mha_diagnosis(library, x, bias, weights, out, expected_w, expected_out, what) -> str:
    heads, d = library.num_heads, library.head_size
    if weights is None:
        return f"{what}: with need_weights=True return the weights (B, heads, T, T) as the second element"
    if tuple(weights.shape) != tuple(expected_w.shape):
        return (f"{what}: the weights should have shape (B, heads, T, T) = {tuple(expected_w.shape)}, got "
                f"{tuple(weights.shape)}")
    if not torch.isfinite(weights).all() or not torch.isfinite(out).all():
        if bias is not None and (bias <= torch.finfo(bias.dtype).min / 2).all(dim=-1).any():
            return (f"{what}: a sequence whose keys are all masked gives NaN. The mask is a finite bias: add it "
                    "to the scores (every score of that row then becomes the same number and the softmax is "
                    "uniform); -inf would make 0/0")
        return f"{what}: the output or the weights contain NaN or inf"
    if not torch.allclose(weights.sum(-1), torch.ones_like(weights.sum(-1)), atol=1e-8):
        return f"{what}: each query's weights (over the keys, the last axis) should sum to 1"
    with torch.no_grad():
        q, k, v = (library.split_heads(getattr(library, n)(x)) for n in ("query", "key", "value"))
        if torch.allclose(weights, expected_w, atol=1e-8):
            if tuple(out.shape) != tuple(expected_out.shape):
                return (f"{what}: the output should have shape (B, T, H) = {tuple(expected_out.shape)}, got "
                        f"{tuple(out.shape)}")
            context = expected_w @ v                                                   # (B, heads, T, d)
            if torch.allclose(out, library.merge_heads(context), atol=1e-8):
                return (f"{what}: the weights are right, and you return the heads merged back to (B, T, H); one "
                        "step is missing: the output projection")
            if heads > 1 and torch.allclose(out, library.output(context.reshape(out.shape)), atol=1e-8):
                return (f"{what}: the weights are right but the heads are merged wrongly: reshaping (B, heads, T, "
                        "d) straight to (B, T, H) mixes positions; go back to (B, T, heads, d) first")
            return (f"{what}: the weights are right but the output is not. After weights @ v, (B, heads, T, d) "
                    "goes back to (B, T, heads, d), then to (B, T, H); then comes the output projection")
        raw = q @ k.transpose(-1, -2)
        plus = (lambda s: s) if bias is None else (lambda s: s + bias)
        candidates = [(plus(raw), "divide the scores by sqrt(d_k), d_k = H / heads being one head's width")]
        if heads > 1:
            candidates.append((plus(raw / (heads * d) ** 0.5), "divide the scores by the square root of ONE "
                                                               "HEAD's width, H / heads, not of the whole width H"))
        for scores, why in candidates:
            if torch.allclose(weights, scores.softmax(-1), atol=1e-8):
                return f"{what}: the weights are right except for the scale: {why}"
        if bias is not None and torch.allclose(weights, (raw / d ** 0.5).softmax(-1), atol=1e-8):
            return f"{what}: the mask is ignored: add it to the scores before the softmax"
    return (f"{what}: the attention weights differ. Check how the width is cut into heads: (B, T, H) -> "
            "(B, T, heads, H / heads) -> (B, heads, T, H / heads), so that head h holds columns h*d .. (h+1)*d")


def _pair(result, what: str):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise AssertionError(f"{what}: forward should return a pair (output, weights or None), got "
                             f"{type(result).__name__}")
    out, weights = result
    if not isinstance(out, torch.Tensor) or not (weights is None or isinstance(weights, torch.Tensor)):
        raise AssertionError(f"{what}: forward should return (tensor, tensor or None)")
    return out, weights

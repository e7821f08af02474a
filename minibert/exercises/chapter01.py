"""Exercises of chapter 01 (attention): a stable softmax, the causal mask, attention with masks in NumPy, the size
of an attention block, and multi-head self-attention as a torch module.

01.5 is the chapter's main build: the learner's module replaces every ``MultiHeadSelfAttention`` of the real
all-MiniLM-L6-v2 (section 6 of the chapter, through :func:`minibert.core.swap.swap_in`) and gives the same sentence
embeddings. Every check diagnoses without printing the answer.
"""
from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np
import torch

from . import exercise
from .. import reference as ref


# -- shared helpers ---------------------------------------------------------------------------------------------

def _array(value, what: str) -> np.ndarray:
    """A NumPy array, a torch tensor or a nested list as a float64 array; anything else is said plainly."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be an array of numbers, got {type(value).__name__}") from None
    return array


def _whole_number(value, what: str) -> int:
    """A Python, NumPy or torch integer (or a float that is a whole number) as an int."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"{what} should be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise AssertionError(f"{what} should be one number, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be a whole number, got {type(value).__name__}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not np.isfinite(float(value)) or not float(value).is_integer():
        raise AssertionError(f"{what} should be a whole number (a count of parameters), got {value!r}")
    return int(value)


@contextmanager
def _one_thread():
    """Tiny tensors: a second torch thread buys nothing, and on a busy machine it makes each small product wait."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# -- 01.1 -------------------------------------------------------------------------------------------------------

@exercise("01.1", "a softmax that never overflows", kind="build",
          hints=(
              "Subtracting the same number from every score of a row leaves the row's softmax unchanged (the factor "
              "cancels), and a well-chosen number keeps exp() from overflowing or underflowing: pick one per row "
              "so that the largest exponent of that row is 0. A row runs along the LAST axis, whatever the number "
              "of leading axes.",
              "np.asarray(x, dtype=float) (a copy you may change, and ints become floats); x.max(axis=-1, "
              "keepdims=True) has shape (..., 1), so it broadcasts back over each row; np.exp; .sum(axis=-1, "
              "keepdims=True). The result has the shape of x, and x itself must not change.",
              "x = np.asarray(x, dtype=float)\n"
              "shifted = x - x.max(axis=-1, keepdims=True)\n"
              "e = np.exp(shifted)\n"
              "return ...  # divide by the row sums"),
          solution="""
          import numpy as np

          def answer(x):
              x = np.asarray(x, dtype=float)
              e = np.exp(x - x.max(axis=-1, keepdims=True))
              return e / e.sum(axis=-1, keepdims=True)
          """,
          wrong=(
              """
              import numpy as np

              def answer(x):  # the textbook formula: exp overflows
                  e = np.exp(np.asarray(x, dtype=float))
                  return e / e.sum(axis=-1, keepdims=True)
              """,
              """
              import numpy as np

              def answer(x):  # one maximum for the whole array
                  x = np.asarray(x, dtype=float)
                  e = np.exp(x - x.max())
                  return e / e.sum(axis=-1, keepdims=True)
              """,
              """
              import numpy as np

              def answer(x):  # sums over the whole array
                  x = np.asarray(x, dtype=float)
                  e = np.exp(x - x.max(axis=-1, keepdims=True))
                  return e / e.sum()
              """,
              """
              import numpy as np

              def answer(x):  # normalises along the first axis
                  x = np.asarray(x, dtype=float)
                  e = np.exp(x - x.max(axis=0, keepdims=True))
                  return e / e.sum(axis=0, keepdims=True)
              """,
              """
              import numpy as np

              def answer(x):  # changes the caller's array
                  x = np.asarray(x)
                  x -= x.max(axis=-1, keepdims=True)
                  np.exp(x, out=x)
                  x /= x.sum(axis=-1, keepdims=True)
                  return x
              """,
          ),
          builds=("minibert.reference.softmax", "torch.nn.functional.softmax", "torch.softmax"),
          shortcut="""
          from minibert.reference import softmax

          def answer(x):
              return softmax(x, axis=-1)
          """)
def _(answer):
    with np.errstate(all="ignore"):
        big = _array(answer(np.array([1000.0, 1001.0, 1002.0])), "softmax([1000, 1001, 1002])")
        assert big.shape == (3,), f"softmax of a vector of 3 scores should have shape (3,), got {big.shape}"
        assert np.all(np.isfinite(big)), ("softmax([1000, 1001, 1002]) is not finite: exp(1000) overflows; shift "
                                          "the scores before exponentiating")
        assert np.allclose(big, ref.softmax(np.array([0.0, 1.0, 2.0]))), (
            "softmax([1000, 1001, 1002]) should equal softmax([0, 1, 2]): the softmax depends only on the "
            "differences between scores")
        small = _array(answer(np.array([-1000.0, -1001.0, -1002.0])), "softmax([-1000, -1001, -1002])")
        assert np.all(np.isfinite(small)) and np.allclose(small, ref.softmax(np.array([0.0, -1.0, -2.0]))), (
            "softmax([-1000, -1001, -1002]) is wrong: every exp(-1000) underflows to 0 and 0/0 is NaN; shifting "
            "so that the largest score becomes 0 fixes large negative scores too")
        rows = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0], [0.0, -np.inf, 2.0]])
        kept = rows.copy()
        got = _array(answer(rows), "the softmax of a (3, 3) array")
        assert np.array_equal(rows, kept), ("your softmax changed the array it was given: work on a copy "
                                            "(np.asarray(x, dtype=float) copies an int array but not a float one)")
        assert got.shape == rows.shape, f"softmax of a {rows.shape} array should keep its shape, got {got.shape}"
        if not np.all(np.isfinite(got[1])):
            raise AssertionError("rows [1000, 1001, 1002] and [-1000, -1001, -1002] in one array: the second row "
                                 "becomes NaN. Each row needs its own shift (its own maximum), not one number for "
                                 "the whole array")
        assert np.allclose(got, ref.softmax(rows)), (
            "a (3, 3) array of scores: each row (the last axis) should be the softmax of that row alone; one row "
            "holds -inf (a masked score), whose weight must be exactly 0")
        ints = _array(answer(np.array([1, 2, 3])), "softmax of an integer array")
        assert np.allclose(ints, ref.softmax(np.array([1.0, 2.0, 3.0]))), (
            "softmax(np.array([1, 2, 3])) (integers) is wrong: convert to floats before dividing")
    rng = np.random.default_rng(0)
    for shape in [(3, 4, 5), (2, 7), (1, 1), (4, 3, 2, 6)]:
        x = rng.standard_normal(shape) * 10
        got = _array(answer(x.copy()), f"the softmax of a {shape} array")
        assert got.shape == x.shape, f"softmax of a {shape} array should keep its shape, got {got.shape}"
        assert np.allclose(got.sum(-1), 1.0), (
            f"for a {shape} array the rows (along the LAST axis) do not sum to 1: normalise along axis -1")
        assert np.allclose(got, ref.softmax(x)), f"for a random {shape} array the values differ from the softmax"


# -- 01.2 -------------------------------------------------------------------------------------------------------

@exercise("01.2", "the causal mask", kind="build",
          hints=(
              "Rows are queries, columns are keys. A left-to-right decoder lets query i see the keys that are not "
              "in its future. Which triangle of the (T, T) table is that, and does it include the diagonal "
              "(may a token see itself)?",
              "np.ones((T, T), dtype=bool) with np.tril (it keeps the lower triangle, diagonal included; its `k` "
              "argument moves that diagonal), or compare np.arange(T)[:, None] with np.arange(T)[None, :]. "
              "Return a boolean (T, T) array, True = may attend.",
              "i = np.arange(T)[:, None]   # query index, one per row\n"
              "j = np.arange(T)[None, :]   # key index, one per column\n"
              "return ...                  # one comparison of j and i"),
          solution="""
          import numpy as np

          def answer(T):
              return np.tril(np.ones((T, T), dtype=bool))
          """,
          wrong=(
              """
              import numpy as np

              def answer(T):  # a token may not see itself
                  return np.tril(np.ones((T, T), dtype=bool), k=-1)
              """,
              """
              import numpy as np

              def answer(T):  # the upper triangle: the future
                  return np.triu(np.ones((T, T), dtype=bool))
              """,
              """
              import numpy as np

              def answer(T):  # True marks what is hidden
                  return ~np.tril(np.ones((T, T), dtype=bool))
              """,
              """
              import numpy as np

              def answer(T):  # ones and zeros, not booleans
                  return np.tril(np.ones((T, T)))
              """,
          ),
          builds=("minibert.reference.causal_mask", "minibert.core.attention.causal_mask"),
          shortcut="""
          from minibert.reference import causal_mask

          def answer(T):
              return causal_mask(T)
          """)
def _(answer):
    for length in (4, 1, 2, 7, 33, np.int64(5)):
        got = answer(length)
        if isinstance(got, torch.Tensor):
            got = got.detach().cpu().numpy()
        got = np.asarray(got)
        T = int(length)
        assert got.shape == (T, T), f"answer({T}) should have shape ({T}, {T}), got {got.shape}"
        expected = ref.causal_mask(T)
        if got.dtype != bool:
            if np.array_equal(got.astype(float), expected.astype(float)):
                raise AssertionError(f"answer({T}) holds the right pattern as {got.dtype} ones and zeros; the "
                                     "course's masks are booleans (True = may attend): return a bool array")
            raise AssertionError(f"answer({T}) should be a boolean array (True = may attend), got dtype {got.dtype}")
        if np.array_equal(got, expected):
            continue
        if T > 1 and np.array_equal(got, ~expected):
            raise AssertionError(f"for T={T} True and False are swapped: True means 'may attend'")
        if T > 1 and np.array_equal(got, expected.T):
            raise AssertionError(f"for T={T} query 0 may see key {T - 1}: that is the future. Query i may see "
                                 "keys j <= i")
        if not got.diagonal().all():
            raise AssertionError(f"for T={T} some query may not see itself: the diagonal (j = i) must be True")
        i, j = map(int, np.argwhere(got != expected)[0])
        raise AssertionError(f"for T={T}, entry [{i}, {j}] is {bool(got[i, j])}: query {i} "
                             f"{'may' if expected[i, j] else 'may not'} see key {j}")


# -- 01.3 -------------------------------------------------------------------------------------------------------

def _masked_softmax(scores, mask):
    if mask is not None:
        scores = np.where(np.broadcast_to(mask, scores.shape), scores, np.finfo(scores.dtype).min)
    return ref.softmax(scores, axis=-1)


def _attention_diagnosis(q, k, v, mask, weights, out, expected_w, expected_out, what):
    """Why ``(out, weights)`` is not attention (never the formula's code)."""
    raw = q @ np.swapaxes(k, -1, -2)
    masked_out = None if mask is None else ~np.broadcast_to(mask, expected_w.shape)
    if not np.all(np.isfinite(weights)):
        if masked_out is not None and masked_out.all(axis=-1).any():
            return (f"{what}: a query whose keys are ALL masked gets NaN weights. Filling masked scores with -inf "
                    "gives exp(-inf) = 0 everywhere in that row and 0/0; use the most negative finite float "
                    "(np.finfo(scores.dtype).min): the row then becomes uniform")
        return f"{what}: some weights are NaN or infinite"
    if not np.allclose(weights.sum(-1), 1.0, atol=1e-9):
        return (f"{what}: the weights of a query (one row, over the keys: the last axis) should sum to 1: take the "
                "softmax over the last axis")
    if masked_out is not None and np.any(weights[masked_out & ~masked_out.all(axis=-1, keepdims=True)] != 0):
        return (f"{what}: masked keys get a weight above 0. Multiplying scores by the mask only makes them 0, "
                "which still counts: replace each masked score by a huge negative number before the softmax")
    for candidate, why in [(raw, "divide the scores by sqrt(d_k), d_k being the width of the queries and keys"),
                           (raw / np.sqrt(v.shape[-1]), "divide the scores by sqrt(d_k), the width of the queries "
                                                        "and keys (q.shape[-1]), not of the values"),
                           (raw / q.shape[-1], "divide the scores by the SQUARE ROOT of d_k")]:
        if np.allclose(weights, _masked_softmax(candidate, mask), atol=1e-9):
            return f"{what}: the weights are right except for the scale: {why}"
    if mask is not None and np.allclose(weights, _masked_softmax(raw / np.sqrt(q.shape[-1]), None), atol=1e-9):
        return f"{what}: the mask is ignored"
    if not np.allclose(weights, expected_w, atol=1e-9):
        return f"{what}: the weights differ from softmax(q k^T / sqrt(d_k)) over the keys"
    if out.shape != expected_out.shape:
        return f"{what}: the output should have shape {expected_out.shape}, got {out.shape}"
    return f"{what}: the weights are right, the output is not: it is the weights times the values"


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


@exercise("01.5", "multi-head self-attention, as a torch module", kind="build",
          hints=(
              "Project x three times (queries, keys, values), cut the width into `num_heads` slices, run 01.3's "
              "scaled dot-product attention in all slices at once (the scale is one slice's width), glue the slices "
              "back side by side and project once more. The mask arrives as numbers to ADD to the scores: 0 where "
              "a key may be seen, the most negative float where it may not; it is finite, so a row with every key "
              "masked stays finite.",
              "__init__: super().__init__(); self.query = nn.Linear(H, H), and the same for key, value, output. "
              "forward: (B, T, H) -> .view(B, T, heads, d).transpose(1, 2) -> (B, heads, T, d) with d = H // heads; "
              "q @ k.transpose(-1, -2) is (B, heads, T, T); add the mask (it broadcasts); .softmax(dim=-1); "
              "weights @ v is (B, heads, T, d); .transpose(1, 2).reshape(B, T, H) undoes the split. Return "
              "(self.output(...), weights if need_weights else None).",
              "def split(self, x):\n"
              "    B, T, _ = x.shape\n"
              "    return x.view(B, T, self.num_heads, self.head_size).transpose(1, 2)\n\n"
              "def forward(self, x, mask=None, need_weights=False):\n"
              "    q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))\n"
              "    scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size)\n"
              "    ...  # add the mask, softmax, weights @ v, merge the heads, output projection"),
          solution=_MHA_SOLUTION,
          wrong=_MHA_WRONGS,
          builds=("minibert.core.attention.MultiHeadSelfAttention",
                  "minibert.core.attention.scaled_dot_product_attention", "torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention",
                  "torch.nn.functional.multi_head_attention_forward", "minibert.reference.multi_head_attention",
                  "minibert.reference.scaled_dot_product_attention"),
          shortcut="""
          from minibert.core.attention import MultiHeadSelfAttention

          def answer(hidden_size, num_heads):
              return MultiHeadSelfAttention(hidden_size, num_heads)
          """)
def _(answer):
    skeleton = "Name the four projections query, key, value and output, each nn.Linear(hidden_size, hidden_size)."
    with _one_thread():
        for seed, (batch, length, width, heads) in enumerate([(2, 6, 12, 1), (2, 5, 16, 4), (3, 7, 24, 3),
                                                              (1, 1, 8, 2)]):
            _check_attention_case(answer, seed, batch, length, width, heads, skeleton)


def _check_attention_case(answer, seed: int, batch: int, length: int, width: int, heads: int, skeleton: str):
    """One shape: the learner's module carries random library weights and must give the library's output and
    weights without a mask, with padding (one sequence fully masked when the batch has three) and causally."""
    from minibert.core.attention import MultiHeadSelfAttention, attention_bias, causal_mask

    module = answer(width, heads)
    library = _randomized(MultiHeadSelfAttention(width, heads).double().eval(), seed)
    what = f"answer({width}, {heads})"
    _same_parts(module, library, what, skeleton)
    module = module.double()
    module.load_state_dict(library.state_dict())
    module.eval()
    g = torch.Generator().manual_seed(100 + seed)
    x = torch.randn(batch, length, width, generator=g, dtype=torch.float64)
    lengths = torch.tensor([length, max(1, length - 2), 0][:batch])
    padding = torch.arange(length)[None, :] < lengths[:, None]                       # (B, T)
    masks = [(None, "without a mask"),
             (attention_bias(padding[:, None, None, :], torch.float64),
              "with a padding mask" + (" (one sequence has every key masked)" if batch > 2 else "")),
             (attention_bias(causal_mask(length)[None, None], torch.float64), "with a causal (1, 1, T, T) mask")]
    for bias, when in masks:
        label = f"{what} on a ({batch}, {length}, {width}) batch {when}"
        with torch.no_grad():
            out, weights = _pair(module(x.clone(), None if bias is None else bias.clone(), need_weights=True),
                                 label)
            expected_out, expected_w = library(x, bias, need_weights=True)
            if weights is None or tuple(weights.shape) != tuple(expected_w.shape) \
                    or tuple(out.shape) != tuple(expected_out.shape) \
                    or not torch.allclose(weights.double(), expected_w, atol=1e-8) \
                    or not torch.allclose(out.double(), expected_out, atol=1e-8):
                raise AssertionError(_mha_diagnosis(library, x, bias, None if weights is None else weights.double(),
                                                    out.double(), expected_w, expected_out, label))
            quiet, _ = _pair(module(x.clone(), None if bias is None else bias.clone(), need_weights=False), label)
            assert torch.allclose(quiet.double(), expected_out, atol=1e-8), (
                f"{label}: the output with need_weights=False differs from the output with need_weights=True")

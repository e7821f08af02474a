"""Chapter 01: exercises 01.1, 01.2."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


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

"""Exercises of chapter 01 (attention)."""
import numpy as np

from . import exercise
from .. import reference as ref


@exercise("01.1", "a softmax that never overflows",
          hints="subtract x.max(axis=-1, keepdims=True) before np.exp, then divide by the sum over the last axis.",
          solution="""
          import numpy as np

          def answer(x):
              x = np.asarray(x, dtype=float)
              e = np.exp(x - x.max(axis=-1, keepdims=True))
              return e / e.sum(axis=-1, keepdims=True)
          """,
          wrong="""
          import numpy as np

          def answer(x):
              e = np.exp(np.asarray(x, dtype=float))
              return e / e.sum(axis=-1, keepdims=True)
          """)
def _(answer):
    with np.errstate(all="ignore"):
        big = np.asarray(answer(np.array([1000.0, 1001.0, 1002.0])), dtype=float)
    assert np.all(np.isfinite(big)), f"softmax([1000, 1001, 1002]) gave {big}: exp overflowed"
    assert np.allclose(big, ref.softmax(np.array([0.0, 1.0, 2.0]))), f"softmax([1000, 1001, 1002]) should equal softmax([0, 1, 2]), got {np.round(big, 4)}"
    x = np.random.default_rng(0).standard_normal((3, 4, 5)) * 10
    got = np.asarray(answer(x), dtype=float)
    assert got.shape == x.shape, f"expected shape {x.shape}, got {got.shape}"
    assert np.allclose(got.sum(-1), 1.0), "rows (the last axis) must sum to 1; did you sum over the wrong axis?"
    assert np.allclose(got, ref.softmax(x)), "values differ from the softmax over the last axis"


@exercise("01.2", "the causal mask",
          hints="np.tril(np.ones((T, T), dtype=bool)): query i may see keys j <= i, itself included.",
          solution="""
          import numpy as np

          def answer(T):
              return np.tril(np.ones((T, T), dtype=bool))
          """,
          wrong="""
          import numpy as np

          def answer(T):
              return np.tril(np.ones((T, T), dtype=bool), k=-1)
          """)
def _(answer):
    for length in (1, 4, 7):
        got = np.asarray(answer(length))
        assert got.shape == (length, length), f"answer({length}) has shape {got.shape}"
        assert got.dtype == bool, f"the mask should be boolean, got dtype {got.dtype}"
        expected = ref.causal_mask(length)
        if not np.array_equal(got, expected):
            i, j = map(int, np.argwhere(got != expected)[0])
            raise AssertionError(f"for T={length}, entry [{i}, {j}] is {bool(got[i, j])}: query {i} "
                                 f"{'may' if expected[i, j] else 'may not'} see key {j}")


@exercise("01.3", "attention from scratch",
          hints="scores = q @ k.swapaxes(-1, -2) / sqrt(d); where the mask is False put np.finfo(float).min; "
               "softmax over the last axis; output = weights @ v.",
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
          wrong="""
          import numpy as np
          from minibert.reference import softmax

          def answer(q, k, v, mask=None):
              scores = q @ np.swapaxes(k, -1, -2)
              if mask is not None:
                  scores = np.where(mask, scores, np.finfo(scores.dtype).min)
              weights = softmax(scores, axis=-1)
              return weights @ v, weights
          """)
def _(answer):
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 3, 6, 8)), rng.standard_normal((2, 3, 6, 8)), rng.standard_normal((2, 3, 6, 5))
    for mask in (None, ref.causal_mask(6), np.arange(6)[None, None, None, :] < 4):
        result = answer(q, k, v, mask)
        assert isinstance(result, tuple) and len(result) == 2, "return a pair (output, weights)"
        out, weights = map(np.asarray, result)
        exp_out, exp_w = ref.scaled_dot_product_attention(q, k, v, mask)
        assert weights.shape == exp_w.shape, f"weights should have shape {exp_w.shape}, got {weights.shape}"
        what = "without a mask" if mask is None else "with a mask"
        if not np.allclose(weights, exp_w, atol=1e-9):
            if np.allclose(weights, ref.softmax(np.where(np.broadcast_to(True if mask is None else mask, exp_w.shape), q @ np.swapaxes(k, -1, -2), np.finfo(float).min)), atol=1e-9):
                raise AssertionError("the weights are right except for the scale: divide the scores by sqrt(d_k)")
            raise AssertionError(f"the weights {what} differ from softmax(q k^T / sqrt(d_k))")
        assert np.allclose(out, exp_out, atol=1e-9), f"the output {what} should be weights @ v"


@exercise("01.4", "the size of multi-head attention",
          hints="four 768 x 768 matrices (query, key, value, output), each with 768 biases; heads are slices of them.",
          solution="answer = 4 * (768 * 768 + 768)",
          wrong="answer = 12 * 3 * (768 * 64 + 64)")
def _(answer):
    assert isinstance(answer, (int, np.integer)), f"expected an integer, got {type(answer).__name__}"
    if answer == 3 * (768 * 768 + 768) or answer == 12 * 3 * (768 * 64 + 64):
        raise AssertionError(f"{answer:,} counts the query, key and value projections but not the output one (W^O)")
    if answer == 4 * 768 * 768:
        raise AssertionError(f"{answer:,} forgets the biases")
    assert answer == 4 * (768 * 768 + 768), f"{answer:,} is not the parameter count of BERT-base's attention block"

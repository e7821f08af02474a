"""Exercises of chapter 02 (positions): sinusoids, the shift rotation, Shaw's clipping, T5 buckets, the relative shift."""
import numpy as np
import torch

from . import exercise


@exercise("02.1", "a sinusoidal encoding by hand",
          hints="for i in range(dim // 2): angle = pos / 10000 ** (2 * i / dim); entry 2i is sin(angle), 2i+1 cos(angle).",
          solution="""
          import numpy as np

          def answer(pos, dim):
              i = np.arange(dim // 2)
              angle = pos / 10000 ** (2 * i / dim)
              out = np.zeros(dim)
              out[0::2], out[1::2] = np.sin(angle), np.cos(angle)
              return out
          """,
          wrong="""
          import numpy as np

          def answer(pos, dim):
              i = np.arange(dim // 2)
              angle = pos / 10000 ** (i / dim)
              out = np.zeros(dim)
              out[0::2], out[1::2] = np.sin(angle), np.cos(angle)
              return out
          """)
def _(answer):
    from minibert.core.positions import sinusoidal_encoding

    for pos, dim in [(0, 8), (3, 8), (17, 16), (250, 64)]:
        got = np.asarray(answer(pos, dim), dtype=float)
        assert got.shape == (dim,), f"PE({pos}) for dim={dim} should have {dim} entries, got shape {got.shape}"
        expected = sinusoidal_encoding(torch.tensor([pos]), dim, dtype=torch.float64)[0].numpy()
        bad = np.flatnonzero(~np.isclose(got, expected, atol=1e-9))
        assert bad.size == 0, (f"PE({pos}) with dim={dim} differs first at entry {bad[0]}: {got[bad[0]]:.4f} instead of "
                               f"{expected[bad[0]]:.4f}; the exponent is 2i/d where i counts the (sin, cos) pairs")


@exercise("02.2", "the matrix that moves a sinusoid by k positions",
          hints="block i is [[cos(w_i k), sin(w_i k)], [-sin(w_i k), cos(w_i k)]] with w_i = 10000 ** (-2i / dim): "
               "expand sin(a + b) and cos(a + b).",
          solution="""
          import numpy as np

          def answer(k, dim):
              m = np.zeros((dim, dim))
              for i in range(dim // 2):
                  w = 10000 ** (-2 * i / dim)
                  c, s = np.cos(w * k), np.sin(w * k)
                  m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]
              return m
          """,
          wrong="""
          import numpy as np

          def answer(k, dim):
              m = np.zeros((dim, dim))
              for i in range(dim // 2):
                  w = 10000 ** (-2 * i / dim)
                  c, s = np.cos(w * k), np.sin(w * k)
                  m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, -s], [s, c]]
              return m
          """)
def _(answer):
    from minibert.core.positions import sinusoidal_encoding

    dim = 16
    table = sinusoidal_encoding(torch.arange(60), dim, dtype=torch.float64).numpy()
    for k in (1, 3, 10):
        m = np.asarray(answer(k, dim), dtype=float)
        assert m.shape == (dim, dim), f"expected a ({dim}, {dim}) matrix, got {m.shape}"
        moved = table[:50] @ m.T
        error = np.abs(moved - table[k:50 + k]).max()
        backwards = np.abs(moved[k:] - table[:50 - k]).max()
        assert error < 1e-9, ("your matrix moves PE(pos) to PE(pos - k), not PE(pos + k): the sign of the sines is "
                              "flipped" if backwards < 1e-9 else f"M @ PE(pos) misses PE(pos + {k}) by up to {error:.3f}")


@exercise("02.3", "Shaw's clipped relative index",
          hints="distance = j - i (key minus query); index = clip(distance, -k, k) + k, a (T, T) integer matrix.",
          solution="""
          import numpy as np

          def answer(length, k):
              i = np.arange(length)[:, None]
              j = np.arange(length)[None, :]
              return np.clip(j - i, -k, k) + k
          """,
          wrong="""
          import numpy as np

          def answer(length, k):
              i = np.arange(length)[:, None]
              j = np.arange(length)[None, :]
              return np.clip(i - j, -k, k) + k
          """)
def _(answer):
    from minibert.core.positions import clipped_distance_index, relative_distances

    for length, k in [(5, 1), (8, 3), (12, 20)]:
        got = np.asarray(answer(length, k))
        expected = clipped_distance_index(relative_distances(length), k).numpy()
        assert got.shape == expected.shape, f"expected shape {expected.shape}, got {got.shape}"
        if not np.array_equal(got, expected):
            hint = " (you computed i - j: query 0 looking at key 1 is one step to the RIGHT, +1)" if np.array_equal(
                got, expected.T) else ""
            raise AssertionError(f"for length={length}, k={k} row 0 is {got[0].tolist()}, expected "
                                 f"{expected[0].tolist()}{hint}")


@exercise("02.4", "where T5 starts sharing buckets",
          hints="t5_buckets(torch.arange(0, 200), bidirectional=True, num_buckets=32, max_distance=128): find the "
               "smallest distance d whose bucket equals the bucket of d + 1.",
          solution="""
          import torch
          from minibert.core.positions import t5_buckets

          buckets = t5_buckets(torch.arange(0, 200), bidirectional=True, num_buckets=32, max_distance=128)
          answer = int(next(d for d in range(199) if buckets[d] == buckets[d + 1]))
          """,
          wrong="answer = 16")
def _(answer):
    assert isinstance(answer, (int, np.integer)), f"expected an integer distance, got {type(answer).__name__}"
    assert answer == 8, (f"{answer} is not it: with 32 bidirectional buckets each direction has 16, and half of "
                         f"those (8) are exact; distances 8 and 9 already share a bucket")


@exercise("02.5", "the relative shift, your way",
          hints="out[..., i, j] = scores[..., i, j + T_q - i]; a double loop is fine, or pad/reshape like the library.",
          solution="""
          import torch

          def answer(scores, key_length):
              query_length = scores.shape[-2]
              out = torch.zeros(*scores.shape[:-1], key_length, dtype=scores.dtype)
              for i in range(query_length):
                  for j in range(key_length):
                      if 0 <= j + query_length - i < scores.shape[-1]:
                          out[..., i, j] = scores[..., i, j + query_length - i]
              return out
          """,
          wrong="""
          import torch

          def answer(scores, key_length):
              query_length = scores.shape[-2]
              out = torch.zeros(*scores.shape[:-1], key_length, dtype=scores.dtype)
              for i in range(query_length):
                  for j in range(key_length):
                      if 0 <= j + i < scores.shape[-1]:
                          out[..., i, j] = scores[..., i, j + i]
              return out
          """)
def _(answer):
    from minibert.models.transformer_xl import memory_causal_mask, relative_position_table, relative_shift

    for query_length, memory in [(4, 0), (3, 5), (6, 2)]:
        key_length = query_length + memory
        width = len(relative_position_table(key_length, query_length))
        scores = torch.randn(2, query_length, width, generator=torch.Generator().manual_seed(query_length))
        got = answer(scores, key_length)
        assert tuple(got.shape) == (2, query_length, key_length), f"expected shape (2, {query_length}, {key_length})"
        valid = memory_causal_mask(query_length, memory)
        assert torch.allclose(got[:, valid], relative_shift(scores, key_length)[:, valid]), (
            f"with {query_length} queries and {memory} memory slots some allowed (i, j) entries are wrong: row i "
            f"must be shifted LEFT by T_q - i so that column j lands on distance i + M - j")

"""Chapter 02: exercises 02.1, 02.2, 02.3."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


@exercise("02.1", "the sinusoidal position table", kind="build",
          hints=(
              "Each pair of dimensions (a sine and a cosine) is one clock hand turning at its own speed: pair i turns "
              "by a fixed angle per position, from fast (pair 0: one radian per position) to very slow (the last "
              "pair). One angle per (position, pair); the table holds the sine and the cosine of each. Where the "
              "sines and cosines go is the layout: alternating, or all sines first.",
              "positions: an int N (meaning 0 .. N-1: np.arange) or a 1-D array (fractions and negatives allowed). "
              "i = np.arange(dim // 2); angles = positions[:, None] / base ** (2 * i / dim) is (N, dim / 2) by "
              "broadcasting. Fill a (N, dim) np.zeros: table[:, 0::2] and table[:, 1::2] (interleaved), or "
              "table[:, :dim // 2] and table[:, dim // 2:] (sines first). An odd dim has no cosine for its last "
              "sine: raise ValueError.",
              "if dim % 2:\n"
              "    raise ValueError(...)\n"
              "if np.isscalar(positions):\n"
              "    positions = np.arange(positions)\n"
              "positions = np.asarray(positions, dtype=float)\n"
              "angles = positions[:, None] / base ** (2 * np.arange(dim // 2) / dim)\n"
              "table = np.zeros((len(positions), dim))\n"
              "...  # sines and cosines into their columns, for each layout"),
          solution=_TABLE_SOLUTION,
          wrong=(
              _variant(_TABLE_SOLUTION, "2 * i / dim", "i / dim", "the exponent counts dimensions, not pairs"),
              _variant(_TABLE_SOLUTION, "np.sin(angles), np.cos(angles)", "np.cos(angles), np.sin(angles)",
                       "cosines where the sines go"),
              _variant(_TABLE_SOLUTION, "    if interleave:", "    if True:", "always interleaved"),
              _variant(_TABLE_SOLUTION, "base ** (2 * i / dim)", "10000.0 ** (2 * i / dim)", "the base is ignored"),
              _variant(_TABLE_SOLUTION, "np.arange(positions)", "np.arange(1, positions + 1)",
                       "positions counted from 1"),
              _variant(_TABLE_SOLUTION, "table = np.zeros((len(positions), dim))",
                       "table = np.zeros((len(positions), 2 * (dim // 2)))",
                       "an odd dim is accepted").replace("    if dim % 2:\n", "    if False:\n"),
          ),
          builds=("minibert.core.positions.sinusoidal_encoding", "minibert.core.positions.SinusoidalPositions",
                  "minibert.reference.positions.sinusoidal_encoding",
                  "minibert.core.positions.sinusoid_shift_matrix"),
          shortcut="""
          from minibert.core.positions import sinusoidal_encoding
          import torch

          def answer(positions, dim, base=10000.0, interleave=True):
              return sinusoidal_encoding(positions, dim, base, interleave, dtype=torch.float64).numpy()
          """)
def _(answer):
    cases = [((50, 16), {}), ((np.array([0.0, 3.0, 17.0, 250.5, -4.0]), 64), {}), ((1, 2), {}),
             ((np.int64(7), 8), {}), ((10, 8), {"base": 100.0}), ((12, 16), {"interleave": False}),
             ((np.array([2.5, 40.0]), 6), {"base": 10.0, "interleave": False})]
    for args, kwargs in cases:
        positions, dim = args
        given = f"{int(positions)}" if np.isscalar(positions) else f"np.array({positions.tolist()})"
        shown = f"answer({given}, {dim}" + "".join(f", {k}={v}" for k, v in kwargs.items()) + ")"
        got = _array(answer(positions.copy() if isinstance(positions, np.ndarray) else positions, dim, **kwargs),
                     shown)
        base, interleave = kwargs.get("base", 10000.0), kwargs.get("interleave", True)
        expected = _expected_table(positions, dim, base, interleave)
        if got.shape != expected.shape:
            if np.isscalar(positions) and got.shape == (dim,):
                raise AssertionError(f"{shown} returned one vector; an int N means the N positions 0 .. N-1: return "
                                     f"a ({int(positions)}, {dim}) table")
            raise AssertionError(f"{shown} should have shape (positions, dim) = {expected.shape}, got {got.shape}")
        if np.allclose(got, expected, atol=1e-4):
            continue
        if np.allclose(got, _expected_table(positions, dim, base, interleave, exponent=1.0), atol=1e-4):
            raise AssertionError(f"{shown}: the frequencies are off: pair i turns by base^(-2i/dim) per position, "
                                 "with i counting PAIRS (0 .. dim/2 - 1), so the exponent is 2i/dim")
        if np.allclose(got, _expected_table(positions, dim, base, not interleave), atol=1e-4):
            raise AssertionError(f"{shown}: right numbers, wrong layout: interleave=True alternates sin, cos; "
                                 "interleave=False puts the dim/2 sines first, then the dim/2 cosines")
        if base != 10000.0 and np.allclose(got, _expected_table(positions, dim, 10000.0, interleave), atol=1e-4):
            raise AssertionError(f"{shown}: the `base` argument is ignored")
        if np.isscalar(positions) and np.allclose(got, _expected_table(np.arange(1, int(positions) + 1), dim, base,
                                                                       interleave), atol=1e-4):
            raise AssertionError(f"{shown}: an int N means the positions 0 .. N-1 (the first token is position 0)")
        first_row = int(np.argwhere(~np.isclose(got, expected, atol=1e-4))[0][0])
        column = int(np.argwhere(~np.isclose(got[first_row], expected[first_row], atol=1e-4))[0][0])
        kind = "sine" if (column % 2 == 0 if interleave else column < dim // 2) else "cosine"
        raise AssertionError(f"{shown}: row {first_row} differs first in column {column}, which should hold a "
                             f"{kind}; check which of sin and cos goes where")
    try:
        answer(5, 7)
    except ValueError:
        pass
    else:
        raise AssertionError("answer(5, 7) returned a table: an odd dim leaves the last sine without its cosine; "
                             "raise ValueError")


# -- 02.2 -------------------------------------------------------------------------------------------------------

_SHIFT_SOLUTION = """
import numpy as np


def answer(k, dim):
    m = np.zeros((dim, dim))
    for i in range(dim // 2):
        w = 10000 ** (-2 * i / dim)  # the speed of pair i
        c, s = np.cos(w * k), np.sin(w * k)
        # sin(a + b) = sin a cos b + cos a sin b;  cos(a + b) = cos a cos b - sin a sin b
        m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]
    return m
"""


@exercise("02.2", "the matrix that moves a sinusoid by k positions", kind="build",
          hints=(
              "Pair i of PE(pos) is (sin(w_i pos), cos(w_i pos)). Write the pair of PE(pos + k) with the "
              "angle-addition formulas: each new entry is a combination of the two old ones, with coefficients that "
              "depend on w_i and k only, never on pos. So M_k is block-diagonal: one 2x2 block per pair, zeros "
              "elsewhere.",
              "m = np.zeros((dim, dim)); for i in range(dim // 2): w = 10000 ** (-2 * i / dim); the block is "
              "m[2*i:2*i+2, 2*i:2*i+2], a 2x2 rotation by the angle w * k. Then M_k @ PE(pos) should equal "
              "PE(pos + k) for every pos, and M_0 is the identity.",
              "c, s = np.cos(w * k), np.sin(w * k)\n"
              "m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, ...], [..., c]]  # row 0 makes the sine, row 1 the cosine"),
          solution=_SHIFT_SOLUTION,
          wrong=(
              _variant(_SHIFT_SOLUTION, "[[c, s], [-s, c]]", "[[c, -s], [s, c]]", "rotates backwards"),
              _variant(_SHIFT_SOLUTION, "10000 ** (-2 * i / dim)", "10000 ** (-i / dim)", "the wrong speeds"),
              _variant(_SHIFT_SOLUTION, "[[c, s], [-s, c]]", "[[s, c], [c, -s]]", "the block's entries swapped"),
              _variant(_SHIFT_SOLUTION, "c, s = np.cos(w * k), np.sin(w * k)", "c, s = np.cos(k), np.sin(k)",
                       "one speed for every pair"),
          ),
          builds=("minibert.core.positions.sinusoid_shift_matrix",),
          shortcut="""
          from minibert.core.positions import sinusoid_shift_matrix

          def answer(k, dim):
              return sinusoid_shift_matrix(k, dim).numpy()
          """)
def _(answer):
    from minibert.core.positions import sinusoidal_encoding

    for dim in (16, 2, 8):
        table = sinusoidal_encoding(torch.arange(-20, 80), dim, dtype=torch.float64).numpy()   # row r = position r - 20
        for k in (1, 3, 10, -4, 0.5, 0):
            m = _array(answer(k, dim), f"answer({k}, {dim})")
            assert m.shape == (dim, dim), f"answer({k}, {dim}) should be a ({dim}, {dim}) matrix, got {m.shape}"
            if k == 0:
                assert np.allclose(m, np.eye(dim), atol=1e-9), (
                    f"answer(0, {dim}) should be the identity: moving by 0 positions changes nothing")
                continue
            shift = int(np.floor(k)) if float(k).is_integer() else None
            if shift is None:  # a fractional move: compare with the encodings of fractional positions
                start = np.arange(0, 50, dtype=float)
                moved = sinusoidal_encoding(torch.tensor(start), dim, dtype=torch.float64).numpy() @ m.T
                target = sinusoidal_encoding(torch.tensor(start + k), dim, dtype=torch.float64).numpy()
                backwards = sinusoidal_encoding(torch.tensor(start - k), dim, dtype=torch.float64).numpy()
            else:
                moved = table[20:70] @ m.T
                target, backwards = table[20 + shift:70 + shift], table[20 - shift:70 - shift]
            error = np.abs(moved - target).max()
            if error < 1e-9:
                continue
            if np.abs(moved - backwards).max() < 1e-9:
                raise AssertionError(f"answer({k}, {dim}) moves PE(pos) to PE(pos - {k}), not PE(pos + {k}): the "
                                     "signs of the sines in your blocks are flipped")
            raise AssertionError(f"answer({k}, {dim}) @ PE(pos) misses PE(pos + {k}) by up to {error:.3f}; each 2x2 "
                                 "block must rotate pair i by the angle w_i * k, w_i = 10000^(-2i/dim)")


# -- 02.3 -------------------------------------------------------------------------------------------------------

_CLIP_SOLUTION = """
import numpy as np


def answer(length, k):
    i = np.arange(length)[:, None]  # the query, one per row
    j = np.arange(length)[None, :]  # the key, one per column
    return np.clip(j - i, -k, k) + k
"""


@exercise("02.3", "Shaw's clipped relative index", kind="build",
          hints=(
              "Shaw et al. look up one learned vector per distance j - i (key minus query), but only 2k + 1 of them "
              "exist: every distance beyond k (or below -k) shares the vector of the edge. A table row number "
              "cannot be negative, so shift the clipped distance into 0 .. 2k.",
              "np.arange(length)[:, None] (queries down the rows) and np.arange(length)[None, :] (keys across the "
              "columns) broadcast to the (length, length) matrix j - i; np.clip(values, low, high). Return integers: "
              "the result indexes an nn.Embedding(2k + 1, d).",
              "i = np.arange(length)[:, None]\n"
              "j = np.arange(length)[None, :]\n"
              "return np.clip(...) + ..."),
          solution=_CLIP_SOLUTION,
          wrong=(
              _variant(_CLIP_SOLUTION, "np.clip(j - i, -k, k) + k", "np.clip(i - j, -k, k) + k",
                       "query minus key"),
              _variant(_CLIP_SOLUTION, "np.clip(j - i, -k, k) + k", "np.clip(j - i, -k, k)", "not shifted to 0 .. 2k"),
              _variant(_CLIP_SOLUTION, "np.clip(j - i, -k, k) + k", "np.clip(np.abs(j - i), 0, k)",
                       "left and right share vectors"),
              _variant(_CLIP_SOLUTION, "np.clip(j - i, -k, k) + k", "np.clip(j - i, -k, k - 1) + k",
                       "clipped one short on the right"),
              _variant(_CLIP_SOLUTION, "np.clip(j - i, -k, k) + k", "(np.clip(j - i, -k, k) + k).astype(float)",
                       "floats"),
          ),
          builds=("minibert.core.positions.clipped_distance_index",
                  "minibert.core.relative_attention.ShawRelativeAttention"),
          shortcut="""
          from minibert.core.positions import clipped_distance_index, relative_distances

          def answer(length, k):
              return clipped_distance_index(relative_distances(length), k).numpy()
          """)
def _(answer):
    for length, k in [(8, 3), (5, 1), (12, 20), (1, 2), (9, 8), (np.int64(6), np.int64(2))]:
        shown = f"answer({int(length)}, {int(k)})"
        got = _integers(answer(length, k), shown)
        L, K = int(length), int(k)
        distance = np.arange(L)[None, :] - np.arange(L)[:, None]
        expected = np.clip(distance, -K, K) + K
        assert got.shape == expected.shape, f"{shown} should have shape ({L}, {L}), got {got.shape}"
        if np.array_equal(got, expected):
            continue
        if got.min() < 0 or got.max() > 2 * K:
            raise AssertionError(f"{shown} holds values from {got.min()} to {got.max()}; they index a table of "
                                 f"2k + 1 = {2 * K + 1} vectors, so they must lie in 0 .. {2 * K}")
        if np.array_equal(got, expected.T):
            raise AssertionError(f"{shown} is the transpose of the index: the distance is j - i (key minus query), "
                                 "so query 0 looking at key 1 is +1, one step to the right")
        if np.array_equal(got, np.clip(np.abs(distance), 0, K)) or (L > 1 and np.array_equal(got, got.T)):
            raise AssertionError(f"{shown} gives a key on the left and a key on the right at the same distance the "
                                 "same index; Shaw et al. keep the sign (2k + 1 vectors, not k + 1)")
        i, j = map(int, np.argwhere(got != expected)[0])
        why = ("it is beyond k, so it shares the index of the nearest edge, -k or k" if abs(j - i) > K
               else "inside -k .. k every distance keeps an index of its own")
        raise AssertionError(f"{shown}: entry [{i}, {j}] (distance j - i = {j - i}) is {got[i, j]}; {why}")


# -- 02.4 -------------------------------------------------------------------------------------------------------

_BUCKET_SOLUTION = """
import math

import torch


def answer(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    relative_position = torch.as_tensor(relative_position, dtype=torch.long)  # j - i, any shape
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2  # half the buckets for keys on the left, half for keys on the right
        buckets = buckets + (relative_position > 0).long() * num_buckets
        distance = relative_position.abs()
    else:
        distance = (-relative_position).clamp(min=0)  # a decoder: keys on the right all get distance 0
    max_exact = num_buckets // 2  # half of each direction's buckets are exact
    scaled = torch.log(distance.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    large = (max_exact + scaled.long()).clamp(max=num_buckets - 1)  # floor, and the last bucket for the far ones
    return buckets + torch.where(distance < max_exact, distance, large)
"""

# (bidirectional, num_buckets, max_distance): T5's two defaults and settings whose log buckets fall elsewhere
_BUCKET_SETTINGS = [(True, 32, 128), (False, 32, 128), (True, 8, 20), (False, 16, 64), (True, 64, 500)]
_BUCKET_GRID = torch.cat([torch.arange(-300, 301), torch.tensor([-5000, -1000, -999, 999, 1000, 5000])])


def _bucket_diagnosis(got: np.ndarray, expected: np.ndarray, distances: np.ndarray, bidirectional: bool,
                      num_buckets: int, max_distance: int) -> str:
    setting = (f"{'bidirectional' if bidirectional else 'causal'}, {num_buckets} buckets, "
               f"max_distance={max_distance}")
    per_side = num_buckets // 2 if bidirectional else num_buckets
    exact = per_side // 2
    if got.min() < 0 or got.max() >= num_buckets:
        return (f"{setting}: your buckets run from {got.min()} to {got.max()}, outside 0 .. {num_buckets - 1}. "
                + ("In an encoder each side has num_buckets / 2 of them; " if bidirectional else "")
                + "every distance at or beyond max_distance shares the LAST bucket of its direction")
    wrong = distances[got != expected]
    d = int(wrong[np.argmin(np.abs(wrong))])                          # the wrong distance nearest to the query
    mine, theirs = int(got[distances == d][0]), int(expected[distances == d][0])
    if bidirectional:
        if d > 0 and mine < per_side:
            return (f"{setting}: distance j - i = {d} (a key on the RIGHT) lands in bucket {mine}; the keys on the "
                    f"right use the upper half of the buckets ({per_side} .. {num_buckets - 1})")
        if d <= 0 and mine >= per_side:
            return (f"{setting}: distance j - i = {d} (a key on the left, or the query itself) lands in bucket "
                    f"{mine}; the keys on the left use the lower half (0 .. {per_side - 1})")
    elif d > 0:
        return (f"{setting}: distance j - i = {d} (a key on the right, which a decoder never sees) lands in bucket "
                f"{mine}; in the causal case every key on the right shares bucket 0")
    elif d != 0 and -d in distances and int(got[distances == -d][0]) == theirs:
        return (f"{setting}: distance j - i = {d} is wrong while +{-d} has its bucket: in the causal case the "
                "distance that counts is i - j, for keys on the LEFT")
    far = abs(d)
    if far < exact:
        return (f"{setting}: distance {d} gets bucket {mine}; each direction has {per_side} buckets, and the first "
                f"half of them ({exact}) are exact: distances 0 .. {exact - 1} keep their own bucket")
    if far >= max_distance:
        return (f"{setting}: distance {d} is at or beyond max_distance and should share the last bucket of its "
                "direction")
    return (f"{setting}: distance {d} is in the logarithmic range and your bucket {mine} is "
            f"{'too high' if mine > theirs else 'too low'}: max_exact + floor(log(n / max_exact) / "
            "log(max_distance / max_exact) * (buckets per direction - max_exact)), rounded DOWN")

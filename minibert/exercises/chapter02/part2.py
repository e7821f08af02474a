"""Chapter 02: exercises 02.4, 02.5, 02.6."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _BUCKET_GRID, _BUCKET_SETTINGS, _BUCKET_SOLUTION, _bucket_diagnosis  # noqa: F401 (shared with part1's exercises)


@exercise("02.4", "T5's relative-position buckets", kind="build",
          hints=(
              "A key's bucket depends on its distance from the query and, in an encoder, on its side. Small "
              "distances get a bucket each; larger ones share buckets that widen logarithmically up to "
              "max_distance, and everything beyond shares the last one. In an encoder (bidirectional) each side "
              "gets half of the buckets; a decoder sees only the left, so every key on the right falls in bucket 0.",
              "relative_position is a LongTensor of j - i, any shape; return bucket ids of the same shape. "
              "Bidirectional: per_side = num_buckets // 2, add per_side where j - i > 0, distance = |j - i|. "
              "Causal: distance = (-(j - i)).clamp(min=0). max_exact = per_side // 2. For distance >= max_exact: "
              "max_exact + floor(log(distance / max_exact) / log(max_distance / max_exact) * (per_side - "
              "max_exact)), capped at per_side - 1. torch.where(distance < max_exact, distance, large) picks.",
              "if bidirectional:\n"
              "    num_buckets //= 2\n"
              "    buckets = (relative_position > 0).long() * num_buckets\n"
              "    distance = relative_position.abs()\n"
              "else:\n"
              "    buckets = torch.zeros_like(relative_position)\n"
              "    distance = (-relative_position).clamp(min=0)\n"
              "max_exact = num_buckets // 2\n"
              "scaled = torch.log(distance.float() / max_exact) / math.log(max_distance / max_exact) * ...\n"
              "..."),
          solution=_BUCKET_SOLUTION,
          wrong=(
              _variant(_BUCKET_SOLUTION, "(relative_position > 0).long() * num_buckets",
                       "(relative_position < 0).long() * num_buckets", "the right half for keys on the left"),
              _variant(_BUCKET_SOLUTION, "distance = (-relative_position).clamp(min=0)",
                       "distance = relative_position.abs()", "a decoder that buckets keys on the right"),
              _variant(_BUCKET_SOLUTION, "        num_buckets //= 2  #", "        pass  #",
                       "both directions get all the buckets"),
              _variant(_BUCKET_SOLUTION, "(max_exact + scaled.long()).clamp(max=num_buckets - 1)",
                       "max_exact + scaled.long()", "far distances not capped"),
              _variant(_BUCKET_SOLUTION, "scaled.long()", "scaled.round().long()", "rounded, not floored"),
              _variant(_BUCKET_SOLUTION, "    max_exact = num_buckets // 2  #",
                       "    max_exact = 2 * (num_buckets // 2)  #", "every bucket of a side exact"),
          ),
          builds=("minibert.core.positions.t5_buckets", "minibert.core.relative_attention.T5RelativeBias",
                  "transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket"),
          shortcut="""
          from minibert.core.positions import t5_buckets

          def answer(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
              return t5_buckets(relative_position, bidirectional, num_buckets, max_distance)
          """)
def _(answer):
    from minibert.core.positions import relative_distances, t5_buckets

    for bidirectional, num_buckets, max_distance in _BUCKET_SETTINGS:
        setting = f"answer(distances, bidirectional={bidirectional}, num_buckets={num_buckets}, " \
                  f"max_distance={max_distance})"
        got = _integers(answer(_BUCKET_GRID.clone(), bidirectional, num_buckets, max_distance), setting)
        expected = t5_buckets(_BUCKET_GRID, bidirectional, num_buckets, max_distance).numpy()
        assert got.shape == expected.shape, (f"{setting}: one bucket per distance, shape {expected.shape}, got "
                                             f"{got.shape}")
        if not np.array_equal(got, expected):
            raise AssertionError(_bucket_diagnosis(got, expected, _BUCKET_GRID.numpy(), bidirectional, num_buckets,
                                                   max_distance))
    square = relative_distances(9, 12, query_offset=3)
    got = _integers(answer(square.clone()), "answer of a (9, 12) matrix of distances")
    assert got.shape == (9, 12), f"a (9, 12) matrix of distances should give (9, 12) buckets, got {got.shape}"
    assert np.array_equal(got, t5_buckets(square).numpy()), (
        "a (9, 12) matrix of distances gives other buckets than the same distances in a row: work elementwise")


# -- 02.5 -------------------------------------------------------------------------------------------------------

@exercise("02.5", "where T5 starts sharing buckets", kind="compute",
          hints=(
              "Bidirectional: the buckets are split between the two sides, and within a side only the first ones "
              "are exact (one distance per bucket); after them, neighbouring distances begin to share a bucket. "
              "Look for the first distance d whose bucket equals that of d + 1.",
              "t5_buckets(torch.arange(0, 200), bidirectional=True, num_buckets=32, max_distance=128) (or your "
              "02.4) gives the buckets of the distances 0 .. 199; compare each with the next one and take the "
              "smallest d where they are equal, as an int."),
          solution="""
          import torch
          from minibert.core.positions import t5_buckets

          buckets = t5_buckets(torch.arange(0, 200), bidirectional=True, num_buckets=32, max_distance=128)
          answer = int(next(d for d in range(199) if buckets[d] == buckets[d + 1]))
          """,
          wrong=("answer = 16", "answer = 9", "answer = 7", "answer = 128"))
def _(answer):
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    elif isinstance(answer, np.ndarray) and answer.size == 1:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise AssertionError(f"expected an integer distance, got {type(answer).__name__}")
    if not isinstance(answer, numbers.Integral) and not float(answer).is_integer():
        raise AssertionError(f"a distance between tokens is a whole number, got {answer!r}")
    got = int(answer)
    if got == 16:
        raise AssertionError("16 would be right for a causal model, which gives all 32 buckets to one side; "
                             "bidirectional T5 splits them between left and right")
    if got == 9:
        raise AssertionError("9 shares its bucket with a neighbour, but with the one BEFORE it: the question asks "
                             "for the smaller distance of the first pair")
    if got == 128:
        raise AssertionError("128 is max_distance, where everything shares the last bucket; sharing starts much "
                             "earlier, where the logarithmic buckets begin")
    assert got == 8, (f"{got} is not it: print the buckets of the distances 0 .. 20 and look for the first two "
                      "neighbours with the same bucket")


# -- 02.6 -------------------------------------------------------------------------------------------------------

_SHIFT_LOOP_SOLUTION = """
import torch


def answer(scores, key_length):
    query_length, width = scores.shape[-2], scores.shape[-1]
    out = torch.zeros(*scores.shape[:-1], key_length, dtype=scores.dtype)
    for i in range(query_length):
        for j in range(key_length):
            column = j + query_length - i  # where distance i + M - j sits in the table
            if 0 <= column < width:
                out[..., i, j] = scores[..., i, column]
    return out
"""


@exercise("02.6", "the relative shift, your way", kind="build",
          hints=(
              "Row i of the scores holds query i's score against every DISTANCE in the table (largest first); the "
              "result must hold its score against every KEY. Key j is at distance i + M - j from query i (M memory "
              "slots), so each row is the same row read from a different starting column: the later the query, "
              "the further left it starts.",
              "scores: (..., T_q, P) with column c = distance key_length - c; out: (..., T_q, key_length) with "
              "out[..., i, j] = scores[..., i, j + T_q - i]. torch.zeros(*scores.shape[:-1], key_length, "
              "dtype=scores.dtype); a double loop over i and j is fine; skip columns outside 0 .. P - 1 (they are "
              "keys the causal mask hides).",
              "for i in range(query_length):\n"
              "    for j in range(key_length):\n"
              "        column = ...\n"
              "        if 0 <= column < scores.shape[-1]:\n"
              "            out[..., i, j] = scores[..., i, column]"),
          solution=_SHIFT_LOOP_SOLUTION,
          wrong=(
              _variant(_SHIFT_LOOP_SOLUTION, "column = j + query_length - i", "column = j + i",
                       "shifted by i instead of T_q - i"),
              _variant(_SHIFT_LOOP_SOLUTION, "column = j + query_length - i", "column = j + query_length - i - 1",
                       "one column off"),
              _variant(_SHIFT_LOOP_SOLUTION, "column = j + query_length - i", "column = j",
                       "not shifted at all"),
              _variant(_SHIFT_LOOP_SOLUTION, "column = j + query_length - i", "column = j - query_length + i",
                       "shifted the other way"),
          ),
          builds=("minibert.models.transformer_xl.relative_shift",),
          shortcut="""
          from minibert.models.transformer_xl import relative_shift

          def answer(scores, key_length):
              return relative_shift(scores, key_length)
          """)
def _(answer):
    from minibert.models.transformer_xl import memory_causal_mask, relative_position_table, relative_shift

    cases = [(4, 0, False, (2,)), (3, 5, False, (2,)), (6, 2, False, (2, 3)), (1, 4, False, ()),
             (4, 3, True, (2,))]
    for query_length, memory, bidirectional, lead in cases:
        key_length = query_length + memory
        width = len(relative_position_table(key_length, query_length, bidirectional))
        g = torch.Generator().manual_seed(10 * query_length + memory)
        scores = torch.randn(*lead, query_length, width, generator=g, dtype=torch.float64)
        kept = scores.clone()
        what = (f"{query_length} queries, {memory} memory slots"
                + (", keys on both sides (XLNet)" if bidirectional else "") + f", scores of shape {tuple(lead)}"
                f"{' + ' if lead else ''}({query_length}, {width})")
        got = answer(scores, key_length)
        if not isinstance(got, torch.Tensor):
            got = torch.as_tensor(_array(got, f"the result for {what}"))
        assert torch.equal(scores, kept), f"{what}: your answer changed the scores it was given"
        expected_shape = (*lead, query_length, key_length)
        assert tuple(got.shape) == expected_shape, f"{what}: expected shape {expected_shape}, got {tuple(got.shape)}"
        valid = torch.ones(query_length, key_length, dtype=torch.bool) if bidirectional \
            else memory_causal_mask(query_length, memory)
        expected = relative_shift(scores, key_length)
        if torch.allclose(got.double()[..., valid], expected[..., valid]):
            continue
        rows = [i for i in range(query_length)
                if not torch.allclose(got.double()[..., i, :][..., valid[i]], expected[..., i, :][..., valid[i]])]
        raise AssertionError(f"{what}: rows {rows} are wrong where the mask lets a query see a key. Row i must be "
                             "shifted LEFT by T_q - i, so that column j lands on distance i + M - j")

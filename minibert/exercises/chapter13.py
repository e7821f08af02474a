"""Exercises of chapter 13 (DeBERTa): the scale, content-to-position by hand, log buckets, the table's size; the
disentangled scores built whole (13.5, run inside the chapter's DeBERTa-v2), and a prediction about what a
position term can still do when every pair reads the same distance (13.6)."""
from __future__ import annotations

import math

import numpy as np
import torch

from . import exercise
from ._checks_11_14 import own_rng as _own_rng
from ._checks_11_14 import call as _call, choice as _choice, integer as _integer, number as _number
from ._checks_11_14 import tensor as _tensor


# -- 13.1 ---------------------------------------------------------------------------------------------------------
@exercise("13.1", "the scale of three terms", kind="compute",
          hints=("BERT divides by the standard deviation of one dot product of d-dimensional vectors. DeBERTa adds "
                 "three such terms: what is the standard deviation of a sum of three independent terms of equal "
                 "variance?",
                 "Variances add: one term has variance about d, three about 3d; the divisor is the square root of "
                 "that, for d = 64 (math.sqrt)."),
          solution="""
          import math
          answer = math.sqrt(3 * 64)
          """,
          wrong=("""
                 import math
                 answer = math.sqrt(64)
                 """,
                 "answer = 3 * 64",
                 """
                 import math
                 answer = 3 * math.sqrt(64)
                 """,
                 """
                 import math
                 answer = math.sqrt(2 * 64)
                 """))
@_own_rng
def _(answer):
    got = _number(answer, "a number (the divisor)")
    slips = {8.0: "that is BERT's sqrt(d), for one term; DeBERTa sums three",
             192.0: "that is the variance of the sum; the scores are divided by its standard deviation",
             24.0: "standard deviations do not add, variances do",
             math.sqrt(128): "that counts two terms; c2c, c2p and p2c make three"}
    for value, why in slips.items():
        if math.isclose(got, value, rel_tol=1e-6):
            raise AssertionError(f"{got:.3f}: {why}")
    assert math.isclose(got, math.sqrt(192), rel_tol=1e-6), (
        f"{got:.3f} is not the divisor for d = 64 with c2p and p2c: the sum of three terms of variance ~d has "
        f"variance ~3d")


# -- 13.2 ---------------------------------------------------------------------------------------------------------
def _random_attention(hidden: int, heads: int, seed: int, **options):
    from minibert.models.deberta.disentangled_attention import DisentangledSelfAttention

    module = DisentangledSelfAttention(hidden, heads, **options).double().eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.5)
    return module, g


@exercise("13.2", "content-to-position by hand", kind="compute",
          hints=("Each query meets every row of the position keys once; then, for the pair (i, j), keep the one "
                 "row its relative distance points to.",
                 "q @ pos_key.T is (T, 2 span): query i against every distance. torch.gather(..., 1, index) picks, "
                 "in row i, the columns index[i, :], giving (T, T). Do not scale.",
                 "every = q @ pos_key.T\nreturn torch.gather(every, 1, ...)"),
          solution="""
          import torch

          def answer(q, pos_key, index):
              every = q @ pos_key.T                      # (T, 2 span): each query against every distance
              return torch.gather(every, 1, index)      # keep, in row i, the columns index[i, :]
          """,
          wrong=("""
                 import torch

                 def answer(q, pos_key, index):
                     every = q @ pos_key.T
                     return torch.gather(every, 1, index.T)
                 """,
                 """
                 import math
                 import torch

                 def answer(q, pos_key, index):
                     every = q @ pos_key.T
                     return torch.gather(every, 1, index) / math.sqrt(3 * q.shape[-1])
                 """,
                 """
                 def answer(q, pos_key, index):
                     return q @ pos_key[: q.shape[0]].T
                 """))
@_own_rng
def _(answer):
    for T, span, hidden, seed in ((7, 4, 8, 0), (12, 3, 4, 1), (1, 2, 4, 2), (5, 8, 6, 3)):
        module, g = _random_attention(hidden, 1, seed, max_relative_positions=span, pos_att_type=("c2p",))
        x, table = (torch.randn(1, T, hidden, generator=g, dtype=torch.float64),
                    torch.randn(2 * span, hidden, generator=g, dtype=torch.float64))
        with torch.no_grad():
            q, pos_key = module.query(x)[0], module.position_key(table)
            index = module.relative_index(T)
            expected = module.score_terms(x, table)["c2p"][0, 0] * module.scale
            got = _tensor(_call(answer, q.clone(), pos_key.clone(), index.clone()), "c2p")
        assert tuple(got.shape) == (T, T), f"for {T} tokens expected a ({T}, {T}) matrix, got {tuple(got.shape)}"
        got = got.to(torch.float64)
        factor = float((got * expected).sum() / (expected * expected).sum().clamp(min=1e-12))
        if abs(factor - 1) > 1e-3 and torch.allclose(got, factor * expected, atol=1e-6):
            raise AssertionError("right up to a constant factor: return the term unscaled, the division by "
                                 "sqrt(3d) comes once, for the sum of the three terms")
        assert torch.allclose(got, expected, atol=1e-6), (
            f"{T} tokens, span {span}: not the content-to-position term. Row i must use query i and, for key j, "
            f"the position key of delta(i, j) = index[i, j] (check that you did not transpose the index)")


# -- 13.3 ---------------------------------------------------------------------------------------------------------
@exercise("13.3", "a DeBERTa-v2 log bucket", kind="compute",
          hints=("Small distances keep their exact value; beyond half the bucket count, the distance is compressed "
                 "logarithmically so that max_position - 1 lands on the last bucket, and the sign is kept.",
                 "m = bucket_size // 2. If |r| <= m return r. Otherwise the bucket of |r| is m + ceil(log(|r| / m) "
                 "/ log((max_position - 1) / m) * (m - 1)), with the sign of r put back. math.log, math.ceil; "
                 "return an int.",
                 "m = bucket_size // 2\nif abs(r) <= m:\n    return r\n"
                 "size = m + math.ceil(math.log(abs(r) / m) / math.log((max_position - 1) / m) * (m - 1))\n"
                 "return ..."),
          solution="""
          import math

          def answer(r, bucket_size, max_position):
              m = bucket_size // 2
              if abs(r) <= m:
                  return r
              size = m + math.ceil(math.log(abs(r) / m) / math.log((max_position - 1) / m) * (m - 1))
              return size if r > 0 else -size
          """,
          wrong=("""
                 import math

                 def answer(r, bucket_size, max_position):
                     m = bucket_size // 2
                     if abs(r) <= m:
                         return r
                     return m + math.ceil(math.log(abs(r) / m) / math.log((max_position - 1) / m) * (m - 1))
                 """,
                 """
                 import math

                 def answer(r, bucket_size, max_position):
                     m = bucket_size // 2
                     if abs(r) <= m:
                         return r
                     size = m + math.floor(math.log(abs(r) / m) / math.log((max_position - 1) / m) * (m - 1))
                     return size if r > 0 else -size
                 """,
                 """
                 import math

                 def answer(r, bucket_size, max_position):
                     m = bucket_size // 2
                     if abs(r) <= m:
                         return r
                     size = m + math.ceil(math.log(abs(r) / m) / math.log(max_position / m) * (m - 1))
                     return size if r > 0 else -size
                 """,
                 """
                 def answer(r, bucket_size, max_position):
                     m = bucket_size // 2
                     return max(-m, min(m, r))
                 """))
@_own_rng
def _(answer):
    from minibert.core.positions import deberta_log_buckets

    for bucket_size, max_position in [(256, 512), (8, 64), (64, 128)]:
        for r in (-600, -300, -130, -40, -5, 0, 3, 4, 5, 9, 33, 63, 127, 129, 200, 511, 900):
            expected = int(deberta_log_buckets(torch.tensor(r), bucket_size, max_position))
            for given in (r, np.int64(r)):
                got = _integer(_call(answer, given, bucket_size, max_position), "a bucket")
                if got != expected:
                    if got == -expected:
                        raise AssertionError(f"r = {r}: the bucket keeps the sign of the distance")
                    raise AssertionError(f"bucket of r = {r} (bucket_size {bucket_size}, max_position "
                                         f"{max_position}): you gave {got}"
                                         + (", but distances up to bucket_size / 2 stay exact" if abs(r) <= bucket_size // 2
                                            else ", which is not the rounded-UP logarithmic bucket"))


# -- 13.4 ---------------------------------------------------------------------------------------------------------
@exercise("13.4", "how big is DeBERTa-v3's relative table?", kind="recall",
          hints=("The table has one row per bucket, and buckets count distances on both sides of a query.",
                 "DebertaV2Config.v3_base().position_buckets is the number of buckets per side; the shared table "
                 "holds 2 x that many rows."),
          solution="""
          from minibert.models.deberta.model import DebertaV2Config

          answer = 2 * DebertaV2Config.v3_base().position_buckets
          """,
          wrong=("answer = 256", "answer = 128", "answer = 1024"))
@_own_rng
def _(answer):
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    got = _integer(answer, "the number of rows")
    assert got != 256, ("256 buckets cover each SIDE (keys to the left and to the right), so the shared table has "
                        "more rows than that")
    assert got != 128, "128 is the exact band (m = bucket_size / 2); the table has a row per bucket, both sides"
    assert got == 512, f"{got} rows? one row per bucket, buckets on both sides of the query"


# -- 13.5 ---------------------------------------------------------------------------------------------------------
def _disentangled_variants(q, k, pos_key, pos_query, span, bucket) -> dict[str, torch.Tensor]:
    """What typical slips compute, to name the slip."""
    T, d = q.shape[-2], q.shape[-1]
    positions = torch.arange(T)
    distance = positions[:, None] - positions[None, :]

    def index_of(dist, use_bucket=True):
        if bucket is not None and use_bucket:
            dist = bucket(dist)
        return (dist + span).clamp(0, 2 * span - 1).expand(*q.shape[:2], T, T)

    def c2p(index):
        return torch.gather(q @ pos_key.transpose(-1, -2), -1, index)

    def p2c(index, transpose=True):
        gathered = torch.gather(k @ pos_query.transpose(-1, -2), -1, index.transpose(-1, -2) if transpose else index)
        return gathered.transpose(-1, -2) if transpose else gathered

    c2c = q @ k.transpose(-1, -2)
    right, flipped, plain = index_of(distance), index_of(-distance), index_of(distance, use_bucket=False)
    s3 = math.sqrt(3 * d)
    return {
        "paper": (c2c + c2p(right) + p2c(flipped)) / s3,
        "c2p sign": (c2c + c2p(flipped) + p2c(right)) / s3,
        "no transpose": (c2c + c2p(right) + p2c(right, transpose=False)) / s3,
        "sqrt d": (c2c + c2p(right) + p2c(right)) / math.sqrt(d),
        "no bucket": (c2c + c2p(plain) + p2c(plain)) / s3,
        "no p2c": (c2c + c2p(right)) / s3,
    }


_DISENTANGLED_SLIPS = {
    "paper": "position-to-content uses the paper's delta(j, i); the code (and this course) index it with delta(i, j), "
             "as content-to-position",
    "c2p sign": "the distance is query minus key, i - j, for content-to-position",
    "no transpose": "position-to-content gathers per KEY row (k @ pos_query.T, index transposed), then transposes back",
    "sqrt d": "three terms are summed: divide by sqrt(3d), not sqrt(d)",
    "no bucket": "when a bucket function is given, apply it to i - j before adding span and clamping",
    "no p2c": "the position-to-content term is missing",
}


@exercise("13.5", "disentangled attention scores", kind="build",
          builds=("minibert.models.deberta.disentangled_attention.DisentangledSelfAttention",
                  "transformers.models.deberta_v2.modeling_deberta_v2.DisentangledSelfAttention"),
          shortcut="""
          import torch
          from minibert.models.deberta.disentangled_attention import DisentangledSelfAttention

          def answer(q, k, pos_key, pos_query, span, bucket=None):
              heads, d = q.shape[1], q.shape[3]
              module = DisentangledSelfAttention(heads * d, heads, max_relative_positions=span)
              module._positions = lambda table: (pos_key, pos_query)
              if bucket is not None:
                  module.table_rows = lambda distance: (bucket(distance) + span).clamp(0, 2 * span - 1)
              return sum(module.terms(q, k, torch.zeros(1)).values())
          """,
          hints=("Three matrices of scores over the pairs (i, j): content-to-content, content-to-position (query "
                 "i against the position key of the pair's distance) and position-to-content (key j against the "
                 "position query of the same distance, i - j, as the code does). The distance i - j goes through "
                 "the bucket function if there is one, then + span, clamped to the 2 span rows of the table. Sum "
                 "and divide by sqrt(3d).",
                 "q, k: (B, heads, T, d); pos_key, pos_query: (heads, 2 span, d). torch.arange(T) gives positions; "
                 "distance[i, j] = i - j is a (T, T) long tensor; index = (bucket(distance) + span).clamp(0, 2 * "
                 "span - 1). c2p: gather(q @ pos_key.transpose(-1, -2), -1, index expanded to (B, heads, T, T)). "
                 "p2c: gather(k @ pos_query.transpose(-1, -2), -1, index.T expanded), then .transpose(-1, -2). "
                 "Return (B, heads, T, T).",
                 "positions = torch.arange(T)\ndistance = positions[:, None] - positions[None, :]\n"
                 "if bucket is not None:\n    distance = bucket(distance)\n"
                 "index = (distance + span).clamp(0, 2 * span - 1).expand(B, H, T, T)\n"
                 "c2p = torch.gather(q @ pos_key.transpose(-1, -2), -1, index)\n"
                 "p2c = torch.gather(k @ pos_query.transpose(-1, -2), -1, index.transpose(-1, -2)).transpose(-1, -2)\n"
                 "return (...) / math.sqrt(3 * d)"),
          solution="""
          import math
          import torch

          def answer(q, k, pos_key, pos_query, span, bucket=None):
              B, H, T, d = q.shape
              positions = torch.arange(T, device=q.device)
              distance = positions[:, None] - positions[None, :]             # delta(i, j) = i - j, (T, T)
              if bucket is not None:
                  distance = bucket(distance)                                 # DeBERTa-v2's log buckets
              index = (distance + span).clamp(0, 2 * span - 1)                # the row of the table, (T, T)
              index = index.expand(B, H, T, T)
              c2c = q @ k.transpose(-1, -2)
              c2p = torch.gather(q @ pos_key.transpose(-1, -2), -1, index)    # Q^c_i . K^r[delta(i, j)]
              by_key = k @ pos_query.transpose(-1, -2)                        # (B, H, T keys, 2 span)
              p2c = torch.gather(by_key, -1, index.transpose(-1, -2)).transpose(-1, -2)  # K^c_j . Q^r[delta(i, j)]
              return (c2c + c2p + p2c) / math.sqrt(3 * d)
          """,
          wrong=("""
                 import math
                 import torch

                 def answer(q, k, pos_key, pos_query, span, bucket=None):
                     B, H, T, d = q.shape
                     distance = torch.arange(T)[:, None] - torch.arange(T)[None, :]
                     if bucket is not None:
                         distance = bucket(distance)
                     index = (distance + span).clamp(0, 2 * span - 1).expand(B, H, T, T)
                     flipped = (-distance + span).clamp(0, 2 * span - 1).expand(B, H, T, T)
                     c2p = torch.gather(q @ pos_key.transpose(-1, -2), -1, index)
                     p2c = torch.gather(k @ pos_query.transpose(-1, -2), -1, flipped.transpose(-1, -2)).transpose(-1, -2)
                     return (q @ k.transpose(-1, -2) + c2p + p2c) / math.sqrt(3 * d)
                 """,
                 """
                 import math
                 import torch

                 def answer(q, k, pos_key, pos_query, span, bucket=None):
                     B, H, T, d = q.shape
                     distance = torch.arange(T)[:, None] - torch.arange(T)[None, :]
                     if bucket is not None:
                         distance = bucket(distance)
                     index = (distance + span).clamp(0, 2 * span - 1).expand(B, H, T, T)
                     c2p = torch.gather(q @ pos_key.transpose(-1, -2), -1, index)
                     p2c = torch.gather(k @ pos_query.transpose(-1, -2), -1, index.transpose(-1, -2)).transpose(-1, -2)
                     return (q @ k.transpose(-1, -2) + c2p + p2c) / math.sqrt(d)
                 """,
                 """
                 import math
                 import torch

                 def answer(q, k, pos_key, pos_query, span, bucket=None):
                     B, H, T, d = q.shape
                     distance = torch.arange(T)[:, None] - torch.arange(T)[None, :]
                     index = (distance + span).clamp(0, 2 * span - 1).expand(B, H, T, T)
                     c2p = torch.gather(q @ pos_key.transpose(-1, -2), -1, index)
                     p2c = torch.gather(k @ pos_query.transpose(-1, -2), -1, index.transpose(-1, -2)).transpose(-1, -2)
                     return (q @ k.transpose(-1, -2) + c2p + p2c) / math.sqrt(3 * d)
                 """,
                 """
                 import math
                 import torch

                 def answer(q, k, pos_key, pos_query, span, bucket=None):
                     B, H, T, d = q.shape
                     distance = torch.arange(T)[:, None] - torch.arange(T)[None, :]
                     if bucket is not None:
                         distance = bucket(distance)
                     index = (distance + span).clamp(0, 2 * span - 1).expand(B, H, T, T)
                     c2p = torch.gather(q @ pos_key.transpose(-1, -2), -1, index)
                     p2c = torch.gather(k @ pos_query.transpose(-1, -2), -1, index)
                     return (q @ k.transpose(-1, -2) + c2p + p2c) / math.sqrt(3 * d)
                 """,
                 """
                 import math
                 import torch

                 def answer(q, k, pos_key, pos_query, span, bucket=None):
                     B, H, T, d = q.shape
                     distance = torch.arange(T)[None, :] - torch.arange(T)[:, None]
                     if bucket is not None:
                         distance = bucket(distance)
                     index = (distance + span).clamp(0, 2 * span - 1).expand(B, H, T, T)
                     c2p = torch.gather(q @ pos_key.transpose(-1, -2), -1, index)
                     p2c = torch.gather(k @ pos_query.transpose(-1, -2), -1, index.transpose(-1, -2)).transpose(-1, -2)
                     return (q @ k.transpose(-1, -2) + c2p + p2c) / math.sqrt(3 * d)
                 """))
@_own_rng
def _(answer):
    cases = (  # (batch, heads, T, d, span, position_buckets, max_relative_positions, dtype)
        (1, 1, 5, 4, 3, -1, 3, torch.float64),     # clamping: distances beyond +-3
        (2, 3, 9, 8, 2, -1, 2, torch.float32),
        (1, 2, 1, 4, 2, -1, 2, torch.float64),     # a single token
        (2, 2, 40, 4, 8, 8, 64, torch.float64),    # log buckets (8 per side, max 64)
        (1, 1, 6, 6, 16, -1, 16, torch.float32),   # every distance inside the table
    )
    for seed, (B, H, T, d, span, buckets, max_rel, dtype) in enumerate(cases):
        module, g = _random_attention(H * d, H, seed, max_relative_positions=max_rel, position_buckets=buckets)
        module = module.to(dtype)
        x = torch.randn(B, T, H * d, generator=g, dtype=torch.float64).to(dtype)
        table = torch.randn(2 * module.span, H * d, generator=g, dtype=torch.float64).to(dtype)
        with torch.no_grad():
            q, k = module.split_heads(module.query(x)), module.split_heads(module.key(x))
            pos_key, pos_query = module._positions(table)
            expected = sum(module.terms(q, k, table).values())
            bucket = module.bucket()
            got = _call(answer, q.clone(), k.clone(), pos_key.clone(), pos_query.clone(), module.span, bucket)
        got = _tensor(got, "the scores")
        where = (f"B={B}, heads={H}, T={T}, d={d}, span={module.span}"
                 + (f", log buckets ({buckets} per side, max {max_rel})" if buckets > 0 else ""))
        assert tuple(got.shape) == (B, H, T, T), (
            f"{where}: the scores are (batch, heads, T, T) = {(B, H, T, T)}, got {tuple(got.shape)}")
        tolerance = 1e-9 if dtype == torch.float64 else 1e-4
        got = got.to(expected.dtype)
        if not torch.allclose(got, expected, atol=tolerance, rtol=tolerance):
            for slip, value in _disentangled_variants(q, k, pos_key, pos_query, module.span, bucket).items():
                if torch.allclose(got, value, atol=tolerance, rtol=tolerance):
                    raise AssertionError(f"{where}: {_DISENTANGLED_SLIPS[slip]}")
            raise AssertionError(f"{where}: not the disentangled scores. Check the distance (i - j), the offset and "
                                 f"clamp into the 2 span rows, the gathers and the scale")


# -- 13.6 ---------------------------------------------------------------------------------------------------------
@exercise("13.6", "predict: one distance for every pair", kind="predict",
          hints=("If every pair (i, j) reads the same row of the relative table, one of the two position terms "
                 "becomes the same number for every key of a query. What does a softmax over the keys do with a "
                 "number added to every key's score?",
                 "Answer 'c2p', 'p2c', 'both' or 'neither': which position term no longer changes the attention "
                 "WEIGHTS (the softmax over the keys j of each query i) when every distance falls in one bucket?"),
          solution="""
          answer = "c2p"
          """,
          wrong=('answer = "p2c"', 'answer = "both"', 'answer = "neither"'))
@_own_rng
def _(answer):
    said = _choice(answer, {"c2p": ("content-to-position", "content to position"),
                            "p2c": ("position-to-content", "position to content"),
                            "both": ("all", "both terms"), "neither": ("none", "no term")})
    module, g = _random_attention(16, 2, 7, max_relative_positions=4)
    x = torch.randn(1, 10, 16, generator=g, dtype=torch.float64)
    row = torch.randn(1, 16, generator=g, dtype=torch.float64)
    table = row.expand(2 * module.span, 16)  # every distance reads the same row
    with torch.no_grad():
        terms = module.score_terms(x, table)
    full = (terms["c2c"] + terms["c2p"] + terms["p2c"]).softmax(-1)
    without = {name: (terms["c2c"] + terms[other]).softmax(-1) for name, other in (("c2p", "p2c"), ("p2c", "c2p"))}
    change = {name: float((full - weights).abs().max()) for name, weights in without.items()}
    measured = {name: "< 1e-12" if value < 1e-12 else f"{value:.2f}" for name, value in change.items()}
    truth = "c2p" if change["c2p"] < 1e-9 and change["p2c"] > 1e-3 else "?"
    story = (f"Measured on random weights, 10 tokens, every distance in one bucket: dropping c2p changes the "
             f"attention weights by at most {measured['c2p']}, dropping p2c by up to {measured['p2c']}. c2p[i, j] = "
             f"Q_i . K^r[one row] is the same for every key j of query i: a constant added to a whole row of "
             f"scores, which the softmax ignores. p2c[i, j] = K_j . Q^r[one row] still differs from key to key: a "
             f"bias saying how much each token attracts attention, wherever it is.")
    if said != truth:
        raise AssertionError(f"the answer is not {said!r}. {story}")
    print(f"Right: {story}")

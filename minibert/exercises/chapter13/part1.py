"""Chapter 13: exercises 13.1, 13.2, 13.3, 13.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


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

"""Chapter 13: exercises 13.5, 13.6."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _DISENTANGLED_SLIPS, _disentangled_variants, _random_attention  # noqa: F401 (shared with part1's exercises)


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

"""Exercises of chapter 13 (DeBERTa): the scale, content-to-position by hand, log buckets, the table's size."""
import math

import numpy as np
import torch

from . import exercise


@exercise("13.1", "the scale of three terms",
          hints="each of c2c, c2p, p2c has variance about d; their sum about 3d, so divide by sqrt(3 * d).",
          solution="""
          import math
          answer = math.sqrt(3 * 64)
          """,
          wrong="""
          import math
          answer = math.sqrt(64)
          """)
def _(answer):
    assert isinstance(answer, (int, float, np.floating)), f"expected a number, got {type(answer).__name__}"
    assert math.isclose(answer, math.sqrt(192), rel_tol=1e-6), (
        f"{answer:.3f} is not the divisor for d = 64 with c2p and p2c: the sum of three terms of variance ~d has "
        f"variance ~3d")


@exercise("13.2", "content-to-position by hand",
          hints="c2p[i, j] = q[i] . pos_key[index[i, j]]: gather, for each pair, the row of the position keys its "
               "relative distance points to. q @ pos_key.T then take column index[i, j] in row i.",
          solution="""
          import torch

          def answer(q, pos_key, index):
              every = q @ pos_key.T                      # (T, 2 span): each query against every distance
              return torch.gather(every, 1, index)      # keep, in row i, the columns index[i, :]
          """,
          wrong="""
          import torch

          def answer(q, pos_key, index):
              every = q @ pos_key.T
              return torch.gather(every, 1, index.T)
          """)
def _(answer):
    from minibert.models.deberta.disentangled_attention import DisentangledSelfAttention

    module = DisentangledSelfAttention(8, 1, 4, pos_att_type=("c2p",))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
        x, table = torch.randn(1, 7, 8, generator=g), torch.randn(8, 8, generator=g)
        q, pos_key = module.query(x)[0], module.position_key(table)
        index = module.relative_index(7)
        expected = module.score_terms(x, table)["c2p"][0, 0] * module.scale
        got = torch.as_tensor(answer(q, pos_key, index), dtype=expected.dtype)
    assert tuple(got.shape) == (7, 7), f"expected a (7, 7) matrix, got {tuple(got.shape)}"
    assert torch.allclose(got, expected, atol=1e-4), (
        "not the content-to-position term: row i must use query i and, for key j, the position key of delta(i, j) "
        "= index[i, j] (check that you did not transpose the index)")


@exercise("13.3", "a DeBERTa-v2 log bucket",
          hints="m = bucket_size // 2; |r| <= m stays r; otherwise sign(r) * (m + ceil(log(|r| / m) / "
               "log((max_position - 1) / m) * (m - 1))).",
          solution="""
          import math

          def answer(r, bucket_size, max_position):
              m = bucket_size // 2
              if abs(r) <= m:
                  return r
              size = m + math.ceil(math.log(abs(r) / m) / math.log((max_position - 1) / m) * (m - 1))
              return size if r > 0 else -size
          """,
          wrong="""
          import math

          def answer(r, bucket_size, max_position):
              m = bucket_size // 2
              if abs(r) <= m:
                  return r
              return m + math.ceil(math.log(abs(r) / m) / math.log((max_position - 1) / m) * (m - 1))
          """)
def _(answer):
    from minibert.core.positions import deberta_log_buckets

    for bucket_size, max_position in [(256, 512), (8, 64)]:
        for r in (-600, -300, -130, -40, -5, 0, 3, 4, 5, 9, 63, 129, 200, 511, 900):
            expected = int(deberta_log_buckets(torch.tensor(r), bucket_size, max_position))
            got = int(answer(r, bucket_size, max_position))
            assert got == expected, (f"bucket of r = {r} (bucket_size {bucket_size}, max_position {max_position}) "
                                     f"is {expected}, you gave {got}")


@exercise("13.4", "how big is DeBERTa-v3's relative table?",
          hints="position_buckets = 256 distances on each side: DebertaV2Config.v3_base().position_buckets, and the "
               "table holds 2 * span rows.",
          solution="""
          from minibert.models.deberta.model import DebertaV2Config

          answer = 2 * DebertaV2Config.v3_base().position_buckets
          """,
          wrong="answer = 256")
def _(answer):
    assert isinstance(answer, (int, np.integer)), f"expected an integer, got {type(answer).__name__}"
    assert answer == 512, (f"{answer} rows? 256 buckets cover each SIDE (keys to the left and to the right), so "
                           f"the shared table has 2 x 256 rows")

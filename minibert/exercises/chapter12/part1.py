"""Chapter 12: exercises 12.1, 12.2, 12.3, 12.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


@exercise("12.1", "the two streams' masks", kind="build",
          builds=("minibert.models.xlnet.permutation.permutation_masks",
                  "minibert.models.xlnet.permutation.rank_of",
                  "minibert.models.xlnet.permutation.xlnet_batch_masks",
                  "minibert.models.xlnet.two_stream_attention.two_stream_masks"),
          shortcut="""
          from minibert.models.xlnet.permutation import permutation_masks

          def answer(order, num_predict=None):
              return permutation_masks(order, num_predict)
          """,
          hints=("What matters is not where a position sits but WHEN it comes in the order: first turn the order into "
                 "each position's step. The content stream of i sees the positions whose step is not later than "
                 "i's (itself included); the query stream only those strictly earlier. With partial prediction the "
                 "first T - num_predict positions of the order are plain context: they all count as one earliest "
                 "step, so they see one another, and nobody in the context sees a target.",
                 "rank = torch.empty(T, dtype=torch.long); rank[order] = torch.arange(T) gives the step of each "
                 "position. Broadcasting rank[None, :] against rank[:, None] gives a (T, T) comparison: row i = the "
                 "attending position, column j = the attended one. For partial prediction: context = rank < T - "
                 "num_predict, then give every context position the same rank (-1). Return (content, query), two "
                 "boolean (T, T) tensors.",
                 "rank = torch.empty(T, dtype=torch.long)\nrank[order] = torch.arange(T)\n"
                 "if num_predict is not None:\n    context = rank < T - num_predict\n    rank[context] = -1\n"
                 "content = rank[None, :] <= rank[:, None]\nquery = ...  # strictly earlier; with partial prediction "
                 "also: context sees context (| context[:, None] & context[None, :])"),
          solution="""
          import torch

          def answer(order, num_predict=None):
              order = torch.as_tensor(order, dtype=torch.long)
              T = len(order)
              rank = torch.empty(T, dtype=torch.long)
              rank[order] = torch.arange(T)                     # rank[j] = the step at which position j comes
              context = torch.zeros(T, dtype=torch.bool)
              if num_predict is not None:
                  context = rank < T - num_predict              # context only: never predicted
                  rank[context] = -1                            # all of it counts as one earliest step
              content = rank[None, :] <= rank[:, None]          # row i may see column j: j is not later than i
              query = rank[None, :] < rank[:, None]             # strictly earlier: never its own token
              query = query | (context[:, None] & context[None, :])
              return content, query
          """,
          wrong=("""
                 import torch

                 def answer(order, num_predict=None):
                     order = torch.as_tensor(order)
                     rank = torch.empty_like(order)
                     rank[order] = torch.arange(len(order))
                     return rank[None, :] <= rank[:, None], rank[None, :] <= rank[:, None]
                 """,
                 """
                 import torch

                 def answer(order, num_predict=None):
                     order = torch.as_tensor(order)
                     return order[None, :] <= order[:, None], order[None, :] < order[:, None]
                 """,
                 """
                 import torch

                 def answer(order, num_predict=None):
                     order = torch.as_tensor(order)
                     rank = torch.empty_like(order)
                     rank[order] = torch.arange(len(order))
                     return rank[None, :] <= rank[:, None], rank[None, :] < rank[:, None]
                 """,
                 """
                 import torch

                 def answer(order, num_predict=None):
                     order = torch.as_tensor(order)
                     rank = torch.empty_like(order)
                     rank[order] = torch.arange(len(order))
                     return (rank[None, :] <= rank[:, None]).T, (rank[None, :] < rank[:, None]).T
                 """,
                 """
                 import torch

                 def answer(order, num_predict=None):
                     order = torch.as_tensor(order)
                     T = len(order)
                     rank = torch.empty_like(order)
                     rank[order] = torch.arange(T)
                     if num_predict is None:
                         return rank[None, :] <= rank[:, None], rank[None, :] < rank[:, None]
                     context = rank < T - num_predict
                     rank[context] = -1
                     content = rank[None, :] <= rank[:, None]
                     query = context[None, :].expand(T, T).clone()  # targets read the context only
                     return content, query
                 """,
                 """
                 import torch

                 def answer(order, num_predict=None):
                     order = torch.as_tensor(order)
                     rank = torch.empty_like(order)
                     rank[order] = torch.arange(len(order))
                     return rank[None, :] < rank[:, None], rank[None, :] <= rank[:, None]
                 """))
@_own_rng
def _(answer):
    from minibert.models.xlnet.permutation import permutation_masks, prediction_targets

    g = torch.Generator().manual_seed(0)
    cases = [([2, 3, 4, 0, 1], None), ([0], None), ([1, 0], None), ([3, 2, 1, 0], None), ([4, 2, 0, 3, 1], 2),
             ([0, 1, 2, 3, 4, 5], 6), ([5, 4, 3, 2, 1, 0], 1)]
    for length, K in ((9, None), (16, 3), (24, 6), (7, 2), (30, None)):
        order = torch.randperm(length, generator=g).tolist()
        cases.append((order, None if K is None else len(prediction_targets(order, K))))
    for k, (order, num_predict) in enumerate(cases):
        T = len(order)
        where = _describe(order, num_predict)
        given = list(order) if k % 2 == 0 else torch.tensor(order)  # the library passes tensors
        result = _call(answer, given) if num_predict is None else _call(answer, given, num_predict)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise AssertionError("return a pair (content, query) of boolean (T, T) masks")
        content, query = (_bool_matrix(m, T, name) for m, name in zip(result, ("content mask", "query mask")))
        expected_content, expected_query = permutation_masks(order, num_predict)
        targets = order[T - num_predict:] if num_predict is not None else order
        if torch.equal(content, expected_query) and torch.equal(query, expected_content) and T > 1:
            raise AssertionError(f"{where}: you returned (query, content); return (content, query)")
        if T > 1 and not bool(content.diagonal().all()):
            raise AssertionError(f"{where}: the content stream of a position sees its own token (the diagonal)")
        if bool(query.diagonal()[targets].any()):
            raise AssertionError(f"{where}: in the query stream a predicted position sees itself; it must predict "
                                 f"its token without seeing it")
        if T > 2 and torch.equal(content, expected_content.T) and not torch.equal(content, expected_content):
            raise AssertionError(f"{where}: your masks are transposed: row i is the position that attends, "
                                 f"column j the one it may see")
        for name, got, expected, rows in (("content", content, expected_content, range(T)),
                                          ("query", query, expected_query, targets)):
            for i in rows:
                if not torch.equal(got[i], expected[i]):
                    wrong = (got[i] ^ expected[i]).nonzero().flatten().tolist()
                    j = wrong[0]
                    verb = "sees" if bool(got[i, j]) else "does not see"
                    kind = ("context" if num_predict is not None and i not in targets else "a target")
                    raise AssertionError(
                        f"{where}: in your {name} mask position {i} ({kind}) {verb} position {j}. Compare the "
                        f"steps at which they come in the order, not the positions themselves"
                        + ("; context positions all count as one step, before every target"
                           if num_predict is not None else ""))


# -- 12.2 ---------------------------------------------------------------------------------------------------------
@exercise("12.2", "partial prediction", kind="compute",
          hints=("Only the last positions of the order are predicted, the ones with the most context: a 1/K share "
                 "of the sequence, rounded up, and at least one.",
                 "count = math.ceil(len(order) / K) (K may be a float); the targets are the slice order[-count:], "
                 "kept in the order's order (the k-th target is the k-th row of target_mapping).",
                 "count = max(1, math.ceil(len(order) / K))\nreturn list(order[len(order) - count:])"),
          solution="""
          import math

          def answer(order, K):
              count = max(1, math.ceil(len(order) / K))
              return list(order[len(order) - count:])
          """,
          wrong=("""
                 import math

                 def answer(order, K):
                     return list(order[: math.ceil(len(order) / K)])
                 """,
                 """
                 def answer(order, K):
                     count = max(1, len(order) // K)
                     return list(order[len(order) - count:])
                 """,
                 """
                 import math

                 def answer(order, K):
                     count = math.ceil(len(order) / K)
                     return sorted(order[len(order) - count:])
                 """))
@_own_rng
def _(answer):
    from minibert.models.xlnet.permutation import prediction_targets

    g = torch.Generator().manual_seed(2)
    cases = [([3, 1, 0, 2, 5, 4], 2), ([0, 1, 2, 3, 4, 5, 6], 3), ([2, 0, 1], 1), ([4, 0, 3, 1, 2], 6), ([0], 6),
             (torch.randperm(24, generator=g).tolist(), 6), (torch.randperm(13, generator=g).tolist(), 6.5),
             (torch.randperm(10, generator=g).tolist(), 7)]
    for order, K in cases:
        result = _call(answer, list(order), K)
        try:
            got = [_integer(p, "each target position") for p in result]
        except TypeError:
            raise AssertionError("return the list of target positions") from None
        expected = prediction_targets(order, K).tolist()
        shown = order if len(order) <= 8 else order[:8] + ["..."]
        if len(got) != len(expected):
            raise AssertionError(f"order {shown}, K = {K}: {len(order)} tokens give {len(expected)} target(s), you "
                                 f"return {len(got)}; round the share 1/K of the length UP, and keep at least one")
        if sorted(got) == sorted(expected) and got != expected:
            raise AssertionError(f"order {shown}, K = {K}: the right positions, but keep them in the order in which "
                                 f"the factorisation order lists them")
        assert got == expected, (f"order {shown}, K = {K}: you return {got}. The targets are the LAST positions of "
                                 f"the order: they have the most context")


# -- 12.3 ---------------------------------------------------------------------------------------------------------
@exercise("12.3", "the price of independence", kind="compute",
          hints=("Mutual information compares the joint table with the table two independent words would give "
                 "(the product of the two marginals): the expected log of their ratio, in nats. Cells of "
                 "probability 0 contribute nothing.",
                 "p(a) = joint.sum(1), p(b) = joint.sum(0); the independent table is their outer product "
                 "(p(a)[:, None] * p(b)[None, :]). Sum p(a, b) * log(p(a, b) / (p(a) p(b))) over the cells with "
                 "p(a, b) > 0, with the natural log. Accept torch tensors and NumPy arrays: torch.as_tensor(joint, "
                 "dtype=torch.float64).",
                 "joint = torch.as_tensor(joint, dtype=torch.float64)\n"
                 "independent = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)\nseen = joint > 0\n"
                 "return float((joint[seen] * ...).sum())"),
          solution="""
          import torch

          def answer(joint):
              joint = torch.as_tensor(joint, dtype=torch.float64)
              independent = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
              seen = joint > 0
              return float((joint[seen] * (joint[seen] / independent[seen]).log()).sum())
          """,
          wrong=("""
                 import torch

                 def answer(joint):
                     joint = torch.as_tensor(joint, dtype=torch.float64)
                     seen = joint > 0
                     return float(-(joint[seen] * joint[seen].log()).sum())
                 """,
                 """
                 import torch

                 def answer(joint):
                     joint = torch.as_tensor(joint, dtype=torch.float64)
                     independent = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
                     return float((joint * (joint / independent).log()).sum())
                 """,
                 """
                 import torch

                 def answer(joint):
                     joint = torch.as_tensor(joint, dtype=torch.float64)
                     independent = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
                     seen = joint > 0
                     return float((joint[seen] * (joint[seen] / independent[seen]).log2()).sum())
                 """))
@_own_rng
def _(answer):
    from minibert.models.xlnet.joint_prediction import CityCorpus, mutual_information

    g = torch.Generator().manual_seed(4)
    independent = torch.outer(torch.tensor([0.2, 0.8], dtype=torch.float64),
                              torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64))
    got = _number(_call(answer, independent.clone()), "a number (nats)")
    assert abs(got) < 1e-9, f"two independent words share no information, so I(A;B) = 0; you return {got:.4f}"
    tables = [("the city corpus", CityCorpus().joint), ("a diagonal table (each a has one b)",
                                                       torch.diag(torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)))]
    for shape in ((2, 3), (4, 4), (1, 5)):
        table = torch.rand(shape, generator=g, dtype=torch.float64)
        tables.append((f"a random {shape[0]}x{shape[1]} table", table / table.sum()))
    for kind in ("torch", "numpy", "float32"):
        for name, joint in tables:
            given = {"torch": joint.clone(), "numpy": joint.numpy().copy(), "float32": joint.float()}[kind]
            got = _number(_call(answer, given), "a number (nats)")
            expected = mutual_information(joint)
            if math.isnan(got):
                raise AssertionError(f"{name}: NaN. Cells with p(a, b) = 0 contribute 0 (0 log 0 = 0): leave them "
                                     f"out of the sum")
            if expected > 1e-3 and math.isclose(got, expected / math.log(2), rel_tol=1e-4):
                raise AssertionError(f"{name}: that is in bits; the chapter measures nats (natural log)")
            assert math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-6), (
                f"{name} ({kind} input): you return {got:.4f} nats"
                + (f", but the words are dependent there: I(A;B) measures how far the joint is from the product "
                   f"of its marginals" if expected > 0.1 else ""))


# -- 12.4 ---------------------------------------------------------------------------------------------------------
@exercise("12.4", "transformers' perm_mask convention", kind="compute",
          hints=("transformers marks what is FORBIDDEN, minibert what is allowed, and transformers wants numbers, "
                 "not booleans.",
                 "perm_mask[..., i, j] = 1.0 where i may NOT attend to j: the logical negation (~) of the boolean "
                 "query mask, converted with .float(). Works for one (T, T) mask or a batch (B, T, T)."),
          solution="""
          def answer(query_mask):
              return (~query_mask).float()
          """,
          wrong=("""
                 def answer(query_mask):
                     return query_mask.float()
                 """,
                 """
                 def answer(query_mask):
                     return ~query_mask
                 """,
                 """
                 def answer(query_mask):
                     return (~query_mask).float().T
                 """))
@_own_rng
def _(answer):
    from minibert.models.xlnet.permutation import permutation_masks, to_perm_mask, xlnet_batch_masks

    queries = [permutation_masks([2, 0, 3, 1])[1], permutation_masks([4, 1, 0, 3, 2, 5], 2)[1]]
    _, perm, _, _ = xlnet_batch_masks(8, 3, K=3, generator=torch.Generator().manual_seed(0))
    queries.append(perm == 0)  # a batch (3, 8, 8)
    for query in queries:
        got = _tensor(_call(answer, query.clone()), "perm_mask")
        assert tuple(got.shape) == tuple(query.shape), (
            f"one entry per pair: shape {tuple(query.shape)}, got {tuple(got.shape)}")
        assert got.is_floating_point(), "transformers expects a float tensor of 0.0 and 1.0, not booleans"
        expected = to_perm_mask(query)
        if torch.equal(got.float(), query.float()):
            raise AssertionError("1.0 must mark the pairs that may NOT attend: the position that comes first in the "
                                 "order may see nobody, so its row is all ones")
        assert torch.equal(got.float(), expected), ("not the negated query mask, entry for entry: row i is the "
                                                     "attending position (do not transpose)")


# -- 12.5 ---------------------------------------------------------------------------------------------------------
_ORDER = [4, 0, 7, 2, 9, 5, 1, 8, 3, 6]

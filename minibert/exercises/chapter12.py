"""Exercises of chapter 12 (Transformer-XL and XLNet)."""
import math

import torch

from . import exercise


@exercise("12.1", "the query-stream mask",
          hints="first compute rank[position] = step of the order (rank[order[t]] = t); then query i may see key j "
               "exactly when rank[j] < rank[i], strictly: never itself.",
          solution="""
          import torch

          def answer(order):
              order = torch.as_tensor(order)
              rank = torch.empty_like(order)
              rank[order] = torch.arange(len(order))
              return rank[None, :] < rank[:, None]
          """,
          wrong="""
          import torch

          def answer(order):
              order = torch.as_tensor(order)
              rank = torch.empty_like(order)
              rank[order] = torch.arange(len(order))
              return rank[None, :] <= rank[:, None]
          """)
def _(answer):
    from minibert.models.xlnet.permutation import permutation_masks

    for order in ([2, 0, 1], [0, 1, 2, 3], [4, 2, 0, 3, 1], [3, 2, 1, 0]):
        got = torch.as_tensor(answer(list(order))).bool()
        _, expected = permutation_masks(order)
        assert got.shape == expected.shape, f"for {len(order)} tokens the mask is {tuple(expected.shape)}, got {tuple(got.shape)}"
        if bool(got.diagonal().any()):
            raise AssertionError(f"for the order {order} a position sees itself: the query stream must not know "
                                 f"its own token (that is the content stream)")
        assert torch.equal(got, expected), f"wrong mask for the order {order}: row i, column j = may i see j?"


@exercise("12.2", "partial prediction",
          hints="only the last ceil(T / K) positions of the order are predicted: order[T - ceil(T / K):].",
          solution="""
          import math

          def answer(order, K):
              count = math.ceil(len(order) / K)
              return list(order[len(order) - count:])
          """,
          wrong="""
          import math

          def answer(order, K):
              return list(order[: math.ceil(len(order) / K)])
          """)
def _(answer):
    from minibert.models.xlnet.permutation import prediction_targets

    for order, K in (([3, 1, 0, 2, 5, 4], 2), ([0, 1, 2, 3, 4, 5, 6], 3), ([2, 0, 1], 1), ([4, 0, 3, 1, 2], 6)):
        got = [int(p) for p in answer(list(order), K)]
        expected = prediction_targets(order, K).tolist()
        assert got == expected, (f"order {order}, K = {K}: expected {expected}, got {got}. The targets are the LAST "
                                 f"positions of the order: they have the most context")


@exercise("12.3", "the price of independence",
          hints="I(A;B) = sum over (a, b) with p(a, b) > 0 of p(a, b) * log(p(a, b) / (p(a) p(b))), with p(a) the row "
               "sums and p(b) the column sums.",
          solution="""
          import torch

          def answer(joint):
              joint = torch.as_tensor(joint, dtype=torch.float64)
              independent = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
              seen = joint > 0
              return float((joint[seen] * (joint[seen] / independent[seen]).log()).sum())
          """,
          wrong="""
          import torch

          def answer(joint):
              joint = torch.as_tensor(joint, dtype=torch.float64)
              seen = joint > 0
              return float(-(joint[seen] * joint[seen].log()).sum())
          """)
def _(answer):
    from minibert.models.xlnet.joint_prediction import CityCorpus, mutual_information

    independent = torch.full((2, 3), 1 / 6, dtype=torch.float64)
    got = float(answer(independent))
    assert abs(got) < 1e-9, f"two independent words share no information, so I(A;B) = 0; you return {got:.4f}"
    joint = CityCorpus().joint
    got, expected = float(answer(joint)), mutual_information(joint)
    assert math.isclose(got, expected, rel_tol=1e-6), f"for the city corpus I(A;B) = {expected:.4f} nats, got {got:.4f}"


@exercise("12.4", "transformers' perm_mask convention",
          hints="transformers marks what is FORBIDDEN: perm_mask[i, j] = 1.0 where i may NOT attend to j, i.e. the "
               "negation of the boolean query mask, as floats.",
          solution="""
          def answer(query_mask):
              return (~query_mask).float()
          """,
          wrong="""
          def answer(query_mask):
              return query_mask.float()
          """)
def _(answer):
    from minibert.models.xlnet.permutation import permutation_masks, to_perm_mask

    _, query = permutation_masks([2, 0, 3, 1])
    got = answer(query.clone())
    assert isinstance(got, torch.Tensor) and got.is_floating_point(), "return a float tensor of 0.0 and 1.0"
    assert torch.equal(got, to_perm_mask(query)), ("1.0 must mark the pairs that may NOT attend: the first position "
                                                   "of the order (2) may see nobody, so row 2 is all ones")

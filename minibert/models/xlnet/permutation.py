r"""XLNet's permutation language model: factorisation orders, the two attention masks, partial prediction.

Yang et al. (2019), "XLNet: Generalized Autoregressive Pretraining for Language Understanding", section 2.2. An
autoregressive model factorises :math:`p(x)` left to right. XLNet maximises the likelihood over *every* order
:math:`z` of the positions (a permutation of :math:`1..T`), in expectation:

.. math::  \max_\theta\ \mathbb{E}_{z \sim \mathcal{Z}_T}\Big[\sum_{t=1}^{T} \log p_\theta(x_{z_t} \mid x_{z_{<t}})\Big]

The tokens stay where they are (positions are untouched); only the attention masks change. With
:math:`\mathrm{rank}(j)` the step at which position :math:`j` comes in the order:

- the **content stream** :math:`h` of position :math:`i` may see :math:`j` iff :math:`\mathrm{rank}(j) \le
  \mathrm{rank}(i)` (itself included): it encodes "what is known once :math:`x_i` is revealed";
- the **query stream** :math:`g` of position :math:`i` may see :math:`j` iff :math:`\mathrm{rank}(j) <
  \mathrm{rank}(i)`: it knows *where* it is (its position) but never *what* it is, so it can predict
  :math:`x_i` without cheating.

**Partial prediction** (section 2.3): predicting the first tokens of an order is hard (little context) and slows
training, so only the last :math:`\lceil T/K \rceil` positions of the order are targets (:math:`K = 6` or 7 in the
paper); ``target_mapping`` lists them, one one-hot row each. XLNet's released code also lets the non-target
tokens see each other freely (they are context only): ``permutation_masks(order, num_predict=...)`` does that.

``transformers`` takes the query mask *inverted*: ``perm_mask[b, i, j] = 1`` means "i may NOT attend to j"
(:func:`to_perm_mask`); it derives the content mask from it by letting each position see itself.
"""
from __future__ import annotations

import math

import torch

from minibert.core.checks import integer

__all__ = ["sample_order", "check_order", "rank_of", "permutation_masks", "prediction_targets", "target_mapping",
           "to_perm_mask", "xlnet_batch_masks"]


def sample_order(length: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A factorisation order: a uniformly random permutation of ``0..length-1``; ``order[t]`` is the position
    predicted at step ``t``."""
    return torch.randperm(integer("", "length", length, minimum=1), generator=generator)


def check_order(order, length: int | None = None) -> torch.Tensor:
    """``order`` as a 1-D long tensor, after checking that it is a permutation of ``0..T-1``."""
    if isinstance(order, torch.Tensor):
        if order.is_floating_point() or order.dtype == torch.bool:
            raise TypeError(f"an order holds integer positions, got dtype {order.dtype}")
        values = order.flatten().tolist() if order.dim() == 1 else None
    else:
        try:
            values = [int(v) for v in order]
        except (TypeError, ValueError):
            raise TypeError(f"an order is a sequence of integer positions, got {order!r}") from None
    if values is None:
        raise ValueError(f"an order must be 1-D, got shape {tuple(order.shape)}")
    expected = len(values) if length is None else length
    if len(values) == 0 or sorted(values) != list(range(expected)):
        missing = sorted(set(range(expected)) - set(values))
        repeated = sorted({v for v in values if values.count(v) > 1})
        detail = "; ".join(filter(None, [f"missing {missing[:6]}" if missing else "",
                                         f"repeated {repeated[:6]}" if repeated else "",
                                         f"has {len(values)} entries" if len(values) != expected else ""]))
        raise ValueError(f"order must be a permutation of 0..{expected - 1} (every position exactly once): "
                         f"{detail or 'out of range'}")
    return torch.tensor(values, dtype=torch.long)


def rank_of(order) -> torch.Tensor:
    """``rank[j]``: the step of the order at which position ``j`` is predicted (the inverse permutation)."""
    order = check_order(order)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order))
    return rank


def prediction_targets(order, K: float) -> torch.Tensor:
    """The positions to predict under partial prediction: the last ``ceil(T / K)`` of the order, in order.
    ``K = 1`` predicts every token; larger ``K`` fewer (XLNet uses 6 or 7)."""
    order = check_order(order)
    if isinstance(K, bool) or not isinstance(K, (int, float)) or not K >= 1:
        raise ValueError(f"K must be a number >= 1 (predict the last 1/K of the order), got {K!r}")
    count = max(1, math.ceil(len(order) / K))
    return order[len(order) - count:]


def permutation_masks(order, num_predict: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(content, query)``, each a boolean ``(T, T)`` matrix, ``True`` = row ``i`` may attend to column ``j``.

    ``num_predict=None``: the masks of the plain permutation LM (module docstring). With ``num_predict = n`` the
    first ``T - n`` positions of the order are context only and see one another in both streams, as in XLNet's
    released code; the last ``n`` keep the order masks.
    """
    rank = rank_of(order).clone()
    if num_predict is not None:
        if isinstance(num_predict, bool) or not isinstance(num_predict, int) or not 1 <= num_predict <= len(rank):
            raise ValueError(f"num_predict must be an integer in [1, {len(rank)}], got {num_predict!r}")
        context = rank < len(rank) - num_predict
        rank[context] = -1  # all context tokens share the earliest step
        content = rank[None, :] <= rank[:, None]
        query = (rank[None, :] < rank[:, None]) | (context[:, None] & context[None, :])
        return content, query
    return rank[None, :] <= rank[:, None], rank[None, :] < rank[:, None]


def target_mapping(targets, length: int) -> torch.Tensor:
    """``(num_predict, length)`` float one-hot rows: row ``k`` picks the position of the ``k``-th target."""
    targets = torch.as_tensor(targets, dtype=torch.long).flatten()
    if targets.numel() == 0 or int(targets.min()) < 0 or int(targets.max()) >= length:
        raise ValueError(f"targets must be positions in [0, {length}), got {targets.tolist()}")
    if len(set(targets.tolist())) != targets.numel():
        raise ValueError(f"each position can be a target once, got {targets.tolist()}")
    return torch.nn.functional.one_hot(targets, length).float()


def to_perm_mask(query_mask: torch.Tensor) -> torch.Tensor:
    """``transformers``' ``perm_mask``: float, 1 where the query stream may NOT attend (``~query_mask``)."""
    if not isinstance(query_mask, torch.Tensor) or query_mask.dtype != torch.bool:
        raise TypeError("to_perm_mask expects the boolean query mask (True = may attend)")
    return (~query_mask).float()


def xlnet_batch_masks(length: int, batch: int, K: float, generator: torch.Generator | None = None,
                      context_sees_all: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A pre-training batch's masks: ``(orders (B, T), perm_mask (B, T, T), target_mapping (B, n, T), targets
    (B, n))``, one random order per sequence and ``n = ceil(T / K)`` targets each (the last of each order)."""
    orders, perms, mappings, all_targets = [], [], [], []
    for _ in range(batch):
        order = sample_order(length, generator)
        targets = prediction_targets(order, K)
        _, query = permutation_masks(order, len(targets) if context_sees_all else None)
        orders.append(order)
        perms.append(to_perm_mask(query))
        mappings.append(target_mapping(targets, length))
        all_targets.append(targets)
    return torch.stack(orders), torch.stack(perms), torch.stack(mappings), torch.stack(all_targets)

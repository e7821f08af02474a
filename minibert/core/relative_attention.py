r"""Attention that sees relative positions: Shaw et al.'s learned distance vectors and T5's bucketed scalar bias.

Shaw, Uszkoreit and Vaswani (2018), "Self-Attention with Relative Position Representations", eqs. 3-4: each
(query ``i``, key ``j``) pair gets two learned vectors :math:`a^K_{ij}, a^V_{ij} \in \mathbb{R}^{d}`, shared by all
heads and depending only on the clipped distance, :math:`a_{ij} = w_{\mathrm{clip}(j-i,\,k)}` (``2k + 1`` of each):

.. math::  e_{ij} = \frac{x_i W^Q \,(x_j W^K + a^K_{ij})^\top}{\sqrt{d}}, \qquad
           z_i = \sum_j \alpha_{ij}\,(x_j W^V + a^V_{ij}), \quad \alpha = \mathrm{softmax}_j(e)

Raffel et al. (2020, T5, section 2.1) keep only a scalar per head and bucket, added to the logits:
:math:`e_{ij} = q_i k_j^\top / \sqrt{d} + b_{h,\,\mathrm{bucket}(j - i)}`. (T5 itself folds the
:math:`1/\sqrt{d}` into its initialisation; here the bias rides on minibert's ordinary attention as an additive
mask.) Either way the position part of :math:`e_{ij}` depends on ``j - i`` only: shifting the whole sequence changes
nothing.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .attention import MultiHeadSelfAttention
from .positions import clipped_distance_index, relative_distances, t5_buckets

__all__ = ["ShawRelativeAttention", "T5RelativeBias"]


class ShawRelativeAttention(MultiHeadSelfAttention):
    """Multi-head self-attention with Shaw et al.'s relative keys and values (``2k + 1`` of each, shared by heads).

    ``forward(x, mask=None, need_weights=False)`` as :class:`~minibert.core.attention.MultiHeadSelfAttention`; pass
    :func:`~minibert.core.attention.causal_mask` as ``mask`` for a decoder.
    """

    def __init__(self, hidden_size: int, num_heads: int, max_distance: int, dropout: float = 0.0):
        super().__init__(hidden_size, num_heads, dropout)
        self.max_distance = max_distance
        clipped_distance_index(torch.zeros(1, dtype=torch.long), max_distance)  # validates k >= 1
        self.relative_keys = nn.Embedding(2 * max_distance + 1, self.head_size)
        self.relative_values = nn.Embedding(2 * max_distance + 1, self.head_size)

    def distance_index(self, length: int, device=None) -> torch.Tensor:
        """``(T, T)`` indices ``clip(j - i, -k, k) + k`` into the two tables."""
        return clipped_distance_index(relative_distances(length), self.max_distance).to(device)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, need_weights: bool = False):
        length = x.shape[1]
        q, k, v = self.split_heads(self.query(x)), self.split_heads(self.key(x)), self.split_heads(self.value(x))
        index = self.distance_index(length, x.device)
        a_keys, a_values = self.relative_keys(index), self.relative_values(index)  # (T, T, d) each
        # q_i . (k_j + a^K_ij) = q_i . k_j + q_i . a^K_ij: the second term is one (T, T, d) contraction per head
        scores = (q @ k.transpose(-1, -2) + torch.einsum("bhid,ijd->bhij", q, a_keys)) / math.sqrt(self.head_size)
        weights = self.attention_weights(scores, mask)
        context = weights @ v + torch.einsum("bhij,ijd->bhid", weights, a_values)
        return self.output(self.merge_heads(context)), (weights if need_weights else None)


class T5RelativeBias(nn.Module):
    """One learned scalar per (head, bucket): ``forward(T_q, T_k) -> (1, heads, T_q, T_k)`` additive bias.

    ``bidirectional=False`` is T5's decoder (keys to the right share bucket 0 and are masked anyway). The weight is
    named ``relative_attention_bias`` as in ``transformers``' ``T5Attention``, so the two can share weights.
    ``bucket_function`` replaces :func:`~minibert.core.positions.t5_buckets` by any function with its signature,
    ``(relative_position, bidirectional, num_buckets, max_distance) -> bucket ids`` (chapter 02 plugs in the
    learner's own).
    """

    def __init__(self, num_heads: int, num_buckets: int = 32, max_distance: int = 128, bidirectional: bool = True,
                 bucket_function=None):
        super().__init__()
        t5_buckets(torch.zeros(1, dtype=torch.long), bidirectional, num_buckets, max_distance)  # validates
        if bucket_function is not None and not callable(bucket_function):
            raise TypeError(f"bucket_function must be a function like t5_buckets, got "
                            f"{type(bucket_function).__name__}")
        self.num_buckets, self.max_distance, self.bidirectional = num_buckets, max_distance, bidirectional
        self.bucket_function = t5_buckets if bucket_function is None else bucket_function
        self.relative_attention_bias = nn.Embedding(num_buckets, num_heads)

    def buckets(self, query_length: int, key_length: int | None = None, query_offset: int = 0) -> torch.Tensor:
        distances = relative_distances(query_length, key_length, query_offset)
        buckets = self.bucket_function(distances, self.bidirectional, self.num_buckets, self.max_distance)
        return torch.as_tensor(buckets, dtype=torch.long)

    def forward(self, query_length: int, key_length: int | None = None, query_offset: int = 0) -> torch.Tensor:
        buckets = self.buckets(query_length, key_length, query_offset).to(self.relative_attention_bias.weight.device)
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)

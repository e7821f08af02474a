r"""XLNet's two-stream attention: Transformer-XL's relative attention, run twice with shared weights.

Yang et al. (2019), "XLNet: Generalized Autoregressive Pretraining for Language Understanding", section 2.3. Every
layer keeps two representations per position and updates both with the *same* weights:

.. math::  h_{z_t}^{(m)} = \mathrm{Attention}(Q = h_{z_t}^{(m-1)},\ KV = h_{z_{\le t}}^{(m-1)})
           \qquad \text{(content stream: sees itself)}

.. math::  g_{z_t}^{(m)} = \mathrm{Attention}(Q = g_{z_t}^{(m-1)},\ KV = h_{z_{<t}}^{(m-1)})
           \qquad \text{(query stream: never sees its own content)}

Keys and values come from the content stream (and the memory) for both; only the queries and the masks differ.
The attention is chapter 02's :class:`~minibert.models.transformer_xl.RelativeMultiHeadAttention` (content and position
terms with the biases :math:`u, v`, the relative shift, bidirectional distances, keys and values over
``[memory, segment]``) plus XLNet's *relative segment encoding*: for query :math:`i` and key :math:`j`,
:math:`s_{ij} = s_+` if they are in the same segment and :math:`s_-` otherwise, adding
:math:`(q_i + b)^\top s_{ij}` to the score. :mod:`minibert.models.xlnet.model` stacks these layers into the model.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from minibert.core.transformer import EncoderLayer
from minibert.models.transformer_xl import RelativeMultiHeadAttention
from .config import XLNetConfig

__all__ = ["XLNetAttention", "XLNetLayer", "two_stream_masks"]


class XLNetAttention(RelativeMultiHeadAttention):
    """Transformer-XL's relative attention plus the segment term :math:`(q_i + b_s)^\\top s_{ij}`."""

    def __init__(self, hidden_size: int, num_heads: int, dropout: float = 0.0):
        super().__init__(hidden_size, num_heads, dropout)
        self.segment_bias = nn.Parameter(torch.zeros(num_heads, self.head_size))  # b_s (r_s_bias)
        self.segment_embedding = nn.Parameter(torch.zeros(2, num_heads, self.head_size))  # s_+ (0), s_- (1)

    def scores(self, q, k, r, different_segment: torch.Tensor | None = None):
        """Content + position terms (Transformer-XL) + segment term, scaled by ``1/sqrt(d)``."""
        scores = super().scores(q, k, r)
        if different_segment is None:
            return scores
        # one score per (query, segment class), then pick the class of each (query, key) pair
        per_class = torch.einsum("bhid,shd->bhis", q + self.segment_bias[:, None], self.segment_embedding)
        segment = torch.where(different_segment[:, None], per_class[..., 1:2], per_class[..., 0:1])
        return scores + segment / math.sqrt(self.head_size)

    def attend(self, q, k, v, r, mask=None, need_weights: bool = False, **score_inputs):
        """Transformer-XL's attention, except that a query allowed to see nothing (the first step of an order, with
        no memory) gets an empty context, a zero vector. A softmax over a fully masked row would spread evenly
        over *every* key, its own token included: ``transformers`` and XLNet's original code do that, which lets
        that one prediction see its answer. Partial prediction never predicts such a position."""
        out, weights = super().attend(q, k, v, r, mask, need_weights, **score_inputs)
        if mask is not None and mask.dtype == torch.bool:
            blind = ~mask.any(-1)  # (B, 1 or heads, T): rows with no key to attend to
            if bool(blind.any()):
                out = out.masked_fill(blind.all(1)[:, :, None], 0.0)
                weights = None if weights is None else weights.masked_fill(blind[..., None], 0.0)
        return out, weights

    def two_streams(self, h, g, content_mask, query_mask, memory=None, different_segment=None, targets=None,
                    need_weights: bool = False):
        """One attention for both streams: keys and values come from ``[memory, h]`` for both; the query stream's
        queries ``g`` (one per target) sit at their targets' positions ``targets`` ``(B, P)``."""
        context = h if memory is None else torch.cat([self.check_memory(memory, h), h], dim=1)
        k, v = self.split_heads(self.key(context)), self.split_heads(self.value(context))
        r = self.position_keys(context.shape[1], h.shape[1], True, h.dtype, h.device)
        h_out, h_weights = self.attend(self.split_heads(self.query(h)), k, v, r, content_mask, need_weights,
                                       different_segment=different_segment)
        if g is None:
            return h_out, None, (h_weights, None)
        # every target's query goes to its own position (relative distances and its row of the mask) ...
        q_g = self.split_heads(self.query(g))  # (B, heads, P, d)
        placed = q_g.new_zeros(q_g.shape[0], q_g.shape[1], h.shape[1], q_g.shape[3])
        index = targets[:, None, :, None].expand_as(q_g)
        placed = placed.scatter(2, index, q_g)
        g_all, g_weights = self.attend(placed, k, v, r, query_mask, need_weights, different_segment=different_segment)
        # ... and comes back from there
        g_out = g_all.gather(1, targets[:, :, None].expand(-1, -1, g_all.shape[-1]))
        return h_out, g_out, (h_weights, g_weights)


class XLNetLayer(EncoderLayer):
    """The post-LN block of :class:`~minibert.core.transformer.EncoderLayer` applied to both streams with shared
    weights: ``LN(x + attention)``, then ``LN(x + FFN(x))``."""

    def __init__(self, config: XLNetConfig):
        super().__init__(config.d_model, config.n_head, config.d_inner, config.ff_activation, config.dropout,
                         config.dropout, config.layer_norm_eps,
                         attention=XLNetAttention(config.d_model, config.n_head, config.dropout))

    def forward(self, h, g, content_mask, query_mask, memory=None, different_segment=None, targets=None,
                need_weights: bool = False):
        h_att, g_att, weights = self.attention.two_streams(h, g, content_mask, query_mask, memory, different_segment,
                                                            targets, need_weights)
        return self.after_attention(h, h_att), (None if g is None else self.after_attention(g, g_att)), weights


def two_stream_masks(perm_mask, attention_mask, batch: int, length: int, memory_length: int, device=None):
    """``(content, query)`` boolean masks ``(B, 1, T, M + T)``, True = may attend, or ``(None, None)`` when neither
    ``perm_mask`` (``transformers``' convention: 1 = may NOT attend) nor ``attention_mask`` restricts anything.
    The memory is visible to every query; the content stream also sees its own position."""
    blocked = torch.zeros(batch, length, length, dtype=torch.bool, device=device)
    if perm_mask is not None:
        blocked |= perm_mask > 0
    if attention_mask is not None:
        blocked |= (attention_mask == 0)[:, None, :]  # nobody attends to padding
    if perm_mask is None and attention_mask is None:
        return None, None
    memory = torch.zeros(batch, length, memory_length, dtype=torch.bool, device=device)  # memory: visible to all
    query = ~torch.cat([memory, blocked], dim=2)
    itself = torch.cat([memory, torch.eye(length, dtype=torch.bool, device=device).expand(batch, -1, -1)], dim=2)
    return (query | itself)[:, None], query[:, None]

r"""DeBERTa's disentangled attention: content and relative position kept apart, three score terms.

He, Liu, Gao and Chen (2021), "DeBERTa: Decoding-enhanced BERT with Disentangled Attention", eq. 4. Token ``i``
has a content vector :math:`H_i` and, relative to ``j``, a position vector :math:`P_{\delta(i,j)}` taken from one
table shared by all layers. With :math:`Q^c = HW_q,\ K^c = HW_k` and
:math:`Q^r = PW_{q,r},\ K^r = PW_{k,r}`:

.. math::  \tilde A_{ij} = \underbrace{Q^c_i {K^c_j}^\top}_{\text{content-to-content}}
           + \underbrace{Q^c_i {K^r_{\delta(i,j)}}^\top}_{\text{content-to-position}}
           + \underbrace{K^c_j {Q^r_{\delta(j,i)}}^\top}_{\text{position-to-content}},
           \qquad H_o = \mathrm{softmax}\!\left(\frac{\tilde A}{\sqrt{3d}}\right) V^c

Three terms of similar size are summed, hence :math:`\sqrt{3d}` rather than :math:`\sqrt d` (in general
:math:`\sqrt{(1 + \#\text{position terms})\,d}`). The distance is :math:`\delta(i,j) = \mathrm{clip}(i - j)` into
``2k`` slots, or DeBERTa-v2's log buckets (:func:`minibert.core.positions.deberta_log_buckets`).

Index convention. The paper writes :math:`\delta(j,i)` in the position-to-content term. The released code (and
``transformers``, which this module matches) indexes *both* position terms with the same :math:`\delta(i,j)`,
``i - j`` bucketed: ``p2c[i, j]`` uses :math:`K^c_j \cdot Q^r_{\delta(i,j)}`. Since both terms read one shared
table, the two conventions are different models, and the published checkpoints were trained with the code's.
``share_att_key=True`` (DeBERTa-v2/v3) projects positions with the content projections, :math:`W_{q,r} = W_q`,
:math:`W_{k,r} = W_k`.
"""
from __future__ import annotations

import copy
import math
from functools import partial
from typing import Callable

import torch
from torch import nn

from minibert.core.attention import MultiHeadSelfAttention
from minibert.core.positions import deberta_log_buckets, relative_distances

__all__ = ["POSITION_TERMS", "DisentangledSelfAttention"]

POSITION_TERMS = ("c2p", "p2c")


class DisentangledSelfAttention(MultiHeadSelfAttention):
    """Multi-head attention with DeBERTa's content-to-position and position-to-content terms.

    ``span``: the number of distances on each side, ``position_buckets`` if > 0 else ``max_relative_positions``;
    the relative embedding table (owned by the encoder, passed to ``forward``) has ``2 * span`` rows.
    ``forward(x, mask, need_weights, relative_embeddings=..., context=None)``: queries from ``x``, keys and values
    from ``context`` (default ``x``; the enhanced mask decoder passes different ones).
    """

    def __init__(self, hidden_size: int, num_heads: int, max_relative_positions: int, position_buckets: int = -1,
                 pos_att_type=POSITION_TERMS, share_att_key: bool = False, relative_attention: bool = True,
                 dropout: float = 0.0, position_dropout: float = 0.0):
        super().__init__(hidden_size, num_heads, dropout)
        unknown = set(pos_att_type) - set(POSITION_TERMS)
        if unknown:
            raise ValueError(f"pos_att_type may contain {POSITION_TERMS}, got unknown {sorted(unknown)}")
        if max_relative_positions < 1:
            raise ValueError(f"max_relative_positions must be >= 1, got {max_relative_positions}")
        if position_buckets > 0:
            deberta_log_buckets(torch.zeros(1, dtype=torch.long), position_buckets, max_relative_positions)
        self.pos_att_type = tuple(t for t in POSITION_TERMS if t in pos_att_type)
        self.relative_attention = relative_attention
        self.share_att_key = share_att_key
        self.max_relative_positions = max_relative_positions
        self.position_buckets = position_buckets
        self.span = position_buckets if position_buckets > 0 else max_relative_positions
        self.scale = math.sqrt(self.head_size * (1 + len(self.pos_att_type)))
        self.position_dropout = nn.Dropout(position_dropout)
        if relative_attention and not share_att_key:
            if "c2p" in self.pos_att_type:
                self.position_key = nn.Linear(hidden_size, hidden_size)
            if "p2c" in self.pos_att_type:
                self.position_query = nn.Linear(hidden_size, hidden_size)

    def relative_index(self, length: int, device=None) -> torch.Tensor:
        r"""``(T, T)`` row of the relative table for each pair: :math:`\delta(i,j) + \text{span}`, clamped to
        ``[0, 2 span)``, with :math:`\delta(i,j)` = ``i - j``, log-bucketed when ``position_buckets > 0``."""
        return self.table_rows(-relative_distances(length)).to(device)

    def table_rows(self, distance: torch.Tensor) -> torch.Tensor:
        """The row of the relative table read for each distance ``i - j`` in ``distance`` (any shape)."""
        if self.position_buckets > 0:
            distance = deberta_log_buckets(distance, self.position_buckets, self.max_relative_positions)
        return (distance + self.span).clamp(0, 2 * self.span - 1)

    def _positions(self, relative_embeddings: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Position keys :math:`K^r` and queries :math:`Q^r`, each ``(heads, 2 span, d)`` (None if unused)."""
        table = self.position_dropout(relative_embeddings[: 2 * self.span])[None]
        key_proj = self.key if self.share_att_key else getattr(self, "position_key", None)
        query_proj = self.query if self.share_att_key else getattr(self, "position_query", None)
        pos_key = self.split_heads(key_proj(table))[0] if "c2p" in self.pos_att_type else None
        pos_query = self.split_heads(query_proj(table))[0] if "p2c" in self.pos_att_type else None
        return pos_key, pos_query

    def terms(self, q: torch.Tensor, k: torch.Tensor,
              relative_embeddings: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """The score terms, each ``(B, heads, T, T)`` and already divided by the common scale."""
        out = {"c2c": q @ k.transpose(-1, -2) / self.scale}
        if not self.relative_attention:
            return out
        if relative_embeddings is None:
            raise ValueError("relative attention needs the relative embedding table: pass relative_embeddings=")
        length = q.shape[-2]
        if k.shape[-2] != length:
            raise ValueError(f"disentangled attention needs as many queries as keys, got {length} and {k.shape[-2]}")
        index = self.relative_index(length, q.device).expand(*q.shape[:2], length, length)
        pos_key, pos_query = self._positions(relative_embeddings)
        if pos_key is not None:  # c2p[i, j] = Q^c_i . K^r[delta(i, j)]
            out["c2p"] = torch.gather(q @ pos_key.transpose(-1, -2), -1, index) / self.scale
        if pos_query is not None:  # p2c[i, j] = K^c_j . Q^r[delta(i, j)]: gather per key row, then transpose
            by_key = k @ pos_query.transpose(-1, -2)
            out["p2c"] = torch.gather(by_key, -1, index.transpose(-1, -2)).transpose(-1, -2) / self.scale
        return out

    def score_terms(self, x: torch.Tensor, relative_embeddings: torch.Tensor | None = None,
                    context: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The named terms for inputs ``x`` (what the relative-position explorer draws)."""
        context = x if context is None else context
        return self.terms(self.split_heads(self.query(x)), self.split_heads(self.key(context)), relative_embeddings)

    def bucket(self):
        """The function ``distance -> bucket`` applied before the table's offset and clamp: DeBERTa-v2's log
        buckets when ``position_buckets > 0``, else ``None`` (distances are only clamped)."""
        if self.position_buckets <= 0:
            return None
        return partial(deberta_log_buckets, bucket_size=self.position_buckets, max_position=self.max_relative_positions)

    def with_scores(self, scores: Callable) -> "DisentangledSelfAttention":
        """A copy of this module, same weights, whose summed and scaled scores come from
        ``scores(q, k, pos_key, pos_query, span, bucket)`` (``q, k``: ``(B, heads, T, d)``; ``pos_key, pos_query``:
        ``(heads, 2 span, d)``; ``bucket``: :meth:`bucket`) instead of :meth:`terms`. Chapter 13's exercise puts
        the learner's function into a real model this way (with :func:`minibert.core.swap.swap_in`)."""
        if not callable(scores):
            raise TypeError("with_scores expects a function scores(q, k, pos_key, pos_query, span, bucket)")
        if not self.relative_attention or self.pos_att_type != POSITION_TERMS:
            raise ValueError("with_scores needs relative attention with both position terms (c2p and p2c)")
        twin = copy.deepcopy(self)
        twin.scores_function = scores
        return twin

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, need_weights: bool = False,
                relative_embeddings: torch.Tensor | None = None, context: torch.Tensor | None = None):
        context = x if context is None else context
        q, k, v = (self.split_heads(self.query(x)), self.split_heads(self.key(context)),
                   self.split_heads(self.value(context)))
        if getattr(self, "scores_function", None) is not None:
            if relative_embeddings is None:
                raise ValueError("relative attention needs the relative embedding table: pass relative_embeddings=")
            pos_key, pos_query = self._positions(relative_embeddings)
            scores = self.scores_function(q, k, pos_key, pos_query, self.span, self.bucket())
        else:
            scores = sum(self.terms(q, k, relative_embeddings).values())
        weights = self.attention_weights(scores, mask)
        return self.output(self.merge_heads(weights @ v)), (weights if need_weights else None)

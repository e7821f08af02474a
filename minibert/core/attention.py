r"""Multi-head self-attention in torch, written out so the weights can be returned and inspected.

.. math::  \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + B\right) V

``B`` is an additive bias: 0 where attention is allowed and the most negative finite float where it is not
(padding keys, future positions in a decoder). Adding ``finfo.min`` instead of ``-inf`` keeps a fully masked row
finite: every score becomes the same number and softmax returns a uniform row instead of NaN.

When nobody asks for the weights, the module calls ``torch.nn.functional.scaled_dot_product_attention``, which
computes the same thing in a fused kernel without materialising the ``(T, T)`` matrix for the caller.
Reference: Vaswani et al. (2017), "Attention Is All You Need", section 3.2.
"""
from __future__ import annotations

import math
import operator

import torch
import torch.nn.functional as F
from torch import nn

from .checks import integer

__all__ = ["attention_bias", "attention_mask_bias", "causal_mask", "scaled_dot_product_attention",
           "MultiHeadSelfAttention"]


def causal_mask(length: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``(T, T)`` boolean mask, ``True`` on and below the diagonal: query i may see keys j <= i."""
    try:
        length = operator.index(length)
    except TypeError:
        raise TypeError(f"causal_mask needs an integer length, got {length!r}") from None
    if length < 1:
        raise ValueError(f"causal_mask needs a length of at least 1, got {length}")
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def attention_bias(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Boolean mask (``True`` = may attend) -> additive bias (0 or the most negative finite ``dtype`` value)."""
    if mask.dtype != torch.bool:
        raise TypeError(f"attention_bias expects a boolean mask (True = may attend), got dtype {mask.dtype}")
    bias = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    return bias.masked_fill_(~mask, torch.finfo(dtype).min)


def attention_mask_bias(mask: torch.Tensor | None, dtype: torch.dtype = torch.float32) -> torch.Tensor | None:
    """A model's boolean ``attention_mask`` as the bias its layers add to every head's scores: a ``(B, T)`` key
    mask (1 = real token) becomes ``(B, 1, 1, T)``, a ``(B, T, T)`` query-by-key mask ``(B, 1, T, T)``. ``None``
    when nothing is masked, so the fused kernel runs without a mask."""
    if mask is None or bool(mask.all()):
        return None
    return attention_bias(mask[:, None, None, :] if mask.dim() == 2 else mask[:, None], dtype)


def _as_bias(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    if mask is None or mask.is_floating_point():
        return mask
    return attention_bias(mask, dtype)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout: float = 0.0,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention with the weights: ``(softmax(q k^T / sqrt(d) + bias) v, weights)``.

    ``mask`` is boolean (``True`` = may attend) or an additive float bias, broadcastable to ``(..., T_q, T_k)``.
    ``dropout`` is applied to the weights (as BERT does during training); the returned weights are post-dropout.
    ``scale`` replaces ``1 / sqrt(d)`` (T5 uses 1: its initialisation already shrinks the queries).
    """
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q and k must have the same last dimension and k and v the same length, got q "
                         f"{tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}")
    if mask is not None and mask.is_floating_point() and bool(mask.isnan().any()):
        raise ValueError("mask contains NaN; pass a boolean mask (True = may attend) or a bias of 0 and -inf")
    scores = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    bias = _as_bias(mask, scores.dtype)
    if bias is not None:
        scores = scores + bias
    weights = scores.softmax(dim=-1)
    if dropout > 0.0:
        weights = F.dropout(weights, p=dropout)
    return weights @ v, weights


class MultiHeadSelfAttention(nn.Module):
    """``MultiHead(X) = Concat(head_1..head_h) W^O`` with ``head_i = Attention(X W_i^Q, X W_i^K, X W_i^V)``.

    The h per-head projections are stored as one ``(H, H)`` matrix each for queries, keys and values; splitting
    the result into heads is a reshape, exactly as in :func:`minibert.reference.split_heads`.

    Two switches serve T5 (Raffel et al., 2020, section 2.1): ``head_size`` sets d_k apart from ``H / heads``
    (the projections are then ``(H, heads * d_k)``), and ``scale`` replaces ``1 / sqrt(d_k)`` (T5 uses 1).
    ``forward(..., key_value=y)`` is cross-attention: queries from ``x``, keys and values from ``y``.
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 head_size: int | None = None, scale: float | None = None):
        super().__init__()
        integer("", "num_heads", num_heads, minimum=1)
        if head_size is None and hidden_size % num_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_heads ({num_heads})")
        self.num_heads = num_heads
        self.head_size = hidden_size // num_heads if head_size is None else integer("", "head_size", head_size, 1)
        self.scale = scale
        self.dropout = dropout
        inner = self.num_heads * self.head_size
        self.query = nn.Linear(hidden_size, inner, bias=bias)
        self.key = nn.Linear(hidden_size, inner, bias=bias)
        self.value = nn.Linear(hidden_size, inner, bias=bias)
        self.output = nn.Linear(inner, hidden_size, bias=bias)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, H) -> (B, heads, T, H / heads)``."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_size).transpose(1, 2)

    @staticmethod
    def merge_heads(x: torch.Tensor) -> torch.Tensor:
        """``(B, heads, T, H / heads) -> (B, T, H)``: the inverse of :meth:`split_heads`."""
        batch, _, length, _ = x.shape
        return x.transpose(1, 2).reshape(batch, length, -1)

    def attention_weights(self, scores: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``softmax(scores + bias)``, with dropout while training: the step every variant of the scores shares
        (relative, disentangled, two-stream attention only change how ``scores`` are made)."""
        bias = _as_bias(mask, scores.dtype)
        if bias is not None:
            scores = scores + bias
        weights = scores.softmax(dim=-1)
        return F.dropout(weights, p=self.dropout) if self.training and self.dropout > 0 else weights

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, need_weights: bool = False,
        key_value: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Self-attention over ``x`` ``(B, T, H)``; returns ``(output (B, T, H), weights (B, heads, T, T) or None)``.

        ``mask``: boolean (``True`` = may attend) or additive float bias broadcastable to ``(B, heads, T, T)``.
        ``key_value`` ``(B, S, H)``: attend to it instead of ``x`` (cross-attention; weights ``(B, heads, T, S)``).
        """
        source = x if key_value is None else key_value
        q = self.split_heads(self.query(x))
        k, v = self.split_heads(self.key(source)), self.split_heads(self.value(source))
        dropout = self.dropout if self.training else 0.0
        bias = _as_bias(mask, x.dtype)
        if need_weights:
            context, weights = scaled_dot_product_attention(q, k, v, bias, dropout, self.scale)
        else:
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout, scale=self.scale)
            weights = None
        return self.output(self.merge_heads(context)), weights

r"""ModernBERT's two sub-layers that differ from BERT's: the GeGLU feed-forward and self-attention with RoPE.

GeGLU (Shazeer 2020, "GLU Variants Improve Transformer", section 2; Warner et al. 2024, section 2.1.1):

.. math::  \mathrm{FFN}_{\mathrm{GeGLU}}(x) = \big(\mathrm{GELU}(x W) \otimes x V\big)\, W_2

the GELU of one projection gates another, element by element; ``W`` and ``V`` are one matrix ``inner`` of twice the
inner width (``Wi`` in ``transformers``). Attention is BERT's, with queries and keys rotated by their positions
first (Su et al. 2021, :mod:`minibert.core.rotary`):

.. math::  \mathrm{softmax}\big((R_{\Theta,i}\, q_i)^\top (R_{\Theta,j}\, k_j) / \sqrt{d} + b_{ij}\big)
           = \mathrm{softmax}\big(q_i^\top R_{\Theta,j-i}\, k_j / \sqrt{d} + b_{ij}\big)

and no biases anywhere.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.attention import MultiHeadSelfAttention, scaled_dot_product_attention
from minibert.core.rotary import apply_rope
from minibert.core.transformer import activation_function
from .local_attention import sliding_window_mask

__all__ = ["GatedFeedForward", "RotarySelfAttention"]


class GatedFeedForward(nn.Module):
    """GeGLU: ``outer(act(value) * gate)`` with ``value, gate = inner(x).chunk(2)`` (Shazeer 2020, section 2)."""

    def __init__(self, hidden_size: int, intermediate_size: int, activation: str = "gelu", bias: bool = False,
                 dropout: float = 0.0):
        super().__init__()
        self.inner = nn.Linear(hidden_size, 2 * intermediate_size, bias=bias)
        self.outer = nn.Linear(intermediate_size, hidden_size, bias=bias)
        self.activation = activation_function(activation)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.inner(x).chunk(2, dim=-1)
        return self.outer(self.dropout(self.activation(value) * gate))


class RotarySelfAttention(MultiHeadSelfAttention):
    """Self-attention with RoPE on queries and keys; ``window`` set makes it local (only for the unpadded path: the
    padded path receives the window inside its mask). ``rope`` is ``(cos, sin)``; ``segments`` (``cu_seqlens``) marks
    a packed batch, whose sequences attend each to itself, one after the other, as a variable-length kernel does."""

    def __init__(self, hidden_size: int, num_heads: int, dropout: float = 0.0, bias: bool = False,
                 window: int | None = None):
        super().__init__(hidden_size, num_heads, dropout, bias)
        self.window = window
        self.output_dropout = nn.Dropout(dropout)  # transformers' out_drop: the same rate after Wo

    def forward(self, x, mask=None, need_weights=False, rope=None, segments=None):
        q, k, v = self.split_heads(self.query(x)), self.split_heads(self.key(x)), self.split_heads(self.value(x))
        q, k = apply_rope(q, k, *rope)
        dropout = self.dropout if self.training else 0.0
        if segments is not None:
            if need_weights:
                raise ValueError("attention weights are not returned by the unpadded path; run with unpad=False")
            bounds = segments.tolist()
            context = torch.cat([self.attend_segment(q, k, v, start, end, dropout)
                                 for start, end in zip(bounds[:-1], bounds[1:]) if end > start], dim=2)
            weights = None
        elif need_weights:
            context, weights = scaled_dot_product_attention(q, k, v, mask, dropout)
        else:
            context, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout), None
        return self.output_dropout(self.output(self.merge_heads(context))), weights

    def attend_segment(self, q, k, v, start: int, end: int, dropout: float) -> torch.Tensor:
        window = None if self.window is None else sliding_window_mask(end - start, self.window, q.device)
        span = slice(start, end)
        return F.scaled_dot_product_attention(q[:, :, span], k[:, :, span], v[:, :, span], attn_mask=window,
                                              dropout_p=dropout)

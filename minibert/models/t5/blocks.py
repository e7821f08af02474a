r"""T5's encoder and decoder stacks, built from the course's blocks (Raffel et al., 2020, section 2.1).

Each layer is pre-norm with RMSNorm and has no bias anywhere:

.. math::  h = x + \mathrm{SelfAttn}(\mathrm{RMSNorm}(x)), \qquad y = h + \mathrm{FFN}(\mathrm{RMSNorm}(h))

a decoder layer adds cross-attention between the two, :math:`h' = h + \mathrm{CrossAttn}(\mathrm{RMSNorm}(h), e)`,
with queries from the decoder and keys and values from the encoder's output :math:`e` (Vaswani et al., 2017,
section 3.2.3). Attention scores are :math:`e_{ij} = q_i k_j^\top + b_{h,\,\mathrm{bucket}(j-i)}`: no
:math:`1/\sqrt{d}` (T5 folds it into the initialisation of :math:`W^Q`) and one learned scalar per head and
relative-distance bucket, computed once per stack and added in every layer (transformers stores the table in the
first layer). The decoder's buckets are one-sided (its keys are never to the right) and cross-attention has none.
The FFN is :math:`\mathrm{ReLU}(xW_1)W_2` in T5 v1.0 and GeGLU, :math:`(\mathrm{GELU}(xW) \odot xV)W_2`, in v1.1
(Shazeer, 2020, "GLU Variants Improve Transformer", eq. 6; GELU in its tanh form, as the released checkpoints).

The layer is :class:`~minibert.core.transformer.EncoderLayer` (``norm_position="pre"``) with three parts swapped in
(attention without scaling or biases, this FFN, :class:`~minibert.core.normalization.RMSNorm`); the stack is
:class:`~minibert.core.transformer.LayerStack` with the position bias and masks prepared before the loop.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.attention import MultiHeadSelfAttention, attention_bias, causal_mask
from minibert.core.normalization import RMSNorm
from minibert.core.relative_attention import T5RelativeBias
from minibert.core.transformer import EncoderLayer, LayerStack

__all__ = ["T5FeedForward", "T5DecoderLayer", "T5Stack", "t5_attention", "decoder_masks"]


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """GELU's tanh approximation written out, as Mesh TensorFlow and ``transformers``' ``gelu_new`` compute it
    (``F.gelu(approximate="tanh")`` is the same function, rounded differently in its last bits)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class T5FeedForward(nn.Module):
    """``relu``: ``wo(relu(wi x))`` (T5 v1.0); ``gated-gelu``: ``wo(gelu(gate x) * inner x)`` (v1.1's GeGLU). The
    dropout sits on the inner activations, as in T5."""

    def __init__(self, d_model: int, d_ff: int, gated: bool, dropout: float = 0.0):
        super().__init__()
        self.gate = nn.Linear(d_model, d_ff, bias=False) if gated else None
        self.inner = nn.Linear(d_model, d_ff, bias=False)
        self.outer = nn.Linear(d_ff, d_model, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gate is None:
            hidden = F.relu(self.inner(x))
        else:
            hidden = gelu_tanh(self.gate(x)) * self.inner(x)
        return self.outer(self.dropout(hidden))


def t5_attention(config) -> MultiHeadSelfAttention:
    """The course's multi-head attention with T5's settings: heads of ``d_kv``, no scaling, no biases."""
    return MultiHeadSelfAttention(config.d_model, config.num_heads, config.dropout_rate, bias=False,
                                  head_size=config.d_kv, scale=1.0)


def t5_layer(config, layer_class=EncoderLayer, **extra) -> EncoderLayer:
    return layer_class(config.d_model, config.num_heads, config.d_ff, dropout=config.dropout_rate,
                       layer_norm_eps=config.layer_norm_epsilon, attention=t5_attention(config), norm_position="pre",
                       ffn=T5FeedForward(config.d_model, config.d_ff, config.is_gated, config.dropout_rate),
                       norm=RMSNorm, **extra)


class T5DecoderLayer(EncoderLayer):
    """Pre-norm self-attention (causal), cross-attention to the encoder, FFN; each with a residual add."""

    def __init__(self, *args, cross_attention: nn.Module, **kwargs):
        super().__init__(*args, **kwargs)
        self.cross_attention = cross_attention
        self.cross_attention_norm = RMSNorm(self.ffn_norm.weight.shape[0], eps=self.ffn_norm.eps)

    def forward(self, x, mask=None, need_weights: bool = False, encoder_states=None, encoder_mask=None):
        """``(y, (self-attention weights, cross-attention weights))``; ``encoder_mask`` is the bias over the
        encoder's tokens (padding)."""
        attended, self_weights = self.attention(self.attention_norm(x), mask, need_weights)
        x = x + self.dropout(attended)
        crossed, cross_weights = self.cross_attention(self.cross_attention_norm(x), encoder_mask, need_weights,
                                                      key_value=encoder_states)
        return self.after_attention(x, crossed), (self_weights, cross_weights)


class T5Stack(LayerStack):
    """T5's encoder (``decoder=False``) or decoder: the layers, the shared position bias, the final RMSNorm.

    ``forward(embeddings, allowed, encoder_states=None, cross_allowed=None, ...)`` ->
    ``(output, attentions, hidden_states)``; a decoder's attentions are ``(self, cross)`` pairs per layer."""

    def __init__(self, config, decoder: bool = False):
        depth = config.num_decoder_layers if decoder else config.num_layers
        if decoder:
            layers = (t5_layer(config, T5DecoderLayer, cross_attention=t5_attention(config)) for _ in range(depth))
        else:
            layers = (t5_layer(config) for _ in range(depth))
        super().__init__(layers)
        self.decoder = decoder
        self.relative_bias = T5RelativeBias(config.num_heads, config.relative_attention_num_buckets,
                                            config.relative_attention_max_distance, bidirectional=not decoder)
        self.final_norm = RMSNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, embeddings, allowed=None, encoder_states=None, cross_allowed=None,
                output_attentions: bool = False, output_hidden_states: bool = False):
        """``allowed``: boolean, broadcastable to ``(B, T, T)`` (``True`` = query i may attend to key j), or None;
        ``cross_allowed`` likewise over the encoder's tokens, ``(B, T, S)``. The bucketed position bias plus the
        mask is the one float every layer adds to its self-attention scores."""
        length, dtype = embeddings.shape[1], embeddings.dtype
        bias = self.relative_bias(length, length).to(dtype)  # (1, heads, T, T)
        if allowed is not None:
            bias = bias + attention_bias(allowed[:, None], dtype)
        inputs = {}
        if self.decoder:
            cross = None if cross_allowed is None or bool(cross_allowed.all()) else cross_allowed[:, None]
            inputs = dict(encoder_states=encoder_states, encoder_mask=None if cross is None else
                          attention_bias(cross, dtype))
        x, attentions, hidden_states = super().forward(self.dropout(embeddings), bias, output_attentions,
                                                       output_hidden_states, **inputs)
        return self.dropout(x), attentions, hidden_states


def decoder_masks(decoder_mask: torch.Tensor, encoder_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The decoder's two attention masks from its ``(B, T)`` and the encoder's ``(B, S)`` padding masks (1 = real
    token): self-attention ``(B, T, T)``, query i may see key j when ``j <= i`` and j is real; cross-attention
    ``(B, T, S)``, every query may see every real encoder token. ``True`` = may attend."""
    length = decoder_mask.shape[1]
    self_allowed = causal_mask(length, decoder_mask.device)[None] & decoder_mask.bool()[:, None, :]
    cross_allowed = encoder_mask.bool()[:, None, :].expand(-1, length, -1)
    return self_allowed, cross_allowed

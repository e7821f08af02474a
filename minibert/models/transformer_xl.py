r"""Transformer-XL: relative attention with four terms, the relative-shift trick, and segment-level recurrence.

Dai et al. (2019), "Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context", section 3.3. With
:math:`q_i = W_q h_i` and :math:`k_j = W_{k,E} h_j`, the score of query ``i`` for key ``j`` is

.. math::  A^{rel}_{ij} = \underbrace{q_i^\top k_j}_{(a)\ \text{content}}
           + \underbrace{q_i^\top W_{k,R} R_{i-j}}_{(b)\ \text{content-position}}
           + \underbrace{u^\top k_j}_{(c)\ \text{global content bias}}
           + \underbrace{v^\top W_{k,R} R_{i-j}}_{(d)\ \text{global position bias}}
           = (q_i + u)^\top k_j + (q_i + v)^\top W_{k,R} R_{i-j}

:math:`R_{i-j}` is a sinusoid of the distance (no parameters), :math:`u, v` are learned per head. Computing (b)+(d)
naively needs a different :math:`R` for every (i, j) pair; instead one product against the table of all distances
followed by :func:`relative_shift` (a pad-and-reshape) puts every score in place.

Segment-level recurrence (section 3.2): the hidden states that entered each layer for the previous segment are kept
as a *memory*, with the gradient stopped, and the next segment's keys and values are computed over
``[memory, segment]``: :math:`\tilde h^{n-1}_{\tau+1} = [\mathrm{SG}(h^{n-1}_\tau) \circ h^{n-1}_{\tau+1}]`. Because
scores depend on ``i - j`` only, reused states need no new position numbers; absolute positions would make them
incoherent (two tokens both "position 0").

XLNet (Yang et al., 2019) reuses this attention: it adds a segment term to :meth:`RelativeMultiHeadAttention.scores`
and calls :meth:`RelativeMultiHeadAttention.attend` a second time with its query stream. ``transformers`` 5 has no
Transformer-XL class; the tests check the shift against a naive loop, the scores against a NumPy pair-by-pair
reference, and the whole attention against ``transformers``' XLNet content stream (same weights, same memory).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable, ClassVar

import torch
from torch import nn

from minibert.core.attention import MultiHeadSelfAttention
from minibert.core.checks import choice
from minibert.core.config import ACTIVATIONS, COUNT, EPSILON, POSITIVE, PROBABILITY, ConfigBase
from minibert.core.outputs import ModelOutput
from minibert.core.positions import sinusoidal_encoding
from minibert.core.transformer import EncoderLayer, LayerStack

__all__ = ["relative_position_table", "relative_shift", "remember", "memory_causal_mask", "segment_mask",
           "RelativeMultiHeadAttention", "TransformerXLConfig", "TransformerXLLayer", "TransformerXL",
           "TransformerXLOutput"]


def relative_position_table(key_length: int, query_length: int, bidirectional: bool = False) -> torch.Tensor:
    """The distances whose encodings :func:`relative_shift` expects, largest first: ``key_length, ..., 0`` for a
    causal model (Transformer-XL), ``key_length, ..., 1 - query_length`` when keys may lie to the right (XLNet)."""
    end = -query_length if bidirectional else -1
    return torch.arange(key_length, end, -1, dtype=torch.float64)


def relative_shift(scores: torch.Tensor, key_length: int) -> torch.Tensor:
    """``(..., T_q, P) -> (..., T_q, T_k)`` with ``out[..., i, j] = scores[..., i, j + T_q - i]``.

    If column ``c`` of ``scores`` holds the score against distance ``key_length - c`` (the order of
    :func:`relative_position_table`), then ``out[i, j]`` holds it against ``i + M - j`` with ``M = T_k - T_q``
    memory slots: exactly the distance from query ``i`` to key ``j``. Row ``i`` is shifted left by ``T_q - i``,
    which a reshape does for all rows at once: read the ``(T_q, P)`` block as ``(P, T_q)``, drop the first row,
    read the rest as ``(T_q, P - 1)``. Entries for distances outside the table (keys the mask hides) are junk.
    """
    *lead, query_length, width = scores.shape
    if width < key_length + 1:
        raise ValueError(f"the position table has {width} entries; relative_shift needs at least key_length + 1 = "
                         f"{key_length + 1} (build it with relative_position_table)")
    shifted = scores.reshape(*lead, width, query_length)[..., 1:, :].reshape(*lead, query_length, width - 1)
    return shifted[..., :key_length]


def remember(previous: torch.Tensor | None, states: torch.Tensor, keep: int | None) -> torch.Tensor:
    r"""The memory update of segment recurrence, :math:`\mathrm{SG}([\text{previous} \circ \text{states}])`: a
    layer's input appended to its memory, the last ``keep`` positions kept (all when ``keep`` is 0 or None), no
    gradient into the past. Transformer-XL and XLNet both call it."""
    kept = states if previous is None else torch.cat([previous.to(states.dtype), states], dim=1)
    if keep:
        kept = kept[:, -keep:]
    return kept.detach()


def memory_causal_mask(query_length: int, memory_length: int = 0, device=None) -> torch.Tensor:
    """``(T_q, M + T_q)`` boolean, ``True`` = may attend: every memory slot and the segment's keys up to itself."""
    keys = torch.arange(memory_length + query_length, device=device)
    return keys[None, :] <= torch.arange(query_length, device=device)[:, None] + memory_length


def segment_mask(total_length: int, segment_length: int, memory_length: int, device=None) -> torch.Tensor:
    """The ``(T, T)`` mask under which ONE pass over the whole sequence reproduces a one-layer Transformer-XL fed
    segment by segment: position ``p`` in segment ``s = p // L`` sees keys ``q`` with ``s L - M <= q <= p``."""
    positions = torch.arange(total_length, device=device)
    first_visible = (positions // segment_length) * segment_length - memory_length
    return (positions[None, :] <= positions[:, None]) & (positions[None, :] >= first_visible[:, None])


class RelativeMultiHeadAttention(MultiHeadSelfAttention):
    """Transformer-XL attention: queries from the segment, keys and values from ``[memory, segment]``, scores
    ``(q + u) k + relative_shift((q + v) W_R R)``. Projections have no bias, as in the paper's code."""

    def __init__(self, hidden_size: int, num_heads: int, dropout: float = 0.0):
        super().__init__(hidden_size, num_heads, dropout, bias=False)
        self.position = nn.Linear(hidden_size, hidden_size, bias=False)  # W_{k,R}
        self.content_bias = nn.Parameter(torch.randn(num_heads, self.head_size) * 0.02)  # u
        self.position_bias = nn.Parameter(torch.randn(num_heads, self.head_size) * 0.02)  # v

    def check_memory(self, memory: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(memory, torch.Tensor) or memory.dim() != 3:
            raise ValueError(f"memory must be a (batch, memory_length, hidden) tensor, got "
                             f"{tuple(memory.shape) if isinstance(memory, torch.Tensor) else type(memory).__name__}")
        if memory.shape[0] != x.shape[0] or memory.shape[2] != x.shape[2]:
            raise ValueError(f"memory of shape {tuple(memory.shape)} does not fit a segment of shape {tuple(x.shape)}: "
                             f"batch and width (hidden size {x.shape[2]}) must match; pass the memory this same model "
                             f"returned for the previous segment of the same batch")
        return memory.to(x.dtype)

    def position_keys(self, key_length: int, query_length: int, bidirectional: bool = False,
                      dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
        """``W_{k,R} R`` for every distance of :func:`relative_position_table`, split into heads: ``(heads, P, d)``."""
        table = relative_position_table(key_length, query_length, bidirectional)
        encodings = sinusoidal_encoding(table, self.position.in_features, interleave=False, dtype=dtype).to(device)
        return self.position(encodings).view(-1, self.num_heads, self.head_size).transpose(0, 1)

    def scores(self, q: torch.Tensor, k: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """Terms (a)+(c) and (b)+(d), scaled by ``1/sqrt(d)``: ``(B, heads, T_q, T_k)``."""
        content = (q + self.content_bias[:, None]) @ k.transpose(-1, -2)
        position = relative_shift((q + self.position_bias[:, None]) @ r.transpose(-1, -2), k.shape[-2])
        return (content + position) / math.sqrt(self.head_size)

    def attend(self, q, k, v, r, mask=None, need_weights: bool = False, **score_inputs):
        """Softmax over :meth:`scores` (plus the mask), weighted values, output projection. ``score_inputs`` go to
        :meth:`scores` (a subclass that adds a term, such as XLNet's segment term, takes its inputs there)."""
        scores = self.scores(q, k, r, **score_inputs)
        weights = self.attention_weights(scores, mask)
        return self.output(self.merge_heads(weights @ v)), (weights if need_weights else None)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, need_weights: bool = False,
                memory: torch.Tensor | None = None, bidirectional: bool = False):
        """``x``: the segment ``(B, T, H)``; ``memory``: ``(B, M, H)`` states of earlier positions or None;
        ``mask``: ``(T, M + T)`` (e.g. :func:`memory_causal_mask`), boolean or additive."""
        context = x if memory is None else torch.cat([self.check_memory(memory, x), x], dim=1)
        q = self.split_heads(self.query(x))
        k, v = self.split_heads(self.key(context)), self.split_heads(self.value(context))
        r = self.position_keys(context.shape[1], x.shape[1], bidirectional, x.dtype, x.device)
        return self.attend(q, k, v, r, mask, need_weights)


@dataclass
class TransformerXLConfig(ConfigBase):
    """The sizes of a :class:`TransformerXL`: ``num_layers`` post-LN layers ``hidden_size`` wide with ``num_heads``
    heads, each keeping ``memory_length`` states of the previous segment (0: none). ``transformers`` 5 has no
    Transformer-XL, so these are minibert's own names and nothing is read from a ``config.json`` of theirs."""

    hidden_size: int
    num_heads: int
    intermediate_size: int
    num_layers: int
    memory_length: int
    activation: str = "relu"
    dropout: float = 0.0
    attention_dropout: float = 0.0
    layer_norm_eps: float = 1e-5

    field_checks: ClassVar[dict[str, Callable]] = {
        **dict.fromkeys(("hidden_size", "num_heads", "intermediate_size", "num_layers"), POSITIVE),
        "memory_length": COUNT,
        "activation": partial(choice, options=ACTIVATIONS),
        "dropout": PROBABILITY,
        "attention_dropout": PROBABILITY,
        "layer_norm_eps": EPSILON,
    }
    heads_split: ClassVar[tuple[str, str]] = ("hidden_size", "num_heads")


class TransformerXLLayer(EncoderLayer):
    """A post-LN layer (the block of :class:`~minibert.core.transformer.EncoderLayer`) around relative attention;
    ``layer(x, mask, memory=...)``."""

    def __init__(self, config: TransformerXLConfig):
        super().__init__(config.hidden_size, config.num_heads, config.intermediate_size, config.activation,
                         config.dropout, config.attention_dropout, config.layer_norm_eps,
                         attention=RelativeMultiHeadAttention(config.hidden_size, config.num_heads,
                                                              config.attention_dropout))


@dataclass(kw_only=True)
class TransformerXLOutput(ModelOutput):
    """``memory``: one ``(B, <= memory_length, H)`` tensor per layer, detached, to pass with the next segment."""

    last_hidden_state: torch.Tensor
    memory: list[torch.Tensor]


class TransformerXL(LayerStack):
    """A causal stack of :class:`TransformerXLLayer` with segment-level recurrence over input vectors.

    Built from a :class:`TransformerXLConfig`, or from its fields as keywords:
    ``TransformerXL(hidden_size=16, num_heads=2, ...)`` is ``TransformerXL(TransformerXLConfig(hidden_size=16, ...))``.
    ``model(x, memory=None)``: ``x`` is a segment ``(B, T, H)``; ``memory`` what the previous call returned.
    ``memory_length`` states per layer are kept (0: none, a plain causal Transformer with relative positions).
    """

    def __init__(self, config: TransformerXLConfig | None = None, **fields):
        if config is None:
            config = TransformerXLConfig(**fields)
        elif not isinstance(config, TransformerXLConfig) or fields:
            raise TypeError(f"TransformerXL is built from a TransformerXLConfig or from its fields as keywords, got "
                            f"{config!r}{' and ' + ', '.join(fields) if fields else ''}; write "
                            "TransformerXL(TransformerXLConfig(hidden_size=..., num_heads=..., intermediate_size=..., "
                            "num_layers=..., memory_length=...))")
        super().__init__(TransformerXLLayer(config) for _ in range(config.num_layers))
        self.config = config
        self.hidden_size, self.memory_length = config.hidden_size, config.memory_length

    def layer_step(self, i, x, mask, need_weights, memory=None):
        """Layer ``i`` reads its own slot of the memory."""
        return self.layers[i](x, mask, need_weights=need_weights, memory=None if memory is None else memory[i])

    def forward(self, x: torch.Tensor, memory: list[torch.Tensor] | None = None,
                output_attentions: bool = False) -> TransformerXLOutput:
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != self.hidden_size:
            raise ValueError(f"x must be a (batch, T, {self.hidden_size}) float tensor, got "
                             f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor of vectors, got dtype {x.dtype}; Transformer-XL here "
                            "reads vectors (batch, T, H): embed token ids first")
        memory = memory or None  # [] (from a model without memory) means none
        if memory is not None and len(memory) != len(self.layers):
            raise ValueError(f"memory must hold one tensor per layer ({len(self.layers)}), got {len(memory)}")
        if memory is not None:
            memory = [layer.attention.check_memory(m, x) for layer, m in zip(self.layers, memory)]
        mask = memory_causal_mask(x.shape[1], 0 if memory is None else memory[0].shape[1], x.device)
        out, attentions, inputs = super().forward(x, mask, output_attentions, output_hidden_states=True,
                                                  memory=memory)
        # a layer's memory for the next segment is what entered it this time (inputs[i]), appended to its memory
        new_memory = [] if not self.memory_length else [
            remember(None if memory is None else memory[i], inputs[i], self.memory_length)
            for i in range(len(self.layers))]
        return TransformerXLOutput(last_hidden_state=out, memory=new_memory,
                                   attentions=tuple(attentions) if output_attentions else None)

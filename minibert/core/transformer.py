r"""The Transformer encoder block BERT stacks: residual attention and feed-forward sub-layers, post-LN or pre-LN.

.. math::  H = \mathrm{LayerNorm}(X + \mathrm{Dropout}(\mathrm{MultiHead}(X)))

.. math::  Y = \mathrm{LayerNorm}(H + \mathrm{Dropout}(W_2\,\mathrm{GELU}(W_1 H + b_1) + b_2))

(Vaswani et al., 2017, section 3.1: "LayerNorm(x + Sublayer(x))"; BERT swaps ReLU for GELU.) That is *post-LN*.
Xiong et al. (2020, "On Layer Normalization in the Transformer Architecture", section 3 and Figure 1) move the
LayerNorm inside the residual branch, *pre-LN*:

.. math::  H = X + \mathrm{Dropout}(\mathrm{MultiHead}(\mathrm{LayerNorm}(X))), \qquad
           Y = H + \mathrm{Dropout}(\mathrm{FFN}(\mathrm{LayerNorm}(H)))

and one more LayerNorm after the last layer (the residual stream is never normalised otherwise). Their Theorem 1:
at initialisation post-LN's gradients near the output are large, so it needs a learning-rate warm-up; pre-LN's are
well behaved and it trains without one. ``norm_position`` ("post" | "pre") switches one block between the two.
The sub-module names match :func:`minibert.reference.encoder_layer`'s parameter dict, so the NumPy reference can
be fed this module's weights directly.
"""
from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from .attention import MultiHeadSelfAttention
from .config import NORM_POSITIONS

__all__ = ["activation_function", "init_layer", "init_weights", "FeedForward", "EncoderLayer", "LayerStack", "Encoder",
           "SHARING_MODES", "NORM_POSITIONS"]


def activation_function(name: str):
    """BERT's activations by their Hugging Face names: ``gelu`` is exact (erf), ``gelu_new`` the tanh form."""
    table = {
        "gelu": F.gelu,
        "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
        "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "relu": F.relu,
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(table)}")
    return table[name]


def init_layer(module: nn.Module, std: float) -> None:
    """BERT's initialisation of one layer: N(0, std^2) weights, zero biases, LayerNorm at identity, zero padding
    embedding. Other modules are left alone (a model with parameters of its own initialises them next to this)."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, std=std)
        if module.padding_idx is not None:
            with torch.no_grad():
                module.weight[module.padding_idx].zero_()
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        if module.bias is not None:  # LayerNorm(bias=False) has none (ModernBERT)
            nn.init.zeros_(module.bias)


def init_weights(*modules: nn.Module, std: float) -> None:
    """:func:`init_layer` on every layer inside ``modules``, in ``Module.apply``'s order (children first), so the
    random draws, and with a seed the weights, are the same wherever a model calls it."""
    for module in modules:
        module.apply(lambda layer: init_layer(layer, std))


class FeedForward(nn.Module):
    """Position-wise FFN: the same two-layer MLP applied to every position, ``H -> 4H -> H`` in BERT."""

    def __init__(self, hidden_size: int, intermediate_size: int, activation: str = "gelu"):
        super().__init__()
        self.inner = nn.Linear(hidden_size, intermediate_size)
        self.outer = nn.Linear(intermediate_size, hidden_size)
        self.activation = activation_function(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outer(self.activation(self.inner(x)))


class EncoderLayer(nn.Module):
    """One encoder layer: self-attention and FFN, each with dropout and a residual add; ``norm_position="post"``
    (BERT) puts LayerNorm after each residual add, ``"pre"`` on the sub-layer's input (Xiong et al., 2020)."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        activation: str = "gelu",
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        layer_norm_eps: float = 1e-12,
        attention: nn.Module | None = None,
        norm_position: str = "post",
        ffn: nn.Module | None = None,
        norm_bias: bool = True,
        norm=None,
    ):
        super().__init__()
        if norm_position not in NORM_POSITIONS:
            raise ValueError(f"norm_position must be one of {NORM_POSITIONS} (post-LN as in BERT, pre-LN as in "
                             f"Xiong et al. 2020), got {norm_position!r}")
        self.norm_position = norm_position
        # Any attention with the signature ``(x, mask, need_weights, **inputs) -> (output, weights)`` plugs in here:
        # relative-position variants (Transformer-XL, DeBERTa) reuse the block around it unchanged.
        self.attention = attention if attention is not None else MultiHeadSelfAttention(
            hidden_size, num_heads, attention_dropout)
        # Likewise any position-wise ``x -> ffn(x)`` (ModernBERT's gated GeGLU, T5's bias-free FFN) and any ``norm``
        # (a class called as ``norm(hidden_size, eps=...)``: T5's RMSNorm); ``norm_bias=False`` drops the LayerNorms'
        # shift (ModernBERT has no biases at all).
        if norm is None:
            norm = partial(nn.LayerNorm, bias=norm_bias)
        self.attention_norm = norm(hidden_size, eps=layer_norm_eps)
        self.ffn = ffn if ffn is not None else FeedForward(hidden_size, intermediate_size, activation)
        self.ffn_norm = norm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)

    @classmethod
    def from_config(cls, config) -> "EncoderLayer":
        return cls(
            config.hidden_size, config.num_attention_heads, config.intermediate_size, config.hidden_act,
            config.hidden_dropout_prob, config.attention_probs_dropout_prob, config.layer_norm_eps,
            norm_position=getattr(config, "norm_position", "post"),
        )

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, need_weights: bool = False, **attention_inputs
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``attention_inputs`` go to the attention module as they are (a memory, relative embeddings, ...)."""
        source = self.attention_norm(x) if self.norm_position == "pre" else x
        attended, weights = self.attention(source, mask, need_weights, **attention_inputs)
        return self.after_attention(x, attended), weights

    def after_attention(self, x: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
        """The rest of the layer once attention has run: dropout, residual add and LayerNorm, then the same around
        the FFN. A layer whose attention returns several streams (XLNet's) finishes each one with this."""
        if self.norm_position == "pre":  # the attention already read attention_norm(x)
            x = x + self.dropout(attended)
            return x + self.dropout(self.ffn(self.ffn_norm(x)))
        x = self.attention_norm(x + self.dropout(attended))
        return self.ffn_norm(x + self.dropout(self.ffn(x)))


SHARING_MODES = ("none", "attention", "ffn", "all")


class LayerStack(nn.Module):
    """Layers applied one after the other: the loop every encoder in the course runs (BERT's, DeBERTa's,
    Transformer-XL's). It collects per-layer attentions and hidden states on request; a variant that feeds its
    layers something more (relative embeddings, a memory) or changes the state between layers overrides
    :meth:`layer_step` instead of copying the loop.

    ``depth`` layers are applied; with fewer modules in ``layers`` they are reused in order (ALBERT's sharing).
    ``final_norm`` (pre-LN's LayerNorm after the last layer) is applied to the last layer's output when set.
    """

    def __init__(self, layers, depth: int | None = None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.depth = len(self.layers) if depth is None else depth
        self.final_norm: nn.Module | None = None

    def layer(self, i: int) -> nn.Module:
        """The module applied at depth ``i``: layer ``i``, or the one shared layer (transformers' group index)."""
        return self.layers[i * len(self.layers) // self.depth]

    def layer_step(self, i: int, x: torch.Tensor, mask: torch.Tensor | None, need_weights: bool, **inputs):
        """Depth ``i`` of the stack: ``(x, weights)`` out of ``x``. ``inputs`` are what the stack's caller passed on
        beyond the mask; here they go to the layer as they are."""
        return self.layer(i)(x, mask, need_weights=need_weights, **inputs)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        **inputs,
    ) -> tuple[torch.Tensor, list[torch.Tensor] | None, list[torch.Tensor] | None]:
        """``(output, attentions, hidden_states)``; ``hidden_states`` holds every layer's input and the output."""
        attentions = [] if output_attentions else None
        hidden_states = [x] if output_hidden_states else None
        for i in range(self.depth):
            x, weights = self.layer_step(i, x, mask, output_attentions, **inputs)
            if output_attentions:
                attentions.append(weights)
            if self.final_norm is not None and i == self.depth - 1:
                x = self.final_norm(x)
            if output_hidden_states:
                hidden_states.append(x)
        return x, attentions, hidden_states


class Encoder(LayerStack):
    """BERT's stack of ``num_hidden_layers`` :class:`EncoderLayer`.

    ``config.cross_layer_sharing`` (ALBERT, Lan et al. 2019, section 3.1): ``"none"`` gives every layer its own
    weights (BERT); ``"all"`` applies one layer L times; ``"attention"`` / ``"ffn"`` let all layers share that
    sub-layer (with its LayerNorm) and keep their own copy of the other.

    ``config.norm_position == "pre"`` adds ``final_norm``, the LayerNorm after the last layer that pre-LN needs
    (Xiong et al., 2020, Figure 1 (b)); post-LN (BERT) has none, its last layer already ends in a LayerNorm.
    """

    def __init__(self, config):
        sharing, depth = config.cross_layer_sharing, config.num_hidden_layers
        if sharing not in SHARING_MODES:
            raise ValueError(f"cross_layer_sharing must be one of {SHARING_MODES}, got {sharing!r}")
        super().__init__((EncoderLayer.from_config(config) for _ in range(1 if sharing == "all" else depth)), depth)
        first = self.layers[0]
        for layer in self.layers[1:]:
            if sharing == "attention":
                layer.attention, layer.attention_norm = first.attention, first.attention_norm
            elif sharing == "ffn":
                layer.ffn, layer.ffn_norm = first.ffn, first.ffn_norm
        if getattr(config, "norm_position", "post") == "pre":
            self.final_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

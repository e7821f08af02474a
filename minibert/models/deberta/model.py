r"""DeBERTa-v2/v3: BERT's encoder with disentangled attention, a shared relative table, and the enhanced mask decoder.

He et al. (2021), "DeBERTa: Decoding-enhanced BERT with Disentangled Attention"; v2 adds log buckets, a LayerNorm on
the relative table, shared position projections and an optional convolution after the first layer; v3 (He et al.,
2023) keeps the v2 architecture. Every layer is the post-LN block of :class:`~minibert.core.transformer.EncoderLayer`
around :class:`~minibert.models.deberta.disentangled_attention.DisentangledSelfAttention`, all layers reading one table
of ``2 * span`` relative embeddings.

Absolute positions come in late. v2/v3 add none at the input (``position_biased_input=False``); the *enhanced mask
decoder* (section 3.2) adds them just before predicting masked tokens. With :math:`H^{L-1}` the input of the last
layer and :math:`P` the absolute position embeddings, it runs the last layer twice more with queries
:math:`Q^{(0)} = H^{L-1} + P` and keys/values :math:`H^{L-1}`:

.. math::  Q^{(s+1)} = \mathrm{Layer}_L(\text{queries } Q^{(s)},\ \text{keys/values } H^{L-1}), \qquad
           \text{logits} = \mathrm{MLMHead}(Q^{(2)})

so "store" and "mall" in "a new store opened beside the new mall" can be told apart by where they are, not only by
what is around them. The model class equals ``transformers.DebertaV2Model`` given the same weights and
reads/writes its checkpoints (tests: ``tests/test_deberta.py``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from minibert.core.attention import attention_mask_bias
from minibert.core.checkpoints import KeyRule, PretrainedMixin, prefixed_rules
from minibert.core.config import BertConfig
from minibert.core.positions import deberta_log_buckets
from minibert.core.transformer import EncoderLayer, LayerStack, activation_function, init_weights
from minibert.models.bert.heads import BertForMaskedLM, MaskedLMHead, _mlm_output
from minibert.models.bert.model import BertOutput, check_inputs
from .disentangled_attention import POSITION_TERMS, DisentangledSelfAttention

__all__ = ["DebertaV2Config", "DebertaV2Embeddings", "DebertaV2Encoder", "DebertaV2Model", "DebertaV2ForMaskedLM",
           "DEBERTA_KEY_RULES", "enhanced_mask_decoder"]


@dataclass
class DebertaV2Config(BertConfig):
    """DeBERTa-v2 hyper-parameters under ``transformers``' names. Defaults are ``transformers.DebertaV2Config()``'s
    (so a ``config.json`` that omits a key means the same thing to both); :meth:`v3_base` is the model people use."""

    vocab_size: int = 128100
    hidden_size: int = 1536
    num_hidden_layers: int = 24
    num_attention_heads: int = 24
    intermediate_size: int = 6144
    type_vocab_size: int = 0
    layer_norm_eps: float = 1e-7
    relative_attention: bool = False
    max_relative_positions: int = -1  # < 1: use max_position_embeddings
    position_buckets: int = -1  # > 0: log buckets with this many distances per side
    pos_att_type: list = field(default_factory=list)
    position_biased_input: bool = True  # add absolute positions at the input (v1); v2/v3 do not
    share_att_key: bool = False
    norm_rel_ebd: str = "none"
    conv_kernel_size: int = 0
    conv_groups: int = 1
    conv_act: str = "tanh"

    def __post_init__(self) -> None:
        if self.pos_att_type is None:
            self.pos_att_type = []
        if isinstance(self.pos_att_type, str):
            self.pos_att_type = [t.strip() for t in self.pos_att_type.lower().split("|") if t.strip()]
        if not isinstance(self.pos_att_type, (list, tuple)):
            raise TypeError(f"pos_att_type must be a list of {POSITION_TERMS} or a string like 'p2c|c2p', "
                            f"got {self.pos_att_type!r}")
        self.pos_att_type = list(self.pos_att_type)
        super().__post_init__()
        if set(self.pos_att_type) - set(POSITION_TERMS):
            raise ValueError(f"pos_att_type may contain {POSITION_TERMS}, got {self.pos_att_type}")
        if {t.strip() for t in self.norm_rel_ebd.lower().split("|")} - {"none", "layer_norm"}:
            raise ValueError(f"norm_rel_ebd must be 'none' or 'layer_norm', got {self.norm_rel_ebd!r}")
        if self.conv_kernel_size and (self.conv_kernel_size < 0 or self.conv_kernel_size % 2 == 0):
            raise ValueError(f"conv_kernel_size must be 0 (no convolution) or odd, got {self.conv_kernel_size}")
        if self.relative_attention and self.position_buckets > 0:  # raises if the buckets do not fit the range
            deberta_log_buckets(torch.zeros(1, dtype=torch.long), self.position_buckets, self.relative_span_limit)

    @property
    def relative_span_limit(self) -> int:
        """``max_relative_positions``, or ``max_position_embeddings`` when it is unset (< 1)."""
        return self.max_relative_positions if self.max_relative_positions >= 1 else self.max_position_embeddings

    @classmethod
    def v3_base(cls, **overrides: Any) -> "DebertaV2Config":
        """microsoft/deberta-v3-base: 12 layers, 768 wide, 128K vocabulary, 256 log buckets, shared keys."""
        sizes = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                     relative_attention=True, position_buckets=256, norm_rel_ebd="layer_norm", share_att_key=True,
                     pos_att_type=["p2c", "c2p"], position_biased_input=False)
        return cls(**{**sizes, **overrides})

    @classmethod
    def v3_large(cls, **overrides: Any) -> "DebertaV2Config":
        """microsoft/deberta-v3-large: 24 layers, 1024 wide, 16 heads."""
        return cls.v3_base(**{**dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                     intermediate_size=4096), **overrides})

    @classmethod
    def tiny(cls, **overrides: Any) -> "DebertaV2Config":
        """v3's switches at the size of a notebook: 2 layers, 64 wide, 16 buckets."""
        return cls.v3_base(**{**dict(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=256, max_position_embeddings=128, position_buckets=16),
                              **overrides})

    def to_hf_dict(self, architecture: str = "DebertaV2Model") -> dict[str, Any]:
        return {"architectures": [architecture], "model_type": "deberta-v2", **self.to_dict()}


class DebertaV2Embeddings(nn.Module):
    """Token (+ absolute position if ``position_biased_input``) (+ segment) embeddings, projected to the hidden size
    if ``embedding_size`` differs, normalised, zeroed at padding. ``absolute_positions=True`` keeps a position table
    even when it is not added at the input (the enhanced mask decoder needs it)."""

    def __init__(self, config: DebertaV2Config, absolute_positions: bool | None = None):
        super().__init__()
        size = config.embedding_width
        keep = config.position_biased_input if absolute_positions is None else absolute_positions
        self.add_positions = config.position_biased_input
        self.token = nn.Embedding(config.vocab_size, size, padding_idx=config.pad_token_id)
        self.position = nn.Embedding(config.max_position_embeddings, size) if keep else None
        self.segment = nn.Embedding(config.type_vocab_size, size) if config.type_vocab_size else None
        self.projection = nn.Linear(size, config.hidden_size, bias=False) if size != config.hidden_size else None
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids=None, position_ids=None, mask=None) -> torch.Tensor:
        if position_ids is None:
            position_ids = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.token(input_ids)
        if self.add_positions:
            x = x + self.position(position_ids)
        if self.segment is not None:
            x = x + (self.segment(token_type_ids) if token_type_ids is not None else self.segment.weight[0])
        if self.projection is not None:
            x = self.projection(x)
        x = self.norm(x)
        if mask is not None:
            x = x * mask[..., None].to(x.dtype)
        return self.dropout(x)


class DebertaConv(nn.Module):
    """DeBERTa-v2's n-gram convolution, added to the first layer's output: ``LN(h + act(conv(embeddings)))``."""

    def __init__(self, config: DebertaV2Config):
        super().__init__()
        k = config.conv_kernel_size
        self.conv = nn.Conv1d(config.hidden_size, config.hidden_size, k, padding=(k - 1) // 2, groups=config.conv_groups)
        self.activation = torch.tanh if config.conv_act == "tanh" else activation_function(config.conv_act)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, embeddings: torch.Tensor, layer_output: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        real = mask[..., None].to(embeddings.dtype)
        out = self.conv(embeddings.transpose(1, 2)).transpose(1, 2) * real
        return self.norm(layer_output + self.activation(self.dropout(out))) * real


class DebertaV2Encoder(LayerStack):
    """The layers, the shared relative embedding table (optionally layer-normed) and the optional convolution."""

    def __init__(self, config: DebertaV2Config):
        c = config
        super().__init__(
            EncoderLayer(c.hidden_size, c.num_attention_heads, c.intermediate_size, c.hidden_act,
                         c.hidden_dropout_prob, c.attention_probs_dropout_prob, c.layer_norm_eps,
                         attention=DisentangledSelfAttention(
                             c.hidden_size, c.num_attention_heads, c.relative_span_limit, c.position_buckets,
                             c.pos_att_type, c.share_att_key, c.relative_attention, c.attention_probs_dropout_prob,
                             c.hidden_dropout_prob))
            for _ in range(c.num_hidden_layers))
        span = c.position_buckets if c.position_buckets > 0 else c.relative_span_limit
        self.relative_embeddings = nn.Embedding(2 * span, c.hidden_size) if c.relative_attention else None
        self.relative_norm = (nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
                              if c.relative_attention and "layer_norm" in c.norm_rel_ebd.lower() else None)
        self.conv = DebertaConv(c) if c.conv_kernel_size else None

    def relative_table(self) -> torch.Tensor | None:
        """The ``(2 span, H)`` relative embeddings every layer reads (after the LayerNorm, if any)."""
        if self.relative_embeddings is None:
            return None
        table = self.relative_embeddings.weight
        return self.relative_norm(table) if self.relative_norm is not None else table

    def layer_step(self, i, x, mask, need_weights, embeddings, real, relative_embeddings):
        """Every layer reads the one relative table; the convolution over the embeddings joins after the first."""
        x, weights = self.layers[i](x, mask, need_weights=need_weights, relative_embeddings=relative_embeddings)
        if i == 0 and self.conv is not None:
            x = self.conv(embeddings, x, real)
        return x, weights

    def forward(self, x, bias, real, output_attentions=False, output_hidden_states=False):
        return super().forward(x, bias, output_attentions, output_hidden_states, embeddings=x, real=real,
                               relative_embeddings=self.relative_table())


DEBERTA_KEY_RULES = [
    KeyRule("embeddings.word_embeddings.", "embeddings.token."),
    KeyRule("embeddings.position_embeddings.", "embeddings.position."),
    KeyRule("embeddings.token_type_embeddings.", "embeddings.segment."),
    KeyRule("embeddings.embed_proj.", "embeddings.projection."),
    KeyRule("embeddings.LayerNorm.", "embeddings.norm."),
    *[KeyRule(f"encoder.layer.{{i}}.attention.self.{hf}.", f"encoder.layers.{{i}}.attention.{ours}.")
      for hf, ours in [("query_proj", "query"), ("key_proj", "key"), ("value_proj", "value"),
                       ("pos_key_proj", "position_key"), ("pos_query_proj", "position_query")]],
    KeyRule("encoder.layer.{i}.attention.output.dense.", "encoder.layers.{i}.attention.output."),
    KeyRule("encoder.layer.{i}.attention.output.LayerNorm.", "encoder.layers.{i}.attention_norm."),
    KeyRule("encoder.layer.{i}.intermediate.dense.", "encoder.layers.{i}.ffn.inner."),
    KeyRule("encoder.layer.{i}.output.dense.", "encoder.layers.{i}.ffn.outer."),
    KeyRule("encoder.layer.{i}.output.LayerNorm.", "encoder.layers.{i}.ffn_norm."),
    KeyRule("encoder.rel_embeddings.", "encoder.relative_embeddings."),
    KeyRule("encoder.LayerNorm.", "encoder.relative_norm."),
    KeyRule("encoder.conv.conv.", "encoder.conv.conv."),
    KeyRule("encoder.conv.LayerNorm.", "encoder.conv.norm."),
]


class DebertaV2Model(PretrainedMixin, nn.Module):
    """The DeBERTa-v2 encoder; ``model(input_ids, token_type_ids=None, attention_mask=None)`` returns a
    :class:`~minibert.models.bert.model.BertOutput` (no pooler). ``attention_mask``: ``(batch, T)``, 1 = real token."""

    config_class = DebertaV2Config
    hf_architecture = "DebertaV2Model"
    hf_key_rules = DEBERTA_KEY_RULES
    hf_ignore = (r"position_ids$", r"^embeddings\.position_embeddings\.", r"^lm_predictions\.",
                 r"^mask_predictions\.", r"^cls\.", r"^pooler\.", r"^classifier\.", r"^qa_outputs\.")
    hf_base_prefix = "deberta."

    def __init__(self, config: DebertaV2Config, absolute_positions: bool | None = None):
        super().__init__()
        self.check_config(config)
        self.config = config
        self.embeddings = DebertaV2Embeddings(config, absolute_positions)
        self.encoder = DebertaV2Encoder(config)
        init_weights(self, std=config.initializer_range)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, output_attentions: bool = False,
                output_hidden_states: bool = False, position_ids=None) -> BertOutput:
        mask = check_inputs(self.config, input_ids, token_type_ids, attention_mask, position_ids)
        if mask is not None and mask.dim() != 2:
            raise ValueError("DeBERTa takes a (batch, T) attention_mask (1 = real token, 0 = padding)")
        real = mask if mask is not None else torch.ones_like(input_ids, dtype=torch.bool)
        x = self.embeddings(input_ids, token_type_ids, position_ids, real)
        x, attentions, hidden = self.encoder(x, attention_mask_bias(real, x.dtype), real, output_attentions,
                                             output_hidden_states)
        return BertOutput(last_hidden_state=x, attentions=tuple(attentions) if output_attentions else None,
                          hidden_states=tuple(hidden) if output_hidden_states else None)


def enhanced_mask_decoder(model: DebertaV2Model, hidden_states, attention_mask=None, position_ids=None,
                          steps: int = 2) -> torch.Tensor:
    """Queries ``H^{L-1} + P`` through the last layer ``steps`` times, keys and values ``H^{L-1}``
    (``hidden_states`` as returned with ``output_hidden_states=True``)."""
    if model.embeddings.position is None:
        raise ValueError("the enhanced mask decoder needs absolute position embeddings: build the model with "
                         "absolute_positions=True")
    context = hidden_states[-2]
    batch, length, width = context.shape
    if model.embeddings.position.embedding_dim != width:
        raise ValueError("the enhanced mask decoder adds position embeddings to hidden states: embedding_size must "
                         "equal hidden_size")
    if position_ids is None:
        position_ids = torch.arange(length, device=context.device)
    bias = attention_mask_bias(None if attention_mask is None else attention_mask.bool(), context.dtype)
    query = context + model.embeddings.position(position_ids)
    last, table = model.encoder.layers[-1], model.encoder.relative_table()
    for _ in range(steps):
        query, _ = last(query, bias, relative_embeddings=table, context=context)
    return query


_LM_RULES = [KeyRule("lm_predictions.lm_head.dense.", "mlm.dense."),
             KeyRule("lm_predictions.lm_head.LayerNorm.", "mlm.norm."),
             KeyRule("lm_predictions.lm_head.bias", "mlm.bias")]


class DebertaV2ForMaskedLM(PretrainedMixin, nn.Module):
    """DeBERTa with the MLM head tied to the token embeddings. As in the original code, the head reads the enhanced
    mask decoder's output when positions are not added at the input (v2/v3), the last layer otherwise (then it equals
    ``transformers.DebertaV2ForMaskedLM``, which has no decoder). The decoder's absolute position table is stored as
    ``deberta.embeddings.position_embeddings`` like in Microsoft's checkpoints; ``transformers`` drops that tensor,
    so a v2/v3 folder saved by ``transformers`` lacks it and loading reports it missing."""

    config_class = DebertaV2Config
    hf_architecture = "DebertaV2ForMaskedLM"
    hf_key_rules = prefixed_rules(DEBERTA_KEY_RULES, hf="deberta.", ours="deberta.") + _LM_RULES
    hf_ignore = (r"position_ids$", r"^mask_predictions\.", r"^cls\.", r"^lm_predictions\.lm_head\.decoder\.")
    encoder_attribute = "deberta"

    def __init__(self, config: DebertaV2Config):
        super().__init__()
        self.assemble(config, DebertaV2Model(config, absolute_positions=True), mlm=MaskedLMHead(config))

    @property
    def uses_enhanced_mask_decoder(self) -> bool:
        return not self.config.position_biased_input

    fill_mask = BertForMaskedLM.fill_mask  # top-k guesses at each mask token, exactly as for BERT

    def _extra_hf_config(self) -> dict:
        return {"legacy": False}  # transformers' non-legacy head = this one (dense, act, LayerNorm, tied decoder)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, labels=None, *, positions=None,
                return_logits: bool | None = None, label_smoothing: float = 0.0, output_attentions: bool = False):
        out = self.deberta(input_ids, token_type_ids, attention_mask, output_attentions,
                           output_hidden_states=self.uses_enhanced_mask_decoder)
        if self.uses_enhanced_mask_decoder:
            decoded = enhanced_mask_decoder(self.deberta, out.hidden_states, attention_mask)
            out = dataclasses.replace(out, last_hidden_state=decoded)
        return _mlm_output(self.mlm, self.deberta, out, input_ids, labels, return_logits, label_smoothing, positions)

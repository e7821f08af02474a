r"""ModernBERT: BERT's encoder rebuilt with six years of later findings, equal to ``transformers.ModernBertModel``.

Warner et al. (2024), "Smarter, Better, Faster, Longer" (section 2.1, "Architectural Improvements"), change BERT in
five places, each taken from an earlier paper:

* no biases in any linear layer or LayerNorm, except the MLM decoder's (section 2.1.1, like the next three);
* rotary positions instead of a learned table (Su et al. 2021; :mod:`minibert.core.rotary`): queries and keys are
  rotated, :math:`q_m \mapsto R_{\Theta,m} q_m`, so scores depend on offsets only and no table limits the length;
* pre-LN (Xiong et al. 2020; :class:`~minibert.core.transformer.EncoderLayer` with ``norm_position="pre"``), a
  LayerNorm after the embeddings and one after the last layer; the first layer's attention skips its LayerNorm, since
  the embeddings were just normalised;
* GeGLU instead of the GELU MLP (Shazeer 2020, "GLU Variants Improve Transformer", section 2):

  .. math::  \mathrm{FFN}_{\mathrm{GeGLU}}(x) = \big(\mathrm{GELU}(x W) \otimes x V\big)\, W_2

  ``W`` and ``V`` are stored as one matrix ``Wi`` of twice the inner width, as in ``transformers``;
* alternating global and local attention (section 2.1.2; :mod:`.local_attention`), with a RoPE base of 160,000 in the
  global layers and 10,000 in the local ones;

plus unpadding (section 2.1.2; :mod:`.unpadding`), an efficiency change that leaves the outputs as they are:
``model(..., unpad=True)`` runs every layer on the batch's real tokens only.
"""
from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.checkpoints import KeyRule, PretrainedMixin, prefixed_rules
from minibert.core.inputs import IGNORE_INDEX, labels as check_labels
from minibert.core.rotary import RotaryEmbedding
from minibert.core.transformer import EncoderLayer, LayerStack, activation_function
from minibert.models.bert.heads import MaskedLMOutput
from minibert.models.bert.model import BertOutput, check_inputs
from .config import ModernBertConfig
from .layers import GatedFeedForward, RotarySelfAttention
from .local_attention import layer_masks, sliding_window_mask
from .unpadding import pad, segment_positions, unpad as pack_real_tokens

__all__ = ["ModernBertEncoder", "ModernBertModel", "ModernBertForMaskedLM",
           "MODERNBERT_KEY_RULES", "init_modernbert"]


def _norm(config: ModernBertConfig) -> nn.LayerNorm:
    return nn.LayerNorm(config.hidden_size, eps=config.norm_eps, bias=config.norm_bias)


class ModernBertEncoder(LayerStack):
    """Pre-LN layers (GeGLU, RoPE attention, global or local by ``config.attention_types``) and the final norm."""

    def __init__(self, config: ModernBertConfig):
        c, kinds = config, config.attention_types
        super().__init__(
            EncoderLayer(c.hidden_size, c.num_attention_heads, c.intermediate_size, dropout=0.0,
                         layer_norm_eps=c.norm_eps, norm_position="pre", norm_bias=c.norm_bias,
                         attention=RotarySelfAttention(c.hidden_size, c.num_attention_heads, c.attention_dropout,
                                                       c.attention_bias,
                                                       c.local_attention if kind == "sliding_attention" else None),
                         ffn=GatedFeedForward(c.hidden_size, c.intermediate_size, c.hidden_activation, c.mlp_bias,
                                              c.mlp_dropout))
            for kind in kinds)
        self.layers[0].attention_norm = nn.Identity()  # the embeddings' LayerNorm has just run
        self.final_norm = _norm(config)
        self.kinds, self.window = kinds, c.local_attention
        # the padded path's window, as a function (length, window) -> (T, T) booleans; swappable (exercise 15.1)
        self.window_mask = sliding_window_mask
        self.rotary = nn.ModuleDict({"full_attention": RotaryEmbedding(c.head_size, c.global_rope_theta),
                                     "sliding_attention": RotaryEmbedding(c.head_size, c.local_rope_theta)})

    def layer_step(self, i, x, mask, need_weights, masks, rope, segments):
        """Layer ``i`` reads its kind's mask and rotation: global or local."""
        kind = self.kinds[i]
        return self.layers[i](x, masks[kind], need_weights=need_weights, rope=rope[kind], segments=segments)

    def forward(self, x, positions, real=None, segments=None, output_attentions=False, output_hidden_states=False):
        """``real``: the ``(B, T)`` mask of a padded batch; ``segments``: the ``cu_seqlens`` of a packed one."""
        rope = {kind: rotary(positions, x.dtype) for kind, rotary in self.rotary.items()}
        masks = (dict.fromkeys(rope) if segments is not None
                 else layer_masks(real, self.window, x.dtype, self.window_mask))
        return super().forward(x, None, output_attentions, output_hidden_states, masks=masks, rope=rope,
                               segments=segments)


class ModernBertEmbeddings(nn.Module):
    """Token embeddings, LayerNorm, dropout: no positions are added (RoPE rotates inside attention)."""

    def __init__(self, config: ModernBertConfig):
        super().__init__()
        self.token = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.norm = _norm(config)
        self.dropout = nn.Dropout(config.embedding_dropout)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.norm(self.token(input_ids)))


def init_modernbert(model: nn.Module, config: ModernBertConfig) -> None:
    """transformers' initialisation: truncated normals (cut at ``initializer_cutoff_factor`` std), std
    ``initializer_range`` for embeddings and input projections, divided by sqrt(2 L) for output projections."""
    std_in = config.initializer_range
    std_out = std_in / math.sqrt(2.0 * config.num_hidden_layers)
    cut = config.initializer_cutoff_factor

    def draw(linear, std):
        nn.init.trunc_normal_(linear.weight, std=std, a=-cut * std, b=cut * std)
        if getattr(linear, "bias", None) is not None:
            nn.init.zeros_(linear.bias)

    for module in model.modules():
        if isinstance(module, ModernBertEmbeddings):
            draw(module.token, std_in)
        elif isinstance(module, (RotarySelfAttention, GatedFeedForward)):
            for name, linear in module.named_children():
                if isinstance(linear, nn.Linear):
                    draw(linear, std_out if name in ("output", "outer") else std_in)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


# transformers' key names (left) and ours (right). Wqkv is split into query/key/value on the way in and joined again
# on the way out (``ModernBertModel._hf_state_for_loading`` / ``hf_checkpoint``).
MODERNBERT_KEY_RULES = [
    KeyRule("embeddings.tok_embeddings.", "embeddings.token."),
    KeyRule("embeddings.norm.", "embeddings.norm."),
    KeyRule("layers.{i}.attn_norm.", "encoder.layers.{i}.attention_norm."),
    KeyRule("layers.{i}.attn.Wqkv.", "encoder.layers.{i}.attention.qkv."),
    *[KeyRule(f"layers.{{i}}.attn.Wqkv_{part}.", f"encoder.layers.{{i}}.attention.{part}.")
      for part in ("query", "key", "value")],
    KeyRule("layers.{i}.attn.Wo.", "encoder.layers.{i}.attention.output."),
    KeyRule("layers.{i}.mlp_norm.", "encoder.layers.{i}.ffn_norm."),
    KeyRule("layers.{i}.mlp.Wi.", "encoder.layers.{i}.ffn.inner."),
    KeyRule("layers.{i}.mlp.Wo.", "encoder.layers.{i}.ffn.outer."),
    KeyRule("final_norm.", "encoder.final_norm."),
]


def split_fused_qkv(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``...attn.Wqkv.weight`` ``(3H, H)`` -> three ``(H, H)`` tensors, rows in transformers' order q, k, v."""
    out = {}
    for key, tensor in state.items():
        if ".attn.Wqkv." in key:
            for part, piece in zip(("query", "key", "value"), tensor.chunk(3, dim=0)):
                out[key.replace(".attn.Wqkv.", f".attn.Wqkv_{part}.")] = piece
        else:
            out[key] = tensor
    return out


def join_qkv(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of :func:`split_fused_qkv` on minibert's names: query/key/value -> one ``qkv`` tensor."""
    out = {}
    for key, tensor in state.items():
        part = re.fullmatch(r"(.*\.attention\.)(query|key|value)(\..*)", key)
        if part is None:
            out[key] = tensor
        elif part.group(2) == "query":
            head, tail = part.group(1), part.group(3)
            out[head + "qkv" + tail] = torch.cat([state[head + p + tail] for p in ("query", "key", "value")])
    return out


class _FusedQKVCheckpoints(PretrainedMixin):
    """Checkpoint hooks shared by the encoder and the MLM model: transformers fuses W^Q, W^K, W^V into ``Wqkv``."""

    @classmethod
    def _hf_state_for_loading(cls, state):
        return split_fused_qkv(super()._hf_state_for_loading(state))

    def hf_checkpoint(self):
        config_dict, state = super().hf_checkpoint()
        return config_dict, join_qkv(state)


class ModernBertModel(_FusedQKVCheckpoints, nn.Module):
    """``model(input_ids, attention_mask=None, ..., unpad=False)`` -> :class:`~minibert.models.bert.model.BertOutput`
    (no pooler). ``attention_mask`` is ``(batch, T)``, 1 = real token. Positions are ``0 .. T-1`` in every row, as in
    transformers (left padding shifts them, and RoPE makes that harmless). ``unpad=True`` runs the layers on the real
    tokens only (:mod:`.unpadding`) and returns zeros at the padding."""

    config_class = ModernBertConfig
    hf_architecture = "ModernBertModel"
    hf_key_rules = MODERNBERT_KEY_RULES
    hf_ignore = (r"^head\.", r"^decoder\.", r"^classifier\.", r"^drop\.")
    hf_base_prefix = "model."

    def __init__(self, config: ModernBertConfig):
        super().__init__()
        self.check_config(config)
        self.config = config
        self.embeddings = ModernBertEmbeddings(config)
        self.encoder = ModernBertEncoder(config)
        init_modernbert(self, config)

    def forward(self, input_ids, attention_mask=None, output_attentions: bool = False,
                output_hidden_states: bool = False, position_ids=None, unpad: bool = False) -> BertOutput:
        mask = check_inputs(self.config, input_ids, None, attention_mask, position_ids)
        if mask is not None and mask.dim() != 2:
            raise ValueError("ModernBERT takes a (batch, T) attention_mask (1 = real token, 0 = padding)")
        batch, length = input_ids.shape
        real = mask if mask is not None else torch.ones_like(input_ids, dtype=torch.bool)
        if not unpad:
            if position_ids is None:
                position_ids = torch.arange(length, device=input_ids.device)
            x = self.embeddings(input_ids)
            x, attentions, hidden = self.encoder(x, position_ids, real, None, output_attentions, output_hidden_states)
        else:
            if output_attentions or position_ids is not None:
                raise ValueError("unpad=True computes its own positions and returns no attention weights")
            if not bool(real.any()):
                raise ValueError("attention_mask marks no real token: there is nothing to unpad")
            ids, indices, segments, _ = pack_real_tokens(input_ids, real)
            x = self.embeddings(ids[None])
            x, attentions, hidden = self.encoder(x, segment_positions(segments), None, segments, False,
                                                 output_hidden_states)
            x = pad(x[0], indices, batch, length)
            hidden = [pad(h[0], indices, batch, length) for h in hidden] if output_hidden_states else None
        return BertOutput(last_hidden_state=x, attentions=tuple(attentions) if output_attentions else None,
                          hidden_states=tuple(hidden) if output_hidden_states else None)


class ModernBertPredictionHead(nn.Module):
    """``LayerNorm(act(dense(h)))`` before the decoder (transformers' ``ModernBertPredictionHead``)."""

    def __init__(self, config: ModernBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size, bias=config.classifier_bias)
        self.activation = activation_function(config.classifier_activation)
        self.norm = _norm(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.activation(self.dense(x)))


class ModernBertForMaskedLM(_FusedQKVCheckpoints, nn.Module):
    """ModernBERT with its MLM head; the decoder is the token embedding table (tied) plus a bias."""

    config_class = ModernBertConfig
    hf_architecture = "ModernBertForMaskedLM"
    hf_key_rules = prefixed_rules(MODERNBERT_KEY_RULES, hf="model.", ours="model.") + [
        KeyRule("head.dense.", "head.dense."), KeyRule("head.norm.", "head.norm."),
        KeyRule("decoder.bias", "decoder_bias")]
    hf_ignore = (r"^decoder\.weight$",)  # tied: the token embeddings

    def __init__(self, config: ModernBertConfig):
        super().__init__()
        self.check_config(config)
        self.config = config
        self.model = ModernBertModel(config)
        self.head = ModernBertPredictionHead(config)
        std = config.initializer_range / math.sqrt(2.0 * config.num_hidden_layers)
        cut = config.initializer_cutoff_factor
        nn.init.trunc_normal_(self.head.dense.weight, std=std, a=-cut * std, b=cut * std)
        self.decoder_bias = nn.Parameter(torch.zeros(config.vocab_size)) if config.decoder_bias else None

    def forward(self, input_ids, attention_mask=None, labels=None, output_attentions: bool = False,
                unpad: bool = False) -> MaskedLMOutput:
        out = self.model(input_ids, attention_mask, output_attentions, unpad=unpad)
        logits = F.linear(self.head(out.last_hidden_state), self.model.embeddings.token.weight, self.decoder_bias)
        loss = None
        if labels is not None:
            check_labels(labels, tuple(input_ids.shape), self.config.vocab_size)
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)
        return MaskedLMOutput(loss=loss, logits=logits, attentions=out.attentions)

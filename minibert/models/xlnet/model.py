r"""XLNet: a permutation language model with two-stream attention on Transformer-XL's relative attention and memory.

Yang et al. (2019), "XLNet: Generalized Autoregressive Pretraining for Language Understanding", section 2.3. The
masks of :mod:`minibert.models.xlnet.permutation` decide who sees whom;
:mod:`minibert.models.xlnet.two_stream_attention` is one layer (the content stream :math:`h` and the query stream
:math:`g` through Transformer-XL's relative attention with shared weights); this module stacks the layers, keeps the
memory, and predicts:

.. math::  p(x_{z_t} \mid x_{z_{<t}}) = \mathrm{softmax}(E\, g_{z_t}^{(M)} + b)

:math:`h^{(0)}` is the token embedding, :math:`g^{(0)} = w` one learned vector (``mask_emb``): the query stream knows
*where* it predicts (through the relative positions) but not *what*. As in Transformer-XL, the content-stream input
of every layer is cached (no gradient) as the next segment's memory, visible to every position of that segment.

:class:`XLNetLMHeadModel` equals ``transformers.XLNetLMHeadModel`` given the same weights, ``perm_mask``,
``target_mapping``, padding and memory, and reads and writes its checkpoints (``tests/test_xlnet.py``). One
deliberate difference: a query that may see nothing at all (the first step of an order when every position is
predicted and there is no memory) gets an empty context here, where ``transformers`` (like XLNet's original code)
lets it attend evenly to every key, its own token included (:meth:`XLNetAttention.attend`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.checkpoints import KeyRule, PretrainedMixin
from minibert.core.outputs import ModelOutput
from minibert.core.transformer import init_layer
from minibert.core.inputs import binary_mask, integer_tensor, labels as checked_labels, token_ids
from minibert.models.transformer_xl import remember
from .config import XLNetConfig
from .two_stream_attention import XLNetAttention, XLNetLayer, two_stream_masks

__all__ = ["XLNetModel", "XLNetLMHeadModel", "XLNetOutput", "XLNET_KEY_RULES"]

@dataclass(kw_only=True)
class XLNetOutput(ModelOutput):
    """``last_hidden_state``: the query stream ``(B, P, H)`` when there are targets, else the content stream
    ``(B, T, H)``; ``memory``: per layer the states to pass with the next segment; ``attentions``: per layer
    ``(content, query)`` weights, each ``(B, heads, T, M + T)`` (query: rows at the targets' positions)."""

    last_hidden_state: torch.Tensor
    memory: list[torch.Tensor]


class XLNetModel(nn.Module):
    """Word embeddings, the two streams through ``n_layer`` :class:`XLNetLayer`, and the memory.

    ``model(input_ids, attention_mask=None, perm_mask=None, target_mapping=None, token_type_ids=None, memory=None)``
    with ``transformers``' conventions: ``perm_mask[b, i, j] = 1`` means i may NOT attend to j;
    ``target_mapping[b, k]`` is a one-hot row picking the position of the k-th prediction.
    """

    def __init__(self, config: XLNetConfig):
        super().__init__()
        self.config = config
        self.word_embedding = nn.Embedding(config.vocab_size, config.d_model)
        self.mask_emb = nn.Parameter(torch.zeros(1, 1, config.d_model))  # g^(0): the same for every target
        self.layers = nn.ModuleList(XLNetLayer(config) for _ in range(config.n_layer))
        self.dropout = nn.Dropout(config.dropout)

    def _check(self, input_ids, attention_mask, perm_mask, target_mapping, token_type_ids, memory):
        input_ids = token_ids(input_ids, self.config.vocab_size)
        batch, length = input_ids.shape
        if attention_mask is not None:
            binary_mask("attention_mask", attention_mask, {(batch, length): "1 = token, 0 = padding"})
        if perm_mask is not None:
            binary_mask("perm_mask", perm_mask, {(batch, length, length): "1 = may NOT attend; see "
                                                 "minibert.models.xlnet.permutation.to_perm_mask"})
        targets = None
        if target_mapping is not None:
            if not isinstance(target_mapping, torch.Tensor):
                raise TypeError(f"target_mapping must be a torch.Tensor (batch, num_predict, T) of one-hot rows, got "
                                f"{type(target_mapping).__name__}; see minibert.models.xlnet.permutation.target_mapping")
            if target_mapping.dim() != 3 or target_mapping.shape[0] != batch or target_mapping.shape[2] != length:
                raise ValueError(f"target_mapping must be (batch={batch}, num_predict, T={length}), got "
                                 f"{tuple(target_mapping.shape)}")
            if not bool(((target_mapping == 0) | (target_mapping == 1)).all() and (target_mapping.sum(-1) == 1).all()):
                raise ValueError("each row of target_mapping must be one-hot: one position per prediction")
            targets = target_mapping.argmax(-1)
        if token_type_ids is not None:
            integer_tensor("token_type_ids", token_type_ids, (batch, length))
        if memory is not None and (len(memory) != len(self.layers)):
            raise ValueError(f"memory must hold one tensor per layer ({len(self.layers)}), got {len(memory)}")
        if memory:
            width, kept = self.config.d_model, memory[0].shape[1] if isinstance(memory[0], torch.Tensor) else None
            for m in memory:
                if (not isinstance(m, torch.Tensor) or not m.is_floating_point() or m.dim() != 3
                        or m.shape[0] != batch or m.shape[1] != kept or m.shape[2] != width):
                    raise ValueError(f"memory must hold per layer a float tensor (batch={batch}, memory_length, "
                                     f"d_model={width}), all equally long, got "
                                     f"{tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__}; pass "
                                     "the memory the previous call returned")
        return batch, length, targets

    def forward(self, input_ids, attention_mask=None, perm_mask=None, target_mapping=None, token_type_ids=None,
                memory=None, output_attentions: bool = False) -> XLNetOutput:
        batch, length, targets = self._check(input_ids, attention_mask, perm_mask, target_mapping, token_type_ids,
                                             memory)
        memory = memory or None
        memory_length = 0 if memory is None else memory[0].shape[1]
        content_mask, query_mask = two_stream_masks(perm_mask, attention_mask, batch, length, memory_length,
                                                    input_ids.device)
        different = None
        if token_type_ids is not None:  # memory counts as segment 0, as in XLNet's code
            keys = torch.cat([token_type_ids.new_zeros(batch, memory_length), token_type_ids], dim=1)
            different = token_type_ids[:, :, None] != keys[:, None, :]
        h = self.dropout(self.word_embedding(input_ids))
        g = None if targets is None else self.dropout(self.mask_emb.expand(batch, targets.shape[1], -1))
        # Two streams under two masks pass through every layer, so this is not LayerStack's one-stream loop; the
        # memory rule is Transformer-XL's (remember).
        new_memory, attentions = [], []
        for index, layer in enumerate(self.layers):
            new_memory.append(remember(None if memory is None else memory[index], h, self.config.mem_len))
            h, g, weights = layer(h, g, content_mask, query_mask, None if memory is None else memory[index],
                                  different, targets, output_attentions)
            attentions.append(weights)
        out = self.dropout(h if g is None else g)
        return XLNetOutput(last_hidden_state=out, memory=new_memory,
                           attentions=tuple(attentions) if output_attentions else None)


# transformers' names (left) and ours; q, k, v, o, r are stored differently and converted below
XLNET_KEY_RULES = [
    KeyRule("transformer.word_embedding.", "transformer.word_embedding."),
    KeyRule("transformer.mask_emb", "transformer.mask_emb"),
    KeyRule("transformer.layer.{i}.rel_attn.q", "transformer.layers.{i}.attention.query.weight"),
    KeyRule("transformer.layer.{i}.rel_attn.k", "transformer.layers.{i}.attention.key.weight"),
    KeyRule("transformer.layer.{i}.rel_attn.v", "transformer.layers.{i}.attention.value.weight"),
    KeyRule("transformer.layer.{i}.rel_attn.o", "transformer.layers.{i}.attention.output.weight"),
    KeyRule("transformer.layer.{i}.rel_attn.r", "transformer.layers.{i}.attention.position.weight"),
    KeyRule("transformer.layer.{i}.rel_attn.r_w_bias", "transformer.layers.{i}.attention.content_bias"),
    KeyRule("transformer.layer.{i}.rel_attn.r_r_bias", "transformer.layers.{i}.attention.position_bias"),
    KeyRule("transformer.layer.{i}.rel_attn.r_s_bias", "transformer.layers.{i}.attention.segment_bias"),
    KeyRule("transformer.layer.{i}.rel_attn.seg_embed", "transformer.layers.{i}.attention.segment_embedding"),
    KeyRule("transformer.layer.{i}.rel_attn.layer_norm.", "transformer.layers.{i}.attention_norm."),
    KeyRule("transformer.layer.{i}.ff.layer_norm.", "transformer.layers.{i}.ffn_norm."),
    KeyRule("transformer.layer.{i}.ff.layer_1.", "transformer.layers.{i}.ffn.inner."),
    KeyRule("transformer.layer.{i}.ff.layer_2.", "transformer.layers.{i}.ffn.outer."),
    KeyRule("lm_loss.bias", "lm_bias"),
]
_PROJECTIONS = ("q", "k", "v", "r")  # (H, heads, d) in transformers; x @ W there, a Linear's (heads*d, H) here


class XLNetLMHeadModel(PretrainedMixin, nn.Module):
    """XLNet with its language-model head (tied to the word embeddings). With ``labels`` ``(B, P)`` (one id per
    target, -100 to skip) the loss is the mean cross-entropy of the predictions."""

    config_class = XLNetConfig
    hf_architecture = "XLNetLMHeadModel"
    hf_key_rules = XLNET_KEY_RULES
    hf_ignore = (r"^lm_loss\.weight$",)

    def __init__(self, config: XLNetConfig):
        super().__init__()
        self.check_config(config)
        self.config = config
        self.transformer = XLNetModel(config)
        self.lm_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.apply(self._init)

    def _init(self, module: nn.Module) -> None:
        """BERT's :func:`~minibert.core.transformer.init_layer`, plus XLNet's own parameters, in one pass."""
        std = self.config.initializer_range
        init_layer(module, std)
        if isinstance(module, XLNetAttention):
            for p in (module.content_bias, module.position_bias, module.segment_bias, module.segment_embedding):
                nn.init.normal_(p, std=std)
        elif isinstance(module, XLNetModel):
            nn.init.normal_(module.mask_emb, std=std)

    @classmethod
    def _hf_state_for_loading(cls, state):
        out = {}
        for key, tensor in state.items():
            name = key.rsplit(".", 1)[-1]
            if ".rel_attn." in key and name in _PROJECTIONS:
                tensor = tensor.reshape(tensor.shape[0], -1).t()
            elif ".rel_attn." in key and name == "o":
                tensor = tensor.reshape(tensor.shape[0], -1)
            out[key] = tensor
        return out

    def hf_checkpoint(self):
        heads, d = self.config.n_head, self.config.d_head
        state = {}
        for key, tensor in self.state_dict().items():
            if key.endswith(("attention.query.weight", "attention.key.weight", "attention.value.weight",
                             "attention.position.weight")):
                tensor = tensor.t().reshape(-1, heads, d)
            elif key.endswith("attention.output.weight"):
                tensor = tensor.reshape(-1, heads, d)
            state[key] = tensor
        return self.config.to_hf_dict(self.hf_architecture), state

    def forward(self, input_ids, attention_mask=None, perm_mask=None, target_mapping=None, token_type_ids=None,
                memory=None, labels=None, output_attentions: bool = False) -> XLNetOutput:
        out = self.transformer(input_ids, attention_mask, perm_mask, target_mapping, token_type_ids, memory,
                               output_attentions)
        logits = F.linear(out.last_hidden_state, self.transformer.word_embedding.weight, self.lm_bias)
        loss = None
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.shape != logits.shape[:2]:
                raise ValueError(f"labels must be shaped like the predictions {tuple(logits.shape[:2])}")
            checked_labels(labels, tuple(labels.shape), self.config.vocab_size, require_one=True)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        return dataclasses.replace(out, loss=loss, logits=logits)

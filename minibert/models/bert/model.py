r"""BERT: a stack of Transformer encoder layers over token + segment + position embeddings.

Devlin et al. (2019), "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding".
The input representation (their figure 2) is a sum of three learned embeddings, then LayerNorm and dropout:

.. math::  E = \mathrm{LN}(E_{\mathrm{token}}[x_t] + E_{\mathrm{segment}}[s_t] + E_{\mathrm{position}}[t])

The pooler turns the final hidden state of ``[CLS]`` into a sentence vector, :math:`\tanh(W h_{[CLS]} + b)`, which
the next-sentence and classification heads read.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from minibert.core.attention import attention_mask_bias
from minibert.core.checkpoints import BUFFER_KEYS, KeyRule, PretrainedMixin
from minibert.core.config import BertConfig
from minibert.core.inputs import binary_mask, positions, token_ids, token_types
from minibert.core.outputs import ModelOutput
from minibert.core.transformer import Encoder, init_weights

__all__ = ["BertEmbeddings", "BertPooler", "BertOutput", "BertModel", "BERT_KEY_RULES", "check_inputs", "mean_pool"]


class BertEmbeddings(nn.Module):
    """Token + segment + position embeddings, summed, normalised, dropped out. The tables are
    ``config.embedding_width`` wide (E = H in BERT; smaller in ALBERT and ELECTRA, projected to H by the model)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        width = config.embedding_width
        self.token = nn.Embedding(config.vocab_size, width, padding_idx=config.pad_token_id)
        # RoBERTa (fairseq) gives padding its own position row, pad_token_id, and numbers real tokens after it.
        self.padding_idx = config.pad_token_id if config.positions_past_padding else None
        self.position = nn.Embedding(config.max_position_embeddings, width, padding_idx=self.padding_idx)
        self.segment = nn.Embedding(config.type_vocab_size, width) if config.type_vocab_size else None
        self.norm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def position_ids(self, input_ids: torch.Tensor) -> torch.Tensor:
        """BERT: ``0, 1, ..., T-1``. RoBERTa: real tokens get ``pad + 1, pad + 2, ...`` (counting real tokens
        only) and padding gets ``pad``, as transformers' ``create_position_ids_from_input_ids``."""
        if self.padding_idx is None:
            return torch.arange(input_ids.shape[1], device=input_ids.device)
        real = input_ids.ne(self.padding_idx).long()
        return real.cumsum(dim=1) * real + self.padding_idx

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None) -> torch.Tensor:
        if position_ids is None:
            position_ids = self.position_ids(input_ids)
        x = self.token(input_ids) + self.position(position_ids)
        if self.segment is not None:
            x = x + (self.segment(token_type_ids) if token_type_ids is not None else self.segment.weight[0])
        return self.dropout(self.norm(x))


class BertPooler(nn.Module):
    """``tanh(W h_[CLS] + b)``: the sentence vector used by NSP and sequence classification."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))


@dataclass(kw_only=True)
class BertOutput(ModelOutput):
    """What an encoder returns: ``last_hidden_state`` ``(batch, T, H)`` and, with a pooler, ``pooler_output``
    ``(batch, H)``; ``attentions`` and ``hidden_states`` as in every :class:`~minibert.core.outputs.ModelOutput`
    (an encoder has no ``loss`` or ``logits``: they stay ``None``)."""

    last_hidden_state: torch.Tensor
    pooler_output: torch.Tensor | None = None


def check_inputs(config: BertConfig, input_ids, token_type_ids=None, attention_mask=None, position_ids=None):
    """Validate a batch at the model's boundary (see :mod:`minibert.core.inputs`). Returns the mask as a boolean
    tensor or None. ``attention_mask`` is ``(batch, T)`` (1 = real token, 0 = padding) or ``(batch, T, T)``."""
    input_ids = token_ids(input_ids, config.vocab_size, config.max_sequence_length,
                          limit=f" (max_position_embeddings={config.max_position_embeddings})")
    batch, length = input_ids.shape
    if token_type_ids is not None:
        token_types(token_type_ids, batch, length, config.type_vocab_size)
    if position_ids is not None:
        positions(position_ids, length, config.max_position_embeddings)
    if attention_mask is None:
        return None
    return binary_mask("attention_mask", attention_mask, {(batch, length): "1 = real token, 0 = padding",
                                                          (batch, length, length): "query x key"})


# Hugging Face key names (left) and ours (right); "{i}" is the layer number.
BERT_KEY_RULES = [
    KeyRule("embeddings.word_embeddings.", "embeddings.token."),
    KeyRule("embeddings.position_embeddings.", "embeddings.position."),
    KeyRule("embeddings.token_type_embeddings.", "embeddings.segment."),
    KeyRule("embeddings.LayerNorm.", "embeddings.norm."),
    KeyRule("encoder.layer.{i}.attention.self.", "encoder.layers.{i}.attention."),
    KeyRule("encoder.layer.{i}.attention.output.dense.", "encoder.layers.{i}.attention.output."),
    KeyRule("encoder.layer.{i}.attention.output.LayerNorm.", "encoder.layers.{i}.attention_norm."),
    KeyRule("encoder.layer.{i}.intermediate.dense.", "encoder.layers.{i}.ffn.inner."),
    KeyRule("encoder.layer.{i}.output.dense.", "encoder.layers.{i}.ffn.outer."),
    KeyRule("encoder.layer.{i}.output.LayerNorm.", "encoder.layers.{i}.ffn_norm."),
]

# Heads of BERT checkpoints that a bare encoder may meet and drop (a checkpoint saved from BertForPreTraining).
_HEAD_KEYS = (r"^cls\.", r"^classifier\.", r"^qa_outputs\.") + BUFFER_KEYS


class BertModel(PretrainedMixin, nn.Module):
    """The BERT encoder: embeddings, ``num_hidden_layers`` encoder layers and (optionally) the pooler.

    ``model(input_ids, token_type_ids=None, attention_mask=None, output_attentions=False)`` returns a
    :class:`BertOutput`. ``attention_mask`` is 1 for real tokens and 0 for padding, shape ``(batch, T)``
    (or a boolean ``(batch, T, T)`` query-by-key mask for custom patterns).
    """

    config_class = BertConfig
    hf_architecture = "BertModel"
    hf_key_rules = BERT_KEY_RULES
    hf_ignore = _HEAD_KEYS
    hf_base_prefix = "bert."  # checkpoints saved with a head (BertForMaskedLM, ...) put the encoder under "bert."

    def __init__(self, config: BertConfig, add_pooler: bool = True):
        super().__init__()
        self.check_config(config)
        self.config = config
        self.embeddings = BertEmbeddings(config)
        # Factorised embeddings (ALBERT, ELECTRA): V x E tables, then one E x H projection into the encoder.
        width = config.embedding_width
        self.embedding_projection = nn.Linear(width, config.hidden_size) if width != config.hidden_size else None
        self.encoder = Encoder(config)
        self.pooler = BertPooler(config.hidden_size) if add_pooler else None
        init_weights(self, std=config.initializer_range)

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        position_ids: torch.Tensor | None = None,
    ) -> BertOutput:
        mask = check_inputs(self.config, input_ids, token_type_ids, attention_mask, position_ids)
        x = self.embeddings(input_ids, token_type_ids, position_ids)
        if self.embedding_projection is not None:
            x = self.embedding_projection(x)
        x, attentions, hidden_states = self.encoder(x, attention_mask_bias(mask, x.dtype), output_attentions,
                                                    output_hidden_states)
        return BertOutput(
            last_hidden_state=x,
            pooler_output=self.pooler(x) if self.pooler is not None else None,
            attentions=tuple(attentions) if attentions is not None else None,
            hidden_states=tuple(hidden_states) if hidden_states is not None else None,
        )


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """Sentence embedding as sentence-transformers' all-MiniLM-L6-v2 makes it: the average of the token vectors
    over real (unpadded) tokens, then (by default) scaled to unit length so a dot product is a cosine."""
    attention_mask = binary_mask("attention_mask", attention_mask,
                                 {tuple(hidden.shape[:2]): "1 = real token, 0 = padding, one per token of hidden"})
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1) if normalize else pooled

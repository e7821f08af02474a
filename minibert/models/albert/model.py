r"""ALBERT: BERT with far fewer parameters (Lan et al., 2019, "ALBERT: A Lite BERT for Self-supervised Learning of
Language Representations").

Two changes to the parameters, one to the objective:

1. **Factorised embeddings** (section 3.1). BERT's token table is :math:`V \times H`. ALBERT looks tokens up in a
   narrow :math:`V \times E` table and projects once to the hidden width:

   .. math::  O(V \cdot H) \;\longrightarrow\; O(V \cdot E + E \cdot H), \qquad E \ll H

   With V = 30,000, H = 768, E = 128 that is 3.9M + 0.1M instead of 23M. Here it is ``BertConfig.embedding_size``
   (``BertModel.embedding_projection`` and an MLM head that maps H back down to E), shared with ELECTRA.
2. **Cross-layer parameter sharing**: one encoder layer applied L times (``cross_layer_sharing="all"``), or only
   its attention or only its feed-forward sub-layer shared. Depth then costs computation but no parameters.
   Implemented once, in :class:`minibert.core.transformer.Encoder`.
3. **Sentence-order prediction** (SOP) instead of NSP: the same two-way classifier on ``[CLS]``, trained to tell
   two consecutive segments in order (label 0) from the same two swapped (label 1). Topic alone cannot answer
   that, which is what made NSP too easy.

The classes load and save ``transformers`` ALBERT checkpoints. transformers writes sharing as ``num_hidden_groups``
(1 = all layers share, L = none share) and always projects E -> H, even when E = H; minibert, like the paper's
E = 768 rows, projects only when E differs from H.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, ClassVar

from minibert.core.checkpoints import BUFFER_KEYS, KeyRule, prefixed_rules
from minibert.core.checks import choice
from minibert.core.config import BertConfig
from minibert.core.transformer import SHARING_MODES
from minibert.models.bert.heads import BertForMaskedLM, BertForPreTraining, PreTrainingOutput
from minibert.models.bert.model import BertModel

__all__ = ["AlbertConfig", "AlbertModel", "AlbertForMaskedLM", "AlbertForPreTraining", "ALBERT_KEY_RULES",
           "ALBERT_SIZES"]

# The released v2 sizes (transformers' albert-*-v2 configs); all share every layer, E = 128, V = 30,000.
ALBERT_SIZES = {
    "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    "xlarge": dict(hidden_size=2048, num_hidden_layers=24, num_attention_heads=16, intermediate_size=8192),
    "xxlarge": dict(hidden_size=4096, num_hidden_layers=12, num_attention_heads=64, intermediate_size=16384),
}


@dataclass
class AlbertConfig(BertConfig):
    """BERT's fields with transformers' ``AlbertConfig`` defaults (the xxlarge size) plus ``cross_layer_sharing``:
    ``"all"`` (ALBERT), ``"attention"``, ``"ffn"`` or ``"none"`` (BERT-like)."""

    vocab_size: int = 30000
    embedding_size: int | None = 128
    hidden_size: int = 4096
    num_attention_heads: int = 64
    intermediate_size: int = 16384
    hidden_act: str = "gelu_new"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    cross_layer_sharing: str = "all"

    model_type: ClassVar[str] = "albert"
    field_checks: ClassVar[dict[str, Callable]] = {**BertConfig.field_checks,
                                                   "cross_layer_sharing": partial(choice, options=SHARING_MODES)}

    @classmethod
    def of_size(cls, size: str, **overrides: Any) -> "AlbertConfig":
        """One of ``ALBERT_SIZES`` (base, large, xlarge, xxlarge) with optional changes."""
        if size not in ALBERT_SIZES:
            raise ValueError(f"unknown ALBERT size {size!r}; choose one of {list(ALBERT_SIZES)}")
        return cls(**{**ALBERT_SIZES[size], **overrides})

    @classmethod
    def base(cls, **overrides: Any) -> "AlbertConfig":
        return cls.of_size("base", **overrides)

    @classmethod
    def large(cls, **overrides: Any) -> "AlbertConfig":
        return cls.of_size("large", **overrides)

    @classmethod
    def tiny(cls, **overrides: Any) -> "AlbertConfig":
        """BERT's tiny sizes with 16-wide factorised embeddings and 4 (shared) layers."""
        return super().tiny(**{"embedding_size": 16, "num_hidden_layers": 4, **overrides})

    # -- transformers' config.json: sharing is written as layer groups ------------------------------------------
    @classmethod
    def from_hf_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        groups, inner = data.pop("num_hidden_groups", None), data.pop("inner_group_num", 1)
        if inner != 1:
            raise ValueError(f"inner_group_num={inner}: minibert's ALBERT has one layer per group (as every "
                             "released ALBERT does)")
        if groups is not None and "cross_layer_sharing" not in data:
            layers = data.get("num_hidden_layers", 12)
            if groups not in (1, layers):
                raise ValueError(f"num_hidden_groups={groups}: minibert shares all {layers} layers (1 group) or none "
                                 f"({layers} groups)")
            data["cross_layer_sharing"] = "all" if groups == 1 else "none"
        return super().from_hf_names(data)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["embedding_size"] = self.embedding_width
        if self.cross_layer_sharing in ("all", "none"):
            del data["cross_layer_sharing"]
            data["num_hidden_groups"] = 1 if self.cross_layer_sharing == "all" else self.num_hidden_layers
            data["inner_group_num"] = 1
        return data

    def to_hf_dict(self, architecture: str = "AlbertModel") -> dict[str, Any]:
        if self.cross_layer_sharing not in ("all", "none"):
            raise ValueError(f"transformers' ALBERT shares whole layers or nothing; a model with "
                             f"cross_layer_sharing={self.cross_layer_sharing!r} has no transformers equivalent. "
                             "Save its state_dict with torch.save instead.")
        if self.embedding_width == self.hidden_size:
            raise ValueError("transformers' ALBERT always projects E -> H, even when E = H; this model (E = H, like "
                             "the paper's E = 768 rows) has no projection. Use embedding_size < hidden_size.")
        return super().to_hf_dict(architecture)


_GROUP = "encoder.albert_layer_groups.{i}.albert_layers.0."
_LAYER = "encoder.layers.{i}."
ALBERT_KEY_RULES = [
    KeyRule("embeddings.word_embeddings.", "embeddings.token."),
    KeyRule("embeddings.position_embeddings.", "embeddings.position."),
    KeyRule("embeddings.token_type_embeddings.", "embeddings.segment."),
    KeyRule("embeddings.LayerNorm.", "embeddings.norm."),
    KeyRule("encoder.embedding_hidden_mapping_in.", "embedding_projection."),
    KeyRule(_GROUP + "attention.", _LAYER + "attention."),  # query, key, value
    KeyRule(_GROUP + "attention.dense.", _LAYER + "attention.output."),
    KeyRule(_GROUP + "attention.LayerNorm.", _LAYER + "attention_norm."),
    KeyRule(_GROUP + "ffn.", _LAYER + "ffn.inner."),
    KeyRule(_GROUP + "ffn_output.", _LAYER + "ffn.outer."),
    KeyRule(_GROUP + "full_layer_layer_norm.", _LAYER + "ffn_norm."),
    KeyRule("pooler.", "pooler.dense."),
]
_PREFIXED = prefixed_rules(ALBERT_KEY_RULES, hf="albert.", ours="bert.")
_MLM_RULES = [
    KeyRule("predictions.dense.", "mlm.dense."),
    KeyRule("predictions.LayerNorm.", "mlm.norm."),
    KeyRule("predictions.bias", "mlm.bias"),
]


class AlbertModel(BertModel):
    """The ALBERT encoder: factorised embeddings, shared layers, pooler; ``transformers.AlbertModel``."""

    config_class = AlbertConfig
    hf_architecture = "AlbertModel"
    hf_key_rules = ALBERT_KEY_RULES
    hf_ignore = (r"^predictions\.", r"^sop_classifier\.", r"^classifier\.", r"^qa_outputs\.") + BUFFER_KEYS
    hf_base_prefix = "albert."


class AlbertForMaskedLM(BertForMaskedLM):
    """ALBERT with its masked-LM head (H -> E transform, then the tied E-wide token table): ``AlbertForMaskedLM``."""

    config_class = AlbertConfig
    hf_architecture = "AlbertForMaskedLM"
    hf_key_rules = _PREFIXED + _MLM_RULES
    hf_ignore = (r"^predictions\.decoder\.", r"^albert\.pooler\.", r"^sop_classifier\.") + BUFFER_KEYS

    def __init__(self, config: AlbertConfig):
        self.check_config(config)
        super().__init__(config)


class AlbertForPreTraining(BertForPreTraining):
    """ALBERT's two objectives: masked LM + sentence-order prediction. The sentence head is BERT's NSP classifier
    (``self.nsp``, results in ``nsp_logits``/``nsp_loss``) trained on SOP labels: 0 = in order, 1 = swapped."""

    config_class = AlbertConfig
    hf_architecture = "AlbertForPreTraining"
    hf_key_rules = _PREFIXED + _MLM_RULES + [KeyRule("sop_classifier.classifier.", "nsp.")]
    hf_ignore = (r"^predictions\.decoder\.",) + BUFFER_KEYS

    def __init__(self, config: AlbertConfig):
        self.check_config(config)
        super().__init__(config)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, labels=None, sentence_order_label=None,
                **options) -> PreTrainingOutput:
        """As :meth:`BertForPreTraining.forward` (same keyword options), with the pair label named for SOP."""
        return super().forward(input_ids, token_type_ids, attention_mask, labels, sentence_order_label, **options)

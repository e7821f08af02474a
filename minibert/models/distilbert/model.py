r"""DistilBERT: half of BERT's layers, initialised from BERT itself (Sanh et al., 2019, "DistilBERT, a distilled
version of BERT: smaller, faster, cheaper and lighter").

Architecture: BERT-base's width (H = 768, 12 heads, feed-forward 3072) with L = 6 layers, no segment embeddings and
no pooler, 66,362,880 parameters against BERT-base's 109,482,240 (40% fewer). Each layer is BERT's post-LN layer,

.. math::  h' = \mathrm{LN}(h + \mathrm{MHA}(h)), \qquad y = \mathrm{LN}(h' + \mathrm{FFN}(h'))

so here it is a :class:`~minibert.models.bert.model.BertModel` built from a :class:`DistilBertConfig`
(``type_vocab_size=0``, no pooler), with transformers' ``DistilBertModel`` names for the checkpoint.

Initialisation (section 3): "taking one layer out of two" from the teacher. For 12 -> 6 the released model kept
teacher layers 0, 2, 4, 7, 9, 11 (the first, the last, and evenly spread between: :func:`spread_layers`), together
with the token and position embeddings and the masked-LM head. The student then trains with the loss in
:mod:`minibert.models.distilbert.distillation`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import torch

from minibert.core.checkpoints import KeyRule, prefixed_rules
from minibert.core.checks import integer
from minibert.core.config import BertConfig
from minibert.models.bert.heads import BertForMaskedLM
from minibert.models.bert.model import BertModel

__all__ = ["DistilBertConfig", "DistilBertModel", "DistilBertForMaskedLM", "DISTILBERT_KEY_RULES", "spread_layers",
           "student_config", "student_from_teacher", "copy_teacher_weights"]

# transformers' DistilBertConfig names (left) for BertConfig's fields (right)
_HF_NAMES = {"dim": "hidden_size", "n_layers": "num_hidden_layers", "n_heads": "num_attention_heads",
             "hidden_dim": "intermediate_size", "dropout": "hidden_dropout_prob",
             "attention_dropout": "attention_probs_dropout_prob", "activation": "hidden_act"}
_FIXED_EPS = 1e-12  # transformers' DistilBERT hard-codes its LayerNorm epsilon


@dataclass
class DistilBertConfig(BertConfig):
    """BERT's fields, DistilBERT-base's values: 6 layers, no segment embeddings (``type_vocab_size=0``)."""

    num_hidden_layers: int = 6
    type_vocab_size: int = 0

    model_type: ClassVar[str] = "distilbert"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.type_vocab_size != 0:
            raise ValueError("DistilBERT has no segment embeddings: type_vocab_size must be 0")
        if self.embedding_size not in (None, self.hidden_size):
            raise ValueError("DistilBERT's embeddings are as wide as its layers: leave embedding_size as None")
        if self.layer_norm_eps != _FIXED_EPS:
            raise ValueError(f"DistilBERT's LayerNorm epsilon is fixed at {_FIXED_EPS} (transformers hard-codes it)")

    @classmethod
    def from_hf_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        if data.pop("sinusoidal_pos_embds", False):
            raise ValueError("sinusoidal_pos_embds=True (fixed sinusoidal positions) is not supported; minibert's "
                             "DistilBERT learns its position embeddings, as the released checkpoints do")
        for hf_name, ours in _HF_NAMES.items():
            if hf_name in data:
                data[ours] = data.pop(hf_name)
        return super().from_hf_names(data)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        for name in ("type_vocab_size", "layer_norm_eps"):
            del data[name]
        for hf_name, ours in _HF_NAMES.items():
            data[hf_name] = data.pop(ours)
        data["sinusoidal_pos_embds"] = False
        return data


_LAYER = "transformer.layer.{i}."
_OURS = "encoder.layers.{i}."
DISTILBERT_KEY_RULES = [
    KeyRule("embeddings.word_embeddings.", "embeddings.token."),
    KeyRule("embeddings.position_embeddings.", "embeddings.position."),
    KeyRule("embeddings.LayerNorm.", "embeddings.norm."),
    KeyRule(_LAYER + "attention.q_lin.", _OURS + "attention.query."),
    KeyRule(_LAYER + "attention.k_lin.", _OURS + "attention.key."),
    KeyRule(_LAYER + "attention.v_lin.", _OURS + "attention.value."),
    KeyRule(_LAYER + "attention.out_lin.", _OURS + "attention.output."),
    KeyRule(_LAYER + "sa_layer_norm.", _OURS + "attention_norm."),
    KeyRule(_LAYER + "ffn.lin1.", _OURS + "ffn.inner."),
    KeyRule(_LAYER + "ffn.lin2.", _OURS + "ffn.outer."),
    KeyRule(_LAYER + "output_layer_norm.", _OURS + "ffn_norm."),
]


class DistilBertModel(BertModel):
    """The DistilBERT encoder (no segments, no pooler): ``transformers.DistilBertModel``."""

    config_class = DistilBertConfig
    hf_architecture = "DistilBertModel"
    hf_key_rules = DISTILBERT_KEY_RULES
    hf_ignore = (r"^vocab_", r"^pre_classifier\.", r"^classifier\.", r"^qa_outputs\.", r"position_ids$")
    hf_base_prefix = "distilbert."

    def __init__(self, config: DistilBertConfig):
        super().__init__(config, add_pooler=False)


class DistilBertForMaskedLM(BertForMaskedLM):
    """DistilBERT with BERT's masked-LM head (``vocab_transform``, ``vocab_layer_norm``, tied ``vocab_projector``)."""

    config_class = DistilBertConfig
    hf_architecture = "DistilBertForMaskedLM"
    hf_key_rules = prefixed_rules(DISTILBERT_KEY_RULES, hf="distilbert.", ours="bert.") + [
        KeyRule("vocab_transform.", "mlm.dense."),
        KeyRule("vocab_layer_norm.", "mlm.norm."),
        KeyRule("vocab_projector.bias", "mlm.bias"),
    ]
    hf_ignore = (r"^vocab_projector\.weight$", r"position_ids$")

    def __init__(self, config: DistilBertConfig):
        self.check_config(config)
        super().__init__(config)


# -- a student from a teacher -------------------------------------------------------------------------------------
def spread_layers(teacher_layers: int, student_layers: int) -> list[int]:
    """Teacher layers a student keeps: the first, the last and evenly spread between,
    ``round(k (L_t - 1) / (L_s - 1))``. For 12 -> 6: ``[0, 2, 4, 7, 9, 11]``, DistilBERT's published choice."""
    integer("", "teacher_layers", teacher_layers, minimum=1)
    integer("", "student_layers", student_layers, minimum=1)
    if student_layers > teacher_layers:
        raise ValueError(f"the student ({student_layers} layers) cannot be deeper than the teacher "
                         f"({teacher_layers} layers): there are not enough layers to copy")
    if student_layers == 1:
        return [0]
    step = (teacher_layers - 1) / (student_layers - 1)
    return [math.floor(k * step + 0.5) for k in range(student_layers)]


def student_config(teacher_config: BertConfig, num_layers: int | None = None) -> DistilBertConfig:
    """A DistilBERT config as wide as the teacher with ``num_layers`` layers (default: half the teacher's)."""
    if teacher_config.embedding_width != teacher_config.hidden_size:
        raise ValueError(f"the teacher factorises its embeddings (E={teacher_config.embedding_width}, "
                         f"H={teacher_config.hidden_size}); a DistilBERT student has E = H and cannot copy them")
    if num_layers is None:
        num_layers = max(1, teacher_config.num_hidden_layers // 2)
    spread_layers(teacher_config.num_hidden_layers, num_layers)  # validates the depth
    fields = ("vocab_size", "hidden_size", "num_attention_heads", "intermediate_size", "hidden_act",
              "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings", "pad_token_id",
              "initializer_range")
    return DistilBertConfig(num_hidden_layers=num_layers, **{name: getattr(teacher_config, name) for name in fields})


def _encoder_of(model) -> BertModel:
    return model.bert if hasattr(model, "bert") else model


@torch.no_grad()
def copy_teacher_weights(student, teacher, layers: Sequence[int] | None = None) -> list[int]:
    """Initialise ``student`` (in place) from ``teacher``: token and position embeddings, their LayerNorm, the
    teacher layers in ``layers`` (default :func:`spread_layers`) and, when both have one, the masked-LM head.

    The teacher's segment row 0 is added to the student's position table: a teacher queried without
    ``token_type_ids`` adds that row to every token, so the student's embeddings then equal the teacher's exactly.
    Returns the layer map used.
    """
    s, t = _encoder_of(student), _encoder_of(teacher)
    s_config, t_config = s.config, t.config
    if s_config.hidden_size != t_config.hidden_size or s.embeddings.token.weight.shape != t.embeddings.token.weight.shape:
        raise ValueError(f"embedding size mismatch: the student's token table is "
                         f"{tuple(s.embeddings.token.weight.shape)}, the teacher's "
                         f"{tuple(t.embeddings.token.weight.shape)}; copying layers needs the same vocabulary and "
                         f"width (build the student with student_config(teacher.config))")
    if s.embeddings.position.weight.shape != t.embeddings.position.weight.shape:
        raise ValueError(f"position tables differ: student {tuple(s.embeddings.position.weight.shape)}, teacher "
                         f"{tuple(t.embeddings.position.weight.shape)}; use the teacher's max_position_embeddings")
    for name in ("num_attention_heads", "intermediate_size", "hidden_act"):
        if getattr(s_config, name) != getattr(t_config, name):
            raise ValueError(f"student and teacher differ in {name} ({getattr(s_config, name)!r} vs "
                             f"{getattr(t_config, name)!r}); a copied layer would not fit")
    depth_s, depth_t = s.encoder.depth, t.encoder.depth
    layers = spread_layers(depth_t, depth_s) if layers is None else [int(i) for i in layers]
    if depth_s > depth_t:
        raise ValueError(f"the student ({depth_s} layers) is deeper than the teacher ({depth_t} layers)")
    if len(layers) != depth_s:
        raise ValueError(f"the layer map has {len(layers)} entries but the student has {depth_s} layers")
    if any(not 0 <= i < depth_t for i in layers):
        raise ValueError(f"layer map {layers} is out of range: the teacher's layers are numbered 0..{depth_t - 1}")
    if any(a >= b for a, b in zip(layers, layers[1:])):
        raise ValueError(f"layer map {layers} must be strictly increasing (each teacher layer once, in order)")
    s.embeddings.token.weight.copy_(t.embeddings.token.weight)
    position = t.embeddings.position.weight.clone()
    if t.embeddings.segment is not None and s.embeddings.segment is None:
        position += t.embeddings.segment.weight[0]
    s.embeddings.position.weight.copy_(position)
    s.embeddings.norm.load_state_dict(t.embeddings.norm.state_dict())
    if s.embeddings.segment is not None and t.embeddings.segment is not None:
        s.embeddings.segment.load_state_dict(t.embeddings.segment.state_dict())
    for k, i in enumerate(layers):
        s.encoder.layer(k).load_state_dict(t.encoder.layer(i).state_dict())
    if hasattr(student, "mlm") and hasattr(teacher, "mlm"):
        student.mlm.load_state_dict(teacher.mlm.state_dict())
    return layers


def student_from_teacher(teacher, num_layers: int | None = None, layers: Sequence[int] | None = None, seed: int = 0):
    """A DistilBERT student built from and initialised by ``teacher`` (a BERT with or without the MLM head):
    ``DistilBertForMaskedLM`` for a teacher with an MLM head, else ``DistilBertModel``."""
    if layers is not None:
        num_layers = len(layers)
    config = student_config(_encoder_of(teacher).config, num_layers)
    torch.manual_seed(seed)
    student = DistilBertForMaskedLM(config) if hasattr(teacher, "mlm") else DistilBertModel(config)
    copy_teacher_weights(student, teacher, layers)
    return student.train(teacher.training)

r"""RoBERTa: BERT's architecture, trained differently (Liu et al., 2019, "RoBERTa: A Robustly Optimized BERT
Pretraining Approach").

The network is BERT's, block for block. What changes is the recipe (dynamic masking, no next-sentence loss,
FULL-SENTENCES inputs, 8K-sequence batches, more data, longer training; see chapter 08) and three details of the
inputs, which this module sets as a *configuration* of :class:`~minibert.models.bert.model.BertModel`:

- a byte-level BPE vocabulary of 50,265 tokens (GPT-2's), with ``<s>`` = 0, ``<pad>`` = 1, ``</s>`` = 2;
- one segment embedding (``type_vocab_size = 1``): with no NSP there are no "sentence B" tokens to mark;
- positions counted from the padding index (fairseq's ``make_positions``; here
  :meth:`~minibert.models.bert.model.BertEmbeddings.position_ids`): with padding index :math:`p`,

.. math::  \mathrm{pos}_t = \begin{cases} p + \sum_{u \le t} [x_u \ne p] & x_t \ne p \\ p & x_t = p \end{cases}

  so real tokens use rows :math:`p+1, p+2, \dots` of a 514-row table (512 usable) and padding has its own row;
- LayerNorm :math:`\epsilon = 10^{-5}` (fairseq's default) instead of BERT's :math:`10^{-12}`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from minibert.core.checkpoints import BUFFER_KEYS, KeyRule, prefixed_rules
from minibert.core.config import BertConfig
from .bert.heads import BertForMaskedLM, BertForSequenceClassification
from .bert.model import BERT_KEY_RULES, BertModel

__all__ = ["RobertaConfig", "RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification"]


@dataclass
class RobertaConfig(BertConfig):
    """BERT's fields with RoBERTa-base's values; ``RobertaConfig.large()`` is L=24, H=1024, A=16."""

    vocab_size: int = 50265
    max_position_embeddings: int = 514
    type_vocab_size: int = 1
    layer_norm_eps: float = 1e-5
    pad_token_id: int = 1

    model_type: ClassVar[str] = "roberta"
    positions_past_padding: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pad_token_id is None:
            raise ValueError("RoBERTa needs a pad_token_id: its position ids are counted from it")
        if self.max_position_embeddings <= self.pad_token_id + 1:
            raise ValueError(f"max_position_embeddings ({self.max_position_embeddings}) must exceed pad_token_id + 1 "
                             f"({self.pad_token_id + 1}): the rows up to the padding index hold no real position")

    @classmethod
    def tiny(cls, **overrides: Any) -> "RobertaConfig":
        """BERT's tiny sizes, with two more position rows: RoBERTa counts positions past the padding index."""
        return super().tiny(**{"max_position_embeddings": 130, **overrides})


_ROBERTA_ENCODER = prefixed_rules(BERT_KEY_RULES, hf="roberta.", ours="bert.")


class RobertaModel(BertModel):
    """The RoBERTa encoder: :class:`~minibert.models.bert.model.BertModel` built from a :class:`RobertaConfig`. Loads
    and saves ``transformers.RobertaModel`` checkpoints (and the encoder part of any RoBERTa checkpoint)."""

    config_class = RobertaConfig
    hf_architecture = "RobertaModel"
    hf_ignore = BertModel.hf_ignore + (r"^lm_head\.",)
    hf_base_prefix = "roberta."


class RobertaForMaskedLM(BertForMaskedLM):
    """RoBERTa with its masked-LM head (dense, GELU, LayerNorm, tied decoder + bias): ``transformers.RobertaForMaskedLM``.
    The encoder is ``self.bert`` as in every minibert head; the checkpoint calls it ``roberta``."""

    config_class = RobertaConfig
    hf_architecture = "RobertaForMaskedLM"
    hf_key_rules = _ROBERTA_ENCODER + [
        KeyRule("lm_head.dense.", "mlm.dense."),
        KeyRule("lm_head.layer_norm.", "mlm.norm."),
        KeyRule("lm_head.bias", "mlm.bias"),
    ]
    hf_ignore = (r"^lm_head\.decoder\.", r"^roberta\.pooler\.") + BUFFER_KEYS


class RobertaForSequenceClassification(BertForSequenceClassification):
    """Not BERT's pooler: transformers' RoBERTa classifier reads ``<s>``'s final state through its own
    dense + tanh + dropout + linear (``classifier.dense``, ``classifier.out_proj``). Here the pooler plays the
    dense + tanh part, so the weights map one to one."""

    config_class = RobertaConfig
    hf_architecture = "RobertaForSequenceClassification"
    hf_key_rules = _ROBERTA_ENCODER + [
        KeyRule("classifier.dense.", "bert.pooler.dense."),
        KeyRule("classifier.out_proj.", "classifier."),
    ]
    hf_ignore = BUFFER_KEYS

r"""BERT's pre-training and classification heads.

Masked LM (Devlin et al., 2019, section 3.1, task 1): the final hidden state at a masked position goes through a
dense + GELU + LayerNorm transform and is scored against every vocabulary embedding, with the input embedding
matrix reused as the output layer (weight tying, Press & Wolf 2017):

.. math::  p(x_t = w \mid \tilde{x}) = \mathrm{softmax}_w\big(E_{\mathrm{token}}\,\mathrm{LN}(\mathrm{GELU}(W h_t + b)) + c\big)

Next sentence prediction (task 2) and sequence classification read the pooled ``[CLS]`` vector.

Only the labelled positions matter for the MLM loss (about 15% of tokens), so with ``labels`` the head scores
just those rows: the vocabulary projection is the most expensive matrix product in a small BERT, and the original
TensorFlow code also gathers ``masked_lm_positions`` before it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.checkpoints import BUFFER_KEYS, KeyRule, PretrainedMixin, prefixed_rules
from minibert.core.checks import integer
from minibert.core.config import BertConfig
from minibert.core.inputs import IGNORE_INDEX, labels as checked_labels, sequence_labels
from minibert.core.outputs import ModelOutput
from minibert.core.transformer import activation_function
from .model import BERT_KEY_RULES, BertModel

__all__ = ["MaskedLMHead", "MaskedLMOutput", "BertForMaskedLM", "PreTrainingOutput", "BertForPreTraining",
           "ClassifierOutput", "BertForSequenceClassification"]


class MaskedLMHead(nn.Module):
    """Transform (dense, activation, LayerNorm), then scores against the (tied) token embedding matrix + a bias.
    With factorised embeddings the transform maps H down to the embedding width E first."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.embedding_width)
        self.activation = activation_function(config.hidden_act)
        self.norm = nn.LayerNorm(config.embedding_width, eps=config.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, hidden: torch.Tensor, embedding_weight: torch.Tensor) -> torch.Tensor:
        return F.linear(self.norm(self.activation(self.dense(hidden))), embedding_weight, self.bias)


def _check_labels(labels: torch.Tensor, input_ids: torch.Tensor, vocab_size: int) -> None:
    checked_labels(labels, tuple(input_ids.shape), vocab_size)


def check_label_smoothing(label_smoothing) -> None:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be a number in [0, 1) (0 turns it off, 0.1 is usual), "
                         f"got {label_smoothing!r}")


@dataclass(kw_only=True)
class MaskedLMOutput(ModelOutput):
    """``loss`` when labels were given; ``logits`` ``(batch, T, vocab)`` (None in a training step unless asked)."""


_MLM_RULES = [
    KeyRule("cls.predictions.transform.dense.", "mlm.dense."),
    KeyRule("cls.predictions.transform.LayerNorm.", "mlm.norm."),
    KeyRule("cls.predictions.bias", "mlm.bias"),
]
# The decoder is the embedding matrix itself; files may still carry copies of it (and of the bias).
_TIED_COPIES = (r"^cls\.predictions\.decoder\.",) + BUFFER_KEYS


class BertForMaskedLM(PretrainedMixin, nn.Module):
    """BERT with the masked-LM head. ``labels``: token ids at positions to predict, -100 elsewhere."""

    config_class = BertConfig
    hf_architecture = "BertForMaskedLM"
    hf_key_rules = prefixed_rules(BERT_KEY_RULES, hf="bert.", ours="bert.") + _MLM_RULES
    hf_ignore = _TIED_COPIES + (r"^cls\.seq_relationship\.", r"^bert\.pooler\.")

    def __init__(self, config: BertConfig):
        super().__init__()
        self.assemble(config, BertModel(config, add_pooler=False), mlm=MaskedLMHead(config))

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, labels=None, *,
                positions: torch.Tensor | None = None, return_logits: bool | None = None,
                label_smoothing: float = 0.0, output_attentions: bool = False,
                output_hidden_states: bool = False) -> MaskedLMOutput:
        """Full ``(B, T, V)`` logits when there are no labels; with labels, the loss over labelled positions and
        (``return_logits=True``) the full logits too. ``positions``: a boolean ``(B, T)`` mask to score only those
        rows (fill-in-the-blank at inference); ``logits`` is then ``(n_selected, V)`` in row-major order."""
        out = self.bert(input_ids, token_type_ids, attention_mask, output_attentions, output_hidden_states)
        return _mlm_output(self.mlm, self.bert, out, input_ids, labels, return_logits, label_smoothing, positions)

    @torch.no_grad()
    def fill_mask(self, input_ids: torch.Tensor, mask_token_id: int, attention_mask=None, token_type_ids=None,
                  top_k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
        """Top-k ``(probabilities, token ids)`` for every ``mask_token_id`` in the batch, each ``(n_masks, top_k)``,
        masks in row-major order. Only the masked rows go through the vocabulary projection."""
        vocab_size = self.config.vocab_size
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= vocab_size:
            raise ValueError(f"top_k must be an integer in [1, {vocab_size}], got {top_k!r}")
        positions = input_ids == mask_token_id
        if not bool(positions.any()):
            raise ValueError(f"no mask token (id {mask_token_id}) in input_ids; put one where a word should be guessed")
        logits = self(input_ids, token_type_ids, attention_mask, positions=positions).logits
        return logits.softmax(-1).topk(top_k, dim=-1)


def _mlm_output(head, bert, out, input_ids, labels, return_logits, label_smoothing, positions=None):
    weight = bert.embeddings.token.weight
    loss = logits = None
    check_label_smoothing(label_smoothing)
    if positions is not None:
        if not isinstance(positions, torch.Tensor) or positions.dtype != torch.bool or positions.shape != input_ids.shape:
            raise ValueError(f"positions must be a boolean tensor shaped like input_ids {tuple(input_ids.shape)}")
        logits = head(out.last_hidden_state[positions], weight)
        return MaskedLMOutput(logits=logits, attentions=out.attentions, hidden_states=out.hidden_states)
    if labels is not None:
        _check_labels(labels, input_ids, bert.config.vocab_size)
        selected = labels != IGNORE_INDEX
        if not bool(selected.any()):
            raise ValueError("labels has no position to predict (all -100); mask at least one token")
        scores = head(out.last_hidden_state[selected], weight)
        loss = F.cross_entropy(scores, labels[selected], label_smoothing=label_smoothing)
    if labels is None or return_logits:
        logits = head(out.last_hidden_state, weight)
    return MaskedLMOutput(loss=loss, logits=logits, attentions=out.attentions, hidden_states=out.hidden_states)


@dataclass(kw_only=True)
class PreTrainingOutput(ModelOutput):
    """``loss = mlm_loss + nsp_loss`` (each when its labels were given); ``logits`` are the masked LM's,
    ``nsp_logits`` ``(batch, 2)`` the next-sentence head's."""

    mlm_loss: torch.Tensor | None
    nsp_loss: torch.Tensor | None
    nsp_logits: torch.Tensor


class BertForPreTraining(PretrainedMixin, nn.Module):
    """BERT's two pre-training objectives: masked LM + next sentence prediction (label 0 = B follows A)."""

    config_class = BertConfig
    hf_architecture = "BertForPreTraining"
    hf_key_rules = prefixed_rules(BERT_KEY_RULES, hf="bert.", ours="bert.") + [KeyRule("bert.pooler.", "bert.pooler.")] + _MLM_RULES + [
        KeyRule("cls.seq_relationship.", "nsp.")]
    hf_ignore = _TIED_COPIES

    def __init__(self, config: BertConfig):
        super().__init__()
        self.assemble(config, BertModel(config), mlm=MaskedLMHead(config), nsp=nn.Linear(config.hidden_size, 2))

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, labels=None, next_sentence_label=None,
                *, return_logits: bool | None = None, output_attentions: bool = False, label_smoothing: float = 0.0,
                positions: torch.Tensor | None = None) -> PreTrainingOutput:
        """The masked-LM part works as in :class:`BertForMaskedLM` (``positions`` scores only those rows, e.g. for
        evaluation; ``label_smoothing`` for the MLM loss), plus the two-way sentence classifier on ``[CLS]``."""
        out = self.bert(input_ids, token_type_ids, attention_mask, output_attentions)
        mlm = _mlm_output(self.mlm, self.bert, out, input_ids, labels, return_logits, label_smoothing, positions)
        nsp_logits = self.nsp(out.pooler_output)
        nsp_loss = None
        if next_sentence_label is not None:
            target = sequence_labels("next_sentence_label", next_sentence_label, nsp_logits.shape[0], 2, " (0 or 1)")
            nsp_loss = F.cross_entropy(nsp_logits, target)
        losses = [x for x in (mlm.loss, nsp_loss) if x is not None]
        return PreTrainingOutput(loss=sum(losses) if losses else None, mlm_loss=mlm.loss, nsp_loss=nsp_loss,
                                 logits=mlm.logits, nsp_logits=nsp_logits, attentions=out.attentions)


@dataclass(kw_only=True)
class ClassifierOutput(ModelOutput):
    """A sequence classifier's ``logits`` ``(batch, num_labels)``, and its ``loss`` when labels were given."""


def resolve_num_labels(config: BertConfig, num_labels: int | None) -> int:
    """``num_labels`` as given, else as many as the checkpoint's ``id2label`` names, else 2."""
    if num_labels is None:
        num_labels = len(config.extra.get("id2label", {})) or 2
    return integer("", "num_labels", num_labels, minimum=1)


class LabelNames:
    """For a head with ``num_labels`` outputs: the ``id2label``/``label2id`` that transformers writes to config.json."""

    num_labels: int

    def _extra_hf_config(self) -> dict:
        return {"id2label": {str(i): f"LABEL_{i}" for i in range(self.num_labels)},
                "label2id": {f"LABEL_{i}": i for i in range(self.num_labels)}}


class BertForSequenceClassification(LabelNames, PretrainedMixin, nn.Module):
    """``[CLS]`` -> pooler -> dropout -> linear: single sentences (SST-2) and pairs (MNLI) alike.
    ``num_labels=1`` is regression with a mean-squared-error loss (STS-B)."""

    config_class = BertConfig
    hf_architecture = "BertForSequenceClassification"
    hf_key_rules = prefixed_rules(BERT_KEY_RULES, hf="bert.", ours="bert.") + [KeyRule("bert.pooler.", "bert.pooler.")]
    hf_ignore = BUFFER_KEYS

    def __init__(self, config: BertConfig, num_labels: int | None = None):
        super().__init__()
        self.num_labels = resolve_num_labels(config, num_labels)
        self.assemble(config, BertModel(config),
                      dropout=nn.Dropout(config.extra.get("classifier_dropout") or config.hidden_dropout_prob),
                      classifier=nn.Linear(config.hidden_size, self.num_labels))

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, labels=None,
                output_attentions: bool = False) -> ClassifierOutput:
        out = self.bert(input_ids, token_type_ids, attention_mask, output_attentions)
        logits = self.classifier(self.dropout(out.pooler_output))
        loss = None
        if labels is not None:
            if self.num_labels == 1:
                if not isinstance(labels, torch.Tensor) or labels.numel() != logits.shape[0]:
                    raise ValueError(f"labels must be a tensor with one score per sequence ({logits.shape[0]})")
                if not bool(torch.isfinite(labels.double()).all()):
                    raise ValueError("labels contain NaN or inf; regression needs finite scores")
                loss = F.mse_loss(logits.squeeze(-1), labels.reshape(-1).to(logits.dtype))
            else:
                target = sequence_labels("labels", labels, logits.shape[0], self.num_labels)
                loss = F.cross_entropy(logits, target)
        return ClassifierOutput(loss=loss, logits=logits, attentions=out.attentions)

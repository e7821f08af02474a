r"""Fine-tuning heads: one pre-trained encoder, a small new layer per task (Devlin et al., 2019, section 4, fig. 4).

- (a) sentence pairs and (b) single sentences: the pooled ``[CLS]`` vector -> class scores
  (:class:`~minibert.models.bert.heads.BertForSequenceClassification`, with ``token_type_ids`` 0/1 for pairs);
- (c) extractive question answering (SQuAD): two vectors :math:`S, E \in \mathbb{R}^H` score every token as the
  start and the end of the answer, and the answer is the best *valid* span

  .. math::  (\hat\imath, \hat\jmath) = \arg\max_{i \le j < i + L_{\max}} \; S \cdot h_i + E \cdot h_j ;

- (d) token tagging (CoNLL-2003 NER): a linear layer on every token's final hidden state; a word's label sits on
  its first WordPiece, the other pieces are ignored (-100).

Each class has the parameter names, loss and outputs of its ``transformers`` twin (``BertForTokenClassification``,
``BertForQuestionAnswering``) and loads/saves the same checkpoint folders.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.checkpoints import KeyRule, PretrainedMixin
from minibert.core.checks import integer
from minibert.core.config import BertConfig
from minibert.core.outputs import ModelOutput
from minibert.core.inputs import IGNORE_INDEX, integer_tensor
from minibert.models.bert.heads import ClassifierOutput, LabelNames, resolve_num_labels
from minibert.models.bert.model import BERT_KEY_RULES, BertModel

__all__ = ["BertForTokenClassification", "BertForQuestionAnswering", "QuestionAnsweringHead", "QuestionAnsweringOutput",
           "best_span", "with_encoder", "align_word_labels", "bio_spans", "span_f1"]

_ENCODER_RULES = [KeyRule("bert." + r.hf, "bert." + r.ours) for r in BERT_KEY_RULES]
# A task checkpoint has no pooler and no pre-training heads; files saved from other heads may carry them.
_IGNORE = (r"position_ids$", r"token_type_ids$", r"^bert\.pooler\.", r"^cls\.")


class BertForTokenClassification(LabelNames, PretrainedMixin, nn.Module):
    """A label for every token: encoder -> dropout -> linear. ``labels`` ``(B, T)``, -100 where not scored."""

    config_class = BertConfig
    hf_architecture = "BertForTokenClassification"
    hf_key_rules = _ENCODER_RULES + [KeyRule("classifier.", "classifier.")]
    hf_ignore = _IGNORE

    def __init__(self, config: BertConfig, num_labels: int | None = None):
        super().__init__()
        self.num_labels = resolve_num_labels(config, num_labels)
        self.assemble(config, BertModel(config, add_pooler=False),
                      dropout=nn.Dropout(config.extra.get("classifier_dropout") or config.hidden_dropout_prob),
                      classifier=nn.Linear(config.hidden_size, self.num_labels))

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, labels=None,
                output_attentions: bool = False) -> ClassifierOutput:
        out = self.bert(input_ids, token_type_ids, attention_mask, output_attentions)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        loss = None
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.shape != input_ids.shape:
                shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
                raise ValueError(f"labels has shape {shape} but input_ids has {tuple(input_ids.shape)}; give one "
                                 "label per token (-100 for tokens not scored)")
            bad = labels[(labels != IGNORE_INDEX) & ((labels < 0) | (labels >= self.num_labels))]
            if bad.numel():
                raise ValueError(f"labels must be in [0, {self.num_labels}) or -100, got {int(bad[0])}")
            loss = F.cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1), ignore_index=IGNORE_INDEX)
        return ClassifierOutput(loss=loss, logits=logits, attentions=out.attentions)


@dataclass(kw_only=True)
class QuestionAnsweringOutput(ModelOutput):
    """``start_logits`` and ``end_logits`` ``(batch, T)``: every token's score as the answer's first and last token;
    ``loss`` when the answer's positions were given."""

    start_logits: torch.Tensor
    end_logits: torch.Tensor


class QuestionAnsweringHead(nn.Linear):
    r"""The span head of extractive QA: one linear layer ``H -> 2``. Row 0 of ``weight`` is the start vector
    :math:`S`, row 1 the end vector :math:`E`, so token :math:`i` scores :math:`S \cdot h_i + b_0` as the answer's
    first token and :math:`E \cdot h_i + b_1` as its last.

    ``forward(hidden, start_positions=None, end_positions=None)`` takes the encoder's ``(B, T, H)`` output and
    returns ``(start_logits, end_logits, loss)``: two ``(B, T)`` tensors, and with the answer's positions ``(B,)``
    the mean of the start and the end cross-entropies (else ``None``). As in ``transformers``, a position outside
    the sequence (an answer cut off by truncation) is clamped to ``T`` and ignored by the loss. It is a module of
    its own (with ``nn.Linear``'s parameter names, so checkpoints keep the key ``qa_outputs.weight``) so that
    chapter 07 can swap a learner's head into a trained model with :func:`~minibert.core.swap.swap_in`."""

    def __init__(self, hidden_size: int):
        super().__init__(hidden_size, 2)

    def forward(self, hidden: torch.Tensor, start_positions: torch.Tensor | None = None,
                end_positions: torch.Tensor | None = None):
        start_logits, end_logits = super().forward(hidden).unbind(-1)
        if start_positions is None or end_positions is None:
            return start_logits, end_logits, None
        length = hidden.shape[1]
        start = start_positions.reshape(-1).clamp(0, length)
        end = end_positions.reshape(-1).clamp(0, length)
        loss = (F.cross_entropy(start_logits, start, ignore_index=length)
                + F.cross_entropy(end_logits, end, ignore_index=length)) / 2
        return start_logits, end_logits, loss


class BertForQuestionAnswering(PretrainedMixin, nn.Module):
    """Extractive QA: a linear layer ``H -> 2`` (:class:`QuestionAnsweringHead`) gives every token a start and an
    end score. Input: ``[CLS] question [SEP] context [SEP]``; the answer is a span of the context (:func:`best_span`)."""

    config_class = BertConfig
    hf_architecture = "BertForQuestionAnswering"
    hf_key_rules = _ENCODER_RULES + [KeyRule("qa_outputs.", "qa_outputs.")]
    hf_ignore = _IGNORE

    def __init__(self, config: BertConfig):
        super().__init__()
        self.assemble(config, BertModel(config, add_pooler=False), qa_outputs=QuestionAnsweringHead(config.hidden_size))

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, start_positions=None,
                end_positions=None, output_attentions: bool = False) -> QuestionAnsweringOutput:
        out = self.bert(input_ids, token_type_ids, attention_mask, output_attentions)
        if (start_positions is None) != (end_positions is None):
            raise ValueError("give both start_positions and end_positions (token indices of the answer), or neither")
        if start_positions is not None:
            integer_tensor("start_positions", start_positions), integer_tensor("end_positions", end_positions)
        if start_positions is not None and (start_positions.reshape(-1).shape[0] != input_ids.shape[0]
                                            or end_positions.reshape(-1).shape[0] != input_ids.shape[0]):
            raise ValueError(f"need one start and one end position per sequence ({input_ids.shape[0]})")
        # positions outside the sequence are clamped to T and ignored by the loss, as in transformers
        start_logits, end_logits, loss = self.qa_outputs(out.last_hidden_state, start_positions, end_positions)
        return QuestionAnsweringOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                                       attentions=out.attentions)


def best_span(start_logits: torch.Tensor, end_logits: torch.Tensor, allowed: torch.Tensor | None = None,
              max_answer_length: int = 30) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per row, the span ``(start, end)`` (inclusive) maximising ``start_logits[i] + end_logits[j]`` over
    ``i <= j < i + max_answer_length`` with both ends ``allowed`` (usually: context tokens). Returns
    ``(starts, ends, scores)``."""
    if start_logits.shape != end_logits.shape or start_logits.dim() != 2:
        raise ValueError(f"start and end logits must both be (batch, T), got {tuple(start_logits.shape)} and "
                         f"{tuple(end_logits.shape)}")
    integer("", "max_answer_length", max_answer_length, minimum=1)
    batch, length = start_logits.shape
    i = torch.arange(length)
    valid = (i[None, :] >= i[:, None]) & (i[None, :] - i[:, None] < max_answer_length)
    valid = valid.expand(batch, length, length)
    if allowed is not None:
        allowed = allowed.bool()
        if allowed.shape != start_logits.shape:
            raise ValueError(f"allowed has shape {tuple(allowed.shape)}, logits {tuple(start_logits.shape)}")
        if not bool(allowed.any(1).all()):
            raise ValueError("a row has no allowed position; every question needs some context")
        valid = valid & allowed[:, :, None] & allowed[:, None, :]
    scores = start_logits[:, :, None] + end_logits[:, None, :]
    scores = scores.masked_fill(~valid, float("-inf"))
    best = scores.flatten(1).argmax(1)
    return best // length, best % length, scores.flatten(1).gather(1, best[:, None]).squeeze(1)


def with_encoder(model: nn.Module, source: nn.Module) -> nn.Module:
    """Put a pre-trained encoder into a task model (a fresh head stays as initialised): ``source`` is a
    ``BertModel`` or any model with a ``.bert`` (e.g. the ``BertForMaskedLM`` of chapter 06). Returns ``model``."""
    encoder = getattr(source, "bert", source)
    if not isinstance(encoder, BertModel):
        raise TypeError(f"source must be a BertModel or hold one as .bert, got {type(source).__name__}")
    shape_fields = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                    "max_position_embeddings", "type_vocab_size", "hidden_act")
    diff = {f: (getattr(encoder.config, f), getattr(model.bert.config, f)) for f in shape_fields
            if getattr(encoder.config, f) != getattr(model.bert.config, f)}
    if diff:
        raise ValueError(f"the encoder and the task model differ in (encoder, task model): {diff}")
    result = model.bert.load_state_dict(encoder.state_dict(), strict=False)
    missing = [k for k in result.missing_keys if not k.startswith("pooler.")]
    unexpected = [k for k in result.unexpected_keys if not k.startswith("pooler.")]
    if missing or unexpected:
        raise ValueError(f"encoder weights do not fit: missing {missing}, unexpected {unexpected}")
    return model


def align_word_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Token labels from word labels, BERT's NER convention: the first piece of a word gets the word's label,
    later pieces and special tokens get -100 (not scored)."""
    labels, previous = [], None
    for w in word_ids:
        if w is None or w == previous:
            labels.append(IGNORE_INDEX)
        else:
            if not 0 <= w < len(word_labels):
                raise ValueError(f"word id {w} has no label ({len(word_labels)} word labels given)")
            labels.append(int(word_labels[w]))
        previous = w
    return labels


def bio_spans(tags: Sequence[str]) -> set[tuple[int, int, str]]:
    """Entities ``(start, end, type)`` (end exclusive) in a BIO tag sequence; a stray ``I-`` starts an entity."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        inside = tag.startswith("I-") and kind == tag[2:]
        if start is not None and not inside:
            spans.add((start, i, kind))
            start = kind = None
        if tag.startswith("B-") or (tag.startswith("I-") and not inside):
            start, kind = i, tag[2:]
    return spans


def span_f1(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level precision, recall and F1 (CoNLL style: an entity counts only if its span and type are exact)."""
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted sequences but {len(gold)} gold ones")
    tp = n_pred = n_gold = 0
    for p, g in zip(predicted, gold):
        if len(p) != len(g):
            raise ValueError("a predicted tag sequence differs in length from its gold sequence")
        ps, gs = bio_spans(p), bio_spans(g)
        tp, n_pred, n_gold = tp + len(ps & gs), n_pred + len(ps), n_gold + len(gs)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}

r"""SpanBERT's span boundary objective: predict every token of a masked span from the span's two boundaries.

Joshi et al. (2020), "SpanBERT: Improving Pre-training by Representing and Predicting Spans", section 3.2. Spans
of whole words are masked (lengths :math:`\ell \sim \mathrm{Geo}(0.2)`, clipped at 10; see
:mod:`minibert.masking`). For a masked span :math:`(x_s, \dots, x_e)`, each token :math:`x_i` is predicted twice:
by the usual MLM head from its own output :math:`\mathbf{x}_i`, and by the *span boundary objective* (SBO) from
the outputs of the tokens just outside the span and the position of :math:`x_i` inside it:

.. math::  \mathbf{y}_i = f(\mathbf{x}_{s-1}, \mathbf{x}_{e+1}, \mathbf{p}_{i-s+1})

.. math::  \mathbf{h}_0 = [\mathbf{x}_{s-1}; \mathbf{x}_{e+1}; \mathbf{p}_{i-s+1}], \quad
           \mathbf{h}_1 = \mathrm{LayerNorm}(\mathrm{GeLU}(W_1 \mathbf{h}_0)), \quad
           \mathbf{y}_i = \mathrm{LayerNorm}(\mathrm{GeLU}(W_2 \mathbf{h}_1))

.. math::  \mathcal{L}(x_i) = -\log P(x_i \mid \mathbf{x}_i) - \log P(x_i \mid \mathbf{y}_i)

:math:`\mathbf{p}` is a learned table of relative positions (1 = first token of the span). Both predictions score
against the token embedding matrix (the decoder is tied to the embeddings). The boundaries must store what the
span holds, which is what span-level tasks (extractive QA, coreference) need.

SpanBERT also drops next-sentence prediction and trains on single contiguous segments of up to 512 tokens: in the
seeds' table, "1seq" beats "2seq + NSP" and SBO adds to it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.checks import integer
from minibert.core.config import BertConfig
from minibert.core.inputs import IGNORE_INDEX
from minibert.core.outputs import ModelOutput
from minibert.core.transformer import activation_function
from .bert.heads import BertForMaskedLM, _check_labels

__all__ = ["SpanBoundaryHead", "SpanBertForPreTraining", "SpanBertOutput", "BoundaryProbe", "span_targets",
           "span_masked_batch", "accuracy_by_span_position", "train_spanbert"]


def span_targets(spans, batch: int, length: int, max_span_length: int) -> torch.Tensor:
    """``(n, 4)`` long rows ``(row, position, left boundary, right boundary)`` for every token inside a span.

    ``spans``: per sequence a list of ``(start, end)`` position ranges, ``end`` exclusive (extra fields such as the
    word count that :class:`~minibert.masking.Masker` adds are ignored). The boundaries are ``start - 1`` and
    ``end``; both must lie inside the sequence.
    """
    if not isinstance(spans, (list, tuple)) or len(spans) != batch:
        raise ValueError(f"spans must hold one list of (start, end) ranges per sequence ({batch}), got "
                         f"{len(spans) if isinstance(spans, (list, tuple)) else type(spans).__name__}")
    rows = []
    for row, row_spans in enumerate(spans):
        for span in row_spans:
            start, end = int(span[0]), int(span[1])
            if not 1 <= start < end <= length - 1:
                raise ValueError(f"span ({start}, {end}) of sequence {row} needs a token on each side inside the "
                                 f"sequence of length {length} (start >= 1, end <= {length - 1}); spans never "
                                 f"cover [CLS] or [SEP]")
            if end - start > max_span_length:
                raise ValueError(f"span ({start}, {end}) has {end - start} tokens, more than max_span_length="
                                 f"{max_span_length}; build the head with a larger max_span_length")
            rows += [(row, position, start - 1, end) for position in range(start, end)]
    if not rows:
        raise ValueError("no span to predict: pass the spans the masker chose")
    return torch.tensor(rows, dtype=torch.long)


class SpanBoundaryHead(nn.Module):
    """:math:`f` of the module docstring, then scores against the (tied) token embeddings plus a bias.
    With factorised embeddings (E < H) the second layer maps to the embedding width E."""

    def __init__(self, config: BertConfig, max_span_length: int = 30):
        super().__init__()
        integer("", "max_span_length", max_span_length, minimum=1)
        hidden, width = config.hidden_size, config.embedding_width
        self.max_span_length = max_span_length
        self.position = nn.Embedding(max_span_length, hidden)  # p_1 .. p_max, stored from index 0
        self.layer1 = nn.Linear(3 * hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.layer2 = nn.Linear(hidden, width)
        self.norm2 = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.activation = activation_function("gelu")
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def represent(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """:math:`\\mathbf{y}_i` for the rows of :func:`span_targets`: ``(n, E)``."""
        row, position, left, right = targets.unbind(1)
        # relative position inside the span, from the left boundary: 1 for the first token (index 0 in the table)
        h0 = torch.cat([hidden[row, left], hidden[row, right], self.position(position - left - 1)], dim=-1)
        h1 = self.norm1(self.activation(self.layer1(h0)))
        return self.norm2(self.activation(self.layer2(h1)))

    def forward(self, hidden: torch.Tensor, targets: torch.Tensor, embedding_weight: torch.Tensor) -> torch.Tensor:
        return F.linear(self.represent(hidden, targets), embedding_weight, self.bias)


@dataclass(kw_only=True)
class SpanBertOutput(ModelOutput):
    """``loss = mlm_loss + sbo_loss`` (each a mean over its predictions); ``sbo_logits`` ``(n, vocab)`` for the
    span tokens in the order of ``targets`` (rows of :func:`span_targets`)."""

    mlm_loss: torch.Tensor | None
    sbo_loss: torch.Tensor | None
    mlm_logits: torch.Tensor | None
    sbo_logits: torch.Tensor
    targets: torch.Tensor


class SpanBertForPreTraining(BertForMaskedLM):
    """BERT's masked LM plus the span boundary head; no next-sentence prediction (single-sequence inputs).

    ``model(input_ids, attention_mask, labels=labels, spans=spans)``: ``labels`` as for BERT (original ids at
    masked positions, -100 elsewhere), ``spans`` the masked ranges per sequence (``MaskedBatch.spans``).
    ``loss = mlm_loss + sbo_weight * sbo_loss``; ``sbo_weight=0`` trains the encoder by the masked LM alone on the
    same span masks (the control of chapter 11's experiment; the SBO head is still computed, and learns nothing).
    """

    def __init__(self, config: BertConfig, max_span_length: int = 30, sbo_weight: float = 1.0):
        super().__init__(config)
        if isinstance(sbo_weight, bool) or not isinstance(sbo_weight, (int, float)) or not 0 <= sbo_weight < float("inf"):
            raise ValueError(f"sbo_weight must be a finite number >= 0 (1.0 is SpanBERT, 0.0 the masked LM alone), "
                             f"got {sbo_weight!r}")
        self.sbo_weight = float(sbo_weight)
        self.add_heads(sbo=SpanBoundaryHead(config, max_span_length))

    def forward(self, input_ids, attention_mask=None, labels=None, spans=None, token_type_ids=None,
                output_attentions: bool = False) -> SpanBertOutput:
        if spans is None:
            raise ValueError("SpanBertForPreTraining needs the masked spans (e.g. Masker(unit='span')(...).spans)")
        out = self.bert(input_ids, token_type_ids, attention_mask, output_attentions)
        hidden, weight = out.last_hidden_state, self.bert.embeddings.token.weight
        targets = span_targets(spans, input_ids.shape[0], input_ids.shape[1], self.sbo.max_span_length)
        sbo_logits = self.sbo(hidden, targets, weight)
        loss = mlm_loss = sbo_loss = mlm_logits = None
        if labels is not None:
            _check_labels(labels, input_ids, self.config.vocab_size)
            span_labels = labels[targets[:, 0], targets[:, 1]]
            if bool((span_labels == IGNORE_INDEX).any()):
                raise ValueError("every span token must have a label (the original id); a span position has -100")
            selected = labels != IGNORE_INDEX
            mlm_logits = self.mlm(hidden[selected], weight)
            mlm_loss = F.cross_entropy(mlm_logits, labels[selected])
            sbo_loss = F.cross_entropy(sbo_logits, span_labels)
            loss = mlm_loss + self.sbo_weight * sbo_loss
        return SpanBertOutput(loss=loss, mlm_loss=mlm_loss, sbo_loss=sbo_loss, mlm_logits=mlm_logits,
                              sbo_logits=sbo_logits, targets=targets)


class BoundaryProbe(nn.Module):
    """A fresh :class:`SpanBoundaryHead` on a *frozen* encoder: how much of each masked span the encoder's two
    boundary outputs hold. Only the head trains (``parameters()`` are the head's); the encoder is put in eval mode
    and runs without gradients; the head scores against the encoder's (frozen) token embeddings, as SBO does.

    Chapter 11 probes encoders pre-trained with and without SBO this way: the paper's claim is about what SBO does to
    the *encoder*, so the head the comparison reads must be trained the same way on both."""

    def __init__(self, model: BertForMaskedLM, max_span_length: int = 30):
        super().__init__()
        if not isinstance(model, BertForMaskedLM):
            raise TypeError(f"BoundaryProbe needs a masked LM with .bert and .mlm (e.g. SpanBertForPreTraining), "
                            f"got {type(model).__name__}")
        object.__setattr__(self, "_frozen", model.eval())  # not a submodule: its weights stay out of parameters()
        self.sbo = SpanBoundaryHead(model.config, max_span_length)

    @property
    def bert(self):
        return self._frozen.bert

    @property
    def mlm(self):
        return self._frozen.mlm

    def forward(self, input_ids, attention_mask=None, labels=None, spans=None) -> SpanBertOutput:
        if spans is None:
            raise ValueError("BoundaryProbe needs the masked spans (e.g. span_masked_batch(...)['spans'])")
        self._frozen.eval()
        with torch.no_grad():
            hidden = self.bert(input_ids, attention_mask=attention_mask).last_hidden_state
        weight = self.bert.embeddings.token.weight.detach()
        targets = span_targets(spans, input_ids.shape[0], input_ids.shape[1], self.sbo.max_span_length)
        sbo_logits = self.sbo(hidden, targets, weight)
        loss = None
        if labels is not None:
            span_labels = labels[targets[:, 0], targets[:, 1]]
            if bool((span_labels == IGNORE_INDEX).any()):
                raise ValueError("every span token must have a label (the original id); a span position has -100")
            loss = F.cross_entropy(sbo_logits, span_labels)
        return SpanBertOutput(loss=loss, mlm_loss=None, sbo_loss=loss, mlm_logits=None, sbo_logits=sbo_logits,
                              targets=targets)


def span_masked_batch(blocks, masker, tokenizer, generator: torch.Generator, length: int | None = None) -> dict:
    """Span-mask single sequences (lists of ids, each ``[CLS] ... [SEP]``) for SpanBERT: words come from the
    WordPiece ``##`` marks, spans from ``masker`` (a :class:`~minibert.masking.Masker` with ``unit="span"``).
    Returns ``input_ids``, ``attention_mask``, ``labels`` (padded to ``length``) and ``spans``."""
    from minibert.masking import wordpiece_word_ids
    from minibert.masking.dataset import pad_batch

    if getattr(masker, "unit", None) != "span":
        raise ValueError("span_masked_batch needs a Masker(unit='span')")
    examples = [masker(torch.as_tensor(block), generator,
                       word_ids=wordpiece_word_ids(tokenizer.convert_ids_to_tokens(list(block)))) for block in blocks]
    ids, mask = pad_batch([e.input_ids.tolist() for e in examples], tokenizer.pad_token_id, length)
    labels, _ = pad_batch([e.labels.tolist() for e in examples], IGNORE_INDEX, length)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels,
            "spans": [[(start, end) for start, end, _ in e.spans] for e in examples]}


@torch.no_grad()
def accuracy_by_span_position(model: SpanBertForPreTraining | BoundaryProbe, batch: dict,
                              longest: int = 8) -> dict[str, list]:
    """Top-1 accuracy of the MLM head and of the SBO head (the model's, or a probe's) on the span tokens of
    ``batch``, by the token's position inside its span (1 = first). Returns ``{"mlm": [...], "sbo": [...],
    "count": [...]}`` for positions 1..longest."""
    was_training = model.training
    model.eval()
    ids = batch["input_ids"]
    hidden = model.bert(ids, attention_mask=batch["attention_mask"]).last_hidden_state
    model.train(was_training)
    targets = span_targets(batch["spans"], ids.shape[0], ids.shape[1], model.sbo.max_span_length)
    rows, positions, left, _ = targets.unbind(1)
    weight = model.bert.embeddings.token.weight
    truth = batch["labels"][rows, positions]
    mlm_logits, sbo_logits = model.mlm(hidden[rows, positions], weight), model.sbo(hidden, targets, weight)
    relative = (positions - left).tolist()
    result = {"mlm": [], "sbo": [], "count": []}
    for k in range(1, longest + 1):
        here = torch.tensor([r == k for r in relative])
        result["count"].append(int(here.sum()))
        for name, logits in (("mlm", mlm_logits), ("sbo", sbo_logits)):
            hits = (logits[here].argmax(-1) == truth[here]).double()
            result[name].append(float(hits.mean()) if hits.numel() else float("nan"))
    return result


def train_spanbert(model: SpanBertForPreTraining | BoundaryProbe, blocks, masker, tokenizer, steps: int, batch_size: int = 32,
                   learning_rate: float = 1e-3, warmup_steps: int = 0, seed: int = 0, length: int | None = None,
                   callback=None) -> list[dict]:
    """MLM + SBO pre-training on single sequences with the course's short loop
    (:func:`minibert.training.loop.fit`: AdamW, linear warm-up then decay), a fresh span mask for every batch.
    Given a :class:`BoundaryProbe`, trains the probe's head alone (``mlm_loss`` is then ``None``).
    ``callback(step, record)`` after each step. Returns the records ``{"step", "loss", "mlm_loss", "sbo_loss"}``."""
    from minibert.training.loop import fit

    generator = torch.Generator().manual_seed(seed)
    history = []

    def next_batch() -> dict:
        chosen = torch.randint(len(blocks), (batch_size,), generator=generator).tolist()
        return span_masked_batch([blocks[i] for i in chosen], masker, tokenizer, generator, length)

    def record(step: int, out: SpanBertOutput) -> None:
        mlm_loss = None if out.mlm_loss is None else out.mlm_loss.item()  # a BoundaryProbe trains SBO alone
        history.append({"step": step, "loss": out.loss.item(), "mlm_loss": mlm_loss, "sbo_loss": out.sbo_loss.item()})
        if callback is not None:
            callback(step, history[-1])

    fit(model, next_batch, steps, learning_rate, warmup_steps=warmup_steps, on_step=record)
    return history

"""Four small fine-tuning tasks made from the course corpus, one per kind of BERT task (Devlin et al., 2019, fig. 4),
and a compact fine-tuning loop.

The corpus is CPython's documentation (``minibert.corpus``): 61 *topic* documents from the language reference and
160 *module* documents from the standard library's docstrings. Code in its prose is quoted (``"__debug__"``). From
that, with held-out *documents* for testing (never sentences of a document seen in training):

- **document kind** (single sentence, like SST-2): does a sentence come from the language reference or from a
  library module's documentation? Labels are the documents' kinds, balanced by sampling.
- **duplicates** (sentence pair, like MRPC/QQP): is sentence B a reworded copy of sentence A (one word dropped, two
  neighbouring words swapped) or a sentence of another document reworded the same way? Half and half.
- **code tagging** (token tagging, like CoNLL NER): the quotes are removed and the model must tag the words that
  were quoted, BIO style (``B-CODE``, ``I-CODE``, ``O``), on the first piece of every word.
- **cloze QA** (extractive QA, like SQuAD, in the cloze style of Hermann et al., 2015): the context is a sentence
  with quoted code and its neighbours; the question is that sentence with one code span replaced by "what"; the
  answer is the span in the context.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Callable

import torch

from minibert.core.inputs import IGNORE_INDEX
from minibert.corpus import load_documents, split_documents
from minibert.masking import encode_pair, wordpiece_word_ids
from minibert.masking.dataset import pad_batch, token_ids
from .finetuning import align_word_labels, with_encoder
from . import loop

__all__ = ["Example", "TAG_NAMES", "document_kind_task", "duplicate_task", "code_tagging_task", "cloze_qa_task",
           "collate", "fit", "seeded_model", "predict", "accuracy", "majority_accuracy", "validation_split",
           "relabelled"]

TAG_NAMES = ["O", "B-CODE", "I-CODE"]
_QUOTED = re.compile(r'"([^"]+)"')


@dataclass
class Example:
    """One model input: ``input_ids``/``token_type_ids`` (with [CLS]/[SEP]) and its target: ``label`` (a class),
    ``tags`` (one label per token, -100 where not scored) or ``span`` (answer start and end token, inclusive);
    ``teacher_logits``: a teacher's class scores, the soft targets of task distillation (chapter 10)."""

    input_ids: list[int]
    token_type_ids: list[int]
    label: int | None = None
    tags: list[int] | None = None
    span: tuple[int, int] | None = None
    text: str = ""
    extra: dict = field(default_factory=dict)
    teacher_logits: list[float] | None = None


def _documents(held_out: float, seed: int):
    titled = load_documents(with_titles=True)
    train, test = split_documents(titled, held_out=held_out, seed=seed)
    return train, test


def _fits(ids: list[int], max_tokens: int) -> bool:
    return len(ids) <= max_tokens


def _single(tokenizer, text: str, max_tokens: int) -> tuple[list[int], list[int]] | None:
    ids, types = encode_pair(token_ids(tokenizer, text), None, tokenizer.cls_token_id, tokenizer.sep_token_id)
    return (ids, types) if _fits(ids, max_tokens) else None


def document_kind_task(tokenizer, per_class: int = 300, max_tokens: int = 64, held_out: float = 0.25, seed: int = 0):
    """Sentences labelled 0 = language reference ("topic" documents), 1 = library module documentation."""
    rng = random.Random(seed)
    splits = []
    for documents, count in zip(_documents(held_out, seed), (per_class, per_class // 3)):
        by_kind = {0: [], 1: []}
        for title, sentences in documents:
            kind = 0 if title.startswith("topic") else 1
            by_kind[kind] += [s.replace('"', "") for s in sentences if len(s.split()) >= 6]
        examples = []
        for kind, sentences in by_kind.items():
            rng.shuffle(sentences)
            for sentence in sentences:
                encoded = _single(tokenizer, sentence, max_tokens)
                if encoded:
                    examples.append(Example(*encoded, label=kind, text=sentence))
                if sum(e.label == kind for e in examples) == count:
                    break
        rng.shuffle(examples)
        splits.append(examples)
    return tuple(splits)


def _noisy(words: list[str], rng: random.Random) -> str:
    """A reworded copy: one word dropped and two neighbouring words swapped."""
    words = list(words)
    del words[rng.randrange(len(words))]
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def duplicate_task(tokenizer, pairs: int = 2400, max_tokens: int = 80, held_out: float = 0.25, seed: int = 0):
    """Sentence pairs labelled 1 = B is a reworded copy of A (a word dropped, two words swapped), 0 = B is a
    sentence of another document, reworded the same way."""
    rng = random.Random(seed)
    splits = []
    for documents, count in zip(_documents(held_out, seed), (pairs, pairs // 3)):
        documents = [[s.replace('"', "").split() for s in sentences] for _, sentences in documents]
        documents = [[w for w in d if 6 <= len(w) <= 30] for d in documents]
        documents = [d for d in documents if len(d) >= 2]
        examples = []
        while len(examples) < count:
            k = rng.randrange(len(documents))
            d = documents[k]
            i = rng.randrange(len(d))
            label = rng.random() < 0.5
            if label:
                b = d[i]
            else:
                b = rng.choice(documents[rng.choice([j for j in range(len(documents)) if j != k])])
            a, b = " ".join(d[i]), _noisy(b, rng)
            ids, types = encode_pair(token_ids(tokenizer, a), token_ids(tokenizer, b), tokenizer.cls_token_id,
                                     tokenizer.sep_token_id)
            if _fits(ids, max_tokens):
                examples.append(Example(ids, types, label=int(label), text=f"{a} || {b}"))
        splits.append(examples)
    return tuple(splits)


def _segments(sentence: str) -> list[tuple[str, bool]]:
    """The sentence cut into (text, is_code) pieces at its double quotes."""
    pieces, last = [], 0
    for match in _QUOTED.finditer(sentence):
        if match.start() > last:
            pieces.append((sentence[last:match.start()], False))
        pieces.append((match.group(1), True))
        last = match.end()
    if last < len(sentence):
        pieces.append((sentence[last:], False))
    return pieces


def _tagged(tokenizer, sentence: str):
    """Token ids, word ids and word tags of a sentence with its quotes removed; code spans as (first, last) tokens."""
    ids, word_ids, tags, code_spans = [], [], [], []
    words_so_far = 0
    for text, is_code in _segments(sentence):
        piece_ids = token_ids(tokenizer, text)
        if not piece_ids:
            continue
        local = wordpiece_word_ids(tokenizer.convert_ids_to_tokens(piece_ids))
        n_words = max(local) + 1
        if is_code:
            code_spans.append((len(ids), len(ids) + len(piece_ids) - 1, text))
        tags += [(TAG_NAMES.index("B-CODE") if w == 0 else TAG_NAMES.index("I-CODE")) if is_code else 0
                 for w in range(n_words)]
        word_ids += [words_so_far + w for w in local]
        ids += piece_ids
        words_so_far += n_words
    return ids, word_ids, tags, code_spans


def code_tagging_task(tokenizer, max_tokens: int = 64, held_out: float = 0.25, seed: int = 0):
    """Sentences whose quoted code must be found again once the quotes are gone (BIO tags on first pieces)."""
    splits = []
    for documents in _documents(held_out, seed):
        examples = []
        for _, sentences in documents:
            for sentence in sentences:
                if '"' not in sentence:
                    continue
                ids, word_ids, tags, spans = _tagged(tokenizer, sentence)
                if not spans or len(ids) + 2 > max_tokens:
                    continue
                labels = [IGNORE_INDEX] + align_word_labels(word_ids, tags) + [IGNORE_INDEX]
                full = [tokenizer.cls_token_id, *ids, tokenizer.sep_token_id]
                examples.append(Example(full, [0] * len(full), tags=labels, text=sentence.replace('"', "")))
        random.Random(seed).shuffle(examples)
        splits.append(examples)
    return tuple(splits)


def cloze_qa_task(tokenizer, max_tokens: int = 128, held_out: float = 0.25, seed: int = 0, previous: bool = False):
    """Question: a sentence with one quoted code span replaced by "what"; context: that sentence (with
    ``previous``, preceded by the sentence before it), quotes removed; answer: the code span's tokens in the context."""
    rng = random.Random(seed)
    what = token_ids(tokenizer, "what")
    splits = []
    for documents in _documents(held_out, seed):
        examples = []
        for _, sentences in documents:
            for i, sentence in enumerate(sentences):
                if '"' not in sentence:
                    continue
                ids, _, _, spans = _tagged(tokenizer, sentence)
                if not spans:
                    continue
                first, last, code = rng.choice(spans)
                question = ids[:first] + what + ids[last + 1:]
                before = token_ids(tokenizer, sentences[i - 1].replace('"', "")) if previous and i > 0 else []
                context = before + ids
                full, types = encode_pair(question, context, tokenizer.cls_token_id, tokenizer.sep_token_id)
                if len(full) > max_tokens:
                    continue
                offset = len(question) + 2 + len(before)
                examples.append(Example(full, types, span=(offset + first, offset + last), text=sentence,
                                        extra={"answer": code, "context_start": len(question) + 2}))
        rng.shuffle(examples)
        splits.append(examples)
    return tuple(splits)


def collate(examples: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a list of examples into model inputs and targets."""
    ids, mask = pad_batch([e.input_ids for e in examples], pad_id)
    types, _ = pad_batch([e.token_type_ids for e in examples], 0, ids.shape[1])
    batch = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
    if examples[0].label is not None:
        batch["labels"] = torch.tensor([e.label for e in examples])
    if examples[0].tags is not None:
        batch["labels"] = pad_batch([e.tags for e in examples], IGNORE_INDEX, ids.shape[1])[0]
    if examples[0].teacher_logits is not None:
        batch["teacher_logits"] = torch.tensor([e.teacher_logits for e in examples])
    if examples[0].span is not None:
        batch["start_positions"] = torch.tensor([e.span[0] for e in examples])
        batch["end_positions"] = torch.tensor([e.span[1] for e in examples])
    return batch


def fit(model: torch.nn.Module, examples: list[Example], pad_id: int, steps: int, batch_size: int = 32,
        learning_rate: float = 1e-3, warmup: float = 0.1, seed: int = 0) -> list[float]:
    """Fine-tune ``model`` for ``steps`` AdamW steps (linear warm-up then decay) on random batches; returns the
    training loss of every step."""
    if not examples:
        raise ValueError("no training examples")
    generator = torch.Generator().manual_seed(seed)

    def next_batch() -> dict[str, torch.Tensor]:
        chosen = torch.randint(len(examples), (min(batch_size, len(examples)),), generator=generator).tolist()
        return collate([examples[i] for i in chosen], pad_id)

    losses = loop.fit(model, next_batch, steps, learning_rate, warmup_steps=int(warmup * steps), max_grad_norm=1.0)
    model.eval()
    return losses


def seeded_model(make_model: Callable[[], torch.nn.Module], seed: int,
                 encoder: torch.nn.Module | None = None) -> torch.nn.Module:
    """``make_model()`` after ``torch.manual_seed(seed)``, with ``encoder``'s weights copied in when given
    (:func:`~minibert.training.finetuning.with_encoder`). The same seed gives a pre-trained model and one started
    from random weights the same freshly initialised head, so the two starts differ only in the encoder."""
    torch.manual_seed(seed)
    model = make_model()
    return with_encoder(model, encoder) if encoder is not None else model


def predict(model: torch.nn.Module, examples: list[Example], pad_id: int, chunk: int = 64) -> SimpleNamespace:
    """The model's outputs (``logits``, or ``start_logits`` and ``end_logits``) on all ``examples``, run ``chunk``
    at a time (one batch of hundreds would need gigabytes). The model is run in the mode it is in: models fresh from
    :func:`fit` are in eval mode."""
    batch = {k: v for k, v in collate(examples, pad_id).items()
             if k in ("input_ids", "token_type_ids", "attention_mask")}
    with torch.no_grad():
        parts = [model(**{k: v[i:i + chunk] for k, v in batch.items()}) for i in range(0, len(examples), chunk)]
    names = [n for n in ("logits", "start_logits", "end_logits") if getattr(parts[0], n, None) is not None]
    return SimpleNamespace(**{n: torch.cat([getattr(p, n) for p in parts]) for n in names})


def accuracy(model: torch.nn.Module, examples: list[Example], pad_id: int) -> float:
    """The share of ``examples`` whose ``label`` is the model's top class."""
    logits = predict(model, examples, pad_id).logits
    return float((logits.argmax(-1) == torch.tensor([e.label for e in examples])).double().mean())


def majority_accuracy(train: list[Example], test: list[Example]) -> float:
    """The accuracy on ``test`` of always answering the most frequent label of ``train`` (ties: the smaller label)."""
    labels = [e.label for e in train]
    majority = max(sorted(set(labels)), key=labels.count)
    return sum(e.label == majority for e in test) / len(test)


def validation_split(examples: list[Example], fraction: float = 0.2,
                     seed: int = 0) -> tuple[list[Example], list[Example]]:
    """``(train, validation)``: a random ``fraction`` of the training examples set aside to choose settings such as
    the learning rate, so that the test set is never used for a choice. The split is by example, not by document:
    validation sentences come from training documents, so validation scores run higher than test scores; they only
    rank settings."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    cut = round(len(examples) * fraction)
    if not 0 < cut < len(examples):
        raise ValueError(f"{len(examples)} examples are too few to set {fraction:.0%} aside")
    return [examples[i] for i in sorted(order[cut:])], [examples[i] for i in sorted(order[:cut])]


def relabelled(examples: list[Example], labels=None, teacher_logits: torch.Tensor | None = None) -> list[Example]:
    """Copies of ``examples`` with new ``labels`` (one class per example, -100 for none: a transfer set the
    student sees without its labels) and/or a teacher's ``(N, C)`` logits attached as soft targets."""
    for name, values in (("labels", labels), ("teacher_logits", teacher_logits)):
        if values is not None and len(values) != len(examples):
            raise ValueError(f"{len(values)} {name} for {len(examples)} examples: give one per example")
    return [replace(e, **({"label": int(labels[i])} if labels is not None else {}),
                    **({"teacher_logits": teacher_logits[i].tolist()} if teacher_logits is not None else {}))
            for i, e in enumerate(examples)]

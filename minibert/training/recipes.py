r"""RoBERTa's pre-training recipe as switches on the course's training loop (Liu et al., 2019, "RoBERTa: A Robustly
Optimized BERT Pretraining Approach", sections 4.1-4.3).

RoBERTa kept BERT's network and retrained it with different choices, each ablated in the paper:

- **masking** (4.1): BERT masked its data once, during preprocessing (*static*); RoBERTa draws a new mask every time
  a sequence is fed to the model (*dynamic*). Paper: SQuAD 2.0 78.3 vs 78.7, MNLI 84.3 vs 84.0, SST-2 92.5 vs 92.9;
- **inputs and NSP** (4.2): BERT's SEGMENT-PAIR inputs with a next-sentence loss against FULL-SENTENCES (contiguous
  text up to 512 tokens) without it. Paper: FULL-SENTENCES without NSP matches or beats SEGMENT-PAIR with NSP;
- **batch size** (4.3): 256 sequences x 1M steps vs 2K x 125K vs 8K x 31K (the same number of sequences), with a
  learning rate raised to match. Paper: perplexity 3.99, 3.68, 3.77: larger batches were better or as good.

The loss of a step averages over all predicted tokens of its :math:`B` sequences; with gradient accumulation a
large :math:`B` is processed as :math:`B / b` micro-batches of :math:`b` (see :mod:`minibert.training`).

:class:`Recipe` holds the switches, :func:`pretraining_data` builds the training data they ask for, and
:func:`pretrain` trains the course's tiny BERT and evaluates it on one held-out FULL-SENTENCES set shared by all
recipes, so their numbers can be compared.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import torch

from minibert.corpus import load_documents, split_documents
from minibert.masking import Masker, encode_pair, nsp_pairs
from minibert.masking.dataset import MaskedLMDataset, encode_documents, pad_batch
from minibert.models.bert.heads import BertForPreTraining
from .pretrain import build_datasets, build_model
from .trainer import Trainer, TrainingConfig, evaluate_mlm

__all__ = ["Recipe", "BERT_RECIPE", "ROBERTA_RECIPE", "SegmentPairDataset", "pretraining_data", "pretrain"]

MASKINGS = ("static", "dynamic")
INPUTS = ("full-sentences", "segment-pairs")


@dataclass(frozen=True)
class Recipe:
    """The switches of one pre-training run. ``batch_size``: sequences per optimizer step; ``micro_batch_size``:
    sequences per forward pass (``batch_size / micro_batch_size`` micro-batches accumulate their gradients)."""

    masking: str = "dynamic"
    inputs: str = "full-sentences"
    batch_size: int = 32
    micro_batch_size: int | None = None
    steps: int = 600
    learning_rate: float = 1e-3
    warmup_steps: int = 60

    def __post_init__(self):
        if self.masking not in MASKINGS:
            raise ValueError(f"masking must be one of {MASKINGS}, got {self.masking!r}")
        if self.inputs not in INPUTS:
            raise ValueError(f"inputs must be one of {INPUTS}, got {self.inputs!r}")
        TrainingConfig(steps=self.steps, batch_size=self.batch_size, micro_batch_size=self.micro_batch_size,
                       learning_rate=self.learning_rate, warmup_steps=self.warmup_steps)  # validates the rest

    @property
    def sequences(self) -> int:
        """Sequences seen in training: steps x batch size (the budget RoBERTa's batch comparison holds fixed)."""
        return self.steps * self.batch_size

    def replace(self, **changes) -> "Recipe":
        return Recipe(**{**asdict(self), **changes})


BERT_RECIPE = Recipe(masking="static", inputs="segment-pairs")
ROBERTA_RECIPE = Recipe(masking="dynamic", inputs="full-sentences")


class SegmentPairDataset(MaskedLMDataset):
    """BERT's SEGMENT-PAIR inputs, ``[CLS] A [SEP] B [SEP]``, masked like :class:`MaskedLMDataset` (static or
    dynamic); batches also carry ``token_type_ids`` and ``next_sentence_label`` (0 = B follows A)."""

    def __init__(self, pairs: Sequence, masker: Masker, cls_id: int, sep_id: int, pad_id: int, length: int,
                 seed: int = 0, dynamic: bool = True):
        encoded = [encode_pair(pair.a, pair.b, cls_id, sep_id) for pair in pairs]
        super().__init__([ids for ids, _ in encoded], masker, pad_id, seed=seed, dynamic=dynamic, length=length)
        self.token_types = [types for _, types in encoded]
        self.next_sentence_labels = [pair.label for pair in pairs]

    def batch(self, indices: Sequence[int], epoch: int = 0) -> dict[str, torch.Tensor]:
        out = super().batch(indices, epoch)
        out["token_type_ids"], _ = pad_batch([self.token_types[i] for i in indices], 0, self.length)
        out["next_sentence_label"] = torch.tensor([self.next_sentence_labels[i] for i in indices])
        return out


def pretraining_data(recipe: Recipe, tokenizer, max_tokens: int = 64, seed: int = 0):
    """``(train, test)``: training data as the recipe asks, and the held-out FULL-SENTENCES set (fixed masks) on
    which every recipe is evaluated. Documents are split as :func:`minibert.training.pretrain.build_datasets` splits
    them."""
    train, test = build_datasets(tokenizer, max_tokens, seed=seed, dynamic=recipe.masking == "dynamic")
    if recipe.inputs == "segment-pairs":
        documents, _ = split_documents(load_documents(), held_out=0.1, seed=seed)
        pairs = nsp_pairs(encode_documents(documents, tokenizer), max_tokens, generator=seed)
        train = SegmentPairDataset(pairs, train.masker, tokenizer.cls_token_id, tokenizer.sep_token_id,
                                   tokenizer.pad_token_id, max_tokens, seed=seed, dynamic=recipe.masking == "dynamic")
    return train, test


def pretrain(recipe: Recipe, tokenizer, seed: int = 0, max_tokens: int = 64, hidden: int = 128, layers: int = 2,
             heads: int = 4, eval_every: int | None = None, device=None, progress: bool = False) -> dict:
    """Train the course's tiny BERT with ``recipe``; returns the held-out masked accuracy and perplexity, the
    per-step history and the recipe. Models with NSP train ``BertForPreTraining`` (masked LM + NSP)."""
    train, test = pretraining_data(recipe, tokenizer, max_tokens, seed)
    lm = build_model(len(tokenizer.vocab), max_tokens, hidden, layers, heads, seed=seed,
                     pad_token_id=tokenizer.pad_token_id)
    model = lm
    if recipe.inputs == "segment-pairs":
        torch.manual_seed(seed)
        model = BertForPreTraining(lm.config)
        model.bert.load_state_dict(lm.bert.state_dict(), strict=False)  # same starting encoder as the others
        model.mlm.load_state_dict(lm.mlm.state_dict())
    config = TrainingConfig(steps=recipe.steps, batch_size=recipe.batch_size, micro_batch_size=recipe.micro_batch_size,
                            learning_rate=recipe.learning_rate, warmup_steps=recipe.warmup_steps, seed=seed,
                            eval_every=eval_every)
    torch.manual_seed(seed)
    trainer = Trainer(model, train, config, eval_data=test, device=device, progress=progress)
    nsp_before = model.nsp.weight.detach().clone() if recipe.inputs == "segment-pairs" else None
    trainer.train()
    if nsp_before is not None and torch.equal(nsp_before.cpu(), model.nsp.weight.detach().cpu()):
        raise RuntimeError("the NSP head did not train: this Trainer does not pass a batch's token_type_ids and "
                           "next_sentence_label to the model")
    evaluation = evaluate_mlm(model, test)
    return {"recipe": asdict(recipe), "seed": seed, "sequences": recipe.sequences,
            "masked_accuracy": evaluation["accuracy"], "perplexity": evaluation["perplexity"],
            "history": trainer.history}

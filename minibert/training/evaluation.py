"""How well a masked language model predicts the held-out masks, and the score of guessing by word frequency alone
(the baseline every pre-training result in the course is read against)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from minibert.masking.dataset import MaskedLMDataset
from minibert.core.inputs import IGNORE_INDEX

__all__ = ["evaluate_mlm", "unigram_baseline", "unigram_frequencies"]


@torch.no_grad()
def evaluate_mlm(model, dataset: MaskedLMDataset, batch_size: int = 64, device=None) -> dict[str, float]:
    """Masked-token accuracy (the right token ranked first, or among the first five), mean cross-entropy and
    perplexity on ``dataset`` with its fixed (epoch-0) masks.

    Under 80-10-10 a tenth of the scored positions still show their own token, and a model learns early to copy
    it: ``accuracy`` counts those too (as BERT's papers do). ``mask_accuracy`` scores only the positions whose
    input is ``[MASK]``, the ones that need the context: read it to know whether a model uses its context."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    total_loss, correct, in_top5, count, masked_correct, masked_count = 0.0, 0, 0, 0, 0, 0
    mask_id = dataset.masker.mask_token_id
    for batch in dataset.evaluation_batches(batch_size):
        labels = batch["labels"].to(device)
        chosen = labels != IGNORE_INDEX
        logits = model(batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device),
                       positions=chosen).logits.float()
        target = labels[chosen]
        total_loss += float(F.cross_entropy(logits, target, reduction="sum"))
        best = logits.topk(min(5, logits.shape[-1]), dim=-1).indices
        correct += int((best[:, 0] == target).sum())
        in_top5 += int((best == target[:, None]).any(-1).sum())
        count += target.numel()
        shows_mask = batch["input_ids"].to(device)[chosen] == mask_id
        masked_correct += int((best[shows_mask, 0] == target[shows_mask]).sum())
        masked_count += int(shows_mask.sum())
    model.train(was_training)
    loss = total_loss / count
    return {"loss": loss, "accuracy": correct / count, "top5_accuracy": in_top5 / count,
            "perplexity": math.exp(loss), "predictions": count,
            "mask_accuracy": masked_correct / max(masked_count, 1)}


def unigram_frequencies(train: MaskedLMDataset) -> torch.Tensor:
    """The unigram model of the training blocks: token frequencies, add-one smoothed over the ordinary tokens,
    0 for the special ones (``[CLS]``, ``[SEP]``, ``[PAD]``, ``[MASK]``...); a float64 vector summing to 1."""
    vocab_size = train.masker.vocab_size
    counts = torch.ones(vocab_size, dtype=torch.float64)  # add-one smoothing
    for block in train.blocks:
        counts += torch.bincount(torch.tensor(block), minlength=vocab_size).double()
    counts[train.masker.special_ids] = 0
    return counts / counts.sum()


def unigram_baseline(train: MaskedLMDataset, test: MaskedLMDataset) -> dict:
    """The best context-free guess: always predict the training data's most frequent ordinary token. Also the
    perplexity of the (add-one smoothed) unigram distribution on the test predictions."""
    frequencies = unigram_frequencies(train)
    log_p = frequencies.log()
    best = int(frequencies.argmax())
    labels = torch.cat([b["labels"][b["labels"] != IGNORE_INDEX] for b in test.evaluation_batches(256)])
    return {"token_id": best, "accuracy": float((labels == best).double().mean()),
            "perplexity": math.exp(-float(log_p[labels].mean()))}

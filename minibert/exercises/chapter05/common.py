"""Shared imports and helpers of chapter 05's exercises."""
from __future__ import annotations

import math
import numbers

from .. import exercise

# A small vocabulary for the masker's checks: 0 [PAD], 1 [UNK], 2 [CLS], 3 [SEP], 4 [MASK], ordinary ids 5..59.
PAD, UNK, CLS, SEP, MASK, VOCAB = 0, 1, 2, 3, 4, 60
SPECIAL = {PAD, UNK, CLS, SEP, MASK}


def _as_float(value, what: str) -> float:
    """A Python, numpy or torch real number as a float; anything else is the learner's mistake, said plainly."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise AssertionError(f"{what} should be one number, got an array of shape "
                                 f"{tuple(getattr(value, 'shape', ()))}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be a number, got {type(value).__name__}")
    return float(value)


def _as_int(value, what: str) -> int:
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "item") and not isinstance(value, int):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise AssertionError(f"{what} should be one integer, got an array") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise AssertionError(f"{what} should be an integer (a count of tokens), got {value!r}")
    return int(value)


# -- 05.1 -----------------------------------------------------------------------------------------------------------

def _sequence(word_lengths, special_word=False, pads=2, seed=0):
    """``[CLS] words... [SEP] [PAD]...`` with word ids; ``special_word`` puts an [UNK] (a special id that the
    tokenizer still counts as a word) in the middle."""
    import torch

    g = torch.Generator().manual_seed(seed)
    ids, words = [CLS], [None]
    for w, length in enumerate(word_lengths):
        if special_word and w == len(word_lengths) // 2:
            ids.append(UNK)
            words.append(w)
            continue
        ids += torch.randint(5, VOCAB, (length,), generator=g).tolist()
        words += [w] * length
    ids += [SEP] + [PAD] * pads
    words += [None] * (1 + pads)
    return torch.tensor(ids), words


def _groups(ids, words):
    """word id -> its maskable positions (the checker's view of the words)."""
    groups = {}
    for t, (token, w) in enumerate(zip(ids.tolist(), words)):
        if w is not None and token not in SPECIAL:
            groups.setdefault(w, []).append(t)
    return groups


def _run_masker(answer, ids, words, seed):
    import torch

    out = answer(ids.clone(), list(words), set(SPECIAL), MASK, VOCAB, torch.Generator().manual_seed(seed))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return two tensors (inputs, labels), got {type(out).__name__}")
    result = []
    for name, tensor in zip(("inputs", "labels"), out):
        try:
            tensor = torch.as_tensor(tensor.detach() if hasattr(tensor, "detach") else tensor)
        except (TypeError, ValueError, RuntimeError):
            raise AssertionError(f"{name} should be a tensor of token ids, got {type(tensor).__name__}") from None
        if tensor.is_floating_point() or tuple(tensor.shape) != tuple(ids.shape):
            raise AssertionError(f"{name} should be an integer tensor of shape {tuple(ids.shape)} (one id per "
                                 f"token), got dtype {tensor.dtype}, shape {tuple(tensor.shape)}")
        result.append(tensor.long())
    return result


def _check_one(ids, words, inputs, labels, what):
    """Everything a single masked sequence must satisfy; returns the picked positions."""
    picked = (labels != -100).nonzero().flatten().tolist()
    for t in picked:
        if int(labels[t]) != int(ids[t]):
            raise AssertionError(f"{what}: the label at a picked position must be the ORIGINAL token id (the "
                                 "model predicts what was there), -100 elsewhere")
    for t in range(len(ids)):
        if t not in picked and int(inputs[t]) != int(ids[t]):
            raise AssertionError(f"{what}: you changed a token that has no label (position {t}); only picked "
                                 "tokens are replaced")
    for t in picked:
        if int(ids[t]) in SPECIAL or words[t] is None:
            kind = "padding" if int(ids[t]) == PAD else "a special token"
            raise AssertionError(f"{what}: you picked position {t}, {kind} (id {int(ids[t])}); special tokens and "
                                 "padding are never picked: a token is maskable only if its id is not in "
                                 "special_ids and it belongs to a word")
    groups = _groups(ids, words)
    chosen = set(picked)
    for w, positions in groups.items():
        inside = [t in chosen for t in positions]
        if any(inside) and not all(inside):
            raise AssertionError(f"{what}: word {w} (positions {positions}) is only partly picked; whole-word "
                                 "masking picks all the pieces of a word or none")
    n = sum(len(p) for p in groups.values())
    budget = max(1, round(0.15 * n))
    if len(picked) > budget:
        raise AssertionError(f"{what}: {n} maskable tokens, and you picked {len(picked)}; that is over BERT's "
                             "budget max(1, round(0.15 n)) (a word that would overflow the budget is skipped)")
    room = budget - len(picked)
    unpicked = [w for w, positions in groups.items() if positions[0] not in chosen and len(positions) <= room]
    if unpicked:
        if all(len(p) == 1 for p in groups.values()):
            raise AssertionError(f"{what}: {n} maskable single-piece words and you picked {len(picked)}: the budget "
                                 "is max(1, round(0.15 n)) with Python's round (not int(), not math.ceil)")
        raise AssertionError(f"{what}: you picked {len(picked)} tokens and stopped, but word {unpicked[0]} would "
                             "still fit in the budget: skip a word that would overflow and keep trying the others")
    for t in picked:
        shown = int(inputs[t])
        if shown not in (MASK, int(ids[t])) and (shown in SPECIAL or not 0 <= shown < VOCAB):
            raise AssertionError(f"{what}: a random replacement is id {shown}: draw it from the ordinary tokens "
                                 "(0 <= id < vocab_size and not in special_ids); a random [CLS] or [PAD] teaches "
                                 "nothing")
    return picked

__all__ = ['math', 'numbers', 'exercise', 'PAD', 'UNK', 'CLS', 'SEP', 'MASK', 'VOCAB', 'SPECIAL', '_as_float', '_as_int', '_sequence', '_groups', '_run_masker', '_check_one']

"""The one place where a model's inputs are checked: ids, masks, token types, positions and the labels of a loss.

Every model calls these at its boundary, so a mistake surfaces as one clear ``TypeError``/``ValueError`` saying what
to do, never as an index error deep inside torch or, worse, as silently wrong numbers (a fractional mask, or an
additive ``0/-10000`` mask read upside down).
"""
from __future__ import annotations

import torch

__all__ = ["IGNORE_INDEX", "integer_tensor", "token_ids", "binary_mask", "token_types", "positions", "labels",
           "sequence_labels"]

IGNORE_INDEX = -100  # label value for "nothing to predict here", as in torch's cross_entropy and transformers


def integer_tensor(name: str, value, shape: tuple[int, ...] | None = None) -> torch.Tensor:
    """``value`` as given, after checking it is an integer tensor (of ``shape`` when given)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of integer ids, got {type(value).__name__}; "
                        f"wrap lists with torch.tensor([...])")
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name} must hold integers (torch.long), got dtype {value.dtype}; use .long()")
    if shape is not None and tuple(value.shape) != shape:
        raise ValueError(f"{name} has shape {tuple(value.shape)} but input_ids has shape {shape}; they must match")
    return value


def token_ids(input_ids, vocab_size: int, max_length: int | None = None, name: str = "input_ids",
              limit: str = "") -> torch.Tensor:
    """A non-empty ``(batch, T)`` tensor of ids in ``[0, vocab_size)``, at most ``max_length`` long (``limit``
    says where that length comes from)."""
    input_ids = integer_tensor(name, input_ids)
    if input_ids.dim() != 2:
        hint = " (a single sequence? use input_ids.unsqueeze(0))" if input_ids.dim() == 1 else ""
        raise ValueError(f"{name} must have shape (batch, seq_len), got {tuple(input_ids.shape)}{hint}")
    if input_ids.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(input_ids.shape)}); encode at least one token")
    if max_length is not None and input_ids.shape[1] > max_length:
        raise ValueError(f"sequence length {input_ids.shape[1]} exceeds the model's limit of {max_length} tokens{limit}; "
                         "truncate the input (e.g. tokenizer truncation) or split it into windows")
    low, high = int(input_ids.min()), int(input_ids.max())
    if low < 0 or high >= vocab_size:
        raise ValueError(f"{name} contains id {low if low < 0 else high}, outside the vocabulary [0, {vocab_size}); "
                         "was the text encoded with the tokenizer that belongs to this model?")
    return input_ids


def binary_mask(name: str, mask, shapes: dict[tuple[int, ...], str]) -> torch.Tensor:
    """``mask`` as a boolean tensor, after checking its shape is one of ``shapes`` (each with what it means) and that
    it holds only 0 and 1 (or booleans): a fractional mask, or an additive one (0 / -10000 / -inf), is refused
    rather than misread."""
    meaning = next(iter(shapes.values()))
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor ({meaning}), got {type(mask).__name__}")
    if tuple(mask.shape) not in shapes:
        expected = " or ".join(f"{shape} ({what})" for shape, what in shapes.items())
        raise ValueError(f"{name} has shape {tuple(mask.shape)}; expected {expected}")
    if mask.dtype == torch.bool:
        return mask
    if mask.is_complex() or (mask.is_floating_point() and not bool(torch.isfinite(mask).all())):
        raise ValueError(f"{name} contains inf/NaN; pass {meaning}")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError(f"{name} must contain only 0 and 1 ({meaning}); an additive -inf/-10000 mask is an "
                         "implementation detail, not an input, and a fractional mask means nothing")
    return mask.bool()


def token_types(token_type_ids, batch: int, length: int, type_vocab_size: int) -> torch.Tensor:
    token_type_ids = integer_tensor("token_type_ids", token_type_ids, (batch, length))
    if type_vocab_size == 0:
        raise ValueError("this model has no segment embeddings (type_vocab_size=0); drop token_type_ids")
    if int(token_type_ids.min()) < 0 or int(token_type_ids.max()) >= type_vocab_size:
        raise ValueError(f"token_type_ids must be in [0, {type_vocab_size}), "
                         f"got values {sorted(set(token_type_ids.unique().tolist()))[:8]}")
    return token_type_ids


def positions(position_ids, length: int, max_positions: int) -> torch.Tensor:
    position_ids = integer_tensor("position_ids", position_ids)
    if position_ids.shape[-1] != length:
        raise ValueError(f"position_ids has length {position_ids.shape[-1]}, input_ids {length}")
    if int(position_ids.min()) < 0 or int(position_ids.max()) >= max_positions:
        raise ValueError(f"position_ids must be in [0, {max_positions})")
    return position_ids


def labels(value, shape: tuple[int, ...], num_classes: int, name: str = "labels", what: str = "token ids",
           require_one: bool = False) -> torch.Tensor:
    """Targets of a loss, checked before torch sees them: an integer tensor of ``shape`` holding ids in
    ``[0, num_classes)`` or -100 (nothing to predict), and with ``require_one`` at least one that is not -100 (a
    mean over no target is NaN)."""
    if (not isinstance(value, torch.Tensor) or value.is_floating_point() or value.is_complex()
            or value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer torch.Tensor ({what}, {IGNORE_INDEX} where nothing is predicted)")
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(value.shape)} but input_ids has {tuple(shape)}")
    valid = value[value != IGNORE_INDEX]
    if valid.numel() and (int(valid.min()) < 0 or int(valid.max()) >= num_classes):
        raise ValueError(f"{name} must be {what} in [0, {num_classes}) or {IGNORE_INDEX}")
    if require_one and valid.numel() == 0:
        raise ValueError(f"{name} has no position to predict (all {IGNORE_INDEX}); mask at least one token")
    return value


def sequence_labels(name: str, value, batch: int, num_classes: int, meaning: str = "") -> torch.Tensor:
    """One class id per sequence, in ``[0, num_classes)``, as a ``(batch,)`` tensor (``(batch, 1)`` is accepted)."""
    if (not isinstance(value, torch.Tensor) or value.is_floating_point() or value.is_complex()
            or value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor of class ids, one per sequence; got "
                        f"{value.dtype if isinstance(value, torch.Tensor) else type(value).__name__}")
    if value.numel() != batch or value.dim() > 2:
        raise ValueError(f"{name} has shape {tuple(value.shape)}: give one label per sequence ({batch})")
    value = value.reshape(-1)
    if int(value.min()) < 0 or int(value.max()) >= num_classes:
        raise ValueError(f"{name} must be class ids in [0, {num_classes}){meaning}, got values "
                         f"{sorted(set(value.tolist()))[:8]}")
    return value

"""Shared imports and helpers of chapter 07's exercises."""
from __future__ import annotations

import numbers

from .. import exercise


def _as_int(value, what: str) -> int:
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "item") and not isinstance(value, int):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise AssertionError(f"{what} should be one integer, got an array") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise AssertionError(f"{what} should be an integer, got {value!r}")
    return int(value)


# -- 07.1 -----------------------------------------------------------------------------------------------------------

def _build_head(answer, hidden_size):
    import torch

    head = answer(hidden_size)
    if not isinstance(head, torch.nn.Module):
        raise AssertionError(f"answer({hidden_size}) should build your head, a torch.nn.Module, got "
                             f"{type(head).__name__}")
    shapes = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    if shapes != {"weight": (2, hidden_size), "bias": (2,)}:
        raise AssertionError(f"your head's parameters are {shapes}; name and shape them as the skeleton does, "
                             f"weight (2, H) and bias (2,), so that a trained head's weights can be loaded into it")
    return head


def _head_outputs(head, hidden, start=None, end=None, what=""):
    import torch

    try:
        out = head(hidden) if start is None else head(hidden, start, end)
    except Exception as err:  # noqa: BLE001 (the learner's code broke on an input the chapter describes)
        if start is not None and bool((start >= hidden.shape[1]).any() | (end >= hidden.shape[1]).any()):
            raise AssertionError(f"{what}: your head raised {type(err).__name__} ({err}) for an answer position "
                                 "outside the sequence (an answer cut off by truncation): clamp positions to T and "
                                 "let the loss ignore T, as transformers does") from None
        raise
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise AssertionError(f"{what}: forward should return three things, (start_logits, end_logits, loss), with "
                             f"loss None when no positions are given; got {type(out).__name__}")
    start_logits, end_logits, loss = out
    for name, t in (("start_logits", start_logits), ("end_logits", end_logits)):
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(hidden.shape[:2]):
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise AssertionError(f"{what}: {name} should be a tensor of shape (B, T) = {tuple(hidden.shape[:2])}, "
                                 f"got {shape}")
    return start_logits, end_logits, loss

__all__ = ['numbers', 'exercise', '_as_int', '_build_head', '_head_outputs']

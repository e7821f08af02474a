"""Shared imports and helpers of chapter 06's exercises."""
from __future__ import annotations

import math
import numbers

from .. import exercise


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


def _schedule_diagnosis(step: int, warmup: int, total: int, got: float, expected: float) -> str:
    where = f"warmup={warmup}, total={total}: at step {step} your learning rate is {got:.4g}"
    if step < warmup:
        if step == 0 and got == 0:
            return f"{where}; the first step already moves: warm-up counts steps from 1, (step + 1) / warmup"
        if step == warmup - 1:
            return f"{where}; the warm-up reaches the peak at its last step, warmup - 1"
        return f"{where}; during warm-up the rate grows linearly, (step + 1) / warmup of the peak"
    if step >= total:
        return f"{where}; from step `total` on the learning rate stays at 0 (never negative)"
    if step == warmup:
        return f"{where}; the decay starts at the peak, right after the warm-up"
    return f"{where}; after warm-up it falls linearly from the peak at step `warmup` to 0 at step `total`"

__all__ = ['math', 'numbers', 'exercise', '_as_float', '_schedule_diagnosis']

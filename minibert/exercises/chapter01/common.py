"""Shared imports and helpers of chapter 01's exercises."""
from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np
import torch

from .. import exercise
from ... import reference as ref


# -- shared helpers ---------------------------------------------------------------------------------------------

def _array(value, what: str) -> np.ndarray:
    """A NumPy array, a torch tensor or a nested list as a float64 array; anything else is said plainly."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be an array of numbers, got {type(value).__name__}") from None
    return array


def _whole_number(value, what: str) -> int:
    """A Python, NumPy or torch integer (or a float that is a whole number) as an int."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"{what} should be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise AssertionError(f"{what} should be one number, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be a whole number, got {type(value).__name__}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not np.isfinite(float(value)) or not float(value).is_integer():
        raise AssertionError(f"{what} should be a whole number (a count of parameters), got {value!r}")
    return int(value)


@contextmanager
def _one_thread():
    """Tiny tensors: a second torch thread buys nothing, and on a busy machine it makes each small product wait."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

__all__ = ['numbers', 'contextmanager', 'np', 'torch', 'exercise', 'ref', '_array', '_whole_number', '_one_thread']

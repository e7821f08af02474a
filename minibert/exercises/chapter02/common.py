"""Shared imports and helpers of chapter 02's exercises."""
from __future__ import annotations

import numbers

import numpy as np
import torch

from .. import exercise


def _array(value, what: str, dtype=float) -> np.ndarray:
    """A NumPy array, a torch tensor or a nested list as an array; anything else is said plainly."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be an array of numbers, got {type(value).__name__}") from None


def _integers(value, what: str) -> np.ndarray:
    """An array of integers (NumPy or torch, any integer dtype); floats are refused: they cannot index a table."""
    array = _array(value, what, dtype=None)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise AssertionError(f"{what} should be an array of integers, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.integer):
        raise AssertionError(f"{what} should hold integers (it indexes a table of embeddings), got dtype "
                             f"{array.dtype}: convert with .astype(int) / .long() once the values are right")
    return array.astype(np.int64)


def _variant(source: str, old: str, new: str, note: str) -> str:
    """A registered wrong answer: the model solution with one typical mistake put in."""
    if old not in source:
        raise ValueError(f"cannot make the wrong answer {note!r}: {old!r} is not in the solution")
    return f"# {note}\n" + source.replace(old, new, 1)


# -- 02.1 -------------------------------------------------------------------------------------------------------

_TABLE_SOLUTION = """
import numpy as np


def answer(positions, dim, base=10000.0, interleave=True):
    if dim % 2:
        raise ValueError(f"dim must be even (one sine and one cosine per frequency), got {dim}")
    if np.isscalar(positions):
        positions = np.arange(positions)  # an int N means the positions 0 .. N-1
    positions = np.asarray(positions, dtype=float)
    i = np.arange(dim // 2)
    angles = positions[:, None] / base ** (2 * i / dim)  # (N, dim / 2): one angle per position and pair
    table = np.zeros((len(positions), dim))
    if interleave:  # the paper: sin, cos, sin, cos, ...
        table[:, 0::2], table[:, 1::2] = np.sin(angles), np.cos(angles)
    else:  # Transformer-XL: all sines, then all cosines
        table[:, :dim // 2], table[:, dim // 2:] = np.sin(angles), np.cos(angles)
    return table
"""


def _expected_table(positions, dim, base=10000.0, interleave=True, exponent=2.0):
    positions = np.arange(positions) if np.isscalar(positions) else np.asarray(positions, dtype=float)
    angles = positions[:, None] / base ** (exponent * np.arange(dim // 2) / dim)
    sin, cos = np.sin(angles), np.cos(angles)
    table = np.zeros((len(positions), dim))
    if interleave:
        table[:, 0::2], table[:, 1::2] = sin, cos
    else:
        table[:, :dim // 2], table[:, dim // 2:] = sin, cos
    return table

__all__ = ['numbers', 'np', 'torch', 'exercise', '_array', '_integers', '_variant', '_TABLE_SOLUTION', '_expected_table']

"""Shared imports and helpers of chapter 12's exercises."""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import exercise
from .._checks_11_14 import own_rng as _own_rng
from .._checks_11_14 import call as _call, integer as _integer, number as _number, tensor as _tensor


# -- 12.1 ---------------------------------------------------------------------------------------------------------
def _bool_matrix(value, size: int, what: str) -> torch.Tensor:
    matrix = _tensor(value, what)
    assert tuple(matrix.shape) == (size, size), (
        f"for an order of {size} positions the {what} is ({size}, {size}), got {tuple(matrix.shape)}")
    if matrix.dtype != torch.bool:
        assert bool(((matrix == 0) | (matrix == 1)).all()), f"the {what} holds True/False (or 1/0) only"
        matrix = matrix != 0
    return matrix


def _describe(order, num_predict) -> str:
    order = [int(v) for v in order]
    shown = order if len(order) <= 10 else order[:10] + ["..."]
    return f"order {shown}" + (f", num_predict={num_predict}" if num_predict is not None else "")

__all__ = ['math', 'np', 'torch', 'exercise', '_own_rng', '_call', '_integer', '_number', '_tensor', '_bool_matrix', '_describe']

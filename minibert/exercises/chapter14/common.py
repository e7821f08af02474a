"""Shared imports and helpers of chapter 14's exercises."""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import exercise
from .._checks_11_14 import own_rng as _own_rng
from .._checks_11_14 import call as _call, choice as _choice, integer as _integer, tensor as _tensor


# -- 14.1 ---------------------------------------------------------------------------------------------------------
_SENTINELS = [f"<extra_id_{k}>" for k in range(100)]


def _pair(result, where: str) -> tuple[list, list]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(f"{where}: return a pair (inputs, targets)")
    try:
        return [t for t in result[0]], [t for t in result[1]]
    except TypeError:
        raise AssertionError(f"{where}: inputs and targets are lists of tokens") from None


def _same_tokens(got: list, expected: list) -> bool:
    if len(got) != len(expected):
        return False
    for a, b in zip(got, expected):
        a = a.item() if isinstance(a, (torch.Tensor, np.generic)) else a
        if a != b:
            return False
    return True

__all__ = ['math', 'np', 'torch', 'exercise', '_own_rng', '_call', '_choice', '_integer', '_tensor', '_SENTINELS', '_pair', '_same_tokens']

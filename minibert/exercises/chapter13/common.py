"""Shared imports and helpers of chapter 13's exercises."""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import exercise
from .._checks_11_14 import own_rng as _own_rng
from .._checks_11_14 import call as _call, choice as _choice, integer as _integer, number as _number
from .._checks_11_14 import tensor as _tensor

__all__ = ['math', 'np', 'torch', 'exercise', '_own_rng', '_call', '_choice', '_integer', '_number', '_tensor']

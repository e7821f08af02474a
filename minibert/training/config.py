"""The settings of a pre-training run, checked when they are made: finite numbers, integers where integers go, and
ranges that mean something (a negative weight decay or an infinite learning rate is refused, not trained with)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .schedules import DECAYS

__all__ = ["TrainingConfig"]


@dataclass
class TrainingConfig:
    """Hyper-parameters of a pre-training run. ``batch_size``: sequences per optimizer step over all processes;
    ``micro_batch_size``: sequences per forward pass on one process (default: the whole per-process share)."""

    steps: int = 300
    batch_size: int = 32
    micro_batch_size: int | None = None
    learning_rate: float = 1e-3
    warmup_steps: int = 30
    decay: str = "linear"
    weight_decay: float = 0.01
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-6
    max_grad_norm: float | None = 1.0
    label_smoothing: float = 0.0
    eval_every: int | None = None
    eval_batch_size: int = 64
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "eval_batch_size", "micro_batch_size", "eval_every", "warmup_steps",
                     "seed"):
            value = getattr(self, name)
            if value is None and name in ("micro_batch_size", "eval_every"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"TrainingConfig.{name} must be an integer, got {value!r}")
            if value < (0 if name in ("warmup_steps", "seed") else 1):
                raise ValueError(f"TrainingConfig.{name} must be {'>= 0' if name in ('warmup_steps', 'seed') else '>= 1'}"
                                 f", got {value!r}")
        for name in ("learning_rate", "weight_decay", "adam_eps", "label_smoothing", "max_grad_norm"):
            value = getattr(self, name)
            if value is None and name == "max_grad_norm":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise TypeError(f"TrainingConfig.{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"TrainingConfig.{name} must be a finite number, got {value!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0 (0 turns it off), got {self.weight_decay}")
        if not self.adam_eps > 0:
            raise ValueError(f"adam_eps must be > 0, got {self.adam_eps}")
        betas = tuple(self.adam_betas) if isinstance(self.adam_betas, (tuple, list)) else None
        if betas is None or len(betas) != 2 or not all(
                isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas):
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps={self.steps}], got {self.warmup_steps}")
        if self.decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {self.decay!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be > 0 or None, got {self.max_grad_norm}")
        self.adam_betas = tuple(self.adam_betas)

    # fields that change the trajectory: a checkpoint only resumes under the same values
    TRAJECTORY = ("batch_size", "learning_rate", "warmup_steps", "decay", "weight_decay", "adam_betas",
                  "adam_eps", "max_grad_norm", "label_smoothing", "seed", "steps")

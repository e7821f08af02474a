"""The settings of a pre-training run, checked when they are made: finite numbers, integers where integers go, and
ranges that mean something (a negative weight decay or an infinite learning rate is refused, not trained with)."""
from __future__ import annotations

from dataclasses import dataclass

from minibert.core.checks import choice, integer, number

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
        owner = "TrainingConfig"
        for name in ("steps", "batch_size", "eval_batch_size"):
            integer(owner, name, getattr(self, name), minimum=1)
        for name in ("micro_batch_size", "eval_every"):
            integer(owner, name, getattr(self, name), minimum=1, none=True)
        integer(owner, "warmup_steps", self.warmup_steps, minimum=0)
        integer(owner, "seed", self.seed, minimum=0)
        number(owner, "learning_rate", self.learning_rate, low=0.0, low_open=True)
        number(owner, "weight_decay", self.weight_decay, low=0.0)
        number(owner, "adam_eps", self.adam_eps, low=0.0, low_open=True)
        number(owner, "label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        number(owner, "max_grad_norm", self.max_grad_norm, low=0.0, low_open=True, none=True)
        betas = self.adam_betas
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"TrainingConfig.adam_betas must be two numbers in [0, 1), got {betas!r}")
        self.adam_betas = tuple(number(owner, "adam_betas", b, 0.0, 1.0, high_open=True) for b in betas)
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps={self.steps}], got {self.warmup_steps}")
        choice(owner, "decay", self.decay, DECAYS)

    # fields that change the trajectory: a checkpoint only resumes under the same values
    TRAJECTORY = ("batch_size", "learning_rate", "warmup_steps", "decay", "weight_decay", "adam_betas",
                  "adam_eps", "max_grad_norm", "label_smoothing", "seed", "steps")

r"""Learning-rate schedules: linear warm-up, then linear or cosine decay.

Transformers are trained with Adam(W) whose step size first grows linearly from 0 over :math:`w` warm-up steps
(early gradients are large and Adam's second-moment estimates still noisy), then decays to 0 at the last step
:math:`S` (Vaswani et al., 2017, section 5.3; BERT: warm-up 10,000 steps then linear decay):

.. math::  \eta_s = \eta_{\max}\cdot\begin{cases} s / w & s < w \\
           1 - \frac{s - w}{S - w} & \text{linear} \\
           \tfrac12\big(1 + \cos(\pi\,\frac{s - w}{S - w})\big) & \text{cosine} \end{cases}
"""
from __future__ import annotations

import math

import torch

from minibert.core.checks import integer

__all__ = ["DECAYS", "WarmupDecay", "warmup_decay_scheduler"]

DECAYS = ("linear", "cosine", "constant")


class WarmupDecay:
    """The multiplier of the peak learning rate at optimizer step ``s`` (a picklable callable for ``LambdaLR``)."""

    def __init__(self, warmup_steps: int, total_steps: int, decay: str = "linear", min_ratio: float = 0.0):
        integer("", "total_steps", total_steps, minimum=1)
        if not isinstance(warmup_steps, int) or not 0 <= warmup_steps <= total_steps:
            raise ValueError(f"warmup_steps must be an integer in [0, total_steps={total_steps}], got {warmup_steps!r}")
        if decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}")
        if not 0.0 <= min_ratio <= 1.0:
            raise ValueError(f"min_ratio must be in [0, 1], got {min_ratio}")
        self.warmup_steps, self.total_steps, self.decay, self.min_ratio = warmup_steps, total_steps, decay, min_ratio

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps  # the first update already moves (step 0 would waste a batch)
        if self.decay == "constant" or self.total_steps == self.warmup_steps:
            return 1.0
        progress = min(1.0, (step - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        shape = 1.0 - progress if self.decay == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.min_ratio + (1.0 - self.min_ratio) * shape


def warmup_decay_scheduler(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int,
                           decay: str = "linear", min_ratio: float = 0.0) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` following :class:`WarmupDecay`; call ``scheduler.step()`` after each ``optimizer.step()``."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupDecay(warmup_steps, total_steps, decay, min_ratio))

r"""The optimiser step every training loop in minibert takes, and the short loop of the chapters' experiments.

Chapter 06's :class:`~minibert.training.trainer.Trainer` runs pre-training (masked-LM datasets, accumulation over
micro-batches, several processes, checkpoints). The chapters also train small models for a few hundred steps on
batches they draw themselves: the fine-tuning tasks (07), SpanBERT (11), the "New York" experiment (12). Both end
every step with :func:`apply_gradients`; the short runs use :func:`fit`:

.. math::  \theta \leftarrow \mathrm{AdamW}\big(\theta,\ \nabla_\theta\, \mathcal{L}(\text{model}(\text{batch}))\big)

with the learning rate warmed up then decayed (chapter 06's schedule) or constant.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from .schedules import warmup_decay_scheduler

__all__ = ["apply_gradients", "fit"]


def apply_gradients(parameters, optimizer: torch.optim.Optimizer, scheduler=None,
                    max_grad_norm: float | None = None) -> None:
    """Finish a step once the gradients are in: clip their global norm (when ``max_grad_norm`` is set), update the
    weights, advance the learning-rate schedule, and clear the gradients for the next step."""
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def fit(model: torch.nn.Module, next_batch: Callable[[], dict[str, Any]], steps: int, learning_rate: float, *,
        weight_decay: float = 0.01, warmup_steps: int | None = None, max_grad_norm: float | None = None,
        on_step: Callable[[int, Any], None] | None = None) -> list[float]:
    """Train ``model`` for ``steps`` AdamW steps on ``model(**next_batch())``, whose output has a ``loss``.

    ``warmup_steps``: linear warm-up over that many steps, then linear decay to 0 at ``steps``; ``None`` keeps the
    rate constant. ``on_step(step, output)`` sees every step's output (steps count from 1). Returns the loss of every
    step. The model is left in training mode."""
    parameters = list(model.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=weight_decay)
    scheduler = None if warmup_steps is None else warmup_decay_scheduler(optimizer, warmup_steps, steps)
    model.train()
    losses = []
    for step in range(1, steps + 1):
        output = model(**next_batch())
        output.loss.backward()
        apply_gradients(parameters, optimizer, scheduler, max_grad_norm)
        losses.append(float(output.loss.detach()))
        if on_step is not None:
            on_step(step, output)
    return losses

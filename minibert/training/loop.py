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

import math
from collections.abc import Mapping

import torch

from minibert.core.checks import integer
from .schedules import warmup_decay_scheduler

__all__ = ["TrainingDiverged", "apply_gradients", "check_loss", "fit"]

ADVICE = ("Try a lower learning rate, gradient clipping (max_grad_norm=1.0), a longer warm-up, or look for a batch "
          "with no token to predict.")


class TrainingDiverged(FloatingPointError):
    """The loss or the gradients stopped being finite numbers: training stops before the weights are spoiled.
    ``reason`` is what happened, without the advice the message ends with."""

    def __init__(self, reason: str):
        super().__init__(f"{reason} {ADVICE}")
        self.reason = reason


def check_loss(loss: torch.Tensor, step: int | None = None) -> None:
    """Stop with :class:`TrainingDiverged` when ``loss`` is NaN or infinite (before ``backward``)."""
    if not bool(torch.isfinite(loss.detach()).all()):
        where = f" at step {step}" if step is not None else ""
        raise TrainingDiverged(f"the loss became {float(loss.detach().flatten()[0])}{where}; the weights were not "
                               "updated with it.")


def _gradient_norm(parameters: list[torch.Tensor], max_grad_norm: float | None) -> torch.Tensor:
    grads = [p.grad for p in parameters if p.grad is not None]
    if max_grad_norm is not None:
        return torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach().float()) for g in grads]))


def apply_gradients(parameters, optimizer: torch.optim.Optimizer, scheduler=None,
                    max_grad_norm: float | None = None) -> None:
    """Finish a step once the gradients are in: clip their global norm (when ``max_grad_norm`` is set), update the
    weights, advance the learning-rate schedule, and clear the gradients for the next step. A gradient with a NaN or
    an infinity raises :class:`TrainingDiverged` before any weight changes."""
    parameters = list(parameters)
    norm = _gradient_norm(parameters, max_grad_norm)
    if not bool(torch.isfinite(norm)):
        optimizer.zero_grad(set_to_none=True)
        raise TrainingDiverged(f"the gradient norm became {float(norm)}; the weights were not updated with it.")
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
    integer("", "steps", steps, minimum=1)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
            or not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    parameters = list(model.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=weight_decay)
    scheduler = None if warmup_steps is None else warmup_decay_scheduler(optimizer, warmup_steps, steps)
    model.train()
    losses = []
    for step in range(1, steps + 1):
        batch = next_batch()
        if not isinstance(batch, Mapping):
            raise TypeError(f"next_batch() must return a dict of the model's keyword arguments (input_ids=..., "
                            f"labels=...), got {type(batch).__name__}")
        output = model(**batch)
        check_loss(output.loss, step)
        output.loss.backward()
        apply_gradients(parameters, optimizer, scheduler, max_grad_norm)
        losses.append(float(output.loss.detach()))
        if on_step is not None:
            on_step(step, output)
    return losses

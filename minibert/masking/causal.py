r"""Masked LM generalises language modelling: mask the *last* token and forbid looking right, and MLM becomes
next-token prediction.

A left-to-right language model factorises :math:`p(x) = \prod_t p(x_t \mid x_{<t})`. Give a masked LM the input
:math:`x_1 \dots x_{t-1}\,[\mathrm{MASK}]` under a causal attention mask (position :math:`i` sees :math:`j \le i`):
the only thing the prediction at position :math:`t` can depend on is :math:`x_{<t}` (the ``[MASK]`` itself is the
same for every sentence), so it *is* :math:`p(x_t \mid x_{<t})`. Without the causal mask, BERT's prediction at a
masked position also reads the words to its right: that is the "bidirectional" in its name.
"""
from __future__ import annotations

import torch

from minibert.core.attention import causal_mask
from .mlm import IGNORE_INDEX

__all__ = ["mask_last_token"]


def mask_last_token(input_ids: torch.Tensor, mask_token_id: int, attention_mask: torch.Tensor | None = None,
                    causal: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(inputs, labels, attention)`` for predicting each row's last real token: that token replaced by
    ``mask_token_id`` in ``inputs`` and kept in ``labels`` (-100 elsewhere); ``attention`` is a boolean
    ``(batch, T, T)`` query x key mask: causal (with ``causal=True``) and blind to padding."""
    if input_ids.dim() != 2:
        raise ValueError(f"input_ids must be (batch, T), got shape {tuple(input_ids.shape)}")
    real = torch.ones_like(input_ids, dtype=torch.bool) if attention_mask is None else attention_mask.bool()
    if real.shape != input_ids.shape:
        raise ValueError(f"attention_mask has shape {tuple(real.shape)} but input_ids has {tuple(input_ids.shape)}")
    lengths = real.sum(1)
    if bool((lengths == 0).any()):
        raise ValueError("every row needs at least one real token")
    rows = torch.arange(input_ids.shape[0])
    last = lengths - 1
    inputs, labels = input_ids.clone(), torch.full_like(input_ids, IGNORE_INDEX)
    labels[rows, last] = input_ids[rows, last]
    inputs[rows, last] = mask_token_id
    length = input_ids.shape[1]
    allowed = real[:, None, :].expand(-1, length, -1)
    if causal:
        allowed = allowed & causal_mask(length, input_ids.device)
    return inputs, labels, allowed

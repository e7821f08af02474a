"""What every minibert model returns: one dataclass family, with ``transformers``' field names and order.

Every output has ``loss`` (``None`` without labels), ``logits``, ``hidden_states`` (the embeddings and then every
layer's output, each ``(batch, T, H)``, when asked for) and ``attentions`` (one ``(batch, heads, T, T)`` tensor per
layer, the shape bertviz takes, when asked for). A model adds its own fields after these: an encoder its
``last_hidden_state``, SpanBERT its two losses, XLNet its memory. Fields are keyword-only, so an output reads the
same wherever it is built: ``MaskedLMOutput(loss=loss, logits=logits)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["ModelOutput"]


@dataclass(kw_only=True)
class ModelOutput:
    """The fields every model's output has; a field a model does not fill stays ``None``."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None

r"""Local (sliding-window) attention and ModernBERT's alternation of local and global layers.

Warner et al. (2024, section 2.1.2, "Alternating Attention"): every third layer attends
globally, the others attend only to a window of ``w = 128`` tokens around each query,

.. math::  M^{\text{local}}_{ij} = [\,|i - j| \le w/2\,] \wedge \text{key } j \text{ is a real token}

so a local layer's cost grows as :math:`T\,w` instead of :math:`T^2`. Information still crosses the whole
sequence: a global layer every three lets any token reach any other. The global layers use a RoPE base of 160,000,
the local ones 10,000. ``transformers`` calls ``w/2`` the
``sliding_window`` and the two kinds of layer ``"full_attention"`` and ``"sliding_attention"``.

These functions compute the masks; :func:`minibert.widgets.modernbert.local_global_pattern` only draws them.
"""
from __future__ import annotations

import operator

import torch

from minibert.core.attention import attention_bias

__all__ = ["sliding_window_mask", "layer_masks", "receptive_field"]


def sliding_window_mask(length: int, window: int, device=None) -> torch.Tensor:
    """``(T, T)`` boolean mask, ``True`` where query ``i`` may see key ``j``: ``|i - j| <= window // 2``.

    ``window`` is ModernBERT's ``local_attention`` (both sides together: 128 means 64 tokens each way)."""
    for name, value, low in (("length", length, 1), ("window", window, 0)):
        try:
            operator.index(value)
        except TypeError:
            raise TypeError(f"{name} must be an integer, got {value!r}") from None
        if isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    positions = torch.arange(length, device=device)
    return (positions[:, None] - positions[None, :]).abs() <= window // 2


def layer_masks(real: torch.Tensor, window: int, dtype: torch.dtype,
                window_mask=sliding_window_mask) -> dict[str, torch.Tensor | None]:
    """The additive attention bias of each kind of layer for a ``(B, T)`` boolean mask of real tokens:
    ``"full_attention"``: ``(B, 1, 1, T)`` over padding keys (``None`` when nothing is padded);
    ``"sliding_attention"``: ``(B, 1, T, T)``, the window and the padding together. ``window_mask(length, window)``
    makes the window (chapter 15 swaps in the learner's own)."""
    length = real.shape[-1]
    band = torch.as_tensor(window_mask(length, window)).to(device=real.device, dtype=torch.bool)
    local = band[None, None] & real[:, None, None, :]
    full = None if bool(real.all()) else attention_bias(real[:, None, None, :], dtype)
    return {"full_attention": full, "sliding_attention": attention_bias(local, dtype)}


def receptive_field(layer_types: list[str], length: int, window: int, query: int) -> list[torch.Tensor]:
    """After each layer, which input tokens can have reached position ``query`` (one ``(T,)`` boolean tensor per
    layer): a local layer widens the field by ``window // 2`` on each side, a global one makes it the whole
    sequence. (Bands compose into bands: a path from ``j`` to ``query`` through windows of reach ``a`` then ``b``
    exists exactly when ``|query - j| <= a + b``, the middle token lying between them, inside the sequence.)"""
    if not 0 <= query < length:
        raise ValueError(f"query must be a position in [0, {length}), got {query}")
    distance = (torch.arange(length) - query).abs()
    reach, fields = 0, []
    for kind in layer_types:
        reach = length if kind == "full_attention" else reach + window // 2
        fields.append(distance <= reach)
    return fields

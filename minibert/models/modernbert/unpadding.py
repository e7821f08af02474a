r"""Unpadding: run the position-wise parts of the model on the real tokens only.

A padded batch of :math:`B` sequences of lengths :math:`\ell_b` costs :math:`B \cdot \max_b \ell_b` token slots in
every linear layer, although only :math:`N = \sum_b \ell_b` of them mean anything. Warner et al. (2024, section
2.1.2, after Portes et al. 2023's MosaicBERT) *unpad* once before the embeddings: the real tokens of the
batch are gathered into one sequence of length :math:`N`, with cumulative lengths

.. math::  \text{cu\_seqlens} = (0,\ \ell_1,\ \ell_1 + \ell_2,\ \dots,\ N)

so that attention (a variable-length kernel, here a loop over the segments) keeps each sequence to itself, and
every other layer sees :math:`N` rows instead of :math:`B \max_b \ell_b`. :func:`pad` puts the rows back.

Positions restart at 0 in every segment, which is what the padded path gives with right padding (RoPE makes only
offsets matter, so left padding gives the same scores too).
"""
from __future__ import annotations

import torch

__all__ = ["unpad", "pad", "segment_positions"]


def unpad(hidden: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """``(B, T, ...)`` and a ``(B, T)`` mask (1 = real token) -> ``(packed (N, ...), indices (N,), cu_seqlens (B + 1,),
    longest)``: ``packed`` holds the real tokens in reading order, ``indices`` where each came from in the flattened
    ``(B * T)`` batch."""
    if real.dim() != 2 or tuple(hidden.shape[:2]) != tuple(real.shape):
        raise ValueError(f"unpad needs hidden (B, T, ...) and a (B, T) mask, got {tuple(hidden.shape)} and "
                         f"{tuple(real.shape)}")
    real = real.bool()
    lengths = real.sum(dim=1)
    indices = real.flatten().nonzero().squeeze(1)
    cu_seqlens = torch.zeros(len(lengths) + 1, dtype=torch.long, device=real.device)
    cu_seqlens[1:] = lengths.cumsum(0)
    packed = hidden.reshape(-1, *hidden.shape[2:])[indices]
    return packed, indices, cu_seqlens, int(lengths.max())


def pad(packed: torch.Tensor, indices: torch.Tensor, batch: int, length: int) -> torch.Tensor:
    """The inverse of :func:`unpad`: ``(N, ...)`` rows back to ``(B, T, ...)``, zeros at the padding."""
    out = packed.new_zeros(batch * length, *packed.shape[1:])
    out[indices] = packed
    return out.view(batch, length, *packed.shape[1:])


def segment_positions(cu_seqlens: torch.Tensor) -> torch.Tensor:
    """``(N,)`` position of every packed token inside its own sequence: 0..l_1-1, 0..l_2-1, ..."""
    lengths = cu_seqlens[1:] - cu_seqlens[:-1]
    starts = torch.repeat_interleave(cu_seqlens[:-1], lengths)
    return torch.arange(int(cu_seqlens[-1]), device=cu_seqlens.device) - starts

r"""Rotary position embedding (RoPE): rotate queries and keys by their position, so that scores see only offsets.

Su et al. (2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding", section 3.4.2, eq. 34) multiply the
query at position :math:`m` and the key at position :math:`n` by a block-diagonal rotation :math:`R^d_{\Theta,m}`,
one 2x2 rotation by the angle :math:`m\theta_i` per pair of dimensions, :math:`\theta_i = 10000^{-2(i-1)/d}`:

.. math::  R^d_{\Theta,m} x = x \otimes \cos(m\Theta) + \mathrm{rot}(x) \otimes \sin(m\Theta)

Since rotations compose, :math:`(R_m q)^\top (R_n k) = q^\top R_{n-m} k`: the score depends on the offset
:math:`n - m` only, however large :math:`m` and :math:`n` are (eq. 16). Nothing is added to the input embeddings and
nothing is learned.

The paper pairs neighbouring dimensions (1, 2), (3, 4), ... This module pairs dimension :math:`i` with
:math:`i + d/2` instead, the "rotate half" layout of GPT-NeoX that ``transformers`` uses for Llama and ModernBERT:
``cos`` and ``sin`` hold the angles twice, ``[m theta, m theta]``, and ``rot(x) = [-x_2, x_1]`` for the halves
``x = [x_1, x_2]``. The two layouts are the same function up to a fixed permutation of the dimensions (the tests
check it against :func:`minibert.reference.positions.rope_rotate`, which does both).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["rope_frequencies", "rope_cos_sin", "rotate_half", "apply_rope", "rope_scores", "RotaryEmbedding"]


def _check_head_dim(head_dim) -> int:
    if isinstance(head_dim, bool) or not isinstance(head_dim, int) or head_dim < 2:
        raise ValueError(f"head_dim must be an integer >= 2, got {head_dim!r}")
    if head_dim % 2:
        raise ValueError(f"RoPE rotates pairs of dimensions: the head dimension must be even, got {head_dim}")
    return head_dim


def rope_frequencies(head_dim: int, base: float = 10000.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r""":math:`\theta_i = \text{base}^{-2i/d}` for :math:`i = 0 .. d/2 - 1` (``transformers``' ``inv_freq``)."""
    _check_head_dim(head_dim)
    if isinstance(base, bool) or not isinstance(base, (int, float)) or not base > 1:
        raise ValueError(f"base must be a number > 1 (RoFormer and BERT-sized models use 10000), got {base!r}")
    return (1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)).to(dtype)


def rope_cos_sin(positions, head_dim: int, base: float = 10000.0,
                 dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """``cos``, ``sin`` of shape ``positions.shape + (head_dim,)``: the angles ``position * theta`` twice over, the
    rotate-half layout (``positions``: an int ``T`` meaning 0..T-1, or a tensor of positions, e.g. ``(batch, T)``)."""
    if isinstance(positions, int) and not isinstance(positions, bool):
        if positions < 1:
            raise ValueError(f"positions must be >= 1 when given as a length, got {positions}")
        positions = torch.arange(positions)
    positions = torch.as_tensor(positions)
    if positions.is_floating_point() or positions.is_complex():
        raise ValueError("positions must be integers (token indices)")
    angles = positions.to(torch.float64)[..., None] * rope_frequencies(head_dim, base)
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``[x_1, x_2] -> [-x_2, x_1]`` on the last dimension: a quarter turn of every pair ``(x[i], x[i + d/2])``."""
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor,
               sin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate queries and keys ``(batch, heads, T, head_dim)`` by ``cos``/``sin`` ``(T, head_dim)`` or
    ``(batch, T, head_dim)`` (from :func:`rope_cos_sin`): ``x * cos + rotate_half(x) * sin``."""
    for name, x in (("q", q), ("k", k)):
        if x.dim() != 4:
            raise ValueError(f"{name} must be (batch, heads, T, head_dim), got shape {tuple(x.shape)}")
        _check_head_dim(x.shape[-1])
        if cos.shape[-1] != x.shape[-1] or cos.shape[-2] != x.shape[-2]:
            raise ValueError(f"cos/sin of shape {tuple(cos.shape)} do not fit {name} of shape {tuple(x.shape)}: "
                             f"build them with rope_cos_sin(T, head_dim) for T = {x.shape[-2]}, "
                             f"head_dim = {x.shape[-1]}")
    if cos.dim() == 3:  # (batch, T, d): one set of positions per sequence, the same for every head
        cos, sin = cos[:, None], sin[:, None]
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def rope_scores(q: torch.Tensor, k: torch.Tensor, query_positions, key_positions,
                base: float = 10000.0) -> torch.Tensor:
    r"""``(T_q, T_k)`` scores :math:`(R_m q_m)^\top (R_n k_n)` of queries ``(T_q, d)`` placed at ``query_positions``
    and keys ``(T_k, d)`` at ``key_positions`` (unscaled: divide by :math:`\sqrt d` for attention)."""
    if q.dim() != 2 or k.dim() != 2:
        raise ValueError(f"q and k must be (T, head_dim), got {tuple(q.shape)} and {tuple(k.shape)}")
    d = _check_head_dim(q.shape[-1])
    q_cos, q_sin = rope_cos_sin(torch.as_tensor(query_positions), d, base, q.dtype)
    k_cos, k_sin = rope_cos_sin(torch.as_tensor(key_positions), d, base, k.dtype)
    if q_cos.shape[0] != q.shape[0] or k_cos.shape[0] != k.shape[0]:
        raise ValueError(f"one position per vector: {q.shape[0]} queries at {q_cos.shape[0]} positions, "
                         f"{k.shape[0]} keys at {k_cos.shape[0]} positions")
    rotated_q = q * q_cos + rotate_half(q) * q_sin
    rotated_k = k * k_cos + rotate_half(k) * k_sin
    return rotated_q @ rotated_k.T


class RotaryEmbedding(nn.Module):
    """``forward(position_ids) -> (cos, sin)``, each ``position_ids.shape + (head_dim,)``, in float64 inside and the
    module's ``dtype`` out; no parameters (``inv_freq`` is a buffer, as in ``transformers``' rotary classes)."""

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        self.head_dim, self.base = _check_head_dim(head_dim), base
        self.register_buffer("inv_freq", rope_frequencies(head_dim, base), persistent=False)

    def forward(self, position_ids: torch.Tensor, dtype: torch.dtype = torch.float32):
        return rope_cos_sin(position_ids, self.head_dim, self.base, dtype)

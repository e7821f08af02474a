r"""ALiBi: attention with linear biases. No position embeddings at all; each head subtracts a penalty that grows
linearly with the distance between query and key.

Press, Smith and Lewis (2022, "Train Short, Test Long: Attention with Linear Biases Enables Input Length
Extrapolation", section 3): for query :math:`i` and keys :math:`j \le i` (a causal language model),

.. math::  \mathrm{softmax}\big(q_i K^\top + m \cdot [-(i-1), \dots, -2, -1, 0]\big)

with one fixed slope :math:`m` per head: for :math:`n` heads (a power of two) the geometric sequence that starts at
:math:`2^{-8/n}` and has that ratio, :math:`m_h = 2^{-8h/n}`, :math:`h = 1..n` (8 heads: 1/2, 1/4, ..., 1/256). For
other head counts the paper's code takes the slopes of the closest smaller power of two :math:`p` and adds every other
slope of :math:`2p` heads (:func:`alibi_slopes`). Nothing is learned.

Two ways to write the same bias:

* :func:`alibi_bias`: the paper's :math:`-m\,|i - j|` (``causal=True``: :math:`-m (i - j)` for keys on the left,
  the rest masked by the caller). The symmetric form is what bidirectional encoders use (e.g. MosaicBERT).
* :func:`alibi_key_bias`: BLOOM's ``build_alibi_tensor`` in ``transformers``: :math:`+m \cdot p_j`, the key's position
  :math:`p_j` counted over real tokens only (padding gets 0). Row :math:`i` of it differs from the causal bias by
  the constant :math:`m\, p_i`, and softmax ignores a constant added to a row, so under a causal mask both give the
  same attention weights, padding included (the tests check it).
"""
from __future__ import annotations

import math

import torch

__all__ = ["alibi_slopes", "alibi_bias", "alibi_key_bias"]


def _check_heads(num_heads) -> int:
    if isinstance(num_heads, bool) or not isinstance(num_heads, int) or num_heads < 1:
        raise ValueError(f"num_heads must be an integer >= 1, got {num_heads!r}")
    return num_heads


def alibi_slopes(num_heads: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""``(num_heads,)`` slopes: :math:`2^{-8h/p}` for :math:`h = 1..p`, :math:`p` the largest power of two
    :math:`\le` ``num_heads``, then :math:`2^{-8h/2p}` for the odd :math:`h = 1, 3, 5, \dots` until there are
    ``num_heads`` (Press et al.'s ``get_slopes``; BLOOM's ``_get_alibi_slopes``)."""
    power = 2 ** math.floor(math.log2(_check_heads(num_heads)))
    slopes = [2.0 ** (-8.0 * h / power) for h in range(1, power + 1)]
    slopes += [2.0 ** (-8.0 * h / (2 * power)) for h in range(1, 2 * (num_heads - power), 2)]
    return torch.tensor(slopes, dtype=torch.float64).to(dtype)


def alibi_bias(num_heads: int, query_length: int, key_length: int | None = None, causal: bool = False,
               dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""``(num_heads, T_q, T_k)``: :math:`-m_h |i - j|`, or with ``causal`` :math:`-m_h \max(i - j, 0)` (keys to
    the right get 0: the causal mask hides them). Add it to the scores :math:`q_i k_j^\top / \sqrt d`."""
    key_length = query_length if key_length is None else key_length
    for name, value in (("query_length", query_length), ("key_length", key_length)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    offset = torch.arange(query_length)[:, None] - torch.arange(key_length)[None, :]  # i - j
    distance = offset.clamp(min=0) if causal else offset.abs()
    return (-alibi_slopes(num_heads)[:, None, None] * distance.to(torch.float64)).to(dtype)


def alibi_key_bias(attention_mask: torch.Tensor, num_heads: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""BLOOM's form, ``(batch, num_heads, 1, T)``: :math:`m_h \cdot p_j`, with :math:`p_j` the number of real
    tokens before key :math:`j` (``attention_mask``: ``(batch, T)``, 1 = real token, 0 = padding, which gets 0).
    Broadcasts over the queries; equal to the causal :func:`alibi_bias` up to a constant per row."""
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.dim() != 2:
        raise ValueError("attention_mask must be a (batch, T) tensor of 0 (padding) and 1 (real token), got "
                         + (f"shape {tuple(attention_mask.shape)}" if isinstance(attention_mask, torch.Tensor)
                            else type(attention_mask).__name__))
    if not bool(((attention_mask == 0) | (attention_mask == 1)).all()):
        raise ValueError("attention_mask must hold only 0 (padding) and 1 (real token)")
    mask = attention_mask.to(torch.long)
    positions = (mask.cumsum(dim=-1) - 1) * mask  # 0, 1, 2, ... over real tokens; padding 0
    return (alibi_slopes(num_heads)[None, :, None, None] * positions[:, None, None, :].to(torch.float64)).to(dtype)

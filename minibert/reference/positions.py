r"""Relative-position attention in plain NumPy, one (query, key) pair at a time: the reference for the torch code.

Each function computes the score of query ``i`` for key ``j`` straight from its paper's formula, with explicit loops
and no tricks (no relative shift, no gather), so that the fast torch versions in
:mod:`minibert.core.relative_attention`, :mod:`minibert.models.transformer_xl` and
:mod:`minibert.models.deberta.disentangled_attention` can be checked against something obviously right. Slow on purpose;
use short sequences. Conventions are those of :mod:`minibert.reference`: weights stored as ``(out, in)`` like
``torch.nn.Linear``, boolean masks with ``True`` = may attend. Single sequence, one head per call site is enough for a
check, but every function handles ``heads`` by slicing the width.

* Vaswani et al. (2017): :math:`PE_{(pos,2i)} = \sin(pos/10000^{2i/d})`, :math:`PE_{(pos,2i+1)} = \cos(\cdot)`.
* Shaw et al. (2018): :math:`e_{ij} = q_i (k_j + a^K_{\mathrm{clip}(j-i,k)})^\top/\sqrt d`,
  :math:`z_i = \sum_j \alpha_{ij} (v_j + a^V_{\mathrm{clip}(j-i,k)})`.
* Dai et al. (2019): :math:`A_{ij} = (q_i + u) k_j^\top + (q_i + v) (W_R R_{i+M-j})^\top`, scaled by
  :math:`1/\sqrt d`.
* He et al. (2021): :math:`\tilde A_{ij} = q_i k_j^\top + q_i K^r_{\delta(i,j)} + k_j Q^r_{\delta(i,j)}`, scaled by
  :math:`1/\sqrt{3d}` (the code's index convention, see :mod:`minibert.models.deberta.disentangled_attention`).
* Su et al. (2021), RoPE, eq. 34: :math:`R^d_{\Theta,m} x`, one 2x2 rotation by :math:`m\theta_i` per pair of
  dimensions, :math:`\theta_i = 10000^{-2(i-1)/d}` (:func:`rope_rotate`).
* Press et al. (2022), ALiBi, section 3: the bias :math:`-m_h |i - j|` with slopes :math:`m_h = 2^{-8h/n}`
  (:func:`alibi_slopes`, :func:`alibi_bias`).
"""
from __future__ import annotations

import math

import numpy as np

from .encoder import softmax

__all__ = ["sinusoidal_encoding", "shaw_attention", "transformer_xl_attention", "disentangled_attention",
           "rope_rotate", "alibi_slopes", "alibi_bias"]


def sinusoidal_encoding(positions, dim: int, base: float = 10000.0, interleave: bool = True) -> np.ndarray:
    """``(N, dim)``: sin and cos of ``pos / base^(2i/dim)``, interleaved (paper) or sines first (Transformer-XL)."""
    positions = np.arange(positions) if np.isscalar(positions) else np.asarray(positions, dtype=np.float64)
    table = np.zeros((len(positions), dim))
    for row, pos in enumerate(positions):
        for i in range(dim // 2):
            angle = pos / base ** (2 * i / dim)
            sin_at, cos_at = (2 * i, 2 * i + 1) if interleave else (i, dim // 2 + i)
            table[row, sin_at], table[row, cos_at] = math.sin(angle), math.cos(angle)
    return table


def _linear(x, weight, bias=None):
    out = x @ np.asarray(weight).T
    return out if bias is None else out + bias


def _attend(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if mask is not None:
        scores = np.where(mask, scores, np.finfo(scores.dtype).min)
    return softmax(scores, axis=-1)


def shaw_attention(x: np.ndarray, params: dict, num_heads: int, max_distance: int,
                   mask: np.ndarray | None = None) -> np.ndarray:
    """``x``: ``(T, H)``; ``params``: ``query``/``key``/``value``/``output`` linears and the ``relative_keys``,
    ``relative_values`` tables ``(2k + 1, d)``. Returns ``(T, H)``."""
    length, width = x.shape
    d = width // num_heads
    q, k, v = (_linear(x, **params[name]) for name in ("query", "key", "value"))
    a_k, a_v = np.asarray(params["relative_keys"]), np.asarray(params["relative_values"])
    out = np.zeros_like(q)
    for h in range(num_heads):
        cols = slice(h * d, (h + 1) * d)
        scores = np.zeros((length, length))
        for i in range(length):
            for j in range(length):
                slot = min(max(j - i, -max_distance), max_distance) + max_distance
                scores[i, j] = q[i, cols] @ (k[j, cols] + a_k[slot]) / math.sqrt(d)
        weights = _attend(scores, mask)
        for i in range(length):
            for j in range(length):
                slot = min(max(j - i, -max_distance), max_distance) + max_distance
                out[i, cols] += weights[i, j] * (v[j, cols] + a_v[slot])
    return _linear(out, **params["output"])


def transformer_xl_attention(x: np.ndarray, params: dict, num_heads: int, memory: np.ndarray | None = None,
                             mask: np.ndarray | None = None) -> np.ndarray:
    """``x``: the segment ``(T, H)``; ``memory``: ``(M, H)`` or None. ``params``: bias-free ``query``, ``key``,
    ``value``, ``output``, ``position`` (W_R) weights and ``content_bias`` u, ``position_bias`` v ``(heads, d)``.
    The distance encoding is the sines-first sinusoid, as in Transformer-XL's code."""
    context = x if memory is None else np.concatenate([memory, x])
    length, width = x.shape
    mem = context.shape[0] - length
    d = width // num_heads
    q = _linear(x, params["query"]["weight"])
    k, v = _linear(context, params["key"]["weight"]), _linear(context, params["value"]["weight"])
    u, v_bias = np.asarray(params["content_bias"]), np.asarray(params["position_bias"])
    out = np.zeros_like(q)
    for h in range(num_heads):
        cols = slice(h * d, (h + 1) * d)
        scores = np.zeros((length, context.shape[0]))
        for i in range(length):
            for j in range(context.shape[0]):
                r = _linear(sinusoidal_encoding([i + mem - j], width, interleave=False)[0], params["position"]["weight"])
                scores[i, j] = ((q[i, cols] + u[h]) @ k[j, cols] + (q[i, cols] + v_bias[h]) @ r[cols]) / math.sqrt(d)
        out[:, cols] = _attend(scores, mask) @ v[:, cols]
    return _linear(out, params["output"]["weight"])


def disentangled_attention(x: np.ndarray, params: dict, num_heads: int, relative_index: np.ndarray,
                           relative_embeddings: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``x``: ``(T, H)``; ``relative_index``: ``(T, T)`` rows of ``relative_embeddings`` for each pair
    (:math:`\\delta(i,j)` + span); ``params``: ``query``, ``key``, ``value``, ``output``, ``position_key``,
    ``position_query`` linears (pass the content ones for ``share_att_key``)."""
    length, width = x.shape
    d = width // num_heads
    q, k, v = (_linear(x, **params[name]) for name in ("query", "key", "value"))
    pos_k = _linear(relative_embeddings, **params["position_key"])
    pos_q = _linear(relative_embeddings, **params["position_query"])
    out = np.zeros_like(q)
    for h in range(num_heads):
        cols = slice(h * d, (h + 1) * d)
        scores = np.zeros((length, length))
        for i in range(length):
            for j in range(length):
                slot = relative_index[i, j]
                c2c = q[i, cols] @ k[j, cols]
                c2p = q[i, cols] @ pos_k[slot, cols]
                p2c = k[j, cols] @ pos_q[slot, cols]
                scores[i, j] = (c2c + c2p + p2c) / math.sqrt(3 * d)
        out[:, cols] = _attend(scores, mask) @ v[:, cols]
    return _linear(out, **params["output"])


def rope_rotate(x: np.ndarray, positions, base: float = 10000.0, interleaved: bool = False) -> np.ndarray:
    """``x``: ``(T, d)``, row ``t`` at position ``positions[t]``: each pair of dimensions turned by the angle
    ``position * base^(-2i/d)``, one explicit 2x2 rotation matrix at a time. ``interleaved=True`` pairs (0, 1),
    (2, 3), ... as the paper writes eq. 34; ``False`` pairs (i, i + d/2), the layout of ``transformers``."""
    x = np.asarray(x, dtype=np.float64)
    length, d = x.shape
    if d % 2:
        raise ValueError(f"RoPE rotates pairs of dimensions: the head dimension must be even, got {d}")
    out = np.zeros_like(x)
    for row, m in zip(range(length), positions):
        for i in range(d // 2):
            a, b = (2 * i, 2 * i + 1) if interleaved else (i, i + d // 2)
            angle = m * base ** (-2 * i / d)
            rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
            out[row, [a, b]] = rotation @ x[row, [a, b]]
    return out


def alibi_slopes(num_heads: int) -> list[float]:
    """Press et al.'s ``get_slopes``, as in their code: a geometric sequence from ``2^(-8/n)`` for a power of two
    ``n``; otherwise the closest smaller power of two, then every other slope of twice that many heads."""
    def power_of_two(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]

    if math.log2(num_heads).is_integer():
        return power_of_two(num_heads)
    closest = 2 ** math.floor(math.log2(num_heads))
    return power_of_two(closest) + alibi_slopes(2 * closest)[0::2][:num_heads - closest]


def alibi_bias(num_heads: int, query_length: int, key_length: int, causal: bool = False) -> np.ndarray:
    """``(heads, T_q, T_k)``: ``-m_h |i - j|`` for every pair (``causal``: ``-m_h (i - j)`` for ``j <= i``, else 0)."""
    slopes = alibi_slopes(num_heads)
    bias = np.zeros((num_heads, query_length, key_length))
    for h in range(num_heads):
        for i in range(query_length):
            for j in range(key_length):
                bias[h, i, j] = -slopes[h] * (max(i - j, 0) if causal else abs(i - j))
    return bias

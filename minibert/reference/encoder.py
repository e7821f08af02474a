r"""The Transformer encoder in plain NumPy: the reference every torch module is checked against.

Scaled dot-product attention (Vaswani et al., 2017, "Attention Is All You Need", eq. 1):

.. math::  \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) V

Multi-head attention runs ``h`` of these side by side on slices of the model width and mixes them:

.. math::  \mathrm{MultiHead}(X) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h) W^O,
           \quad \mathrm{head}_i = \mathrm{Attention}(X W_i^Q, X W_i^K, X W_i^V)

One post-LN encoder layer (the original Transformer and BERT):

.. math::  H = \mathrm{LN}(X + \mathrm{MultiHead}(X)), \qquad Y = \mathrm{LN}(H + \mathrm{FFN}(H))

Conventions shared with the torch code:

* Weight matrices are stored the way ``torch.nn.Linear`` stores them, ``(out_features, in_features)``, so a
  projection is ``x @ W.T + b``. That lets the tests copy a torch state dict straight into these functions.
* Masks are boolean and ``True`` means *may attend*. A padding mask of shape ``(batch, T)`` marks real tokens;
  a full mask broadcasts to ``(batch, heads, T_q, T_k)``. Masked scores are replaced by the most negative finite
  number rather than ``-inf``, so a row with nothing to attend to (a fully padded sequence) gets a uniform
  distribution instead of ``0/0 = NaN``.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = [
    "softmax",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "split_heads",
    "merge_heads",
    "multi_head_attention",
    "layer_norm",
    "gelu_erf",
    "gelu_tanh",
    "feed_forward",
    "encoder_layer",
]


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Numerically stable softmax: :math:`e^{x_i - m} / \sum_j e^{x_j - m}` with :math:`m = \max_j x_j`.

    Subtracting the maximum changes nothing mathematically (it cancels) but keeps ``exp`` from overflowing:
    ``softmax([1000, 1001])`` works, the naive formula returns ``nan``.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=axis, keepdims=True)


def causal_mask(length: int) -> np.ndarray:
    """Lower-triangular ``(T, T)`` boolean mask: query ``i`` may attend to keys ``j <= i`` (a decoder's mask)."""
    if length < 1:
        raise ValueError(f"causal_mask needs a length of at least 1, got {length}")
    return np.tril(np.ones((length, length), dtype=bool))


def padding_mask(attention_mask: np.ndarray) -> np.ndarray:
    """Turn a ``(batch, T)`` 0/1 padding mask into a ``(batch, 1, 1, T)`` boolean key mask that broadcasts over
    heads and queries: every query may look at every real (non-padding) key."""
    attention_mask = np.asarray(attention_mask)
    if attention_mask.ndim != 2:
        raise ValueError(f"padding_mask expects shape (batch, T), got {attention_mask.shape}")
    return attention_mask.astype(bool)[:, None, None, :]


def _apply_mask(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if mask is None:
        return scores
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"attention masks must be boolean (True = may attend), got dtype {mask.dtype}")
    try:
        np.broadcast_shapes(mask.shape, scores.shape)
    except ValueError:
        raise ValueError(f"mask of shape {mask.shape} does not broadcast to the scores' shape {scores.shape}") from None
    return np.where(mask, scores, np.finfo(scores.dtype).min)


def scaled_dot_product_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""``softmax(q k^T / sqrt(d_k)) v`` over the last two axes; any leading axes (batch, heads) broadcast.

    Args:
        q: queries ``(..., T_q, d_k)``; k: keys ``(..., T_k, d_k)``; v: values ``(..., T_k, d_v)``.
        mask: optional boolean array broadcastable to ``(..., T_q, T_k)``, ``True`` where attention is allowed.

    Returns:
        ``(output, weights)``: output ``(..., T_q, d_v)`` and the attention weights ``(..., T_q, T_k)``,
        each row of which sums to 1.
    """
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries and keys need the same width d_k, got {q.shape[-1]} and {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys and values need the same length T_k, got {k.shape[-2]} and {v.shape[-2]}")
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    weights = softmax(_apply_mask(scores, mask), axis=-1)
    return weights @ v, weights


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """``(batch, T, d_model) -> (batch, heads, T, d_model / heads)``: each head gets its own slice of the width."""
    batch, length, width = x.shape
    if width % num_heads:
        raise ValueError(f"model width {width} is not divisible by the number of heads {num_heads}")
    return x.reshape(batch, length, num_heads, width // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`split_heads`: ``(batch, heads, T, d_head) -> (batch, T, heads * d_head)``."""
    batch, heads, length, head_width = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, length, heads * head_width)


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    out = x @ np.asarray(weight).T
    return out if bias is None else out + bias


def multi_head_attention(
    x: np.ndarray, params: dict, num_heads: int, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head self-attention on ``x`` of shape ``(batch, T, d_model)``.

    ``params`` holds ``query``, ``key``, ``value`` and ``output`` entries, each a dict with ``weight``
    ``(out, in)`` and ``bias``. Returns the output ``(batch, T, d_model)`` and weights ``(batch, heads, T, T)``.
    """
    if x.ndim != 3:
        raise ValueError(f"multi_head_attention expects (batch, T, d_model), got shape {x.shape}")
    q = split_heads(_linear(x, **params["query"]), num_heads)
    k = split_heads(_linear(x, **params["key"]), num_heads)
    v = split_heads(_linear(x, **params["value"]), num_heads)
    context, weights = scaled_dot_product_attention(q, k, v, mask)
    return _linear(merge_heads(context), **params["output"]), weights


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    r"""Layer normalisation (Ba et al., 2016): :math:`\gamma \odot (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta`
    over the last axis, with the biased variance (divide by ``d``, as torch does)."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return weight * (x - mean) / np.sqrt(var + eps) + bias


# math.erf element by element: slow, but exact to the last bit and free of a SciPy dependency.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu_erf(x: np.ndarray) -> np.ndarray:
    r"""Exact GELU (Hendrycks & Gimpel, 2016): :math:`x \Phi(x) = \tfrac{x}{2}(1 + \mathrm{erf}(x/\sqrt{2}))`.
    BERT's ``hidden_act="gelu"``."""
    return 0.5 * x * (1.0 + _erf(np.asarray(x) / math.sqrt(2.0)))


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    r"""The tanh approximation of GELU used by GPT-2 and the original BERT TF code's ``gelu_new``:
    :math:`\tfrac{x}{2}(1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))`."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


_ACTIVATIONS = {"gelu": gelu_erf, "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "relu": lambda x: np.maximum(x, 0)}


def feed_forward(x: np.ndarray, params: dict, activation: str = "gelu") -> np.ndarray:
    r"""Position-wise feed-forward network :math:`\mathrm{FFN}(x) = W_2\, \mathrm{act}(W_1 x + b_1) + b_2`,
    applied to every position independently. ``params`` has ``inner`` and ``outer`` linear layers."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}")
    return _linear(_ACTIVATIONS[activation](_linear(x, **params["inner"])), **params["outer"])


def encoder_layer(
    x: np.ndarray,
    params: dict,
    num_heads: int,
    mask: np.ndarray | None = None,
    activation: str = "gelu",
    eps: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """One post-LN Transformer encoder layer (BERT's): attention, add, norm, then FFN, add, norm.

    ``params``: ``attention`` (as in :func:`multi_head_attention`), ``attention_norm``, ``ffn``
    (as in :func:`feed_forward`), ``ffn_norm`` (each norm a dict with ``weight`` and ``bias``).
    Returns the layer output and the attention weights.
    """
    attended, weights = multi_head_attention(x, params["attention"], num_heads, mask)
    hidden = layer_norm(x + attended, **params["attention_norm"], eps=eps)
    out = layer_norm(hidden + feed_forward(hidden, params["ffn"], activation), **params["ffn_norm"], eps=eps)
    return out, weights

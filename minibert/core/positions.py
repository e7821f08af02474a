r"""Where a token is: absolute position encodings and the relative distances (clipped or bucketed) that replace them.

Attention is a weighted sum over a *set*: permute the tokens and every output is permuted the same way. Order has to
be put back in. Vaswani et al. (2017, "Attention Is All You Need", section 3.5) add a fixed sinusoid to each token:

.. math::  PE_{(pos, 2i)} = \sin(pos / 10000^{2i/d}), \qquad PE_{(pos, 2i+1)} = \cos(pos / 10000^{2i/d})

Each pair of dimensions is a point on a circle turning at its own frequency :math:`\omega_i = 10000^{-2i/d}`, so
moving by ``k`` positions is a rotation by :math:`\omega_i k`, the same for every ``pos``: there is a fixed matrix
:math:`M_k` with :math:`PE_{pos+k} = M_k\, PE_{pos}` (:func:`sinusoid_shift_matrix`). BERT learns its position
table instead (:class:`LearnedPositions`).

Relative schemes look at the offset between a query ``i`` and a key ``j`` rather than at ``i`` and ``j``:

* Shaw et al. (2018), "Self-Attention with Relative Position Representations": ``clip(j - i, -k, k)``, one
  learned vector per clipped distance (:func:`clipped_distance_index`).
* Raffel et al. (2020), T5: one learned scalar per *bucket*; half the buckets are exact small distances, the other
  half cover distances up to ``max_distance`` on a log scale (:func:`t5_buckets`).
* He et al. (2021), DeBERTa-v2: distances up to ``bucket_size / 2`` stay exact, larger ones are log-compressed,
  keeping their sign (:func:`deberta_log_buckets`).

Sign conventions differ between papers and are kept as each implementation has them: :func:`relative_distances`
returns ``j - i`` (key minus query: T5, Shaw), DeBERTa indexes by ``i - j``.
The bucket functions do ``transformers``' float32 arithmetic step for step, so the two agree bucket for bucket (the
tests compare every distance in [-1000, 1000] for several bucket counts and maximum distances).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .checks import integer

__all__ = ["sinusoidal_encoding", "sinusoid_shift_matrix", "SinusoidalPositions", "LearnedPositions",
           "relative_distances", "clipped_distance_index", "t5_buckets", "deberta_log_buckets"]


def _frequencies(dim: int, base: float) -> torch.Tensor:
    """:math:`\\omega_i = base^{-2i/d}` for i = 0 .. d/2 - 1, in float64 (rounded to the caller's dtype later)."""
    integer("", "dim", dim, minimum=2)
    if dim % 2:
        raise ValueError(f"sinusoidal encodings pair a sine with a cosine: dim must be even, got {dim}")
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)


def sinusoidal_encoding(positions, dim: int, base: float = 10000.0, interleave: bool = True,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``(N, dim)`` sinusoids for ``positions`` (an int ``N`` meaning 0..N-1, or any 1-D tensor, negative or
    fractional values allowed).

    ``interleave=True`` is the paper's layout (sin, cos, sin, cos, ...); ``False`` puts all sines first and then
    all cosines, the layout Transformer-XL and XLNet use. Both carry the same numbers in a different order.
    """
    if isinstance(positions, int):
        positions = torch.arange(integer("", "positions", positions, minimum=1), dtype=torch.float64)
    positions = torch.as_tensor(positions, dtype=torch.float64)
    if positions.dim() != 1:
        raise ValueError(f"positions must be 1-D, got shape {tuple(positions.shape)}")
    angles = positions[:, None] * _frequencies(dim, base)[None, :]
    if interleave:
        table = torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
    else:
        table = torch.cat([angles.sin(), angles.cos()], dim=-1)
    return table.to(dtype)


def sinusoid_shift_matrix(k: float, dim: int, base: float = 10000.0) -> torch.Tensor:
    r"""The ``(dim, dim)`` matrix :math:`M_k` with :math:`PE_{pos+k} = M_k PE_{pos}` for *every* ``pos``
    (interleaved layout). Block ``i`` is a 2x2 rotation by :math:`\omega_i k`, from the angle-addition formulas
    :math:`\sin(a+b) = \sin a\cos b + \cos a \sin b` and :math:`\cos(a+b) = \cos a \cos b - \sin a \sin b`."""
    angle = _frequencies(dim, base) * k
    cos, sin = angle.cos(), angle.sin()
    matrix = torch.zeros(dim, dim, dtype=torch.float64)
    for i in range(dim // 2):
        matrix[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.stack([torch.stack([cos[i], sin[i]]),
                                                                 torch.stack([-sin[i], cos[i]])])
    return matrix


class SinusoidalPositions(nn.Module):
    """Fixed encodings: ``forward(length) -> (length, dim)``. No parameters, any length up to ``max_length``."""

    def __init__(self, dim: int, max_length: int = 4096, base: float = 10000.0):
        super().__init__()
        self.max_length = integer("", "max_length", max_length, minimum=1)
        self.register_buffer("table", sinusoidal_encoding(max_length, dim, base), persistent=False)

    def forward(self, length: int) -> torch.Tensor:
        integer("", "length", length, minimum=1)
        if length > self.max_length:
            raise ValueError(f"length {length} exceeds max_length={self.max_length}; build the module with a larger "
                             f"max_length (sinusoids extend to any length)")
        return self.table[:length]


class LearnedPositions(nn.Module):
    """BERT's learned table: one trained vector per position, so nothing exists beyond ``max_positions``."""

    def __init__(self, max_positions: int, dim: int):
        super().__init__()
        self.max_positions = integer("", "max_positions", max_positions, minimum=1)
        self.embedding = nn.Embedding(max_positions, integer("", "dim", dim, minimum=1))

    def forward(self, length: int) -> torch.Tensor:
        integer("", "length", length, minimum=1)
        if length > self.max_positions:
            raise ValueError(f"length {length} exceeds the {self.max_positions} learned positions; a learned table "
                             f"has no vector for position {self.max_positions}: truncate or split the input")
        return self.embedding.weight[:length]


def relative_distances(query_length: int, key_length: int | None = None, query_offset: int = 0) -> torch.Tensor:
    """``(T_q, T_k)`` matrix of ``j - i``: how far key ``j`` is from query ``i`` (negative = to the left).

    ``query_offset`` places query 0 at key position ``query_offset`` (queries after a memory of that length).
    """
    key_length = query_length if key_length is None else key_length
    integer("", "query_length", query_length, minimum=1)
    integer("", "key_length", key_length, minimum=1)
    queries = torch.arange(query_length) + query_offset
    return torch.arange(key_length)[None, :] - queries[:, None]


def clipped_distance_index(distances: torch.Tensor, k: int) -> torch.Tensor:
    """Shaw et al.'s ``clip(j - i, -k, k) + k``: an index in ``[0, 2k]`` into a table of ``2k + 1`` embeddings.
    Every distance beyond ``k`` shares the embedding of ``k`` (and below ``-k`` that of ``-k``)."""
    integer("", "clip distance k", k, minimum=1)
    return distances.clamp(-k, k) + k


def _check_buckets(num_buckets: int, max_distance: int, bidirectional: bool) -> int:
    integer("", "num_buckets", num_buckets, minimum=2)
    if num_buckets % 2:
        raise ValueError(f"num_buckets must be even (half exact, half logarithmic), got {num_buckets}")
    if bidirectional and num_buckets < 4:
        raise ValueError(f"bidirectional buckets split num_buckets between two directions, each half exact and half "
                         f"logarithmic: use num_buckets >= 4, got {num_buckets}")
    max_exact = (num_buckets // 2 if bidirectional else num_buckets) // 2
    integer("", "max_distance", max_distance, minimum=1)
    if max_distance <= max_exact:
        raise ValueError(f"max_distance ({max_distance}) must exceed the {max_exact} exactly represented distances, "
                         f"or no room is left for the logarithmic buckets")
    return max_exact


def t5_buckets(relative_position: torch.Tensor, bidirectional: bool = True, num_buckets: int = 32,
               max_distance: int = 128) -> torch.Tensor:
    r"""T5's bucket in ``[0, num_buckets)`` for each ``relative_position = j - i`` (key minus query).

    Bidirectional: half the buckets for keys to the left (``j - i <= 0``), half for the right. Within a direction,
    the first ``max_exact`` distances get one bucket each and the rest
    :math:`\text{max\_exact} + \lfloor \log(n / \text{max\_exact}) / \log(\text{max\_distance} / \text{max\_exact})
    \cdot (\text{buckets} - \text{max\_exact}) \rfloor`, capped at the last bucket. Causal (``bidirectional=False``):
    keys to the right are all bucket 0 (the causal mask hides them anyway).
    """
    max_exact = _check_buckets(num_buckets, max_distance, bidirectional)
    relative_position = torch.as_tensor(relative_position, dtype=torch.long)
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).long() * num_buckets
        distance = relative_position.abs()
    else:
        distance = (-relative_position).clamp(min=0)
    # float32 on purpose: the same rounding as transformers (and Mesh TensorFlow before it)
    scaled = torch.log(distance.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    large = (max_exact + scaled.to(torch.long)).clamp(max=num_buckets - 1)
    return buckets + torch.where(distance < max_exact, distance, large)


def deberta_log_buckets(relative_position: torch.Tensor, bucket_size: int, max_position: int) -> torch.Tensor:
    r"""DeBERTa-v2's log buckets for ``relative_position = i - j``: signed, exact while :math:`|r| \le m` with
    :math:`m = \text{bucket\_size} / 2`, else
    :math:`\operatorname{sign}(r)\,(m + \lceil \log(|r|/m) / \log((\text{max\_position}-1)/m) \cdot (m-1) \rceil)`,
    which reaches :math:`\pm(\text{bucket\_size} - 1)` at :math:`|r| = \text{max\_position} - 1`."""
    integer("", "bucket_size", bucket_size, minimum=2)
    if bucket_size % 2:
        raise ValueError(f"bucket_size must be even (half for each sign), got {bucket_size}")
    mid = bucket_size // 2
    if integer("", "max_position", max_position, minimum=2) - 1 <= mid:
        raise ValueError(f"max_position ({max_position}) must exceed bucket_size / 2 + 1 = {mid + 1}, or no distance "
                         f"is left for the logarithmic part")
    relative_position = torch.as_tensor(relative_position, dtype=torch.long)
    sign = torch.sign(relative_position)
    # inside the exact band the log term is never used; mid - 1 keeps its argument positive
    magnitude = torch.where(relative_position.abs() < mid, torch.tensor(mid - 1), relative_position.abs())
    log_part = torch.ceil(torch.log(magnitude / mid) / torch.log(torch.tensor((max_position - 1) / mid))
                          * (mid - 1)) + mid
    return torch.where(magnitude <= mid, relative_position.float(), log_part * sign).long()

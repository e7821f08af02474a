r"""RMSNorm: layer normalisation without the mean, as T5 (and later ModernBERT-era models) use it.

.. math::  \mathrm{RMSNorm}(x) = g \odot \frac{x}{\sqrt{\frac{1}{H}\sum_{i=1}^{H} x_i^2 + \epsilon}}

Zhang and Sennrich (2019), "Root Mean Square Layer Normalization", eq. 4: LayerNorm's re-centring (subtracting the
mean) and its bias buy little; re-scaling alone keeps the training benefits and costs less. T5 (Raffel et al., 2020,
section 2.1: "a simplified version of layer normalization where the activations are only rescaled and no additive
bias is applied") uses exactly this form with :math:`\epsilon = 10^{-6}`.

The mean square is taken in float32 even for half-precision inputs (a sum of squares overflows float16 quickly),
and the result goes back to the weight's dtype when that is half precision, as ``transformers``' ``T5LayerNorm``.
"""
from __future__ import annotations

import torch
from torch import nn

from .checks import integer, number

__all__ = ["RMSNorm"]


class RMSNorm(nn.Module):
    """``g * x / sqrt(mean(x^2) + eps)`` over the last dimension; one learned scale ``weight`` (g), no bias."""

    def __init__(self, hidden_size: int, eps: float = 1e-6):
        super().__init__()
        integer("", "hidden_size", hidden_size, minimum=1)
        self.eps = number("", "eps", eps, low=0.0, low_open=True)
        self.weight = nn.Parameter(torch.ones(hidden_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean_square = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(mean_square + self.eps)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.to(self.weight.dtype)
        return self.weight * x

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]}, eps={self.eps}"

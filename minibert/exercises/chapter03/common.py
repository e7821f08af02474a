"""Shared imports and helpers of chapter 03's exercises."""
from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from .. import exercise


# -- shared helpers ---------------------------------------------------------------------------------------------

@contextmanager
def _one_thread():
    """Tiny tensors: a second torch thread buys nothing, and on a busy machine it makes each small product wait."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _number(value, what: str) -> float | int:
    """A Python, NumPy or torch number (one element) as a Python number; anything else is said plainly."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.size != 1 if isinstance(value, np.ndarray) else value.numel() != 1:
            raise AssertionError(f"{what} should be one number, got an array of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be a number, got {type(value).__name__}")
    return value


def _whole_number(value, what: str) -> int:
    value = _number(value, what)
    if isinstance(value, numbers.Integral):
        return int(value)
    if not np.isfinite(float(value)) or not float(value).is_integer():
        raise AssertionError(f"{what} should be a whole number (a count of parameters), got {value!r}")
    return int(value)


def _tensor(value, what: str) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} should be a tensor, got {type(value).__name__}")
    return value.detach().double()


def _variant(source: str, old: str, new: str, note: str) -> str:
    """A registered wrong answer: the model solution with one typical mistake put in."""
    if old not in source:
        raise ValueError(f"cannot make the wrong answer {note!r}: {old!r} is not in the solution")
    return f"# {note}\n" + source.replace(old, new, 1)


def _randomized(module: torch.nn.Module, seed: int, scale: float = 0.5) -> torch.nn.Module:
    """Random weights far from initialisation (LayerNorm scales and shifts included), so a swapped part shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale
            p.copy_(1.0 + noise if name.endswith("norm.weight") else noise)
    return module


def _same_parts(module, reference, what: str, skeleton: str) -> None:
    """Parameter names and shapes of ``module`` are those of ``reference`` (so its weights load), else a diagnosis."""
    if not isinstance(module, torch.nn.Module):
        raise AssertionError(f"{what} should be a torch.nn.Module (your class, built), got {type(module).__name__}")
    try:
        got = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    except AttributeError as err:
        raise AssertionError(f"{what} is not set up as a torch module ({err}): did __init__ start with "
                             "super().__init__()?") from None
    expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        raise AssertionError(f"{what} cannot carry the library's weights: "
                             + "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "",
                                                     f"unexpected {', '.join(extra)}" if extra else "") if p)
                             + f". {skeleton}")
    shapes = [k for k in expected if expected[k] != got[k]]
    if shapes:
        k = shapes[0]
        raise AssertionError(f"{what}: {k} has shape {got[k]}, the library's has {expected[k]}. {skeleton}")


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-8) -> bool:
    return tuple(a.shape) == tuple(b.shape) and bool(torch.allclose(a, b, atol=atol))


# -- 03.1 -------------------------------------------------------------------------------------------------------

_LAYER_SOLUTION = """
import torch.nn.functional as F
from torch import nn

from minibert.core.attention import MultiHeadSelfAttention


class MyFeedForward(nn.Module):
    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.inner = nn.Linear(hidden_size, intermediate_size)
        self.outer = nn.Linear(intermediate_size, hidden_size)

    def forward(self, x):
        return self.outer(F.gelu(self.inner(x)))  # BERT's GELU is the exact one (erf)


class MyEncoderLayer(nn.Module):
    def __init__(self, hidden_size, num_heads, intermediate_size, dropout=0.1, layer_norm_eps=1e-12):
        super().__init__()
        self.attention = MultiHeadSelfAttention(hidden_size, num_heads, dropout)
        self.attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.ffn = MyFeedForward(hidden_size, intermediate_size)
        self.ffn_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None, need_weights=False):
        attended, weights = self.attention(x, mask, need_weights)
        x = self.attention_norm(x + self.dropout(attended))  # post-LN: add, then normalise
        x = self.ffn_norm(x + self.dropout(self.ffn(x)))
        return x, weights


def answer(hidden_size, num_heads, intermediate_size, dropout=0.1, layer_norm_eps=1e-12):
    return MyEncoderLayer(hidden_size, num_heads, intermediate_size, dropout, layer_norm_eps)
"""

_LAYER_SKELETON = ("Name the parts as EncoderLayer does: attention (a MultiHeadSelfAttention), attention_norm, ffn "
                   "(with ffn.inner and ffn.outer, nn.Linear each), ffn_norm (nn.LayerNorm each) and dropout.")


def _layer_diagnosis(library, x, bias, out, what: str) -> str:
    """Why ``out`` is not the library layer's output: the usual mistakes, recomputed from the layer's own parts."""
    attention, ffn = library.attention, library.ffn
    ln1, ln2 = library.attention_norm, library.ffn_norm
    if not torch.isfinite(out).all():
        return f"{what}: the output contains NaN or inf"

    def attend(h):
        return attention(h, bias)[0]

    def feed(h, activation=F.gelu):
        return ffn.outer(activation(ffn.inner(h)))

    def default_eps(norm):  # nn.LayerNorm's own eps, 1e-5, instead of the layer's
        return lambda h: F.layer_norm(h, norm.normalized_shape, norm.weight, norm.bias, eps=1e-5)

    with torch.no_grad():
        h = ln1(x + attend(x))
        pre = x + attend(ln1(x))
        eps_note = (f"LayerNorm's eps is {ln1.eps:g} here (layer_norm_eps), not nn.LayerNorm's default 1e-5: pass "
                    "eps=layer_norm_eps to both LayerNorms")
        for n1, n2 in [(default_eps(ln1), ln2), (ln1, default_eps(ln2)), (default_eps(ln1), default_eps(ln2))]:
            h_eps = n1(x + attend(x))
            if _close(out, n2(h_eps + feed(h_eps)), atol=1e-10):
                return f"{what}: {eps_note}"
        candidates = [
            (pre + feed(ln2(pre)), "LayerNorm comes AFTER each residual sum in BERT (post-LN): "
                                   "attention_norm(x + attention(x)), not x + attention(attention_norm(x))"),
            (ln2(feed(ln1(attend(x)))), "the residual connections are missing: each sub-layer's output is ADDED to "
                                        "its input before the LayerNorm"),
            (ln2(feed(h)), "the residual connection around the feed-forward sub-layer is missing: add its input back "
                           "before ffn_norm"),
            (ln2(ln1(attend(x)) + feed(ln1(attend(x)))), "the residual connection around attention is missing: add "
                                                         "x back before attention_norm"),
            (ln2(h + feed(h, F.relu)), "BERT's feed-forward activation is GELU, not ReLU"),
            (ln2(h + feed(h, lambda t: F.gelu(t, approximate="tanh"))), "BERT's GELU is the exact one (erf): "
                                                                         "F.gelu(x), not the tanh approximation"),
            (ln1(h + feed(h)), "the second sub-layer is normalised with attention_norm; it has its own, ffn_norm"),
            (ln2(x + attend(x) + feed(x + attend(x))), "the attention sub-layer's LayerNorm (attention_norm) is "
                                                       "missing"),
            (h + feed(h), "the feed-forward sub-layer's LayerNorm (ffn_norm) is missing"),
            (ln2(h + ffn.outer(ffn.inner(h))), "the feed-forward network needs its activation between inner and "
                                               "outer"),
        ]
        for candidate, why in candidates:
            if _close(out, candidate, atol=1e-7):
                return f"{what}: {why}"
    return (f"{what}: the output differs from the library's layer: attention, dropout, add, attention_norm; then "
            "feed-forward (inner, GELU, outer), dropout, add, ffn_norm")


def _check_layer_case(answer, seed, batch, length, hidden, heads, intermediate, eps):
    from minibert.core.attention import attention_bias
    from minibert.core.transformer import EncoderLayer

    what = f"answer({hidden}, {heads}, {intermediate}" + (f", layer_norm_eps={eps}" if eps != 1e-12 else "") + ")"
    module = answer(hidden, heads, intermediate, dropout=0.1, layer_norm_eps=eps)
    library = EncoderLayer(hidden, heads, intermediate, layer_norm_eps=eps).double().eval()
    _same_parts(module, library, what, _LAYER_SKELETON)
    _randomized(library, seed)
    module = module.double()
    module.load_state_dict(library.state_dict())
    module.eval()
    g = torch.Generator().manual_seed(100 + seed)
    x = torch.randn(batch, length, hidden, generator=g, dtype=torch.float64)
    lengths = torch.tensor([length, max(1, length - 3), 0][:batch])
    bias = attention_bias((torch.arange(length)[None, :] < lengths[:, None])[:, None, None, :], torch.float64)
    for mask, when in [(None, "without a mask"), (bias, "with padding" + (" (one sequence fully masked)"
                                                                          if batch > 2 else ""))]:
        label = f"{what} on a ({batch}, {length}, {hidden}) batch {when}"
        with torch.no_grad():
            result = module(x.clone(), None if mask is None else mask.clone(), need_weights=True)
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise AssertionError(f"{label}: forward should return a pair (output, attention weights or None), "
                                     f"got {type(result).__name__}")
            out, weights = _tensor(result[0], "the output"), result[1]
            expected, expected_w = library(x, mask, need_weights=True)
            if not _close(out, expected):
                if tuple(out.shape) != tuple(expected.shape):
                    raise AssertionError(f"{label}: the output should have shape {tuple(expected.shape)}, got "
                                         f"{tuple(out.shape)}")
                raise AssertionError(_layer_diagnosis(library, x, mask, out, label))
            if weights is None or not _close(_tensor(weights, "the weights"), expected_w):
                raise AssertionError(f"{label}: with need_weights=True the second element should be the attention "
                                     "weights (B, heads, T, T), passed on from the attention sub-layer")

__all__ = ['numbers', 'contextmanager', 'np', 'torch', 'F', 'exercise', '_one_thread', '_number', '_whole_number', '_tensor', '_variant', '_randomized', '_same_parts', '_close', '_LAYER_SOLUTION', '_LAYER_SKELETON', '_layer_diagnosis', '_check_layer_case']

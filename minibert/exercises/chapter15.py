"""Chapter 15 (ModernBERT): the sliding-window mask (15.1, run inside the chapter's ModernBERT), the GeGLU feed-forward
(15.2), a prediction about how far a token sees through local layers only (15.3), and the GeGLU's size (15.4)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import exercise
from ._checks_11_14 import call as _call, choice as _choice, integer as _integer, own_rng as _own_rng
from ._checks_11_14 import tensor as _tensor


# -- 15.1 ---------------------------------------------------------------------------------------------------------
def _band(length: int, window: int, reach: int | None = None, strict: bool = False, causal: bool = False):
    i = torch.arange(length)
    offset = i[:, None] - i[None, :]
    reach = window // 2 if reach is None else reach
    inside = offset.abs() < reach if strict else offset.abs() <= reach
    return inside & (offset >= 0) if causal else inside


@exercise("15.1", "the sliding-window mask", kind="build",
          builds=("minibert.models.modernbert.local_attention.sliding_window_mask",
                  "transformers.masking_utils.sliding_window_bidirectional_overlay"),
          shortcut="""
          from minibert.models.modernbert.local_attention import sliding_window_mask

          def answer(length, window):
              return sliding_window_mask(length, window)
          """,
          hints=("Query i may see key j when they are at most window // 2 apart, on either side: the window counts "
                 "both sides together (ModernBERT's 128 means 64 each way).",
                 "Return a (length, length) boolean tensor. torch.arange(length) gives the positions; "
                 "positions[:, None] - positions[None, :] is the (T, T) matrix of offsets i - j; .abs() and a "
                 "comparison make it boolean.",
                 "positions = torch.arange(length)\noffset = positions[:, None] - positions[None, :]\n"
                 "return offset.abs() <= window // 2"),
          solution="""
          import torch

          def answer(length, window):
              positions = torch.arange(length)
              offset = positions[:, None] - positions[None, :]   # i - j for every (query, key) pair
              return offset.abs() <= window // 2                  # window // 2 keys on each side, itself included
          """,
          wrong=("""
                 import torch

                 def answer(length, window):
                     positions = torch.arange(length)
                     return (positions[:, None] - positions[None, :]).abs() <= window
                 """,
                 """
                 import torch

                 def answer(length, window):
                     positions = torch.arange(length)
                     return (positions[:, None] - positions[None, :]).abs() < window // 2
                 """,
                 """
                 import torch

                 def answer(length, window):
                     positions = torch.arange(length)
                     offset = positions[:, None] - positions[None, :]
                     return (offset >= 0) & (offset <= window // 2)
                 """))
@_own_rng
def _(answer):
    g = torch.Generator().manual_seed(15)
    cases = [(1, 0), (5, 0), (6, 4), (7, 5), (10, 128), (12, 2), (3, 1)]
    cases += [(int(torch.randint(2, 60, (1,), generator=g)), 2 * int(torch.randint(0, 20, (1,), generator=g)))
              for _ in range(5)]
    for length, window in cases:
        got = _tensor(_call(answer, length, window), "the mask")
        where = f"length {length}, window {window}"
        assert tuple(got.shape) == (length, length), f"{where}: the mask is (length, length), got {tuple(got.shape)}"
        if got.dtype != torch.bool:
            assert bool(((got == 0) | (got == 1)).all()), f"{where}: a mask holds True/False (or 1/0) only"
            got = got.bool()
        expected = _band(length, window)
        if torch.equal(got, expected):
            continue
        slips = {"reach": (_band(length, window, reach=window), "each side sees window // 2 keys, not window: the "
                           "window counts both sides together"),
                 "strict": (_band(length, window, strict=True), "a key exactly window // 2 away is still inside "
                            "the window (and a token always sees itself)"),
                 "causal": (_band(length, window, causal=True), "the window is two-sided: an encoder's query sees "
                            "keys before and after it"),
                 "transposed": (expected.T, "")}
        for slip, (value, why) in slips.items():
            if slip != "transposed" and torch.equal(got, value):
                raise AssertionError(f"{where}: {why}")
        raise AssertionError(f"{where}: not the sliding-window mask; row i should be True exactly where "
                             f"|i - j| <= window // 2")


# -- 15.2 ---------------------------------------------------------------------------------------------------------
def _geglu_variants(x, inner, outer):
    value, gate = (x @ inner.T).chunk(2, dim=-1)
    return {"gelu on the gate": (value * F.gelu(gate)) @ outer.T,
            "tanh GELU": (F.gelu(value, approximate="tanh") * gate) @ outer.T,
            "no gate": F.gelu(value) @ outer.T,
            "exact": (F.gelu(value) * gate) @ outer.T}


_GEGLU_SLIPS = {"gelu on the gate": "the GELU goes on the FIRST half (the value) and the second half gates it, as "
                                    "transformers' ModernBertMLP does: input, gate = Wi(x).chunk(2)",
                "tanh GELU": "ModernBERT uses the exact GELU (erf), not the tanh approximation",
                "no gate": "the second half of Wi(x) must multiply the GELU of the first half, element by element"}


@exercise("15.2", "the GeGLU feed-forward", kind="build",
          builds=("minibert.models.modernbert.layers.GatedFeedForward",
                  "transformers.models.modernbert.modeling_modernbert.ModernBertMLP"),
          shortcut="""
          import torch
          from minibert.models.modernbert.layers import GatedFeedForward

          def answer(x, inner_weight, outer_weight):
              hidden, inner = outer_weight.shape
              module = GatedFeedForward(hidden, inner).to(x.dtype)
              with torch.no_grad():
                  module.inner.weight.copy_(inner_weight)
                  module.outer.weight.copy_(outer_weight)
                  return module(x)
          """,
          hints=("One projection makes twice the inner width; split it into a value half and a gate half. The GELU "
                 "of the value, times the gate, element by element, goes through the output projection.",
                 "x: (..., H); inner_weight: (2 I, H); outer_weight: (H, I), nn.Linear's layout (out, in), no biases. "
                 "(x @ inner_weight.T).chunk(2, dim=-1) gives value and gate, (..., I) each; "
                 "torch.nn.functional.gelu is the exact GELU.",
                 "value, gate = (x @ inner_weight.T).chunk(2, dim=-1)\n"
                 "return (F.gelu(value) * gate) @ outer_weight.T"),
          solution="""
          import torch.nn.functional as F

          def answer(x, inner_weight, outer_weight):
              value, gate = (x @ inner_weight.T).chunk(2, dim=-1)   # x W and x V of Shazeer 2020
              return (F.gelu(value) * gate) @ outer_weight.T          # (GELU(x W) * x V) W_2
          """,
          wrong=("""
                 import torch.nn.functional as F

                 def answer(x, inner_weight, outer_weight):
                     value, gate = (x @ inner_weight.T).chunk(2, dim=-1)
                     return (value * F.gelu(gate)) @ outer_weight.T
                 """,
                 """
                 import torch.nn.functional as F

                 def answer(x, inner_weight, outer_weight):
                     value, gate = (x @ inner_weight.T).chunk(2, dim=-1)
                     return (F.gelu(value, approximate="tanh") * gate) @ outer_weight.T
                 """,
                 """
                 import torch.nn.functional as F

                 def answer(x, inner_weight, outer_weight):
                     value, gate = (x @ inner_weight.T).chunk(2, dim=-1)
                     return F.gelu(value) @ outer_weight.T
                 """))
@_own_rng
def _(answer):
    g = torch.Generator().manual_seed(152)
    for batch, length, hidden, inner, dtype in ((1, 1, 4, 6, torch.float64), (2, 5, 8, 12, torch.float64),
                                                (3, 7, 16, 24, torch.float32), (1, 3, 6, 2, torch.float64)):
        x = (torch.randn(batch, length, hidden, generator=g, dtype=torch.float64) * 2).to(dtype)
        inner_weight = torch.randn(2 * inner, hidden, generator=g, dtype=torch.float64).to(dtype)
        outer_weight = torch.randn(hidden, inner, generator=g, dtype=torch.float64).to(dtype)
        got = _tensor(_call(answer, x.clone(), inner_weight.clone(), outer_weight.clone()), "the output")
        where = f"x {tuple(x.shape)}, inner width {inner}"
        assert tuple(got.shape) == tuple(x.shape), f"{where}: the output has x's shape, got {tuple(got.shape)}"
        variants = _geglu_variants(x, inner_weight, outer_weight)
        tolerance = 1e-9 if dtype == torch.float64 else 1e-4
        got = got.to(dtype)
        if torch.allclose(got, variants["exact"], atol=tolerance, rtol=tolerance):
            continue
        for slip, why in _GEGLU_SLIPS.items():
            if torch.allclose(got, variants[slip], atol=tolerance, rtol=tolerance):
                raise AssertionError(f"{where}: {why}")
        raise AssertionError(f"{where}: not GeGLU; check the split of Wi(x), the GELU and the output projection")


# -- 15.3 ---------------------------------------------------------------------------------------------------------
@exercise("15.3", "predict: how far do local layers see?", kind="predict",
          hints=("Each local layer lets a token read window // 2 tokens on each side; stacking layers adds these "
                 "reaches up. Compare the total with the distance between the two tokens.",
                 "Answer 'yes' or 'no': in a 4-layer model whose layers are ALL local with window 8 (4 each side), "
                 "does changing token 20 change the output at token 0?"),
          solution="""
          answer = "no"
          """,
          wrong='answer = "yes"')
@_own_rng
def _(answer):
    from minibert.models.modernbert.config import ModernBertConfig
    from minibert.models.modernbert.local_attention import receptive_field
    from minibert.models.modernbert.model import ModernBertModel

    said = _choice(answer, {"yes": ("y", "it changes", "true"), "no": ("n", "it does not", "false")})
    torch.manual_seed(0)
    kinds = ["sliding_attention"] * 4
    model = ModernBertModel(ModernBertConfig.tiny(layer_types=kinds, local_attention=8)).eval()
    ids = torch.randint(1, 1000, (1, 40), generator=torch.Generator().manual_seed(3))
    changed = ids.clone()
    changed[0, 20] = (ids[0, 20] + 1) % 999 + 1
    with torch.no_grad():
        difference = float((model(ids).last_hidden_state - model(changed).last_hidden_state)[0, 0].abs().max())
    reach = int(receptive_field(kinds, 40, 8, query=0)[-1].nonzero().max())
    truth = "yes" if difference > 0 else "no"
    changed_by = "exactly 0" if difference == 0 else "more than 0"
    story = (f"Run on the tiny model: the output at token 0 changed by {changed_by}. "
             f"Four local layers reach 4 x 4 = {reach} tokens: token 0 has heard from tokens 0..{reach} only, and "
             f"token 20 is further away. One global layer anywhere would connect them; ModernBERT puts one every "
             f"third layer for that reason.")
    if said != truth:
        raise AssertionError(f"the answer is not {said!r}. {story}")
    print(f"Right: {story}")


# -- 15.4 ---------------------------------------------------------------------------------------------------------
@exercise("15.4", "the size of a GeGLU", kind="compute",
          hints=("Wi maps H to twice the inner width (value and gate), Wo maps the inner width back to H; "
                 "ModernBERT has no biases.",
                 "H = 768, inner width I = 1152: count 768 x (2 x 1152) + 1152 x 768."),
          solution="""
          answer = 768 * 2 * 1152 + 1152 * 768
          """,
          wrong=("answer = 768 * 1152 * 2",
                 "answer = 768 * 2 * 1152 + 1152 * 768 + 2 * 1152 + 768",
                 "answer = 768 * 3072 * 2 + 3072 + 768"))
def _(answer):
    got = _integer(answer, "the number of weights")
    slips = {768 * 1152 * 2: "that forgets the gate: Wi has 2 x 1152 output rows",
             768 * 3 * 1152 + 2 * 1152 + 768: "ModernBERT's linear layers have no biases",
             768 * 3072 * 2 + 3072 + 768: "that is BERT-base's feed-forward (768 -> 3072 -> 768, with biases)"}
    if got in slips:
        raise AssertionError(f"{got:,}: {slips[got]}")
    assert got == 768 * 3 * 1152, f"{got:,} is not the GeGLU's weight count for H = 768, I = 1152"

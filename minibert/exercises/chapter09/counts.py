"""Chapter 09, counting: 09.1-09.3 (the factorised table, when it pays, the encoder under each sharing mode) and
09.5 (predict what depth costs a shared model, then run)."""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .. import exercise


def _count(value, what: str) -> int:
    """A whole number from an int, NumPy or torch integer, or an integral float; AssertionError otherwise."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"{what} should be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise AssertionError(f"{what} should be one number, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be an integer, got {type(value).__name__}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not math.isfinite(value) or not float(value).is_integer():
        raise AssertionError(f"{what} should be a whole number, got {value}")
    return int(value)


def _factorised(vocab: int, width: int, hidden: int) -> int:
    """Token table plus projection, counted on modules built on the meta device (nothing allocated)."""
    from torch import nn

    from minibert.core.parameter_count import count_parameters

    return count_parameters(lambda: nn.Embedding(vocab, width)) + count_parameters(lambda: nn.Linear(width, hidden))


# -- 09.1 ---------------------------------------------------------------------------------------------------------

@exercise("09.1", "a factorised token table", kind="compute",
          hints=("Two pieces replace BERT's one table: a narrow lookup table, and a layer that widens its rows to the "
                 "hidden size. Count every parameter of both.",
                 "nn.Embedding(V, E) has a V x E weight; nn.Linear(E, H) has an H x E weight and H biases. "
                 "answer(V, E, H) returns an integer."),
          solution="""
          def answer(V, E, H):
              return V * E + E * H + H
          """,
          wrong=("""
          def answer(V, E, H):
              return V * H
          """, """
          def answer(V, E, H):
              return V * E + E * H
          """, """
          def answer(V, E, H):
              return V * E + E * H + E
          """, """
          def answer(V, E, H):
              return V * E
          """))
def _(answer):
    for vocab, width, hidden in ((30000, 128, 768), (30000, 64, 4096), (1000, 16, 64), (np.int64(500), 8, 32)):
        vocab = int(vocab)
        expected = _factorised(vocab, width, hidden)
        got = _count(answer(vocab, width, hidden), f"answer({vocab}, {width}, {hidden})")
        if got == expected:
            continue
        if got == vocab * hidden:
            raise AssertionError("that is BERT's unfactorised V x H table; ALBERT's table is V x E, then E -> H")
        if got == vocab * width:
            raise AssertionError("that is the table alone; the projection from E to H has parameters too")
        if got == vocab * width + width * hidden:
            raise AssertionError("almost: the projection is a Linear layer, and it has a bias")
        if got == vocab * width + width * hidden + width:
            raise AssertionError("the projection's bias has one entry per *output* feature: H of them, not E")
        raise AssertionError(f"answer({vocab}, {width}, {hidden}) = {got:,} is not the size of a V x E table plus "
                             "a Linear(E, H)")


# -- 09.2 ---------------------------------------------------------------------------------------------------------

@exercise("09.2", "when does factorising pay?", kind="compute",
          hints=("Write the saving condition (09.1's count against V x H) as an inequality in E and find the largest "
                 "whole E that satisfies it. Careful: *fewer* parameters, not the same number.",
                 "V*E + E*H + H < V*H is linear in E; answer(V, H) returns an integer. A loop over E from H down is "
                 "fine too (H is at most a few thousand)."),
          solution="""
          def answer(V, H):
              E = (V * H - H) // (V + H)
              while V * (E + 1) + (E + 1) * H + H < V * H:
                  E += 1
              while E > 0 and not V * E + E * H + H < V * H:
                  E -= 1
              return E
          """,
          wrong=("""
          def answer(V, H):
              return H - 1
          """, """
          def answer(V, H):
              return (V * H - H) // (V + H)
          """, """
          def answer(V, H):
              return max(E for E in range(1, H + 1) if V * E + E * H < V * H)
          """, """
          def answer(V, H):
              return max(E for E in range(1, H + 1) if V * E + E * H + H <= V * H)
          """))
def _(answer):
    for vocab, hidden in ((30000, 768), (30000, 4096), (50, 64), (1000, 16), (10, 8)):
        # the saving condition on real modules: a V x E table plus Linear(E, H) against a V x H table
        expected = max(e for e in range(1, hidden + 1) if vocab * e + e * hidden + hidden < vocab * hidden)
        assert _factorised(vocab, expected, hidden) < vocab * hidden <= _factorised(vocab, expected + 1, hidden)
        got = _count(answer(vocab, hidden), f"answer({vocab}, {hidden})")
        if got == expected:
            continue
        if got == hidden - 1:
            raise AssertionError(f"with V={vocab}, H={hidden} the projection's E x H weights cost too: E = H - 1 "
                                 "does not save anything")
        if got > expected and _factorised(vocab, got, hidden) == vocab * hidden:
            raise AssertionError(f"answer({vocab}, {hidden}) = {got} gives exactly as many parameters as the plain "
                                 "table; factorising must give strictly fewer")
        if got > expected and vocab * got + got * hidden < vocab * hidden:
            raise AssertionError(f"answer({vocab}, {hidden}) = {got}: without the projection's bias that would "
                                 "save, with it it does not")
        raise AssertionError(f"answer({vocab}, {hidden}) = {got}, but that is not the largest E whose factorised "
                             "table (V x E plus Linear(E, H)) has fewer parameters than V x H")


# -- 09.3 ---------------------------------------------------------------------------------------------------------

@exercise("09.3", "the encoder under each sharing mode", kind="compute",
          hints=("Count one attention sub-layer and one feed-forward sub-layer (each with its LayerNorm) once, then "
                 "ask how many distinct copies of each a sharing mode keeps: 1 when shared, L otherwise.",
                 "Attention: four Linear(H, H) (query, key, value, output) plus a LayerNorm(H) (2H). Feed-forward: "
                 "Linear(H, 4H) and Linear(4H, H) plus a LayerNorm(H). answer(H, L, sharing) returns an integer for "
                 "sharing in 'none', 'attention', 'ffn', 'all'."),
          solution="""
          def answer(H, L, sharing):
              attention = 4 * H * H + 4 * H + 2 * H
              ffn = 8 * H * H + 5 * H + 2 * H
              attention_copies = 1 if sharing in ("all", "attention") else L
              ffn_copies = 1 if sharing in ("all", "ffn") else L
              return attention_copies * attention + ffn_copies * ffn
          """,
          wrong=("""
          def answer(H, L, sharing):
              layer = 12 * H * H + 13 * H
              return layer if sharing == "all" else L * layer
          """, """
          def answer(H, L, sharing):
              attention = 4 * H * H + 4 * H
              ffn = 8 * H * H + 5 * H
              norms = L * 4 * H
              attention_copies = 1 if sharing in ("all", "attention") else L
              ffn_copies = 1 if sharing in ("all", "ffn") else L
              return attention_copies * attention + ffn_copies * ffn + norms
          """, """
          def answer(H, L, sharing):
              attention = 4 * H * H + 4 * H + 2 * H
              ffn = 8 * H * H + 5 * H + 2 * H
              attention_copies = 1 if sharing in ("all", "ffn") else L
              ffn_copies = 1 if sharing in ("all", "attention") else L
              return attention_copies * attention + ffn_copies * ffn
          """, """
          def answer(H, L, sharing):
              attention = 4 * H * H + 2 * H
              ffn = 8 * H * H + 2 * H
              attention_copies = 1 if sharing in ("all", "attention") else L
              ffn_copies = 1 if sharing in ("all", "ffn") else L
              return attention_copies * attention + ffn_copies * ffn
          """))
def _(answer):
    from minibert.core.parameter_count import count_parameters
    from minibert.core.transformer import Encoder
    from minibert.models.albert.model import AlbertConfig

    def encoder_size(hidden, layers, sharing):
        config = AlbertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4,
                              intermediate_size=4 * hidden, cross_layer_sharing=sharing)
        return count_parameters(lambda: Encoder(config))

    for hidden, layers in ((64, 4), (768, 12), (32, 1)):
        for sharing in ("none", "attention", "ffn", "all"):
            expected = encoder_size(hidden, layers, sharing)
            got = _count(answer(hidden, layers, sharing), f"answer({hidden}, {layers}, {sharing!r})")
            if got == expected:
                continue
            if sharing in ("attention", "ffn") and layers > 1:
                other = "ffn" if sharing == "attention" else "attention"
                if got == encoder_size(hidden, layers, other):
                    raise AssertionError(f"answer({hidden}, {layers}, {sharing!r}) is the count of sharing {other!r}: "
                                         "the mode names the sub-layer that is shared (kept once)")
            copies = (1 if sharing in ("all", "attention") else layers, 1 if sharing in ("all", "ffn") else layers)
            unshared_norms = copies[0] * (4 * hidden * hidden + 4 * hidden) + copies[1] * (
                8 * hidden * hidden + 5 * hidden) + layers * 4 * hidden
            if sharing != "none" and got == unshared_norms:
                raise AssertionError(f"answer({hidden}, {layers}, {sharing!r}): the LayerNorm after a sub-layer is "
                                     "part of it and is shared together with it")
            raise AssertionError(f"answer({hidden}, {layers}, {sharing!r}) = {got:,}, but that encoder has a different "
                                 "number of parameters; count each sub-layer's weights, biases and LayerNorm (weight "
                                 "and bias), and share the LayerNorm together with its sub-layer")


# -- 09.5: predict, then run -------------------------------------------------------------------------------------

_WORDS = {"same": 1.0, "double": 2.0, "half": 0.5}


def _word(value, what: str) -> str:
    if isinstance(value, str) and value.strip().lower() in _WORDS:
        return value.strip().lower()
    if isinstance(value, str):
        raise AssertionError(f"{what}: say 'same', 'double' or 'half', got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: say 'same', 'double' or 'half', got {type(value).__name__}") from None
    for word, factor in _WORDS.items():
        if math.isclose(number, factor):
            return word
    raise AssertionError(f"{what}: say 'same', 'double' or 'half' (or the factor 1, 2 or 0.5), got {number:g}")


def _depth_experiment() -> dict:
    """Parameters and forward-pass FLOPs of an all-shared ALBERT at 6 and at 12 layers (small, on one batch)."""
    from torch.utils.flop_counter import FlopCounterMode

    from minibert.models.albert.model import AlbertConfig, AlbertModel

    ids = torch.randint(5, 500, (2, 32), generator=torch.Generator().manual_seed(0))
    measured = {}
    for depth in (6, 12):
        config = AlbertConfig(vocab_size=500, embedding_size=16, hidden_size=64, num_hidden_layers=depth,
                              num_attention_heads=4, intermediate_size=256, max_position_embeddings=32)
        torch.manual_seed(0)
        model = AlbertModel(config).eval()
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            model(ids)
        measured[depth] = (sum(p.numel() for p in model.parameters()), counter.get_total_flops())
    return measured


@exercise("09.5", "predict: what does depth cost a shared model?", kind="predict",
          hints=("With every layer shared, ask separately what is stored (the weights) and what is computed (each "
                 "depth runs its layer on every token).",
                 "Give answer = (parameters, arithmetic), each 'same', 'double' or 'half', for going from 6 to 12 "
                 "layers with cross_layer_sharing='all'."),
          solution="answer = ('same', 'double')",
          wrong=("answer = ('double', 'double')", "answer = ('same', 'same')", "answer = ('half', 'same')",
                 "answer = ('same', 'twice as much')"))
def _(answer):
    if isinstance(answer, (str, dict)) or not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("give two words, answer = (parameters, arithmetic), each 'same', 'double' or 'half'")
    parameters, arithmetic = _word(answer[0], "parameters"), _word(answer[1], "arithmetic")
    measured = _depth_experiment()
    (p6, f6), (p12, f12) = measured[6], measured[12]
    explanation = (
        f"Measured on a small all-shared ALBERT (H = 64, E = 16), one forward pass of 2 x 32 tokens: 6 layers "
        f"{p6:,} parameters and {f6:,} FLOPs, 12 layers {p12:,} parameters and {f12:,} FLOPs (x{f12 / f6:.3f}). The "
        "parameters stay the same because the 12 depths reuse one layer's weights; the arithmetic almost doubles "
        "because each depth still runs that layer on every token (only the embeddings, computed once, keep it just "
        "under 2). Sharing saves memory, not compute.")
    if (parameters, arithmetic) != ("same", "double"):
        raise AssertionError(f"you predicted parameters {parameters}, arithmetic {arithmetic}. {explanation}")
    print(explanation)

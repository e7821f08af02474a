"""Exercises of chapter 09 (ALBERT: factorised embeddings and cross-layer sharing)."""
import numpy as np

from . import exercise


def _factorised(vocab: int, width: int, hidden: int) -> int:
    """Token table plus projection, counted on modules built on the meta device (nothing allocated)."""
    from torch import nn

    from minibert.core.parameter_count import count_parameters

    return count_parameters(lambda: nn.Embedding(vocab, width)) + count_parameters(lambda: nn.Linear(width, hidden))


@exercise("09.1", "a factorised token table",
          hints="the table is V x E; the projection is a Linear(E, H): E x H weights plus H biases.",
          solution="""
          def answer(V, E, H):
              return V * E + E * H + H
          """,
          wrong="""
          def answer(V, E, H):
              return V * H
          """)
def _(answer):
    for vocab, width, hidden in ((30000, 128, 768), (30000, 64, 4096), (1000, 16, 64)):
        got = answer(vocab, width, hidden)
        expected = _factorised(vocab, width, hidden)
        assert isinstance(got, (int, np.integer)), f"answer should be an integer, got {type(got).__name__}"
        if got == vocab * hidden:
            raise AssertionError("that is BERT's unfactorised V x H table; ALBERT's table is V x E, then E -> H")
        if got == vocab * width + width * hidden:
            raise AssertionError("almost: the projection is a Linear layer, and it has a bias of size H")
        assert got == expected, f"answer({vocab}, {width}, {hidden}) = {got:,}, expected {expected:,}"


@exercise("09.2", "when does factorising pay?",
          hints="factorising saves parameters while V*E + E*H + H < V*H; solve for E and take the largest integer "
               "that still satisfies the strict inequality.",
          solution="""
          def answer(V, H):
              E = (V * H - H) // (V + H)
              while V * (E + 1) + (E + 1) * H + H < V * H:
                  E += 1
              while E > 0 and not V * E + E * H + H < V * H:
                  E -= 1
              return E
          """,
          wrong="""
          def answer(V, H):
              return H - 1
          """)
def _(answer):
    for vocab, hidden in ((30000, 768), (30000, 4096), (50, 64), (1000, 16)):
        got = answer(vocab, hidden)
        # the saving condition on real modules: a V x E table plus Linear(E, H) against a V x H table
        expected = max(e for e in range(1, hidden + 1) if vocab * e + e * hidden + hidden < vocab * hidden)
        assert _factorised(vocab, expected, hidden) < vocab * hidden <= _factorised(vocab, expected + 1, hidden)
        assert isinstance(got, (int, np.integer)), f"answer should be an integer, got {type(got).__name__}"
        if got == hidden - 1 and expected != hidden - 1:
            raise AssertionError(f"with V={vocab}, H={hidden} the projection's E x H weights cost too: E = H - 1 "
                                 f"does not save anything")
        assert got == expected, f"answer({vocab}, {hidden}) = {got}, but the largest E that saves parameters is {expected}"


@exercise("09.3", "the encoder under each sharing mode",
          hints="an attention sub-layer with its LayerNorm has 4H^2 + 4H + 2H parameters, a feed-forward sub-layer "
               "with its LayerNorm 8H^2 + 5H + 2H; count how many distinct copies of each a mode keeps.",
          solution="""
          def answer(H, L, sharing):
              attention = 4 * H * H + 4 * H + 2 * H
              ffn = 8 * H * H + 5 * H + 2 * H
              attention_copies = 1 if sharing in ("all", "attention") else L
              ffn_copies = 1 if sharing in ("all", "ffn") else L
              return attention_copies * attention + ffn_copies * ffn
          """,
          wrong="""
          def answer(H, L, sharing):
              layer = 12 * H * H + 13 * H
              return layer if sharing == "all" else L * layer
          """)
def _(answer):
    from minibert.core.parameter_count import count_parameters
    from minibert.core.transformer import Encoder
    from minibert.models.albert.model import AlbertConfig

    for hidden, layers in ((64, 4), (768, 12)):
        for sharing in ("none", "attention", "ffn", "all"):
            config = AlbertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4,
                                  intermediate_size=4 * hidden, cross_layer_sharing=sharing)
            expected = count_parameters(lambda: Encoder(config))
            got = answer(hidden, layers, sharing)
            assert isinstance(got, (int, np.integer)), f"answer should be an integer, got {type(got).__name__}"
            assert got == expected, (f"answer({hidden}, {layers}, {sharing!r}) = {got:,}, but that encoder has "
                                     f"{expected:,} parameters")

"""Exercises of chapter 03 (the Transformer encoder and BERT)."""
import numpy as np
import torch

from . import exercise


def _layer_parameters(hidden: int) -> int:
    from minibert.core.config import BertConfig
    from minibert.core.parameter_count import count_parameters
    from minibert.core.transformer import EncoderLayer

    config = BertConfig(hidden_size=hidden, num_attention_heads=1, intermediate_size=4 * hidden)
    return count_parameters(lambda: EncoderLayer.from_config(config))


@exercise("03.1", "parameters of one encoder layer",
          hints="attention: 4 (H x H) matrices + 4H biases; FFN: H x 4H and 4H x H + 4H + H biases; "
               "two LayerNorms: 2H each.",
          solution="""
          def answer(H):
              attention = 4 * H * H + 4 * H
              ffn = 2 * H * 4 * H + 4 * H + H
              norms = 2 * 2 * H
              return attention + ffn + norms
          """,
          wrong="""
          def answer(H):
              return 4 * H * H + 2 * H * 4 * H
          """)
def _(answer):
    for hidden in (64, 768, 1024):
        got = answer(hidden)
        expected = _layer_parameters(hidden)
        assert isinstance(got, (int, np.integer)), f"answer({hidden}) should be an integer, got {type(got).__name__}"
        if got == 12 * hidden * hidden:
            raise AssertionError(f"answer({hidden}) = {got:,} counts the weight matrices but no biases or LayerNorms")
        assert got == expected, f"answer({hidden}) = {got:,}, but a layer of width {hidden} has {expected:,} parameters"


@exercise("03.2", "BERT's input embeddings by hand",
          hints="positions = torch.arange(T); sum the three lookups, then apply embeddings.norm (dropout is off in eval).",
          solution="""
          import torch

          def answer(embeddings, input_ids, token_type_ids):
              positions = torch.arange(input_ids.shape[1])
              summed = embeddings.token(input_ids) + embeddings.segment(token_type_ids) + embeddings.position(positions)
              return embeddings.norm(summed)
          """,
          wrong="""
          import torch

          def answer(embeddings, input_ids, token_type_ids):
              return embeddings.norm(embeddings.token(input_ids) + embeddings.segment(token_type_ids))
          """)
def _(answer):
    from minibert.core.config import BertConfig
    from minibert.models.bert.model import BertEmbeddings

    torch.manual_seed(0)
    module = BertEmbeddings(BertConfig.tiny()).eval()
    ids = torch.randint(0, 1000, (2, 9))
    types = torch.tensor([[0] * 5 + [1] * 4, [0] * 9])
    with torch.no_grad():
        got = answer(module, ids, types)
        expected = module(ids, types)
        assert isinstance(got, torch.Tensor), f"return a tensor, got {type(got).__name__}"
        assert got.shape == expected.shape, f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
        without_positions = module.norm(module.token(ids) + module.segment(types))
        if torch.allclose(got, without_positions, atol=1e-5):
            raise AssertionError("the position embeddings are missing: attention alone cannot tell word order")
        assert torch.allclose(got, expected, atol=1e-5), "the values differ from the module's output"


@exercise("03.3", "mean pooling",
          hints="multiply hidden by the mask (as floats, with a trailing axis), sum over T, divide by the mask's sum.",
          solution="""
          def answer(hidden, attention_mask):
              weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
              return (hidden * weights).sum(1) / weights.sum(1)
          """,
          wrong="""
          def answer(hidden, attention_mask):
              return hidden.mean(1)
          """)
def _(answer):
    from minibert.models.bert.model import mean_pool

    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(3, 7, 5, generator=g)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3, [1] * 2 + [0] * 5])
    got = answer(hidden, mask)
    assert isinstance(got, torch.Tensor) and got.shape == (3, 5), "expected a (batch, H) tensor"
    if torch.allclose(got, hidden.mean(1), atol=1e-6):
        raise AssertionError("the padding positions are included in the average; use the attention mask")
    expected = mean_pool(hidden, mask, normalize=False)
    if torch.allclose(got, torch.nn.functional.normalize(expected, dim=-1), atol=1e-6):
        raise AssertionError("right direction, but the exercise asks for the mean itself, not normalised")
    assert torch.allclose(got, expected, atol=1e-6), "the values differ from the mean over real tokens"


@exercise("03.4", "where do the parameters go?",
          hints="(30522 + 512 + 2) * 768 + 2 * 768 = 23,837,184; divide by 109,482,240.",
          solution="answer = ((30522 + 512 + 2) * 768 + 2 * 768) / 109_482_240",
          wrong="answer = 30522 * 768 / 109_482_240")
def _(answer):
    assert isinstance(answer, (float, int, np.floating)), f"expected a number, got {type(answer).__name__}"
    expected = 23_837_184 / 109_482_240
    if abs(answer - 30522 * 768 / 109_482_240) < 1e-4:
        raise AssertionError("that is the token table only; add the segment and position tables and the LayerNorm")
    if 1 < answer <= 100:
        raise AssertionError("give a fraction between 0 and 1, not a percentage")
    assert abs(answer - expected) < 1e-4, f"{answer:.4f} is not the embeddings' share"

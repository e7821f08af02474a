"""Exercises of chapter 08 (RoBERTa: the recipe and its details)."""
import numpy as np
import torch

from . import exercise


@exercise("08.1", "how often does the model see the same mask?",
          hints="BERT duplicated the data `duplicates` times with different masks; over `epochs` epochs each copy comes "
               "back epochs / duplicates times. Dynamic masking draws a new mask at every visit.",
          solution="""
          def answer(epochs, duplicates):
              return epochs / duplicates
          """,
          wrong="""
          def answer(epochs, duplicates):
              return epochs
          """)
def _(answer):
    for epochs, duplicates, expected in ((40, 10, 4), (40, 1, 40), (10, 10, 1), (30, 4, 7.5)):
        got = answer(epochs, duplicates)
        assert isinstance(got, (int, float, np.integer, np.floating)), f"expected a number, got {type(got).__name__}"
        if duplicates > 1 and abs(got - epochs) < 1e-9:
            raise AssertionError("that is how often the model sees each *sequence*; the duplicates share the epochs "
                                 "between different masks")
        assert abs(got - expected) < 1e-9, f"answer({epochs}, {duplicates}) = {got}, expected {expected}"


@exercise("08.2", "RoBERTa's position ids",
          hints="mark the real tokens (id != pad), take a cumulative sum along each row, keep it only at real tokens, "
               "then add the padding index to everything.",
          solution="""
          def answer(input_ids, pad):
              real = (input_ids != pad).long()
              return real.cumsum(dim=1) * real + pad
          """,
          wrong="""
          import torch

          def answer(input_ids, pad):
              return torch.arange(input_ids.shape[1]).expand_as(input_ids) + pad + 1
          """)
def _(answer):
    from minibert.models.bert.model import BertEmbeddings
    from minibert.models.roberta import RobertaConfig

    for pad in (1, 4):
        embeddings = BertEmbeddings(RobertaConfig.tiny(pad_token_id=pad))
        ids = torch.tensor([[9, 8, 7, pad, pad], [pad, pad, 9, 8, 7], [9, 9, 9, 9, 9]])
        got = answer(ids, pad)
        assert isinstance(got, torch.Tensor) and got.shape == ids.shape, f"return a tensor shaped {tuple(ids.shape)}"
        expected = embeddings.position_ids(ids)
        if torch.equal(got[2], expected[2]) and not torch.equal(got[1], expected[1]):
            raise AssertionError("right for unpadded rows, but padding must get the padding index and real tokens "
                                 "must be numbered by how many real tokens precede them (left padding!)")
        assert torch.equal(got, expected), f"with pad = {pad}: got {got.tolist()}, expected {expected.tolist()}"


@exercise("08.3", "the same number of sequences in bigger batches",
          hints="BERT: 256 sequences x 1,000,000 steps. Keep steps x batch size fixed.",
          solution="""
          def answer(batch_size):
              return 256 * 1_000_000 / batch_size
          """,
          wrong="""
          def answer(batch_size):
              return 1_000_000 / batch_size
          """)
def _(answer):
    for batch, expected in ((256, 1_000_000), (2048, 125_000), (8192, 31_250)):
        got = answer(batch)
        assert isinstance(got, (int, float, np.integer, np.floating)), f"expected a number, got {type(got).__name__}"
        assert abs(got - expected) < 1e-6, (f"answer({batch}) = {got:,}; RoBERTa's table pairs {batch} with "
                                            f"{expected:,.0f} steps (8K x 31K in the paper's rounding)")

"""Exercises of chapter 00 (welcome): warm-ups with the tools the course uses."""
import numpy as np
import torch

from . import exercise


@exercise("00.1", "parameter count by hand",
          hints="weights are out x in = 5 x 10, plus one bias per output: 5.",
          solution="answer = 5 * 10 + 5",
          wrong="answer = 5 * 10")
def _(answer):
    assert isinstance(answer, (int, np.integer)), f"expected an integer, got {type(answer).__name__}"
    assert answer == 55, f"{answer} is not the number of parameters of Linear(10, 5); did you count the bias?"


@exercise("00.2", "softmax with a temperature",
          hints="divide the scores by the temperature before the softmax: softmax(scores / temperature).",
          solution="""
          import numpy as np
          from minibert.reference import softmax

          def answer(scores, temperature):
              return softmax(np.asarray(scores, dtype=float) / temperature)
          """,
          wrong="""
          import numpy as np
          from minibert.reference import softmax

          def answer(scores, temperature):
              return softmax(np.asarray(scores, dtype=float)) / temperature
          """)
def _(answer):
    from minibert.reference.encoder import softmax

    scores = np.array([2.0, 1.0, 0.1])
    for t in (0.5, 1.0, 3.0):
        got = np.asarray(answer(scores, t), dtype=float)
        assert got.shape == (3,), f"expected 3 probabilities, got shape {got.shape}"
        assert np.isclose(got.sum(), 1.0), f"at temperature {t} your probabilities sum to {got.sum():.3f}, not 1"
        assert np.allclose(got, softmax(scores / t)), f"at temperature {t} you return {np.round(got, 3)}"
    flat, sharp = answer(scores, 5.0), answer(scores, 0.2)
    assert np.max(flat) < np.max(sharp), "a higher temperature should flatten the distribution"


@exercise("00.3", "a model on the meta device",
          hints="with torch.device('meta'): answer = torch.nn.Embedding(30522, 768)",
          solution="""
          import torch
          with torch.device("meta"):
              answer = torch.nn.Embedding(30522, 768)
          """,
          wrong="""
          import torch
          answer = torch.nn.Embedding(30522, 768)
          """)
def _(answer):
    assert isinstance(answer, torch.nn.Embedding), f"expected a torch.nn.Embedding, got {type(answer).__name__}"
    assert tuple(answer.weight.shape) == (30522, 768), f"the weight has shape {tuple(answer.weight.shape)}"
    assert answer.weight.is_meta, "the weight lives on the CPU and holds 94 MB; build it inside `with torch.device('meta'):`"

"""Chapter 07: exercises 07.1."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


@exercise("07.1", "extractive QA's span head and its loss", kind="build",
          hints=(
              "Every token gets two scores from its final hidden vector: a dot product with a start vector S and "
              "one with an end vector E (plus a bias each): that is one linear layer H -> 2. The loss treats the "
              "start and the end as two classification problems over the T positions and averages the two "
              "cross-entropies. An answer cut off by truncation has no position in the sequence: it must not "
              "count.",
              "`scores = hidden @ self.weight.T + self.bias` is (B, T, 2); `scores[..., 0]` are the start logits, "
              "`scores[..., 1]` the end logits, each (B, T). Positions are (B,) LongTensors: "
              "`p.clamp(0, T)` moves an out-of-range one to T, and `F.cross_entropy(logits, p, ignore_index=T)` "
              "ignores it. Return `(start_logits, end_logits, loss)`, loss None without positions.",
              "def forward(self, hidden, start_positions=None, end_positions=None):\n"
              "    scores = hidden @ self.weight.T + self.bias\n"
              "    start_logits, end_logits = scores[..., 0], scores[..., 1]\n"
              "    if start_positions is None:\n"
              "        return start_logits, end_logits, None\n"
              "    T = hidden.shape[1]\n"
              "    start = start_positions.clamp(0, T)\n"
              "    ...\n"
              "    loss = (... + ...) / 2"),
          solution="""
          import torch
          import torch.nn.functional as F
          from torch import nn


          class SpanHead(nn.Module):
              def __init__(self, hidden_size):
                  super().__init__()
                  self.weight = nn.Parameter(torch.zeros(2, hidden_size))  # row 0: the start vector S, row 1: E
                  self.bias = nn.Parameter(torch.zeros(2))

              def forward(self, hidden, start_positions=None, end_positions=None):
                  scores = hidden @ self.weight.T + self.bias  # (B, T, 2)
                  start_logits, end_logits = scores[..., 0], scores[..., 1]
                  if start_positions is None or end_positions is None:
                      return start_logits, end_logits, None
                  length = hidden.shape[1]  # an answer outside the sequence is moved to T and ignored
                  start = start_positions.reshape(-1).clamp(0, length)
                  end = end_positions.reshape(-1).clamp(0, length)
                  loss = (F.cross_entropy(start_logits, start, ignore_index=length)
                          + F.cross_entropy(end_logits, end, ignore_index=length)) / 2
                  return start_logits, end_logits, loss


          def answer(hidden_size):
              return SpanHead(hidden_size)
          """,
          wrong=(
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # start and end rows swapped
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      end_logits, start_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      t = hidden.shape[1]
                      loss = (F.cross_entropy(start_logits, start_positions.clamp(0, t), ignore_index=t)
                              + F.cross_entropy(end_logits, end_positions.clamp(0, t), ignore_index=t)) / 2
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # the sum of the two losses, not their mean
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      t = hidden.shape[1]
                      loss = (F.cross_entropy(start_logits, start_positions.clamp(0, t), ignore_index=t)
                              + F.cross_entropy(end_logits, end_positions.clamp(0, t), ignore_index=t))
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # positions outside the sequence are not handled
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      loss = (F.cross_entropy(start_logits, start_positions)
                              + F.cross_entropy(end_logits, end_positions)) / 2
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # an answer cut off is moved to the last token instead of ignored
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      last = hidden.shape[1] - 1
                      loss = (F.cross_entropy(start_logits, start_positions.clamp(0, last))
                              + F.cross_entropy(end_logits, end_positions.clamp(0, last))) / 2
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # the bias is never used
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      t = hidden.shape[1]
                      loss = (F.cross_entropy(start_logits, start_positions.clamp(0, t), ignore_index=t)
                              + F.cross_entropy(end_logits, end_positions.clamp(0, t), ignore_index=t)) / 2
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """,
              """
              import torch
              import torch.nn.functional as F
              from torch import nn


              class SpanHead(nn.Module):  # only the start is trained
                  def __init__(self, hidden_size):
                      super().__init__()
                      self.weight = nn.Parameter(torch.zeros(2, hidden_size))
                      self.bias = nn.Parameter(torch.zeros(2))

                  def forward(self, hidden, start_positions=None, end_positions=None):
                      scores = hidden @ self.weight.T + self.bias
                      start_logits, end_logits = scores[..., 0], scores[..., 1]
                      if start_positions is None:
                          return start_logits, end_logits, None
                      t = hidden.shape[1]
                      loss = F.cross_entropy(start_logits, start_positions.clamp(0, t), ignore_index=t)
                      return start_logits, end_logits, loss


              def answer(hidden_size):
                  return SpanHead(hidden_size)
              """),
          builds=("minibert.training.finetuning.QuestionAnsweringHead",),
          shortcut="""
          from minibert.training.finetuning import QuestionAnsweringHead

          def answer(hidden_size):
              return QuestionAnsweringHead(hidden_size)
          """)
def _(answer):
    import torch

    from minibert.core.swap import swap_in
    from minibert.training.finetuning import BertForQuestionAnswering, QuestionAnsweringHead

    g = torch.Generator().manual_seed(0)
    for hidden_size, batch, length in ((8, 3, 7), (16, 4, 11)):
        reference = QuestionAnsweringHead(hidden_size)
        with torch.no_grad():
            reference.weight.copy_(torch.randn(2, hidden_size, generator=g))
            reference.bias.copy_(torch.randn(2, generator=g))
        head = _build_head(answer, hidden_size)
        head.load_state_dict(reference.state_dict())
        hidden = torch.randn(batch, length, hidden_size, generator=g)
        what = f"for hidden states of shape {(batch, length, hidden_size)}"
        with torch.no_grad():
            start_ref, end_ref, _ = reference(hidden)
            start, end, loss = _head_outputs(head, hidden, what=what)
        if not torch.allclose(start, start_ref, atol=1e-5):
            if torch.allclose(start, end_ref, atol=1e-5):
                raise AssertionError(f"{what}: your start logits are the end logits: row 0 of weight (and bias[0]) "
                                     "scores the start, row 1 the end")
            if torch.allclose(start, start_ref - reference.bias[0], atol=1e-5):
                raise AssertionError(f"{what}: your start logits miss the bias: a linear layer adds it")
            raise AssertionError(f"{what}: your start logits are not S . h_i + b_0 for every token i")
        if not torch.allclose(end, end_ref, atol=1e-5):
            raise AssertionError(f"{what}: your end logits are not E . h_i + b_1 for every token i (E = row 1 of "
                                 "weight)")
        if loss is not None:
            raise AssertionError(f"{what}: without answer positions there is no loss to compute: return None")
        cases = [(torch.arange(batch) % length, (torch.arange(batch) + 2) % length, "inside the sequence")]
        cut = torch.arange(batch) % length
        cut[-1] = length + 3  # an answer cut off by truncation
        cases.append((cut, torch.where(cut > length, torch.tensor(length + 5), (cut + 1) % length),
                      "one answer outside the sequence"))
        for start_positions, end_positions, kind in cases:
            with torch.no_grad():
                _, _, loss_ref = reference(hidden, start_positions, end_positions)
                _, _, loss = _head_outputs(head, hidden, start_positions.clone(), end_positions.clone(),
                                           what=f"{what}, {kind}")
            if loss is None:
                raise AssertionError(f"{what}, {kind}: with answer positions, return the loss")
            try:
                value = float(loss.detach() if hasattr(loss, "detach") else loss)
            except (TypeError, ValueError, RuntimeError):
                raise AssertionError(f"{what}: the loss should be one number (a scalar tensor), got "
                                     f"{tuple(getattr(loss, 'shape', ())) or type(loss).__name__}") from None
            if abs(value - float(loss_ref)) > 1e-5:
                parts = [torch.nn.functional.cross_entropy(logits, p.clamp(0, length), ignore_index=length)
                         for logits, p in ((start_ref, start_positions), (end_ref, end_positions))]
                if abs(value - float(parts[0] + parts[1])) < 1e-5:
                    reason = "that is the sum of the start and end cross-entropies; the loss is their mean"
                elif abs(value - float(parts[0])) < 1e-5 or abs(value - float(parts[1])) < 1e-5:
                    reason = "that is one cross-entropy; the loss is the mean of the start's and the end's"
                elif kind != "inside the sequence":
                    reason = ("a position outside the sequence must not count at all: clamp it to T and give "
                              "the cross-entropy ignore_index=T")
                else:
                    reason = "the loss is the mean of the cross-entropies of the start and of the end positions"
                raise AssertionError(f"{what}, {kind}: your loss is {value:.4f}; {reason}")
    # in a model: the library's QA model with your head swapped in
    from minibert import BertConfig

    config = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=24)
    torch.manual_seed(0)
    model = BertForQuestionAnswering(config).eval()
    with torch.no_grad():
        model.qa_outputs.weight.normal_(0, 0.5, generator=g)
    mine = swap_in(model, QuestionAnsweringHead, lambda old: _build_head(answer, old.in_features))
    ids = torch.randint(5, 60, (3, 10), generator=g)
    positions = (torch.tensor([1, 4, 12]), torch.tensor([2, 6, 13]))
    with torch.no_grad():
        expected, got = model(ids, start_positions=positions[0], end_positions=positions[1]), \
            mine(ids, start_positions=positions[0], end_positions=positions[1])
    if not (torch.allclose(got.start_logits, expected.start_logits, atol=1e-5)
            and abs(float(got.loss) - float(expected.loss)) < 1e-5):
        raise AssertionError("your head gives the right outputs on its own, but not inside BertForQuestionAnswering: "
                             "forward(hidden, start_positions, end_positions) is called with the positions as the "
                             "second and third arguments")

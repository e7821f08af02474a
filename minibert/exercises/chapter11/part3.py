"""Chapter 11: exercises 11.6, 11.7."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part2 import _DIFFERENT, _SAME  # noqa: F401 (shared with part2's exercises)


@exercise("11.6", "predict: does the SBO head see inside the span?", kind="predict",
          hints=("The head reads two hidden states and a position embedding. Ask where those hidden states come "
                 "from, and what each of them could read on its way there.",
                 "Answer 'same' or 'different': after changing the token at a position INSIDE a masked span, in a "
                 "whole SpanBertForPreTraining (encoder + SBO head), are the SBO logits for that span the same?"),
          solution="""
          answer = "different"
          """,
          wrong=('answer = "same"', "answer = 3"))
@_own_rng
def _(answer):
    from minibert import BertConfig
    from minibert.models.spanbert import SpanBertForPreTraining, span_targets

    said = _choice(answer, {"same": _SAME, "different": _DIFFERENT})
    config = BertConfig.tiny(vocab_size=60, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                             max_position_embeddings=32)
    torch.manual_seed(0)
    model = SpanBertForPreTraining(config, max_span_length=8).eval()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # weights far from their small initial values, as after training
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3 + float(name.endswith("norm.weight")))
    ids = torch.randint(5, 60, (1, 16), generator=g)
    changed = ids.clone()
    changed[0, 5] = (ids[0, 5] + 7) % 55 + 5
    spans = [[(4, 7)]]
    with torch.no_grad():
        before = model(ids, spans=spans).sbo_logits
        after = model(changed, spans=spans).sbo_logits
        hidden = model.bert(ids).last_hidden_state
        targets = span_targets(spans, 1, 16, 8)
        noisy = hidden.clone()
        noisy[0, 4:7] = torch.randn(3, 32, generator=g)
        head_alone = float((model.sbo(hidden, targets, model.bert.embeddings.token.weight)
                            - model.sbo(noisy, targets, model.bert.embeddings.token.weight)).abs().max())
    moved = float((after - before).abs().max())
    story = (f"Measured on a tiny random SpanBERT, span (4, 7), token 5 changed: the SBO logits moved by up to "
             f"{moved:.2f} in the whole model; under the head alone, changing the hidden states inside the span moves "
             f"them {'not at all' if head_alone == 0 else f'by {head_alone:.2f}'}. The head reads the two boundary states, but those come out of "
             f"the encoder, whose self-attention reads every token, the span's too. In pre-training the span is "
             f"all [MASK], so the boundaries must carry what the span held from the rest of the text.")
    if said == "same":
        raise AssertionError(f"the logits change. {story}")
    print(f"Right: {story}")


# -- 11.7 ---------------------------------------------------------------------------------------------------------
def _sbo_variants(head, hidden, targets, weight) -> dict[str, torch.Tensor]:
    """What typical slips compute, to name the slip (never shown to the learner as values)."""
    row, position, left, right = targets.unbind(1)
    relative = head.position((position - left - 1).clamp(max=head.max_span_length - 1))
    shifted = head.position((position - left).clamp(max=head.max_span_length - 1))

    def ffn(h0, act=F.gelu, norms=True):
        h1 = act(head.layer1(h0))
        h1 = head.norm1(h1) if norms else h1
        y = act(head.layer2(h1))
        return head.norm2(y) if norms else y

    both = (hidden[row, left], hidden[row, right])
    inside = (hidden[row, (left + 1)], hidden[row, (right - 1)])
    return {
        "swapped": F.linear(ffn(torch.cat([both[1], both[0], relative], -1)), weight, head.bias),
        "inside": F.linear(ffn(torch.cat([*inside, relative], -1)), weight, head.bias),
        "shifted": F.linear(ffn(torch.cat([*both, shifted], -1)), weight, head.bias),
        "relu": F.linear(ffn(torch.cat([*both, relative], -1), act=F.relu), weight, head.bias),
        "tanh": F.linear(ffn(torch.cat([*both, relative], -1), act=lambda x: F.gelu(x, approximate="tanh")),
                         weight, head.bias),
        "no norms": F.linear(ffn(torch.cat([*both, relative], -1), norms=False), weight, head.bias),
        "no bias": F.linear(ffn(torch.cat([*both, relative], -1)), weight),
    }


_SBO_SLIPS = {
    "swapped": "the left boundary comes first in the concatenation, then the right one, then the position",
    "inside": "the boundaries are the tokens just OUTSIDE the span (targets already give their positions)",
    "shifted": "the relative position of the span's first token is 1, stored in row 0 of head.position",
    "relu": "the activation is GeLU, not ReLU",
    "tanh": "the activation is the exact GeLU (F.gelu), not its tanh approximation",
    "no norms": "each layer is LayerNorm(GeLU(linear(...))): the two LayerNorms are missing",
    "no bias": "the scores are y @ embedding_weight.T plus head.bias",
}


@exercise("11.7", "the span boundary head", kind="build",
          builds=("minibert.models.spanbert.SpanBoundaryHead", "minibert.models.spanbert.SpanBoundaryHead.forward",
                  "minibert.models.spanbert.SpanBoundaryHead.represent"),
          shortcut="""
          def answer(head, hidden, targets, embedding_weight):
              return head(hidden, targets, embedding_weight)
          """,
          hints=("Each row of targets names one span token and its two boundaries. Gather the two boundary states, "
                 "add the embedding of the token's place inside the span, and pass the three through two layers "
                 "of GeLU then LayerNorm; score the result against every token embedding, as an MLM head does.",
                 "row, position, left, right = targets.unbind(1) (each (n,)); hidden[row, left] is (n, H). "
                 "head.position(position - left - 1) is (n, H) (row 0 = the first token of a span). "
                 "torch.cat([...], dim=-1) gives (n, 3H); head.layer1 maps 3H -> H, head.layer2 H -> E; F.gelu; "
                 "head.norm1, head.norm2. Logits: y @ embedding_weight.T + head.bias, (n, V).",
                 "row, position, left, right = targets.unbind(1)\n"
                 "h0 = torch.cat([hidden[row, left], hidden[row, right], head.position(...)], dim=-1)\n"
                 "h1 = head.norm1(F.gelu(head.layer1(h0)))\n"
                 "y = ...\nreturn y @ embedding_weight.T + head.bias"),
          solution="""
          import torch
          import torch.nn.functional as F

          def answer(head, hidden, targets, embedding_weight):
              row, position, left, right = targets.unbind(1)            # each (n,)
              boundaries = [hidden[row, left], hidden[row, right]]      # two (n, H)
              inside = head.position(position - left - 1)               # (n, H): row 0 = first token of the span
              h0 = torch.cat([*boundaries, inside], dim=-1)             # (n, 3H)
              h1 = head.norm1(F.gelu(head.layer1(h0)))                  # (n, H)
              y = head.norm2(F.gelu(head.layer2(h1)))                   # (n, E)
              return y @ embedding_weight.T + head.bias                 # (n, V)
          """,
          wrong=("""
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, right], hidden[row, left], head.position(position - left - 1)], -1)
                     y = head.norm2(F.gelu(head.layer2(head.norm1(F.gelu(head.layer1(h0))))))
                     return y @ embedding_weight.T + head.bias
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, left], hidden[row, right], head.position(position - left - 1)], -1)
                     y = head.norm2(F.relu(head.layer2(head.norm1(F.relu(head.layer1(h0))))))
                     return y @ embedding_weight.T + head.bias
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, left], hidden[row, right], head.position(position - left)], -1)
                     y = head.norm2(F.gelu(head.layer2(head.norm1(F.gelu(head.layer1(h0))))))
                     return y @ embedding_weight.T + head.bias
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, left], hidden[row, right], head.position(position - left - 1)], -1)
                     y = head.norm2(F.gelu(head.layer2(head.norm1(F.gelu(head.layer1(h0))))))
                     return y @ embedding_weight.T
                 """,
                 """
                 import torch
                 import torch.nn.functional as F

                 def answer(head, hidden, targets, embedding_weight):
                     row, position, left, right = targets.unbind(1)
                     h0 = torch.cat([hidden[row, left + 1], hidden[row, right - 1],
                                     head.position(position - left - 1)], -1)
                     y = head.norm2(F.gelu(head.layer2(head.norm1(F.gelu(head.layer1(h0))))))
                     return y @ embedding_weight.T + head.bias
                 """))
@_own_rng
def _(answer):
    from minibert import BertConfig
    from minibert.models.spanbert import SpanBoundaryHead, span_targets

    g = torch.Generator().manual_seed(3)
    for sizes, max_span, spans, length in (
            (dict(hidden_size=16), 8, [[(1, 4), (6, 7)], [(3, 10)], [(9, 11)]], 12),
            (dict(hidden_size=24, embedding_size=8), 6, [[(2, 8)], [(1, 2), (4, 6), (10, 13)]], 14)):
        config = BertConfig.tiny(vocab_size=40, num_attention_heads=2, **sizes)
        head = SpanBoundaryHead(config, max_span_length=max_span).eval()
        with torch.no_grad():
            for p in head.parameters():  # far from the initial values, so that every parameter shows
                p.copy_(torch.randn(p.shape, generator=g) * 0.5 + (1.0 if p.dim() == 1 and p.shape[0] != 40 else 0))
        hidden = torch.randn(len(spans), length, config.hidden_size, generator=g)
        weight = torch.randn(40, config.embedding_width, generator=g)
        targets = span_targets(spans, len(spans), length, max_span)
        with torch.no_grad():
            expected = head(hidden, targets, weight)
            got = _call(answer, head, hidden.clone(), targets.clone(), weight.clone())
            got = _tensor(got, "the logits")
            assert tuple(got.shape) == tuple(expected.shape), (
                f"return one row of {config.vocab_size} scores per span token: shape {tuple(expected.shape)}, got "
                f"{tuple(got.shape)}")
            got = got.to(expected.dtype)
            if not torch.allclose(got, expected, atol=1e-4, rtol=1e-4):
                for slip, value in _sbo_variants(head, hidden, targets, weight).items():
                    if torch.allclose(got, value, atol=1e-4, rtol=1e-4):
                        raise AssertionError(f"not the head's logits: {_SBO_SLIPS[slip]}")
                raise AssertionError("not the head's logits: check the order [left boundary; right boundary; "
                                     "position embedding], GeLU then LayerNorm in each layer, and the tied "
                                     "scores plus the bias")

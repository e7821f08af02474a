"""Chapter 14: exercises 14.1, 14.2, 14.3, 14.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


@exercise("14.1", "T5 span corruption", kind="build",
          builds=("minibert.models.family.noise.span_corrupt", "minibert.models.family.noise.t5_span_corruption",
                  "minibert.models.family.noise.spans_of"),
          shortcut="""
          from minibert.models.family.noise import span_corrupt

          def answer(tokens, noise_mask, sentinels):
              return span_corrupt(tokens, noise_mask, sentinels)
          """,
          hints=("Walk through the tokens once. A run of consecutive noise tokens is ONE span: where a span starts, "
                 "both sequences get the next unused sentinel; then noise tokens go to the target and kept tokens "
                 "to the input.",
                 "tokens: a list (strings or ids); noise_mask: a list of bools (or 0/1, or a NumPy array) of the "
                 "same length; sentinels: the sentinel tokens in order. Return (inputs, targets), two lists. A span "
                 "starts at i when noise_mask[i] is true and i == 0 or noise_mask[i - 1] is false. No noise at all: "
                 "inputs = tokens, targets = [].",
                 "inputs, targets, k, previous = [], [], 0, False\n"
                 "for token, noisy in zip(tokens, noise_mask):\n"
                 "    if noisy and not previous:   # a new span\n        ...  # the next sentinel into both, k += 1\n"
                 "    ...  # the token itself: into targets if noisy, else into inputs\n"
                 "    previous = noisy\nreturn inputs, targets"),
          solution="""
          def answer(tokens, noise_mask, sentinels):
              inputs, targets, k, previous = [], [], 0, False
              for token, noisy in zip(tokens, noise_mask):
                  noisy = bool(noisy)
                  if noisy and not previous:  # a new span starts: one sentinel in each sequence
                      inputs.append(sentinels[k])
                      targets.append(sentinels[k])
                      k += 1
                  if noisy:
                      targets.append(token)
                  else:
                      inputs.append(token)
                  previous = noisy
              return inputs, targets
          """,
          wrong=("""
                 def answer(tokens, noise_mask, sentinels):
                     inputs, targets, k = [], [], 0
                     for token, noisy in zip(tokens, noise_mask):
                         if noisy:  # a sentinel per corrupted token instead of per span
                             inputs.append(sentinels[k])
                             targets += [sentinels[k], token]
                             k += 1
                         else:
                             inputs.append(token)
                     return inputs, targets
                 """,
                 """
                 def answer(tokens, noise_mask, sentinels):
                     inputs, targets, previous = [], [], False
                     for token, noisy in zip(tokens, noise_mask):
                         if noisy and not previous:  # the same sentinel for every span
                             inputs.append(sentinels[0])
                             targets.append(sentinels[0])
                         (targets if noisy else inputs).append(token)
                         previous = noisy
                     return inputs, targets
                 """,
                 """
                 def answer(tokens, noise_mask, sentinels):
                     inputs, targets, k, previous = [], [], 0, False
                     for token, noisy in zip(tokens, noise_mask):
                         if noisy and not previous:
                             inputs.append(sentinels[k])
                             k += 1
                         (targets if noisy else inputs).append(token)
                         previous = noisy
                     return inputs, targets
                 """,
                 """
                 def answer(tokens, noise_mask, sentinels):
                     inputs, targets, k = [], [], 0
                     for i in range(1, len(tokens)):  # starts at the second token
                         if noise_mask[i] and not noise_mask[i - 1]:
                             inputs.append(sentinels[k])
                             targets.append(sentinels[k])
                             k += 1
                         (targets if noise_mask[i] else inputs).append(tokens[i])
                     return [tokens[0]] + inputs, targets
                 """))
@_own_rng
def _(answer):
    from minibert.models.family.noise import span_corrupt

    tokens = "Thank you for inviting me to your party last week .".split()
    cases = [("the paper's example", tokens, [t in ("for", "inviting", "last") for t in tokens]),
             ("no noise at all", tokens, [False] * len(tokens)),
             ("a span at the very start", tokens, [i < 2 for i in range(len(tokens))]),
             ("a span at the very end", tokens, [i >= 9 for i in range(len(tokens))]),
             ("two spans one kept token apart", tokens, [i in (2, 3, 5) for i in range(len(tokens))]),
             ("one long span", tokens, [0 < i < 10 for i in range(len(tokens))])]
    g = torch.Generator().manual_seed(0)
    for case in range(20):
        n = int(torch.randint(2, 30, (1,), generator=g))
        ids = torch.randint(0, 9, (n,), generator=g).tolist()
        mask = (torch.rand(n, generator=g) < 0.4).tolist()
        given = mask if case % 3 == 0 else (np.array(mask) if case % 3 == 1 else [int(m) for m in mask])
        cases.append((f"ids {ids} with mask {[int(m) for m in mask]}", ids, given))
    for where, words, mask in cases:
        expected = span_corrupt(words, [bool(m) for m in mask], _SENTINELS)
        inputs, targets = _pair(_call(answer, list(words), mask, list(_SENTINELS)), where)
        spans = sum(s in _SENTINELS for s in expected[0])
        used = [t for t in targets if isinstance(t, str) and t in _SENTINELS]
        if len(used) > spans:
            raise AssertionError(f"{where}: {len(used)} sentinels in your target for {spans} span(s); a whole run "
                                 f"of consecutive noise tokens shares ONE sentinel")
        if used and len(set(used)) < len(used):
            raise AssertionError(f"{where}: a sentinel appears twice in your target; each span takes the next one, "
                                 f"<extra_id_0>, <extra_id_1>, ...")
        assert _same_tokens(inputs, expected[0]), (
            f"{where}: your input is {' '.join(map(str, inputs))!r}; each span is replaced by one sentinel and every "
            f"kept token stays, in order")
        assert _same_tokens(targets, expected[1]), (
            f"{where}: your target is {' '.join(map(str, targets))!r}; it lists each span's sentinel followed by "
            f"the tokens it hides")


# -- 14.2 ---------------------------------------------------------------------------------------------------------
@exercise("14.2", "top-k filtering", kind="compute",
          hints=("Keep a token when its score is at least the k-th best score of its row; every other score becomes "
                 "minus infinity, which a softmax turns into probability 0.",
                 "logits.topk(k, dim=-1).values[..., -1:] is the k-th largest score of each row, shaped (batch, 1) "
                 "to broadcast; logits.masked_fill(condition, float('-inf')) returns the filtered copy.",
                 "kth = logits.topk(k, dim=-1).values[..., -1:]\nreturn logits.masked_fill(logits < kth, ...)"),
          solution="""
          import torch

          def answer(logits, k):
              kth = logits.topk(k, dim=-1).values[..., -1:]
              return logits.masked_fill(logits < kth, float("-inf"))
          """,
          wrong=("""
                 import torch

                 def answer(logits, k):
                     kth = logits.topk(k, dim=-1).values[..., -1:]
                     return logits.masked_fill(logits < kth, 0.0)
                 """,
                 """
                 import torch

                 def answer(logits, k):
                     kth = logits.topk(k, dim=-1).values[..., -1:]
                     return logits.masked_fill(logits <= kth, float("-inf"))
                 """,
                 """
                 import torch

                 def answer(logits, k):
                     kth = logits.topk(k, dim=-1, largest=False).values[..., -1:]
                     return logits.masked_fill(logits > kth, float("-inf"))
                 """,
                 """
                 import torch

                 def answer(logits, k):
                     kth = logits.topk(k, dim=-1).values[:, -1:]
                     return logits.masked_fill(logits < kth, float("-inf")).softmax(-1)
                 """))
@_own_rng
def _(answer):
    g = torch.Generator().manual_seed(0)
    cases = [(torch.randn(3, 50, generator=g), k) for k in (1, 5, 50)]
    cases.append((torch.randn(1, 7, generator=g, dtype=torch.float64), 3))
    cases.append((torch.tensor([[1.0, 2.0, 2.0, 3.0, 0.5]]), 2))  # a tie at the k-th score
    for logits, k in cases:
        got = _tensor(_call(answer, logits.clone(), k), "the filtered scores")
        assert tuple(got.shape) == tuple(logits.shape), f"return a tensor shaped {tuple(logits.shape)}"
        got = got.to(logits.dtype)
        kth = logits.topk(k, dim=-1).values[..., -1:]
        probabilities = got.softmax(-1)
        keep = logits >= kth
        strictly_better = logits > kth
        if bool((probabilities[~keep] > 0).any()):
            raise AssertionError(f"with k={k}, tokens outside the k best keep a probability above 0 after a softmax: "
                                 f"their score must become -inf")
        if bool((probabilities[strictly_better] == 0).any()) or bool((probabilities[keep] == 0).all()):
            raise AssertionError(f"with k={k} the best tokens must keep their scores")
        kept = got[probabilities > 0]
        assert torch.allclose(kept, logits[probabilities > 0]), "the kept scores must not change (only the others)"
        counts = (probabilities > 0).sum(-1)
        ties = keep.sum(-1)
        assert bool(((counts >= k) & (counts <= ties)).all()), (
            f"with k={k} your filter keeps {counts.tolist()} token(s) per row; keep the k best (tokens tied with the "
            f"k-th score may stay too)")


# -- 14.3 ---------------------------------------------------------------------------------------------------------
@exercise("14.3", "XLM's translation LM positions", kind="compute",
          hints=("The two halves are aligned by restarting the positions: each half counts from 0, separators "
                 "included.",
                 "Each half is `</s> sentence </s>`, so n + 2 tokens with positions 0..n + 1; return one list: the "
                 "source half's positions, then the target half's (list(range(...)) twice)."),
          solution="""
          def answer(n_source, n_target):
              return list(range(n_source + 2)) + list(range(n_target + 2))
          """,
          wrong=("""
                 def answer(n_source, n_target):
                     return list(range(n_source + n_target + 4))
                 """,
                 """
                 def answer(n_source, n_target):
                     return list(range(n_source)) + list(range(n_target))
                 """,
                 """
                 def answer(n_source, n_target):
                     return list(range(1, n_source + 3)) + list(range(1, n_target + 3))
                 """))
@_own_rng
def _(answer):
    from minibert.models.family.xlm import translation_lm_input

    for n, m in ((4, 4), (1, 6), (9, 2), (1, 1)):
        expected = translation_lm_input(["x"] * n, ["y"] * m, 0, 1).position_ids.tolist()
        result = _call(answer, n, m)
        try:
            got = [_integer(p, "each position") for p in result]
        except TypeError:
            raise AssertionError("return a list of position ids") from None
        assert len(got) == n + m + 4, (f"for {n} + {m} words the input has {n + m + 4} tokens (4 separators: </s> "
                                       f"before and after each sentence), got {len(got)}")
        assert got[: n + 2] == expected[: n + 2], f"for ({n}, {m}): the source half counts 0, 1, 2, ... from its </s>"
        assert got == expected, f"for ({n}, {m}): the positions restart at 0 where the second half begins"


# -- 14.4 ---------------------------------------------------------------------------------------------------------
@exercise("14.4", "how many sentinels does T5 need?", kind="compute",
          hints=("One sentinel per span: count the noise tokens first, then how many spans of the mean length they "
                 "make. Both counts are rounded.",
                 "noise = round(0.15 * 512); spans = round(noise / 3). Python's round()."),
          solution="""
          answer = round(round(0.15 * 512) / 3)
          """,
          wrong=("answer = round(0.15 * 512)", "answer = int(0.15 * 512) // 3", "answer = 100"))
@_own_rng
def _(answer):
    from minibert.models.family.noise import spans_of, t5_noise_mask

    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    got = _integer(answer, "the number of sentinels")
    needed = len(spans_of(t5_noise_mask(512)))
    if got == 100:
        raise AssertionError("100 is how many sentinels T5's vocabulary HAS; how many does one 512-token input use?")
    if got == round(0.15 * 512):
        raise AssertionError(f"{got} is the number of noise tokens; spans of mean length 3 each take one sentinel")
    assert got == needed, (f"{got} is not it: 512 tokens at 15% give {round(0.15 * 512)} noise tokens; how many "
                           f"spans of mean length 3 is that (rounded)?")
    assert math.isclose(needed, 26)


# -- 14.5 ---------------------------------------------------------------------------------------------------------
def _tiny_causal_lm(seed: int = 0, vocab: int = 24, scale: float = 0.25):
    from minibert import BertConfig
    from minibert.models.family.causal_lm import CausalLM

    torch.manual_seed(seed)
    model = CausalLM(BertConfig(vocab_size=vocab, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=32, max_position_embeddings=32, type_vocab_size=0))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # weights far from their initial values: peaked, varied next-token distributions
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale + float(name.endswith("norm.weight")))
    return model.eval()


def _next_distribution(model, ids, temperature, top_k) -> torch.Tensor:
    with torch.no_grad():
        logits = model(ids).logits[:, -1].double() / temperature
    if top_k is not None:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return logits.softmax(-1)

"""Exercises of chapter 14 (the family: GPT, T5, BART, XLM).

14.1 builds T5's span corruption from a noise mask; 14.2-14.4 are short computations; 14.5 builds sampled
generation (temperature, top-k) for a causal LM, run on the chapter's tiny GPT; 14.6 predicts what temperature does
to the variety of samples.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import exercise
from ._checks_11_14 import own_rng as _own_rng
from ._checks_11_14 import call as _call, choice as _choice, integer as _integer, tensor as _tensor


# -- 14.1 ---------------------------------------------------------------------------------------------------------
_SENTINELS = [f"<extra_id_{k}>" for k in range(100)]


def _pair(result, where: str) -> tuple[list, list]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(f"{where}: return a pair (inputs, targets)")
    try:
        return [t for t in result[0]], [t for t in result[1]]
    except TypeError:
        raise AssertionError(f"{where}: inputs and targets are lists of tokens") from None


def _same_tokens(got: list, expected: list) -> bool:
    if len(got) != len(expected):
        return False
    for a, b in zip(got, expected):
        a = a.item() if isinstance(a, (torch.Tensor, np.generic)) else a
        if a != b:
            return False
    return True


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


@exercise("14.5", "sampling from a causal LM", kind="build",
          builds=("minibert.models.family.causal_lm.CausalLM.generate",),
          shortcut="""
          def answer(model, prompt, max_new_tokens, temperature=1.0, top_k=None, generator=None):
              return model.generate(prompt, max_new_tokens, do_sample=True, temperature=temperature, top_k=top_k,
                                    generator=generator)
          """,
          hints=("One token at a time: run the model on the text so far, take the scores of the NEXT token (the last "
                 "position), divide them by the temperature, keep only the top-k if asked, turn them into "
                 "probabilities, draw one token per row with the generator you are given, append it, and repeat.",
                 "prompt: (batch, T) long. model(ids).logits is (batch, T, vocab); [:, -1] gives (batch, vocab). "
                 "Top-k as in exercise 14.2. probabilities = logits.softmax(-1); torch.multinomial(probabilities, "
                 "1, generator=generator) draws a (batch, 1) tensor; torch.cat([ids, token], dim=1). Run under "
                 "torch.no_grad(). Return (batch, T + max_new_tokens).",
                 "ids = prompt\nwith torch.no_grad():\n    for _ in range(max_new_tokens):\n"
                 "        logits = model(ids).logits[:, -1] / temperature\n        if top_k is not None:\n"
                 "            ...  # -inf below the k-th best score\n"
                 "        token = torch.multinomial(logits.softmax(-1), 1, generator=generator)\n"
                 "        ids = ...\nreturn ids"),
          solution="""
          import torch

          def answer(model, prompt, max_new_tokens, temperature=1.0, top_k=None, generator=None):
              ids = prompt
              with torch.no_grad():
                  for _ in range(max_new_tokens):
                      logits = model(ids).logits[:, -1] / temperature           # (batch, vocab): the next token
                      if top_k is not None:
                          kth = logits.topk(top_k, dim=-1).values[:, -1:]       # (batch, 1)
                          logits = logits.masked_fill(logits < kth, float("-inf"))
                      probabilities = logits.softmax(-1)
                      token = torch.multinomial(probabilities, 1, generator=generator)  # (batch, 1)
                      ids = torch.cat([ids, token], dim=1)                      # feed it back
              return ids
          """,
          wrong=("""
                 import torch

                 def answer(model, prompt, max_new_tokens, temperature=1.0, top_k=None, generator=None):
                     ids = prompt
                     with torch.no_grad():
                         for _ in range(max_new_tokens):
                             token = model(ids).logits[:, -1].argmax(-1, keepdim=True)
                             ids = torch.cat([ids, token], dim=1)
                     return ids
                 """,
                 """
                 import torch

                 def answer(model, prompt, max_new_tokens, temperature=1.0, top_k=None, generator=None):
                     ids = prompt
                     with torch.no_grad():
                         for _ in range(max_new_tokens):
                             logits = model(ids).logits[:, -1] * temperature
                             if top_k is not None:
                                 kth = logits.topk(top_k, dim=-1).values[:, -1:]
                                 logits = logits.masked_fill(logits < kth, float("-inf"))
                             token = torch.multinomial(logits.softmax(-1), 1, generator=generator)
                             ids = torch.cat([ids, token], dim=1)
                     return ids
                 """,
                 """
                 import torch

                 def answer(model, prompt, max_new_tokens, temperature=1.0, top_k=None, generator=None):
                     ids = prompt
                     with torch.no_grad():
                         for _ in range(max_new_tokens):
                             logits = model(ids).logits[:, -1] / temperature
                             token = torch.multinomial(logits.softmax(-1), 1, generator=generator)
                             ids = torch.cat([ids, token], dim=1)
                     return ids
                 """,
                 """
                 import torch

                 def answer(model, prompt, max_new_tokens, temperature=1.0, top_k=None, generator=None):
                     with torch.no_grad():
                         logits = model(prompt).logits[:, -1] / temperature  # computed once, never fed back
                         if top_k is not None:
                             kth = logits.topk(top_k, dim=-1).values[:, -1:]
                             logits = logits.masked_fill(logits < kth, float("-inf"))
                         tokens = [torch.multinomial(logits.softmax(-1), 1, generator=generator)
                                   for _ in range(max_new_tokens)]
                     return torch.cat([prompt, *tokens], dim=1)
                 """,
                 """
                 import torch

                 def answer(model, prompt, max_new_tokens, temperature=1.0, top_k=None, generator=None):
                     ids = prompt
                     with torch.no_grad():
                         for _ in range(max_new_tokens):
                             logits = model(ids).logits[:, -1] / temperature
                             if top_k is not None:
                                 kth = logits.topk(top_k, dim=-1).values[:, -1:]
                                 logits = logits.masked_fill(logits < kth, float("-inf"))
                             token = torch.multinomial(logits.softmax(-1), 1)  # torch's global generator
                             ids = torch.cat([ids, token], dim=1)
                     return ids
                 """,
                 """
                 import torch

                 def answer(model, prompt, max_new_tokens, temperature=1.0, top_k=None, generator=None):
                     ids = prompt
                     with torch.no_grad():
                         for _ in range(max_new_tokens):
                             logits = model(ids).logits[:, -1]
                             if top_k is not None:
                                 kth = logits.topk(top_k, dim=-1).values[:, -1:]
                                 logits = logits.masked_fill(logits < kth, float("-inf"))
                             token = torch.multinomial(logits.softmax(-1), 1, generator=generator)
                             ids = torch.cat([ids, token], dim=1)
                     return ids
                 """))
@_own_rng
def _(answer):
    model = _tiny_causal_lm()
    g = torch.Generator().manual_seed(1)

    def sample(prompt, n, temperature, top_k, seed):
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        out = _call(answer, model, prompt.clone(), n, temperature=temperature, top_k=top_k, generator=generator)
        out = _tensor(out, "the generated ids")
        expected_shape = (prompt.shape[0], prompt.shape[1] + n)
        assert tuple(out.shape) == expected_shape, (
            f"a prompt of shape {tuple(prompt.shape)} plus {n} new tokens gives {expected_shape}, got "
            f"{tuple(out.shape)}")
        assert not out.is_floating_point(), "return token ids (integers)"
        assert torch.equal(out[:, : prompt.shape[1]].long(), prompt), "the result starts with the prompt, unchanged"
        return out.long()

    # top_k = 1 leaves one token: the text must be greedy decoding, fed back step after step
    prompt = torch.randint(0, 24, (3, 4), generator=g)
    greedy = model.generate(prompt, 6)
    for temperature in (1.0, 0.7):
        if not torch.equal(sample(prompt, 6, temperature, 1, 0), greedy):
            raise AssertionError("with top_k=1 only the most likely token is left, so the text must equal greedy "
                                 "decoding; it does not. Each step reads the model's scores for the text so far, "
                                 "the tokens you drew included")
    # every drawn token is among the k best for the text before it
    prompt = torch.randint(0, 24, (48, 3), generator=g)
    out = sample(prompt, 4, 1.5, 3, 2)
    for step in range(4):
        with torch.no_grad():
            logits = model(out[:, : 3 + step]).logits[:, -1]
        kth = logits.topk(3, dim=-1).values[:, -1]
        chosen = logits.gather(1, out[:, 3 + step, None])[:, 0]
        if bool((chosen < kth).any()):
            raise AssertionError(f"with top_k=3, new token {step + 1} of some rows is not among the 3 most likely "
                                 f"for the text before it" + (": draw each token from the model's scores for the "
                                                              "text so far, your earlier tokens included"
                                                              if step else ""))
    # the same seed, the same text; no seed works too
    again = sample(prompt, 4, 1.5, 3, 2)
    assert torch.equal(out, again), ("two runs with generators seeded alike gave different texts: draw with the "
                                     "`generator` you are given")
    sample(prompt[:2], 2, 1.0, None, None)
    # the distribution of one draw, over 20,000 rows of the same prompt
    one = torch.randint(0, 24, (1, 4), generator=g)
    rows = one.expand(20000, -1).contiguous()
    for temperature, top_k in ((0.5, None), (1.5, None), (1.0, 5)):
        drawn = sample(rows, 1, temperature, top_k, 3)[:, -1]
        share = torch.bincount(drawn, minlength=24).double() / len(drawn)
        expected = _next_distribution(model, one, temperature, top_k)[0]
        distance = 0.5 * float((share - expected).abs().sum())
        if distance > 0.03:
            variants = {
                "the temperature is not applied": _next_distribution(model, one, 1.0, top_k)[0],
                "the scores are multiplied by the temperature instead of divided": _next_distribution(
                    model, one, 1 / temperature, top_k)[0],
                "top-k is not applied": _next_distribution(model, one, temperature, None)[0],
            }
            greedy_share = torch.zeros(24, dtype=torch.float64)
            greedy_share[int(expected.argmax())] = 1.0
            variants["it always takes the most likely token instead of drawing"] = greedy_share
            closest = min(variants, key=lambda v: float((share - variants[v]).abs().sum()))
            raise AssertionError(
                f"temperature {temperature}, top_k={top_k}: over 20,000 draws your tokens are spread differently "
                f"from softmax(scores / temperature) (total variation {distance:.2f}); it looks as if {closest}")


# -- 14.6 ---------------------------------------------------------------------------------------------------------
@exercise("14.6", "predict: temperature and variety", kind="predict",
          hints=("Dividing the scores by a temperature above 1 shrinks the gaps between them before the softmax; "
                 "below 1 it stretches them.",
                 "Answer 'fewer', 'same' or 'more': sampling 16 texts of 20 tokens from the same prompt, does "
                 "temperature 1.5 give fewer, the same number of, or more DISTINCT tokens than temperature 0.5?"),
          solution="""
          answer = "more"
          """,
          wrong=('answer = "fewer"', 'answer = "same"', "answer = 1.5"))
@_own_rng
def _(answer):
    said = _choice(answer, {"fewer": ("less", "lower", "smaller"), "same": ("equal", "the same", "no change"),
                            "more": ("higher", "larger", "greater", "bigger")})
    model = _tiny_causal_lm(seed=5, vocab=40, scale=0.5)
    prompt = torch.tensor([[3, 14, 15, 9]]).expand(16, -1)
    distinct = {}
    for temperature in (0.5, 1.5):
        out = model.generate(prompt, 20, do_sample=True, temperature=temperature,
                             generator=torch.Generator().manual_seed(0))
        distinct[temperature] = len(set(out[:, 4:].flatten().tolist()))
    truth = "more" if distinct[1.5] > distinct[0.5] else ("fewer" if distinct[1.5] < distinct[0.5] else "same")
    story = (f"Measured on a tiny random GPT (vocabulary of 40), 16 samples of 20 tokens: {distinct[0.5]} distinct "
             f"tokens at temperature 0.5, {distinct[1.5]} at 1.5. A high temperature flattens softmax(z / T), so "
             f"unlikely tokens get drawn more often; a low one sharpens it towards greedy decoding, the same few "
             f"tokens again and again.")
    if said != truth:
        raise AssertionError(f"the run says {truth!r}, not {said!r}. {story}")
    print(f"Right: {story}")

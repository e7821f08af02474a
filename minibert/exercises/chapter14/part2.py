"""Chapter 14: exercises 14.5, 14.6, 14.7."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _next_distribution, _tiny_causal_lm  # noqa: F401 (shared with part1's exercises)


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


# -- 14.7 ---------------------------------------------------------------------------------------------------------
@exercise("14.7", "the decoder's two attention masks", kind="build",
          builds=("minibert.models.t5.blocks.decoder_masks",),
          shortcut="""
          from minibert.models.t5.blocks import decoder_masks

          def answer(decoder_mask, encoder_mask):
              return decoder_masks(decoder_mask, encoder_mask)
          """,
          hints=("Self-attention in the decoder: query i may read key j when j is not in the future (j <= i) AND j "
                 "is a real token. Cross-attention: every decoder position may read every real encoder token, "
                 "never the encoder's padding; the future plays no part there.",
                 "decoder_mask (B, T) and encoder_mask (B, S), 0/1. torch.ones(T, T).tril() is the causal part; "
                 "mask[:, None, :] puts a padding mask on the KEY axis. Return booleans: (B, T, T) and (B, T, S).",
                 "causal = torch.ones(T, T, dtype=torch.bool).tril()\n"
                 "self_allowed = causal[None] & ...      # keys that are real\n"
                 "cross_allowed = ...                    # (B, T, S): the encoder's real tokens, for every query\n"
                 "return self_allowed, cross_allowed"),
          solution="""
          import torch

          def answer(decoder_mask, encoder_mask):
              length = decoder_mask.shape[1]
              causal = torch.ones(length, length, dtype=torch.bool).tril()     # key j <= query i
              self_allowed = causal[None] & decoder_mask.bool()[:, None, :]   # and key j is real
              cross_allowed = encoder_mask.bool()[:, None, :].expand(-1, length, -1)
              return self_allowed, cross_allowed
          """,
          wrong=("""
                 import torch

                 def answer(decoder_mask, encoder_mask):
                     length = decoder_mask.shape[1]
                     self_allowed = decoder_mask.bool()[:, None, :].expand(-1, length, -1)  # no causal part
                     return self_allowed, encoder_mask.bool()[:, None, :].expand(-1, length, -1)
                 """,
                 """
                 import torch

                 def answer(decoder_mask, encoder_mask):
                     length, source = decoder_mask.shape[1], encoder_mask.shape[1]
                     causal = torch.ones(length, length, dtype=torch.bool).tril()
                     self_allowed = causal[None] & decoder_mask.bool()[:, None, :]
                     cross = torch.ones(length, source, dtype=torch.bool).tril()  # a causal cross-attention
                     return self_allowed, cross[None] & encoder_mask.bool()[:, None, :]
                 """,
                 """
                 import torch

                 def answer(decoder_mask, encoder_mask):
                     length, source = decoder_mask.shape[1], encoder_mask.shape[1]
                     causal = torch.ones(length, length, dtype=torch.bool).tril()
                     self_allowed = causal[None] & decoder_mask.bool()[:, :, None]  # padding on the query axis
                     return self_allowed, encoder_mask.bool()[:, None, :].expand(-1, length, -1)
                 """))
@_own_rng
def _(answer):
    from minibert.models.t5.blocks import decoder_masks

    g = torch.Generator().manual_seed(0)
    cases = [("no padding", torch.ones(2, 4, dtype=torch.long), torch.ones(2, 6, dtype=torch.long))]
    for case in range(6):
        batch, length, source = (int(torch.randint(low, high, (1,), generator=g)) for low, high in ((1, 4), (1, 7),
                                                                                                   (1, 9)))
        lengths = torch.randint(1, length + 1, (batch,), generator=g)
        sources = torch.randint(1, source + 1, (batch,), generator=g)
        cases.append((f"decoder lengths {lengths.tolist()} of {length}, encoder {sources.tolist()} of {source}",
                      (torch.arange(length)[None] < lengths[:, None]).long(),
                      (torch.arange(source)[None] < sources[:, None]).long()))
    for where, decoder_mask, encoder_mask in cases:
        expected = decoder_masks(decoder_mask, encoder_mask)
        got = _call(answer, decoder_mask.clone(), encoder_mask.clone())
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise AssertionError(f"{where}: return a pair (self-attention mask, cross-attention mask)")
        for name, mask, truth in zip(("self-attention", "cross-attention"), got, expected):
            mask = _tensor(mask, f"the {name} mask")
            if tuple(mask.shape) != tuple(truth.shape):
                raise AssertionError(f"{where}: the {name} mask has shape {tuple(mask.shape)}, expected "
                                     f"{tuple(truth.shape)} (batch, queries, keys)")
            mask = mask.bool() if mask.dtype != torch.bool else mask
            if torch.equal(mask, truth):
                continue
            if name == "self-attention" and bool((mask & ~truth).any()):
                q, k = [int(i) for i in (mask & ~truth).nonzero()[0][1:]]
                why = "a future token" if k > q else "a padding token"
                raise AssertionError(f"{where}: in self-attention, query {q} may read key {k}, {why}")
            if name == "cross-attention" and bool((truth & ~mask).any()):
                raise AssertionError(f"{where}: cross-attention hides real encoder tokens from some decoder "
                                     "positions; the decoder may read the whole (real) input at every step")
            raise AssertionError(f"{where}: the {name} mask hides keys it should show, or shows padding keys")

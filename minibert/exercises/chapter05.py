"""Exercises of chapter 05 (masked language modelling): a whole-word 80/10/10 masker built from scratch, the shares
of each treatment, BERT's prediction budget, word ids from WordPiece tokens, and the mean span length.

05.1 (section 4) is the build exercise: the chapter then masks real inputs with the learner's function, compares the
statistics with the library's ``Masker(unit="word")`` and feeds the batches to a pre-trained BERT's masked-LM loss.
"""
from __future__ import annotations

import math
import numbers

from . import exercise

# A small vocabulary for the masker's checks: 0 [PAD], 1 [UNK], 2 [CLS], 3 [SEP], 4 [MASK], ordinary ids 5..59.
PAD, UNK, CLS, SEP, MASK, VOCAB = 0, 1, 2, 3, 4, 60
SPECIAL = {PAD, UNK, CLS, SEP, MASK}


def _as_float(value, what: str) -> float:
    """A Python, numpy or torch real number as a float; anything else is the learner's mistake, said plainly."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise AssertionError(f"{what} should be one number, got an array of shape "
                                 f"{tuple(getattr(value, 'shape', ()))}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be a number, got {type(value).__name__}")
    return float(value)


def _as_int(value, what: str) -> int:
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "item") and not isinstance(value, int):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise AssertionError(f"{what} should be one integer, got an array") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise AssertionError(f"{what} should be an integer (a count of tokens), got {value!r}")
    return int(value)


# -- 05.1 -----------------------------------------------------------------------------------------------------------

def _sequence(word_lengths, special_word=False, pads=2, seed=0):
    """``[CLS] words... [SEP] [PAD]...`` with word ids; ``special_word`` puts an [UNK] (a special id that the
    tokenizer still counts as a word) in the middle."""
    import torch

    g = torch.Generator().manual_seed(seed)
    ids, words = [CLS], [None]
    for w, length in enumerate(word_lengths):
        if special_word and w == len(word_lengths) // 2:
            ids.append(UNK)
            words.append(w)
            continue
        ids += torch.randint(5, VOCAB, (length,), generator=g).tolist()
        words += [w] * length
    ids += [SEP] + [PAD] * pads
    words += [None] * (1 + pads)
    return torch.tensor(ids), words


def _groups(ids, words):
    """word id -> its maskable positions (the checker's view of the words)."""
    groups = {}
    for t, (token, w) in enumerate(zip(ids.tolist(), words)):
        if w is not None and token not in SPECIAL:
            groups.setdefault(w, []).append(t)
    return groups


def _run_masker(answer, ids, words, seed):
    import torch

    out = answer(ids.clone(), list(words), set(SPECIAL), MASK, VOCAB, torch.Generator().manual_seed(seed))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return two tensors (inputs, labels), got {type(out).__name__}")
    result = []
    for name, tensor in zip(("inputs", "labels"), out):
        try:
            tensor = torch.as_tensor(tensor.detach() if hasattr(tensor, "detach") else tensor)
        except (TypeError, ValueError, RuntimeError):
            raise AssertionError(f"{name} should be a tensor of token ids, got {type(tensor).__name__}") from None
        if tensor.is_floating_point() or tuple(tensor.shape) != tuple(ids.shape):
            raise AssertionError(f"{name} should be an integer tensor of shape {tuple(ids.shape)} (one id per "
                                 f"token), got dtype {tensor.dtype}, shape {tuple(tensor.shape)}")
        result.append(tensor.long())
    return result


def _check_one(ids, words, inputs, labels, what):
    """Everything a single masked sequence must satisfy; returns the picked positions."""
    picked = (labels != -100).nonzero().flatten().tolist()
    for t in picked:
        if int(labels[t]) != int(ids[t]):
            raise AssertionError(f"{what}: the label at a picked position must be the ORIGINAL token id (the "
                                 "model predicts what was there), -100 elsewhere")
    for t in range(len(ids)):
        if t not in picked and int(inputs[t]) != int(ids[t]):
            raise AssertionError(f"{what}: you changed a token that has no label (position {t}); only picked "
                                 "tokens are replaced")
    for t in picked:
        if int(ids[t]) in SPECIAL or words[t] is None:
            kind = "padding" if int(ids[t]) == PAD else "a special token"
            raise AssertionError(f"{what}: you picked position {t}, {kind} (id {int(ids[t])}); special tokens and "
                                 "padding are never picked: a token is maskable only if its id is not in "
                                 "special_ids and it belongs to a word")
    groups = _groups(ids, words)
    chosen = set(picked)
    for w, positions in groups.items():
        inside = [t in chosen for t in positions]
        if any(inside) and not all(inside):
            raise AssertionError(f"{what}: word {w} (positions {positions}) is only partly picked; whole-word "
                                 "masking picks all the pieces of a word or none")
    n = sum(len(p) for p in groups.values())
    budget = max(1, round(0.15 * n))
    if len(picked) > budget:
        raise AssertionError(f"{what}: {n} maskable tokens, and you picked {len(picked)}; that is over BERT's "
                             "budget max(1, round(0.15 n)) (a word that would overflow the budget is skipped)")
    room = budget - len(picked)
    unpicked = [w for w, positions in groups.items() if positions[0] not in chosen and len(positions) <= room]
    if unpicked:
        if all(len(p) == 1 for p in groups.values()):
            raise AssertionError(f"{what}: {n} maskable single-piece words and you picked {len(picked)}: the budget "
                                 "is max(1, round(0.15 n)) with Python's round (not int(), not math.ceil)")
        raise AssertionError(f"{what}: you picked {len(picked)} tokens and stopped, but word {unpicked[0]} would "
                             "still fit in the budget: skip a word that would overflow and keep trying the others")
    for t in picked:
        shown = int(inputs[t])
        if shown not in (MASK, int(ids[t])) and (shown in SPECIAL or not 0 <= shown < VOCAB):
            raise AssertionError(f"{what}: a random replacement is id {shown}: draw it from the ordinary tokens "
                                 "(0 <= id < vocab_size and not in special_ids); a random [CLS] or [PAD] teaches "
                                 "nothing")
    return picked


@exercise("05.1", "whole-word masking with 80/10/10", kind="build",
          hints=(
              "Three steps. Find the words: a token counts only if its id is not special and it has a word id; "
              "group the positions by word id. Pick words in a random order until the budget of round(15% of the "
              "maskable tokens) is full, skipping a word that would overflow it. Then, token by token, show "
              "[MASK] 80% of the time, a random ordinary token 10%, the token itself 10%; the label is the "
              "original token at every picked position.",
              "Inputs: `ids` (T,) LongTensor, `word_ids` a list of T ints or None, `special_ids` a set, `mask_id`, "
              "`vocab_size`, `generator`. Draw EVERY random number from `generator`: "
              "`torch.randperm(n_words, generator=generator)`, `torch.rand((), generator=generator)`, "
              "`torch.randint(k, (), generator=generator)`. budget = `max(1, round(0.15 * n))`. Return "
              "`(inputs, labels)`, two (T,) LongTensors, labels -100 where nothing is predicted.",
              "words = {}\n"
              "for t, (token, w) in enumerate(zip(ids.tolist(), word_ids)):\n"
              "    if w is not None and token not in special_ids:\n"
              "        words.setdefault(w, []).append(t)\n"
              "groups = list(words.values())\n"
              "budget = max(1, round(0.15 * sum(map(len, groups))))\n"
              "picked = []\n"
              "for g in torch.randperm(len(groups), generator=generator).tolist():\n"
              "    ...   # take groups[g] if it fits; stop when the budget is full\n"
              "inputs, labels = ids.clone(), torch.full_like(ids, -100)\n"
              "for t in picked:\n"
              "    ...   # label, then [MASK] / random ordinary id / unchanged"),
          solution="""
          import torch

          def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):
              words = {}  # word id -> its maskable positions
              for t, (token, w) in enumerate(zip(ids.tolist(), word_ids)):
                  if w is not None and token not in special_ids:
                      words.setdefault(w, []).append(t)
              groups = list(words.values())
              budget = max(1, round(0.15 * sum(len(g) for g in groups)))
              picked = []
              for g in torch.randperm(len(groups), generator=generator).tolist():
                  if len(picked) + len(groups[g]) <= budget:  # a word that would overflow is skipped
                      picked += groups[g]
                  if len(picked) == budget:
                      break
              ordinary = torch.ones(vocab_size, dtype=torch.bool)
              ordinary[list(special_ids)] = False
              ordinary = ordinary.nonzero().flatten()  # random replacements: never a special token
              inputs, labels = ids.clone(), torch.full_like(ids, -100)
              for t in sorted(picked):
                  labels[t] = ids[t]
                  u = float(torch.rand((), generator=generator))
                  if u < 0.8:
                      inputs[t] = mask_id
                  elif u < 0.9:
                      inputs[t] = ordinary[torch.randint(len(ordinary), (), generator=generator)]
              return inputs, labels
          """,
          wrong=(
              """
              import torch

              def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):  # tokens, not words
                  maskable = [t for t, token in enumerate(ids.tolist()) if token not in special_ids]
                  budget = max(1, round(0.15 * len(maskable)))
                  order = torch.randperm(len(maskable), generator=generator).tolist()
                  inputs, labels = ids.clone(), torch.full_like(ids, -100)
                  for k in order[:budget]:
                      t = maskable[k]
                      labels[t] = ids[t]
                      u = float(torch.rand((), generator=generator))
                      if u < 0.8:
                          inputs[t] = mask_id
                      elif u < 0.9:
                          inputs[t] = int(torch.randint(5, vocab_size, (), generator=generator))
                  return inputs, labels
              """,
              """
              import torch

              def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):  # int() instead of round()
                  words = {}
                  for t, (token, w) in enumerate(zip(ids.tolist(), word_ids)):
                      if w is not None and token not in special_ids:
                          words.setdefault(w, []).append(t)
                  groups = list(words.values())
                  budget = max(1, int(0.15 * sum(len(g) for g in groups)))
                  picked = []
                  for g in torch.randperm(len(groups), generator=generator).tolist():
                      if len(picked) + len(groups[g]) <= budget:
                          picked += groups[g]
                  inputs, labels = ids.clone(), torch.full_like(ids, -100)
                  for t in picked:
                      labels[t] = ids[t]
                      u = float(torch.rand((), generator=generator))
                      if u < 0.8:
                          inputs[t] = mask_id
                      elif u < 0.9:
                          inputs[t] = int(torch.randint(5, vocab_size, (), generator=generator))
                  return inputs, labels
              """,
              """
              import torch

              def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):  # trusts word ids only
                  words = {}
                  for t, w in enumerate(word_ids):
                      if w is not None:
                          words.setdefault(w, []).append(t)
                  groups = list(words.values())
                  budget = max(1, round(0.15 * sum(len(g) for g in groups)))
                  picked = []
                  for g in torch.randperm(len(groups), generator=generator).tolist():
                      if len(picked) + len(groups[g]) <= budget:
                          picked += groups[g]
                  inputs, labels = ids.clone(), torch.full_like(ids, -100)
                  for t in picked:
                      labels[t] = ids[t]
                      u = float(torch.rand((), generator=generator))
                      if u < 0.8:
                          inputs[t] = mask_id
                      elif u < 0.9:
                          inputs[t] = int(torch.randint(5, vocab_size, (), generator=generator))
                  return inputs, labels
              """,
              """
              import torch

              def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):  # always [MASK]
                  words = {}
                  for t, (token, w) in enumerate(zip(ids.tolist(), word_ids)):
                      if w is not None and token not in special_ids:
                          words.setdefault(w, []).append(t)
                  groups = list(words.values())
                  budget = max(1, round(0.15 * sum(len(g) for g in groups)))
                  picked = []
                  for g in torch.randperm(len(groups), generator=generator).tolist():
                      if len(picked) + len(groups[g]) <= budget:
                          picked += groups[g]
                  inputs, labels = ids.clone(), torch.full_like(ids, -100)
                  for t in picked:
                      labels[t] = ids[t]
                      inputs[t] = mask_id
                  return inputs, labels
              """,
              """
              import torch

              def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):  # random ids may be special
                  words = {}
                  for t, (token, w) in enumerate(zip(ids.tolist(), word_ids)):
                      if w is not None and token not in special_ids:
                          words.setdefault(w, []).append(t)
                  groups = list(words.values())
                  budget = max(1, round(0.15 * sum(len(g) for g in groups)))
                  picked = []
                  for g in torch.randperm(len(groups), generator=generator).tolist():
                      if len(picked) + len(groups[g]) <= budget:
                          picked += groups[g]
                  inputs, labels = ids.clone(), torch.full_like(ids, -100)
                  for t in picked:
                      labels[t] = ids[t]
                      u = float(torch.rand((), generator=generator))
                      if u < 0.8:
                          inputs[t] = mask_id
                      elif u < 0.9:
                          inputs[t] = int(torch.randint(vocab_size, (), generator=generator))
                  return inputs, labels
              """,
              """
              import torch

              def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):  # the global random stream
                  words = {}
                  for t, (token, w) in enumerate(zip(ids.tolist(), word_ids)):
                      if w is not None and token not in special_ids:
                          words.setdefault(w, []).append(t)
                  groups = list(words.values())
                  budget = max(1, round(0.15 * sum(len(g) for g in groups)))
                  picked = []
                  for g in torch.randperm(len(groups)).tolist():
                      if len(picked) + len(groups[g]) <= budget:
                          picked += groups[g]
                  inputs, labels = ids.clone(), torch.full_like(ids, -100)
                  for t in picked:
                      labels[t] = ids[t]
                      u = float(torch.rand(()))
                      if u < 0.8:
                          inputs[t] = mask_id
                      elif u < 0.9:
                          inputs[t] = int(torch.randint(5, vocab_size, ()))
                  return inputs, labels
              """,
              """
              import torch

              def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):  # stops at the first misfit
                  words = {}
                  for t, (token, w) in enumerate(zip(ids.tolist(), word_ids)):
                      if w is not None and token not in special_ids:
                          words.setdefault(w, []).append(t)
                  groups = list(words.values())
                  budget = max(1, round(0.15 * sum(len(g) for g in groups)))
                  picked = []
                  for g in torch.randperm(len(groups), generator=generator).tolist():
                      if len(picked) + len(groups[g]) > budget:
                          break
                      picked += groups[g]
                  inputs, labels = ids.clone(), torch.full_like(ids, -100)
                  for t in picked:
                      labels[t] = ids[t]
                      u = float(torch.rand((), generator=generator))
                      if u < 0.8:
                          inputs[t] = mask_id
                      elif u < 0.9:
                          inputs[t] = int(torch.randint(5, vocab_size, (), generator=generator))
                  return inputs, labels
              """,
              """
              import torch

              def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):  # always the first words
                  words = {}
                  for t, (token, w) in enumerate(zip(ids.tolist(), word_ids)):
                      if w is not None and token not in special_ids:
                          words.setdefault(w, []).append(t)
                  groups = list(words.values())
                  budget = max(1, round(0.15 * sum(len(g) for g in groups)))
                  picked = []
                  for group in groups:
                      if len(picked) + len(group) <= budget:
                          picked += group
                  inputs, labels = ids.clone(), torch.full_like(ids, -100)
                  for t in picked:
                      labels[t] = ids[t]
                      u = float(torch.rand((), generator=generator))
                      if u < 0.8:
                          inputs[t] = mask_id
                      elif u < 0.9:
                          inputs[t] = int(torch.randint(5, vocab_size, (), generator=generator))
                  return inputs, labels
              """),
          builds=("minibert.masking.Masker", "minibert.masking.mlm._word_groups"),
          shortcut="""
          from minibert.masking import Masker

          def answer(ids, word_ids, special_ids, mask_id, vocab_size, generator):
              masker = Masker(mask_id, vocab_size, special_ids, unit="word")
              batch = masker(ids, generator, word_ids=word_ids)
              return batch.input_ids, batch.labels
          """)
def _(answer):
    # single-piece words: the budget is met exactly, so these test the rounding (floor and ceil both fail one)
    for n in (3, 12, 13, 17, 22, 40):
        ids, words = _sequence([1] * n, seed=n)
        inputs, labels = _run_masker(answer, ids, words, seed=n)
        _check_one(ids, words, inputs, labels, f"with {n} one-piece words")
    # words of several pieces, a special token that belongs to a word ([UNK]), padding
    structure = ([1, 3, 1, 2, 1, 1, 4, 1, 2, 1, 1, 3, 1, 1, 2, 1, 1, 1], True)
    for seed in range(40):
        ids, words = _sequence(*structure, seed=seed)
        inputs, labels = _run_masker(answer, ids, words, seed)
        _check_one(ids, words, inputs, labels, "on a sequence of words of 1 to 4 pieces")
    again = _run_masker(answer, ids, words, 39)
    if not (again[0].equal(inputs) and again[1].equal(labels)):
        raise AssertionError("two calls with generators seeded alike gave different masks: draw every random "
                             "number from `generator` (torch.randperm(..., generator=generator), torch.rand(..., "
                             "generator=generator)), so that masks can be reproduced")
    # statistics over many seeds: every word gets its chance, and 80 / 10 / 10
    ids, words = _sequence([1] * 40, seed=1)
    counts = {"mask": 0, "random": 0, "same": 0}
    per_position = [0] * len(ids)
    runs = 300
    for seed in range(runs):
        inputs, labels = _run_masker(answer, ids, words, 1000 + seed)
        for t in _check_one(ids, words, inputs, labels, "with 40 one-piece words"):
            per_position[t] += 1
            shown = int(inputs[t])
            counts["mask" if shown == MASK else "same" if shown == int(ids[t]) else "random"] += 1
    total = sum(counts.values())
    expected_each = total / 40
    rare = [t for t, w in enumerate(words) if w is not None and not 0.4 * expected_each <= per_position[t] <= 1.6 * expected_each]
    if rare:
        raise AssertionError(f"over {runs} seeds some words are picked far more or far less often than others "
                             f"(position {rare[0]}: {per_position[rare[0]]} times out of {total} picks over 40 "
                             "words): visit the words in a random order drawn from the generator")
    for name, target, slack in (("mask", 0.8, 0.04), ("random", 0.1, 0.03), ("same", 0.1, 0.03)):
        share = counts[name] / total
        if abs(share - target) > slack:
            label = {"mask": "shown as [MASK]", "random": "replaced by a random token", "same": "left unchanged"}
            raise AssertionError(
                f"over {total} picked tokens ({runs} seeds), {share:.1%} were {label[name]}; BERT's recipe is 80% "
                "[MASK], 10% random, 10% unchanged, drawn for each picked token")


# -- 05.2 -----------------------------------------------------------------------------------------------------------

@exercise("05.2", "what the model actually sees", kind="compute",
          hints=(
              "The split says what happens to a PICKED token; the question asks about all tokens. Only a fraction "
              "`rate` of the tokens is picked at all.",
              "Return a tuple of three floats (shown as [MASK], replaced by a random token, unchanged but "
              "predicted), each a fraction of ALL tokens: multiply each entry of `split = (mask, random, same)` by "
              "`rate`."),
          solution="""
          def answer(rate, split):
              mask, random, same = split
              return (rate * mask, rate * random, rate * same)
          """,
          wrong=(
              """
              def answer(rate, split):  # shares of the picked tokens
                  return tuple(split)
              """,
              """
              def answer(rate, split):  # the unchanged tokens are not counted as predicted
                  mask, random, same = split
                  return (rate * mask, rate * random, 0.0)
              """,
              """
              def answer(rate, split):  # what is NOT shown as [MASK] is out of all tokens
                  mask, random, same = split
                  return (rate * mask, random, same)
              """))
def _(answer):
    for rate, split in ((0.15, (0.8, 0.1, 0.1)), (0.4, (0.5, 0.25, 0.25)), (0.1, (1.0, 0.0, 0.0)),
                        (0.3, (0.6, 0.3, 0.1))):
        got = answer(rate, split)
        if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != 3:
            raise AssertionError(f"return three fractions ([MASK], random, unchanged), got {got!r}")
        got = [_as_float(g, "each share") for g in got]
        expected = [rate * s for s in split]
        for name, g, e in zip(("[MASK]", "random", "unchanged"), got, expected):
            if not math.isclose(g, e, abs_tol=1e-9):
                raise AssertionError(
                    f"for rate {rate} and split {split} your {name} share is {g:.4g}: the shares are fractions of "
                    "ALL tokens, and only the picked ones (a fraction `rate`) are split; an unchanged picked token "
                    "is still predicted")


# -- 05.3 -----------------------------------------------------------------------------------------------------------

@exercise("05.3", "BERT's prediction budget", kind="compute",
          hints=(
              "A fixed count per sequence: 15% of the maskable tokens, rounded to the nearest whole token; a short "
              "sequence still gets one prediction, and a cap limits long ones.",
              "`round(rate * n)` (Python's round, as `Masker.budget`), then `max(1, ...)`, then "
              "`min(max_predictions, ...)`; return an int."),
          solution="""
          def answer(n, rate, max_predictions):
              return min(max_predictions, max(1, round(rate * n)))
          """,
          wrong=(
              """
              def answer(n, rate, max_predictions):  # int() cuts 2.55 down to 2
                  return min(max_predictions, max(1, int(rate * n)))
              """,
              """
              import math

              def answer(n, rate, max_predictions):  # rounds 3.3 up to 4
                  return min(max_predictions, max(1, math.ceil(rate * n)))
              """,
              """
              def answer(n, rate, max_predictions):  # a 3-token sentence gets no prediction
                  return min(max_predictions, round(rate * n))
              """,
              """
              def answer(n, rate, max_predictions):  # no cap
                  return max(1, round(rate * n))
              """))
def _(answer):
    from ..masking import Masker

    for n, cap in ((3, 20), (12, 20), (13, 20), (17, 20), (22, 20), (57, 20), (128, 20), (512, 76), (200, 30),
                   (1, 5)):
        got = _as_int(answer(n, 0.15, cap), f"the budget for n={n}")
        expected = Masker(1, 10, {0}, max_predictions=cap).budget(n)
        if got != expected:
            if got > cap:
                reason = "more than max_predictions allows"
            elif got == 0:
                reason = "every sequence gets at least one prediction"
            elif got < expected:
                reason = "rate x n is rounded to the NEAREST whole token (int() cuts the decimals off)"
            else:
                reason = "rate x n is rounded to the nearest whole token, not up"
            raise AssertionError(f"for n={n}, max_predictions={cap} you return {got}: {reason}")


# -- 05.4 -----------------------------------------------------------------------------------------------------------

@exercise("05.4", "word ids from WordPiece tokens", kind="build",
          hints=(
              "Count words as you read the tokens: a token that does not start with '##' starts a new word, a "
              "'##' piece continues the word before it. Special tokens belong to no word.",
              "Return a list as long as `tokens`: an int (0, 1, 2, ...) per token, `None` for '[CLS]', '[SEP]', "
              "'[PAD]' and '[MASK]'. '[UNK]' is a word like any other. A '##' piece right after a special token "
              "has no word to continue, so it starts one.",
              "ids, word, previous_was_word = [], -1, False\n"
              "for token in tokens:\n"
              "    if token in ('[CLS]', '[SEP]', '[PAD]', '[MASK]'):\n"
              "        ...\n"
              "        continue\n"
              "    if not (token.startswith('##') and previous_was_word):\n"
              "        word += 1\n"
              "    ..."),
          solution="""
          def answer(tokens):
              ids, word, previous_was_word = [], -1, False
              for token in tokens:
                  if token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]"):
                      ids.append(None)
                      previous_was_word = False
                      continue
                  if not (token.startswith("##") and previous_was_word):
                      word += 1
                  ids.append(word)
                  previous_was_word = True
              return ids
          """,
          wrong=(
              """
              def answer(tokens):  # every token a word
                  ids, word = [], -1
                  for token in tokens:
                      if token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]"):
                          ids.append(None)
                          continue
                      word += 1
                      ids.append(word)
                  return ids
              """,
              """
              def answer(tokens):  # [MASK] counted as a word
                  ids, word, previous_was_word = [], -1, False
                  for token in tokens:
                      if token in ("[CLS]", "[SEP]", "[PAD]"):
                          ids.append(None)
                          previous_was_word = False
                          continue
                      if not (token.startswith("##") and previous_was_word):
                          word += 1
                      ids.append(word)
                      previous_was_word = True
                  return ids
              """,
              """
              def answer(tokens):  # [UNK] treated as special
                  ids, word, previous_was_word = [], -1, False
                  for token in tokens:
                      if token.startswith("["):
                          ids.append(None)
                          previous_was_word = False
                          continue
                      if not (token.startswith("##") and previous_was_word):
                          word += 1
                      ids.append(word)
                      previous_was_word = True
                  return ids
              """,
              """
              def answer(tokens):  # a '##' piece after [SEP] continues the word before it
                  ids, word = [], -1
                  for token in tokens:
                      if token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]"):
                          ids.append(None)
                          continue
                      if not token.startswith("##"):
                          word += 1
                      ids.append(word)
                  return ids
              """),
          builds=("minibert.masking.wordpiece_word_ids", "minibert.masking.chinese_word_ids"),
          shortcut="""
          from minibert.masking import wordpiece_word_ids

          def answer(tokens):
              return wordpiece_word_ids(tokens)
          """)
def _(answer):
    import random

    from ..masking import wordpiece_word_ids

    cases = [["[CLS]", "token", "##ization", "works", "[SEP]"],
             ["[CLS]", "un", "##believ", "##able", "!", "[SEP]", "[PAD]"],
             ["[CLS]", "a", "b", "##c", "[SEP]", "d", "##e", "[SEP]"],
             ["[CLS]", "the", "[MASK]", "##s", "sat", "[SEP]"],
             ["[CLS]", "[UNK]", "##s", "[UNK]", "x", "[SEP]", "[PAD]", "[PAD]"],
             ["[CLS]", "a", "[SEP]", "##b", "c", "[SEP]"]]
    rng = random.Random(5)
    pool = ["the", "##s", "##ing", "run", "[UNK]", "[MASK]", "[SEP]", "x", "##y", ","]
    cases += [["[CLS]"] + [rng.choice(pool) for _ in range(rng.randint(1, 12))] + ["[SEP]"] for _ in range(30)]
    for tokens in cases:
        got = answer(list(tokens))
        if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != len(tokens):
            raise AssertionError(f"return one entry per token ({len(tokens)} for {tokens}), got {got!r}")
        got = [None if g is None else _as_int(g, "a word id") for g in got]
        expected = wordpiece_word_ids(tokens)
        for k, (g, e) in enumerate(zip(got, expected)):
            if g == e:
                continue
            token = tokens[k]
            if e is None:
                reason = f"{token!r} is a special token: it belongs to no word (None)"
            elif g is None:
                reason = f"{token!r} is a word (only [CLS], [SEP], [PAD] and [MASK] get None)"
            elif token.startswith("##") and k and expected[k - 1] is None:
                reason = f"{token!r} follows a special token: there is no word to continue, so it starts a new one"
            elif token.startswith("##"):
                reason = f"{token!r} continues the word before it"
            else:
                reason = f"{token!r} has no '##', so it starts a new word; words are numbered 0, 1, 2, ... in order"
            raise AssertionError(f"for {tokens} your word id for token {k} is {g}: {reason}")


# -- 05.5 -----------------------------------------------------------------------------------------------------------

@exercise("05.5", "the mean span length", kind="compute",
          hints=(
              "Span lengths follow a geometric distribution cut at max_length: the weights stop there, so they no "
              "longer sum to one and must be renormalised before taking the mean. The untruncated mean 1/p is too "
              "high.",
              "Weights w_k = p (1-p)^(k-1) for k = 1..max_length; return sum(k * w_k) / sum(w_k) as a float."),
          solution="""
          def answer(p, max_length):
              lengths = range(1, max_length + 1)
              weights = [p * (1 - p) ** (k - 1) for k in lengths]
              return sum(k * w for k, w in zip(lengths, weights)) / sum(weights)
          """,
          wrong=(
              """
              def answer(p, max_length):  # the untruncated geometric mean
                  return min(1 / p, max_length)
              """,
              """
              def answer(p, max_length):  # not renormalised
                  return sum(k * p * (1 - p) ** (k - 1) for k in range(1, max_length + 1))
              """,
              """
              def answer(p, max_length):  # lengths from 0
                  weights = [p * (1 - p) ** k for k in range(max_length)]
                  return sum(k * w for k, w in enumerate(weights)) / sum(weights)
              """))
def _(answer):
    import torch

    from ..masking import span_length_distribution

    for p, top in ((0.2, 10), (0.5, 4), (0.1, 30), (0.9, 3), (0.3, 1)):
        probs = span_length_distribution(p, top)
        expected = float((probs * torch.arange(1, top + 1)).sum())
        got = _as_float(answer(p, top), f"the mean for p={p}")
        if not math.isclose(got, expected, rel_tol=1e-6):
            unnormalised = float((torch.arange(1, top + 1) * p * (1 - p) ** torch.arange(top)).sum())
            if math.isclose(got, unnormalised, rel_tol=1e-6):
                hint = "the truncated weights no longer sum to one: divide by their sum"
            elif math.isclose(got, expected - 1, rel_tol=1e-6):
                hint = "span lengths start at 1 word, not 0"
            elif got > expected:
                hint = "the distribution is cut at max_length, which pulls the mean below 1/p"
            else:
                hint = "weights p (1-p)^(k-1) for k = 1..max_length, then their weighted mean"
            raise AssertionError(f"for p={p}, max_length={top} you return {got:.4f}, not the mean of the truncated, "
                                 f"renormalised geometric distribution: {hint}")

"""Chapter 05: exercises 05.1."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


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

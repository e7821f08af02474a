"""Chapter 06: exercises 06.1, 06.2."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


# -- 06.1 -----------------------------------------------------------------------------------------------------------

@exercise("06.1", "warm-up then linear decay", kind="compute",
          hints=(
              "Two straight lines: up from (almost) zero to the peak during the warm-up, then down to zero at the "
              "last step. Steps count from 0, and the first step already moves, so step 0 gets one warm-up share.",
              "`if step < warmup: return peak * (step + 1) / warmup`; otherwise the fraction of the decay done "
              "is `(step - warmup) / (total - warmup)`: return `peak * max(0.0, 1 - that)`."),
          solution="""
          def answer(step, warmup, total, peak):
              if step < warmup:
                  return peak * (step + 1) / warmup
              return peak * max(0.0, 1 - (step - warmup) / (total - warmup))
          """,
          wrong=(
              """
              def answer(step, warmup, total, peak):  # no warm-up
                  return peak * (1 - step / total)
              """,
              """
              def answer(step, warmup, total, peak):  # warm-up from 0: the first step does not move
                  if step < warmup:
                      return peak * step / warmup
                  return peak * max(0.0, 1 - (step - warmup) / (total - warmup))
              """,
              """
              def answer(step, warmup, total, peak):  # decay measured from step 0
                  if step < warmup:
                      return peak * (step + 1) / warmup
                  return peak * max(0.0, 1 - step / total)
              """,
              """
              def answer(step, warmup, total, peak):  # keeps falling below 0 after `total`
                  if step < warmup:
                      return peak * (step + 1) / warmup
                  return peak * (1 - (step - warmup) / (total - warmup))
              """))
def _(answer):
    from minibert.training.schedules import WarmupDecay

    for warmup, total, peak in ((10, 100, 1e-3), (4, 8, 2.0), (30, 300, 5e-4), (0, 20, 1.0), (1, 5, 3.0)):
        schedule = WarmupDecay(warmup, total, "linear")
        steps = sorted({0, warmup // 2, max(warmup - 1, 0), warmup, (warmup + total) // 2, total - 1, total, total + 3})
        for step in steps:
            got = _as_float(answer(step, warmup, total, peak), f"the learning rate at step {step}")
            expected = peak * schedule(step)
            if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12 * peak):
                raise AssertionError(_schedule_diagnosis(step, warmup, total, got, expected))


# -- 06.2 -----------------------------------------------------------------------------------------------------------

def _tiny_model(seed: int = 0):
    import torch

    from minibert import BertConfig, BertForMaskedLM

    torch.manual_seed(seed)
    return BertForMaskedLM(BertConfig.tiny(vocab_size=40, hidden_size=16, num_attention_heads=2, intermediate_size=32,
                                           max_position_embeddings=16, hidden_dropout_prob=0.0,
                                           attention_probs_dropout_prob=0.0))


def _call_optimization(answer, model, config):
    import torch

    out = answer(model, config)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return two things, (optimizer, scheduler), got {type(out).__name__}")
    optimizer, scheduler = out
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise AssertionError(f"the first thing you return should be a torch optimizer, got {type(optimizer).__name__}")
    if not callable(getattr(scheduler, "step", None)):
        raise AssertionError(f"the second thing you return should be a learning-rate scheduler with a step() method "
                             f"(e.g. torch.optim.lr_scheduler.LambdaLR), got {type(scheduler).__name__}")
    return optimizer, scheduler


def _check_groups(model, optimizer, config) -> None:
    import torch

    if type(optimizer).__name__ != "AdamW" or not isinstance(optimizer, torch.optim.AdamW):
        raise AssertionError(f"your optimizer is {type(optimizer).__name__}; BERT's recipe is AdamW, whose weight decay "
                             "shrinks the weights directly (Adam's weight_decay is added to the gradient instead)")
    names = {id(p): n for n, p in model.named_parameters()}
    seen: dict[int, float] = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            if id(p) in seen:
                raise AssertionError(f"{names.get(id(p), 'a parameter')} is in two groups: each parameter belongs to "
                                     "exactly one")
            seen[id(p)] = float(group.get("weight_decay", 0.0))
        betas, eps = tuple(group.get("betas", ())), group.get("eps")
        if betas != tuple(config.adam_betas) or eps != config.adam_eps:
            raise AssertionError(f"a group has betas={betas}, eps={eps}; take them from the config "
                                 f"(config.adam_betas, config.adam_eps), as the Trainer does")
    for name, p in model.named_parameters():
        if id(p) not in seen:
            raise AssertionError(f"{name} is in no group of your optimizer: it would never be trained")
        wanted = 0.0 if p.dim() < 2 else config.weight_decay
        if not math.isclose(seen[id(p)], wanted):
            kind = ("a bias" if name.endswith("bias") else "a LayerNorm weight" if p.dim() < 2 else
                    "a weight matrix" if "embeddings" not in name else "an embedding matrix")
            rule = ("biases and LayerNorm weights get no weight decay" if p.dim() < 2 else
                    "every weight matrix, embeddings included, gets config.weight_decay")
            raise AssertionError(f"{name} ({kind}) is in a group with weight_decay={seen[id(p)]:g}: {rule}")


def _check_rates(answer, config) -> None:
    from minibert.training.schedules import WarmupDecay

    model = _tiny_model()
    optimizer, scheduler = _call_optimization(answer, model, config)
    schedule = WarmupDecay(config.warmup_steps, config.steps)
    for step in range(config.steps + 3):
        rates = {float(group["lr"]) for group in optimizer.param_groups}
        if len(rates) != 1:
            raise AssertionError(f"at step {step} your groups have different learning rates {sorted(rates)}: the "
                                 "schedule moves every group alike")
        got, expected = rates.pop(), config.learning_rate * schedule(step)
        if not math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-12):
            raise AssertionError(_schedule_diagnosis(step, config.warmup_steps, config.steps, got, expected)
                                 + f" (peak {config.learning_rate:g}); call order: optimizer.step() then "
                                 "scheduler.step(), once per step")
        optimizer.step()  # no gradients: nothing moves, but the scheduler sees a step after an optimizer step
        scheduler.step()


@exercise("06.2", "the optimiser of a pre-training run", kind="build",
          hints=(
              "Three parts. Sort the parameters into two groups: weight matrices (embeddings included) are "
              "decayed, biases and LayerNorm weights are not. Give both groups to AdamW with the config's learning "
              "rate, betas and epsilon. Then a scheduler that multiplies the peak rate by your warm-up-then-decay "
              "factor at each step (exercise 06.1 with peak 1).",
              "`model.named_parameters()`; a bias or a LayerNorm weight is a 1-D tensor (`p.dim() < 2`). Groups: "
              "`[{'params': decay, 'weight_decay': config.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]`; "
              "`torch.optim.AdamW(groups, lr=config.learning_rate, betas=config.adam_betas, eps=config.adam_eps)`; "
              "`torch.optim.lr_scheduler.LambdaLR(optimizer, factor)` where `factor(step)` is the multiplier "
              "(warm-up over config.warmup_steps, zero at config.steps). Return `(optimizer, scheduler)`.",
              "decay, no_decay = [], []\n"
              "for name, p in model.named_parameters():\n"
              "    if p.requires_grad:\n"
              "        (no_decay if p.dim() < 2 else decay).append(p)\n"
              "groups = [...]\n"
              "optimizer = torch.optim.AdamW(groups, lr=..., betas=..., eps=...)\n"
              "warmup, total = config.warmup_steps, config.steps\n"
              "def factor(step):\n"
              "    if step < warmup:\n"
              "        return ...\n"
              "    return ...\n"
              "return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)"),
          solution="""
          import torch

          def answer(model, config):
              decay, no_decay = [], []
              for name, p in model.named_parameters():
                  if p.requires_grad:  # biases and LayerNorm weights are 1-D: no weight decay
                      (no_decay if p.dim() < 2 else decay).append(p)
              groups = [{"params": decay, "weight_decay": config.weight_decay},
                        {"params": no_decay, "weight_decay": 0.0}]
              optimizer = torch.optim.AdamW(groups, lr=config.learning_rate, betas=config.adam_betas,
                                            eps=config.adam_eps)
              warmup, total = config.warmup_steps, config.steps

              def factor(step):  # the multiplier of the peak learning rate at optimizer step `step`
                  if step < warmup:
                      return (step + 1) / warmup
                  if total == warmup:
                      return 1.0
                  return max(0.0, 1 - (step - warmup) / (total - warmup))

              return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
          """,
          wrong=(
              """
              import torch

              def answer(model, config):  # one group: everything decayed
                  optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, betas=config.adam_betas,
                                                eps=config.adam_eps, weight_decay=config.weight_decay)
                  warmup, total = config.warmup_steps, config.steps
                  factor = lambda s: (s + 1) / warmup if s < warmup else max(0.0, 1 - (s - warmup) / (total - warmup))
                  return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
              """,
              """
              import torch

              def answer(model, config):  # transformers' parameter names: minibert's LayerNorms are called 'norm'
                  no_decay = ("bias", "LayerNorm.weight")
                  groups = [{"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
                             "weight_decay": config.weight_decay},
                            {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
                             "weight_decay": 0.0}]
                  optimizer = torch.optim.AdamW(groups, lr=config.learning_rate, betas=config.adam_betas,
                                                eps=config.adam_eps)
                  warmup, total = config.warmup_steps, config.steps
                  factor = lambda s: (s + 1) / warmup if s < warmup else max(0.0, 1 - (s - warmup) / (total - warmup))
                  return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
              """,
              """
              import torch

              def answer(model, config):  # Adam: the decay goes through the gradient
                  decay = [p for p in model.parameters() if p.dim() >= 2]
                  no_decay = [p for p in model.parameters() if p.dim() < 2]
                  optimizer = torch.optim.Adam([{"params": decay, "weight_decay": config.weight_decay},
                                                {"params": no_decay, "weight_decay": 0.0}],
                                               lr=config.learning_rate, betas=config.adam_betas, eps=config.adam_eps)
                  warmup, total = config.warmup_steps, config.steps
                  factor = lambda s: (s + 1) / warmup if s < warmup else max(0.0, 1 - (s - warmup) / (total - warmup))
                  return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
              """,
              """
              import torch

              def answer(model, config):  # no warm-up
                  decay = [p for p in model.parameters() if p.dim() >= 2]
                  no_decay = [p for p in model.parameters() if p.dim() < 2]
                  optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                                 {"params": no_decay, "weight_decay": 0.0}],
                                                lr=config.learning_rate, betas=config.adam_betas, eps=config.adam_eps)
                  total = config.steps
                  return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / total))
              """,
              """
              import torch

              def answer(model, config):  # warm-up from 0: the first step does not move
                  decay = [p for p in model.parameters() if p.dim() >= 2]
                  no_decay = [p for p in model.parameters() if p.dim() < 2]
                  optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                                 {"params": no_decay, "weight_decay": 0.0}],
                                                lr=config.learning_rate, betas=config.adam_betas, eps=config.adam_eps)
                  warmup, total = config.warmup_steps, config.steps
                  factor = lambda s: s / warmup if s < warmup else max(0.0, 1 - (s - warmup) / (total - warmup))
                  return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
              """,
              """
              import torch

              def answer(model, config):  # torch's default betas and epsilon, not the config's
                  decay = [p for p in model.parameters() if p.dim() >= 2]
                  no_decay = [p for p in model.parameters() if p.dim() < 2]
                  optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                                 {"params": no_decay, "weight_decay": 0.0}], lr=config.learning_rate)
                  warmup, total = config.warmup_steps, config.steps
                  factor = lambda s: (s + 1) / warmup if s < warmup else max(0.0, 1 - (s - warmup) / (total - warmup))
                  return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
              """),
          builds=("minibert.training.trainer._parameter_groups", "minibert.training.schedules.WarmupDecay",
                  "minibert.training.schedules.warmup_decay_scheduler", "minibert.training.Trainer",
                  "torch.optim.lr_scheduler.LinearLR", "torch.optim.lr_scheduler.SequentialLR",
                  "torch.optim.lr_scheduler.OneCycleLR", "torch.optim.lr_scheduler.PolynomialLR"),
          shortcut="""
          import torch
          from minibert.training.schedules import warmup_decay_scheduler
          from minibert.training.trainer import _parameter_groups

          def answer(model, config):
              optimizer = torch.optim.AdamW(_parameter_groups(model, config.weight_decay), lr=config.learning_rate,
                                            betas=config.adam_betas, eps=config.adam_eps)
              return optimizer, warmup_decay_scheduler(optimizer, config.warmup_steps, config.steps)
          """)
def _(answer):
    import torch

    from minibert.training import TrainingConfig
    from minibert.training.schedules import warmup_decay_scheduler
    from minibert.training.trainer import _parameter_groups

    config = TrainingConfig(steps=12, warmup_steps=4, learning_rate=2e-3, weight_decay=0.05, adam_betas=(0.85, 0.98),
                            adam_eps=1e-7)
    model = _tiny_model()
    optimizer, _ = _call_optimization(answer, model, config)
    _check_groups(model, optimizer, config)
    for steps, warmup in ((12, 4), (6, 0), (9, 1)):
        _check_rates(answer, TrainingConfig(steps=steps, warmup_steps=warmup, learning_rate=2e-3))
    # three real steps: the same weights as the library's optimiser
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 40, (4, 12), generator=g)
    labels = torch.where(torch.rand(ids.shape, generator=g) < 0.3, ids, torch.full_like(ids, -100))
    labels[:, 0] = ids[:, 0]
    weights = []
    for mine in (True, False):
        model = _tiny_model(seed=1)
        if mine:
            optimizer, scheduler = _call_optimization(answer, model, config)
        else:
            optimizer = torch.optim.AdamW(_parameter_groups(model, config.weight_decay), lr=config.learning_rate,
                                          betas=config.adam_betas, eps=config.adam_eps)
            scheduler = warmup_decay_scheduler(optimizer, config.warmup_steps, config.steps)
        for _ in range(3):
            model(ids, labels=labels).loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    if not torch.allclose(weights[0], weights[1], rtol=1e-5, atol=1e-7):
        raise AssertionError("your groups and learning rates look right, but after three real steps the weights "
                             "differ from BERT's recipe: use AdamW with the config's learning rate, betas and eps")

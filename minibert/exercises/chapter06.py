"""Exercises of chapter 06 (pre-training)."""
import math

from . import exercise


@exercise("06.1", "warm-up then linear decay",
          hints="if step < warmup: peak * (step + 1) / warmup; else peak * (1 - (step - warmup) / (total - warmup)).",
          solution="""
          def answer(step, warmup, total, peak):
              if step < warmup:
                  return peak * (step + 1) / warmup
              return peak * max(0.0, 1 - (step - warmup) / (total - warmup))
          """,
          wrong="""
          def answer(step, warmup, total, peak):
              return peak * (1 - step / total)
          """)
def _(answer):
    from minibert.training.schedules import WarmupDecay

    for warmup, total, peak in ((10, 100, 1e-3), (4, 8, 2.0), (30, 300, 5e-4)):
        schedule = WarmupDecay(warmup, total, "linear")
        for step in (0, warmup // 2, warmup - 1, warmup, (warmup + total) // 2, total - 1, total):
            got, expected = float(answer(step, warmup, total, peak)), peak * schedule(step)
            assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12), (
                f"warmup={warmup}, total={total}, peak={peak}: at step {step} you give {got:.3g}, expected {expected:.3g}")


@exercise("06.2", "a label-smoothed target",
          hints="every class gets alpha / K; the true class gets 1 - alpha on top of that.",
          solution="""
          def answer(target, num_classes, alpha):
              return [alpha / num_classes + (1 - alpha if k == target else 0.0) for k in range(num_classes)]
          """,
          wrong="""
          def answer(target, num_classes, alpha):
              return [1 - alpha if k == target else alpha / (num_classes - 1) for k in range(num_classes)]
          """)
def _(answer):
    import torch
    import torch.nn.functional as F

    for target, classes, alpha in ((0, 4, 0.1), (2, 5, 0.3), (1, 2, 0.0)):
        got = torch.tensor([float(x) for x in answer(target, classes, alpha)], dtype=torch.float64)
        assert got.shape == (classes,), f"return {classes} probabilities, got {len(got)}"
        logits = torch.randn(1, classes, dtype=torch.float64, generator=torch.Generator().manual_seed(classes))
        expected = float(F.cross_entropy(logits, torch.tensor([target]), label_smoothing=alpha))
        mine = float(-(got * logits.log_softmax(-1)[0]).sum())
        assert abs(mine - expected) < 1e-9, (
            f"for target {target}, {classes} classes, alpha {alpha} your distribution {got.tolist()} gives a loss "
            f"of {mine:.4f}; PyTorch's label smoothing gives {expected:.4f}")


@exercise("06.3", "the loss of an accumulated batch",
          hints="weight each micro-batch's mean by its number of masked tokens: sum(l * n) / sum(n).",
          solution="""
          def answer(mean_losses, counts):
              return sum(l * n for l, n in zip(mean_losses, counts)) / sum(counts)
          """,
          wrong="""
          def answer(mean_losses, counts):
              return sum(mean_losses) / len(mean_losses)
          """)
def _(answer):
    for losses, counts in (([2.0, 4.0], [10, 30]), ([1.5], [7]), ([3.0, 1.0, 2.0], [5, 5, 90])):
        expected = sum(l * n for l, n in zip(losses, counts)) / sum(counts)
        got = float(answer(losses, counts))
        assert math.isclose(got, expected, rel_tol=1e-9), (
            f"losses {losses} over {counts} masked tokens: you give {got:.4f}, one big batch gives {expected:.4f}")

"""Chapter 06: exercises 06.3, 06.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


# -- 06.3 -----------------------------------------------------------------------------------------------------------

@exercise("06.3", "a label-smoothed target", kind="compute",
          hints=(
              "Label smoothing takes some probability away from the true class and spreads it evenly. Which "
              "classes share it in PyTorch: only the wrong ones, or all of them, the true one included? (Section 3 "
              "says.) The result must still sum to 1.",
              "Return a list of `num_classes` floats: `alpha / num_classes` everywhere, plus `1 - alpha` on "
              "index `target`. It sums to 1."),
          solution="""
          def answer(target, num_classes, alpha):
              return [alpha / num_classes + (1 - alpha if k == target else 0.0) for k in range(num_classes)]
          """,
          wrong=(
              """
              def answer(target, num_classes, alpha):  # alpha spread over the K - 1 other classes
                  return [1 - alpha if k == target else alpha / (num_classes - 1) for k in range(num_classes)]
              """,
              """
              def answer(target, num_classes, alpha):  # the true class loses alpha but gets no share of it back
                  return [1 - alpha if k == target else alpha / num_classes for k in range(num_classes)]
              """,
              """
              def answer(target, num_classes, alpha):  # no smoothing
                  return [1.0 if k == target else 0.0 for k in range(num_classes)]
              """))
def _(answer):
    import numpy as np

    for target, classes, alpha in ((0, 4, 0.1), (2, 5, 0.3), (1, 2, 0.0), (3, 7, 0.2)):
        got = answer(target, classes, alpha)
        try:
            got = np.asarray(got.detach() if hasattr(got, "detach") else got, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise AssertionError(f"return {classes} probabilities (a list of floats), got {type(got).__name__}") from None
        if got.shape != (classes,):
            raise AssertionError(f"return {classes} probabilities, one per class, got {got.size}")
        expected = np.full(classes, alpha / classes)
        expected[target] += 1 - alpha
        if not np.allclose(got, expected, atol=1e-9):
            where = f"target {target}, {classes} classes, alpha {alpha}"
            if not math.isclose(got.sum(), 1.0, abs_tol=1e-9):
                raise AssertionError(f"{where}: your probabilities sum to {got.sum():.4f}; a distribution sums to 1")
            others = np.delete(got, target)
            if not np.allclose(others, alpha / classes):
                raise AssertionError(f"{where}: your other classes get {others[0]:.4f} each; PyTorch spreads alpha "
                                     "over ALL K classes, the true one included")
            raise AssertionError(f"{where}: your true class gets {got[target]:.4f}; it keeps 1 - alpha AND its own "
                                 "share of alpha")


# -- 06.4 -----------------------------------------------------------------------------------------------------------

@exercise("06.4", "the loss of an accumulated batch", kind="compute",
          hints=(
              "A micro-batch's mean loss is an average over its own masked tokens. One big batch averages over all "
              "masked tokens, so a micro-batch with more of them must weigh more.",
              "Return one float: the sum over micro-batches of (mean loss x its number of masked tokens), divided "
              "by the total number of masked tokens."),
          solution="""
          def answer(mean_losses, counts):
              return sum(l * n for l, n in zip(mean_losses, counts)) / sum(counts)
          """,
          wrong=(
              """
              def answer(mean_losses, counts):  # every micro-batch weighs the same
                  return sum(mean_losses) / len(mean_losses)
              """,
              """
              def answer(mean_losses, counts):  # the sum of the losses of the masked tokens, not their mean
                  return sum(l * n for l, n in zip(mean_losses, counts))
              """,
              """
              def answer(mean_losses, counts):  # weighted, then divided by the number of micro-batches
                  return sum(l * n for l, n in zip(mean_losses, counts)) / sum(counts) / len(counts)
              """))
def _(answer):
    import numpy as np

    for losses, counts in (([2.0, 4.0], [10, 30]), ([1.5], [7]), ([3.0, 1.0, 2.0], [5, 5, 90]),
                           (list(np.float32([2.5, 3.5])), list(np.int64([3, 1])))):
        got = _as_float(answer(list(losses), list(counts)), "the loss")
        expected = sum(float(l) * int(n) for l, n in zip(losses, counts)) / sum(int(n) for n in counts)
        if not math.isclose(got, expected, rel_tol=1e-6):
            plain = sum(float(l) for l in losses) / len(losses)
            reason = ("that is the plain mean of the micro-batch means: a micro-batch with more masked tokens "
                      "weighs more" if math.isclose(got, plain, rel_tol=1e-6) else
                      "weigh each mean by its number of masked tokens, then divide by the total number")
            raise AssertionError(f"losses {[float(l) for l in losses]} over {[int(n) for n in counts]} masked "
                                 f"tokens: you give {got:.4f}; {reason}")

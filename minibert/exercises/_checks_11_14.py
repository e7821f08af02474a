"""Small helpers the checks of chapters 11-14 share: calling the learner's function, reading numbers, tensors and
one-word predictions of any reasonable type, and turning a wrong type into a diagnosis (an ``AssertionError``)
rather than a failure of the check itself."""
from __future__ import annotations

import numbers
import traceback

import numpy as np
import torch

from .watch import is_learner_code

__all__ = ["call", "number", "integer", "tensor", "choice", "own_rng"]


def call(answer, *args, **kwargs):
    """Call the learner's function; a TypeError raised at the call itself (wrong parameters) is a diagnosis."""
    try:
        return answer(*args, **kwargs)
    except TypeError as err:
        frames = traceback.walk_tb(err.__traceback__.tb_next) if err.__traceback__ else ()
        if any(is_learner_code(frame.f_code.co_filename) for frame, _ in frames):
            raise
        raise AssertionError(f"your answer could not be called the way the skeleton defines it ({err}); keep the "
                             f"skeleton's parameters") from None


def number(value, what: str = "a number") -> float:
    """A Python, NumPy or 0-d torch number as float; anything else is a diagnosis."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"expected {what}, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"expected {what}, got {type(value).__name__}")
    return float(value)


def integer(value, what: str) -> int:
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        return int(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise AssertionError(f"{what} must be a whole number, got {value!r} ({type(value).__name__})")
    return int(value)


def tensor(value, what: str) -> torch.Tensor:
    """A torch tensor from a tensor, a NumPy array or nested lists."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        return torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"{what} must be a tensor (or a NumPy array), got {type(value).__name__}") from None


def choice(answer, options: dict[str, tuple[str, ...]]) -> str:
    """The option a free-text prediction names (case and spaces ignored)."""
    if not isinstance(answer, str):
        raise AssertionError(f"answer with one of the words {' / '.join(repr(o) for o in options)}, as a string")
    said = answer.strip().lower().strip(".!")
    for option, words in options.items():
        if said == option or said in words:
            return option
    raise AssertionError(f"{answer!r} is not one of the expected words: answer {' / '.join(repr(o) for o in options)}")


def own_rng(checker):
    """Run ``checker`` with torch's global random state saved and restored: building a model or calling the
    learner's code must not change the random numbers the notebook's later cells draw."""
    import functools

    @functools.wraps(checker)
    def checked(answer):
        with torch.random.fork_rng(devices=[]):
            return checker(answer)

    return checked

"""The one way settings and arguments are checked: integers where integers go, finite numbers in their range, one of
the allowed choices. A bool is refused where a number is expected (``True`` is an ``int`` in Python, and
``dropout=True`` is a mistake, not 1.0). Wrong types raise ``TypeError``, wrong values ``ValueError``; both name the
setting (``owner.name`` for a config field, the bare argument name when ``owner`` is empty) and, with ``why``, say
what the limit is for."""
from __future__ import annotations

import math
import numbers

__all__ = ["integer", "number", "choice"]


def _label(owner: str, name: str) -> str:
    return f"{owner}.{name}" if owner else name


def integer(owner: str, name: str, value, minimum: int | None = None, none: bool = False, why: str = ""):
    """``value`` as an ``int`` (NumPy integers accepted), at least ``minimum``; ``None`` passes when ``none``.
    ``why`` (e.g. ``"one token to corrupt, one to keep"``) is added to the message in parentheses."""
    if value is None and none:
        return None
    reason = f" ({why})" if why else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        what = "a positive integer" if minimum == 1 else "an integer"
        raise TypeError(f"{_label(owner, name)} must be {what}{' or None' if none else ''}{reason}, got {value!r}")
    if minimum is not None and value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{_label(owner, name)} must be {what}{' or None' if none else ''}{reason}, got {value!r}")
    return int(value)


def number(owner: str, name: str, value, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, none: bool = False, why: str = ""):
    """``value`` as a finite ``float`` in the interval ``low``..``high`` (open ends where asked)."""
    if value is None and none:
        return None
    label, reason = _label(owner, name), f" ({why})" if why else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{label} must be a number{' or None' if none else ''}{reason}, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{label} must be a finite number{reason}, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        if low is not None and high is not None:
            interval = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            interval = f"{'>' if low_open else '>='} {low:g}"
        else:
            interval = f"{'<' if high_open else '<='} {high:g}"
        raise ValueError(f"{label} must be {interval}{reason}, got {value!r}")
    return value


def choice(owner: str, name: str, value, options):
    """``value`` if it is one of ``options``."""
    if value not in options:
        raise ValueError(f"{_label(owner, name)} must be one of {tuple(options)}, got {value!r}")
    return value

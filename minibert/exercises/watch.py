"""Running a learner's answer under watch: a time limit, and a record of shortcuts.

A *build* exercise asks the learner to write a mechanism the library (or torch) already has. The check compares the
answer with that implementation, so handing in the implementation itself would pass. :class:`Watch` closes that
door: while the checker runs, a profile hook notes every call of a *forbidden* function or method (the library's
version, torch's ready-made equivalent) made from the learner's code, however it was reached (an alias, a wrapper,
a subclass, a composed module). Calls the checker makes itself, to compute the expected result, are not the
learner's and are not counted: a call counts only when a frame of the learner's code is on the stack above it.

The time limit uses a real-time interval timer where the platform has one (Linux, macOS, a Jupyter kernel's main
thread) and a line tracer elsewhere, so an answer that never returns is stopped with a message instead of hanging
the notebook.
"""
from __future__ import annotations

import importlib
import inspect
import os
import signal
import sys
import sysconfig
import threading
import time
from functools import partial
from types import FrameType
from typing import Any, Iterable

__all__ = ["OutOfTime", "Watch", "resolve", "shortcut_in", "is_learner_code"]


class OutOfTime(BaseException):
    """Raised inside an answer that ran past its time limit. A ``BaseException``, so that an ``except Exception``
    in the learner's code cannot swallow it."""


def _package_dirs() -> tuple[str, ...]:
    """Directories whose code is never the learner's: this package, the standard library, installed packages."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../minibert
    paths = {here}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            paths.add(os.path.abspath(path))
    for module in ("numpy", "torch", "IPython", "ipykernel"):
        spec = sys.modules.get(module)
        if spec is not None and getattr(spec, "__file__", None):
            paths.add(os.path.dirname(os.path.dirname(os.path.abspath(spec.__file__))))
    return tuple(sorted(paths))


_LEARNER_PSEUDO_FILES = ("<string>", "<stdin>", "<solution", "<ipython-input", "<answer")


def is_learner_code(filename: str, _dirs: list = []) -> bool:  # noqa: B006 (a cache filled on first use)
    """True for code the learner wrote: a notebook cell, a script of theirs, a solution we executed."""
    if filename.startswith("<"):
        return filename.startswith(_LEARNER_PSEUDO_FILES)
    if not _dirs:
        _dirs.extend(_package_dirs())
    path = os.path.abspath(filename)
    return not any(path == d or path.startswith(d + os.sep) for d in _dirs)


def resolve(dotted: str) -> Any:
    """``"torch.nn.functional.scaled_dot_product_attention"`` -> the object (module path, then attributes)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ValueError(f"cannot import {dotted!r}")


def _codes_and_builtins(objects: Iterable[Any]) -> tuple[dict, dict]:
    """Python code objects and C functions that make up each forbidden object, mapped to a readable name."""
    codes: dict = {}
    builtins: dict = {}
    for name, obj in objects:
        if inspect.isclass(obj):
            for klass in obj.__mro__:
                if klass.__module__ in ("builtins", "torch.nn.modules.module"):
                    continue  # object / nn.Module machinery is shared by every module, the learner's included
                for attribute, member in vars(klass).items():
                    function = getattr(member, "__func__", member)
                    code = getattr(function, "__code__", None)
                    if code is not None:
                        codes[code] = f"{name}.{attribute}"
                if klass is obj:
                    break  # the class's own methods only: its bases (nn.Module, ...) are fair game
        else:
            function = getattr(obj, "__func__", obj)
            code = getattr(function, "__code__", None)
            if code is not None:
                codes[code] = name
            else:
                builtins[id(obj)] = (obj, name)
    return codes, builtins


def shortcut_in(answer: Any, forbidden: Iterable[tuple[str, Any]]) -> str | None:
    """The forbidden object ``answer`` *is* (an alias, a partial, a bound method, a subclass that adds nothing), or
    ``None``. Calls made through wrappers are caught while the answer runs (see :class:`Watch`)."""
    forbidden = list(forbidden)
    target = answer
    while isinstance(target, partial):
        target = target.func
    target = getattr(target, "__func__", target)
    for name, obj in forbidden:
        if target is obj or target is getattr(obj, "__func__", obj):
            return name
        if inspect.isclass(target) and inspect.isclass(obj) and issubclass(target, obj):
            return name
    return None


class Watch:
    """``with Watch(forbidden, seconds) as watch: ...`` then ``watch.shortcuts`` lists forbidden calls made from the
    learner's code (readable names, first occurrence order); running past ``seconds`` raises :class:`OutOfTime`."""

    def __init__(self, forbidden: Iterable[tuple[str, Any]] = (), seconds: float | None = None):
        self.codes, self.builtins = _codes_and_builtins(forbidden)
        self.seconds = seconds
        self.shortcuts: list[str] = []
        self._deadline = None
        self._previous_profile = None
        self._previous_trace = None
        self._timer = False
        self._entry = None

    # -- shortcuts ---------------------------------------------------------------------------------------------
    def _from_learner(self, frame: FrameType | None) -> bool:
        """A frame of the learner's code between ``frame`` and the frame that entered the watch (the caller of
        ``check`` is often a notebook cell: it does not count)."""
        while frame is not None and frame is not self._entry:
            if is_learner_code(frame.f_code.co_filename):
                return True
            frame = frame.f_back
        return False

    def _note(self, name: str) -> None:
        if name not in self.shortcuts:
            self.shortcuts.append(name)

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            name = self.codes.get(frame.f_code)
            if name is not None and self._from_learner(frame.f_back):
                self._note(name)
        elif event == "c_call":
            entry = self.builtins.get(id(arg))
            if entry is not None and entry[0] is arg and self._from_learner(frame):
                self._note(entry[1])

    # -- time limit --------------------------------------------------------------------------------------------
    def _alarm(self, signum, frame) -> None:
        raise OutOfTime(f"stopped after {self.seconds:g} s")

    def _trace(self, frame: FrameType, event: str, arg: Any):
        if time.monotonic() > self._deadline:
            raise OutOfTime(f"stopped after {self.seconds:g} s")
        return self._trace if is_learner_code(frame.f_code.co_filename) else None

    def __enter__(self) -> "Watch":
        self._entry = sys._getframe(1)
        if self.codes or self.builtins:
            self._previous_profile = sys.getprofile()
            sys.setprofile(self._profile)
        if self.seconds:
            self._deadline = time.monotonic() + self.seconds
            main = threading.current_thread() is threading.main_thread()
            if main and hasattr(signal, "setitimer"):
                self._previous_handler = signal.signal(signal.SIGALRM, self._alarm)
                signal.setitimer(signal.ITIMER_REAL, self.seconds)
                self._timer = True
            else:
                self._previous_trace = sys.gettrace()
                sys.settrace(self._trace)
        return self

    def __exit__(self, *exc) -> None:
        if self.seconds:
            if self._timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, self._previous_handler)
            else:
                sys.settrace(self._previous_trace)
        if self.codes or self.builtins:
            sys.setprofile(self._previous_profile)

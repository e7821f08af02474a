"""Self-checking exercises for the chapters.

In a notebook::

    from minibert.exercises import check, hint, solution
    def answer(x): ...          # the learner's attempt
    check("01.1", answer)       # one line: correct, not yet (and why), or not attempted yet
    hint("01.1")                # the idea; hint("01.1", 2): the API and shapes; hint("01.1", 3): code
    solution("01.1")            # the model solution (try first!)

Each chapter registers its exercises in ``minibert/exercises/chapterNN.py`` with :func:`exercise`: a checker that
raises ``AssertionError("what is wrong")`` for a bad answer, hints in tiers, a model solution (source code defining
``answer``) and the typical wrong answers. A *build* exercise also names the implementations it asks the learner to
write (``builds``: the library's version, torch's ready-made one) and a ``shortcut`` answer that uses them; the check
rejects any answer that is, wraps or calls them (see :mod:`minibert.exercises.watch`). Every answer runs under a
time limit. The test suite runs every solution (accepted), every wrong answer and shortcut (rejected) and an answer
that never returns (stopped) through its checker.

Kinds: ``build`` (write a mechanism), ``compute`` (a formula or a few lines), ``recall`` (a number from the
chapter), ``predict`` (state what a change will do, then the check runs it and compares).
"""
from __future__ import annotations

import dis
import importlib
import json
import os
import pkgutil
import re
import textwrap
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from .watch import OutOfTime, Watch, is_learner_code, resolve, shortcut_in

__all__ = ["Exercise", "exercise", "check", "passes", "verdict", "hint", "solution", "get", "all_exercises",
           "CHAPTERS", "KINDS"]

# chapters whose exercise modules exist, found on disk: "01.3" lives in minibert/exercises/chapter01 (a module or
# a package of them)
CHAPTERS = tuple(sorted(m.name[len("chapter"):] for m in pkgutil.iter_modules(__path__)
                        if re.fullmatch(r"chapter\d\d", m.name)))
KINDS = ("build", "compute", "recall", "predict")
TIERS = {1: "the idea", 2: "the API and shapes", 3: "code"}


@dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    checker: Callable[[Any], None]
    hints: tuple[str, ...]
    solution: str
    wrongs: tuple[str, ...]
    kind: str = "compute"
    builds: tuple[str, ...] = ()
    shortcut: str | None = None
    seconds: float = 30.0

    @property
    def hint(self) -> str:
        return self.hints[0]

    @property
    def wrong(self) -> str:
        return self.wrongs[0]

    def forbidden(self) -> list[tuple[str, Any]]:
        return [(name, resolve(name)) for name in self.builds]

    def run_solution(self, source: str | None = None) -> Any:
        """Execute a solution's source (ours, or a registered wrong answer) and return the ``answer`` it defines."""
        namespace: dict[str, Any] = {"__name__": f"exercise_{self.key.replace('.', '_')}"}
        code = compile(textwrap.dedent(source if source is not None else self.solution), f"<solution {self.key}>",
                       "exec")
        exec(code, namespace)  # noqa: S102 (our own text)
        if "answer" not in namespace:
            raise RuntimeError(f"the solution of exercise {self.key} defines no `answer`")
        return namespace["answer"]


_REGISTRY: dict[str, Exercise] = {}


def _clean(source: str) -> str:
    return textwrap.dedent(source).strip() + "\n"


def exercise(key: str, title: str, *, hints, solution: str, wrong, kind: str = "compute",
             builds: tuple[str, ...] = (), shortcut: str | None = None, seconds: float = 30.0):
    """Decorator registering a checker function under ``key`` ("CC.N").

    ``hints``: one to three strings, from the idea to code; never the whole answer before tier 3.
    ``wrong``: the source of one typical wrong answer, or a tuple of them. ``builds``: dotted names of the
    implementations a build exercise asks the learner to write; ``shortcut``: an answer that uses them (the suite
    checks it is rejected)."""
    hints = (hints,) if isinstance(hints, str) else tuple(hints)
    wrongs = (wrong,) if isinstance(wrong, str) else tuple(wrong)
    if kind not in KINDS:
        raise ValueError(f"exercise {key}: kind must be one of {KINDS}, got {kind!r}")
    if not 1 <= len(hints) <= 3 or not all(isinstance(h, str) and h for h in hints):
        raise ValueError(f"exercise {key}: give one to three hints, from the idea to code")
    if not wrongs:
        raise ValueError(f"exercise {key}: register at least one typical wrong answer")
    if builds and shortcut is None:
        raise ValueError(f"exercise {key}: a build exercise with `builds` needs a `shortcut` answer to reject")

    def register(checker: Callable[[Any], None]) -> Callable[[Any], None]:
        if key in _REGISTRY:
            raise ValueError(f"exercise {key} is registered twice")
        _REGISTRY[key] = Exercise(key, title, checker, hints, _clean(solution), tuple(_clean(w) for w in wrongs),
                                  kind, tuple(builds), None if shortcut is None else _clean(shortcut), seconds)
        return checker

    return register


def get(key: str) -> Exercise:
    """The exercise registered under ``key``, importing its chapter module on first use."""
    if not isinstance(key, str) or "." not in key:
        raise ValueError(f"exercise keys look like '01.2' (chapter.number), got {key!r}")
    chapter = key.split(".")[0]
    if chapter not in CHAPTERS:
        raise ValueError(f"no exercises for chapter {chapter!r}; chapters with exercises: {', '.join(CHAPTERS)}")
    importlib.import_module(f"{__name__}.chapter{chapter}")
    if key not in _REGISTRY:
        known = ", ".join(sorted(k for k in _REGISTRY if k.startswith(chapter + ".")))
        raise ValueError(f"no exercise {key!r}; chapter {chapter} has {known}")
    return _REGISTRY[key]


def all_exercises() -> list[Exercise]:
    for chapter in CHAPTERS:
        importlib.import_module(f"{__name__}.chapter{chapter}")
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def _empty_body(code) -> bool:
    """A function whose body is still just ``...`` or ``pass``: it compiles to "return None" and bookkeeping."""
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("RESUME", "NOP", "CACHE"):
            continue
        if instruction.opname in ("LOAD_CONST", "RETURN_CONST") and instruction.argval is None:
            continue
        if instruction.opname == "RETURN_VALUE":
            continue
        return False
    return True


def _not_attempted(answer: Any) -> bool:
    """``None``, ``...``, a function whose body is still just ``...`` (the notebooks' stubs), or a class all of whose
    own methods are such stubs (a class skeleton; ``super().__init__()`` alone counts as a stub too)."""
    if answer is None or answer is Ellipsis:
        return True
    if isinstance(answer, type):
        methods = [getattr(m, "__func__", m) for m in vars(answer).values() if callable(getattr(m, "__func__", m))]
        codes = [m.__code__ for m in methods if hasattr(m, "__code__")]
        return bool(codes) and all(_empty_body(c) or _only_super_init(c) for c in codes)
    code = getattr(answer, "__code__", None)
    return code is not None and _empty_body(code)


def _only_super_init(code) -> bool:
    """``def __init__(self, ...): super().__init__()`` and nothing else."""
    if code.co_name != "__init__":
        return False
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD",
                                                                          "LOAD_SUPER_ATTR", "LOAD_DEREF")}
    calls = sum(i.opname.startswith("CALL") for i in dis.get_instructions(code))
    return names <= {"super", "__init__", "__class__"} and calls <= 2


def _learner_line(tb) -> str | None:
    """'line N of your code' for the innermost frame of the learner's code in a traceback, or None."""
    where = None
    for frame, line in traceback.walk_tb(tb):
        if is_learner_code(frame.f_code.co_filename):
            where = f"line {line} of your `{frame.f_code.co_name}`"
    return where


def _asking(key: str) -> str:
    return (f"Stuck? hint(\"{key}\") gives the idea, hint(\"{key}\", 2) the API and shapes, "
            f"hint(\"{key}\", 3) code; solution(\"{key}\") shows a full answer.")


def verdict(key: str, answer: Any, seconds: float | None = None) -> tuple[str, str]:
    """``(status, message)`` for ``answer``: status is "ok", "not attempted", "wrong", "shortcut", "timeout",
    "raised" (the learner's code raised) or "checker failed" (the check itself broke on what it got)."""
    ex = get(key)
    if _not_attempted(answer):
        return "not attempted", "not attempted yet. Replace the ... with your answer and run the cell again."
    forbidden = ex.forbidden()
    limit = seconds if seconds is not None else ex.seconds
    named = shortcut_in(answer, forbidden)
    if named is not None:
        return "shortcut", (f"your answer is {named}, the ready-made implementation. This exercise asks you to "
                            "build it yourself; the check compares your version with that one.")
    watch = Watch(forbidden, limit)
    status, message = "ok", "correct!"
    try:
        with watch:
            ex.checker(answer)
    except OutOfTime:
        status, message = "timeout", (f"your answer did not finish within {limit:g} s and was stopped. Look for a "
                                      "loop that never ends, or a Python loop over every element of a large array.")
    except AssertionError as err:
        status, message = "wrong", f"not yet. {err}"
    except Exception as err:  # noqa: BLE001 (any failure is reported, never raised into the notebook)
        where = _learner_line(err.__traceback__)
        if where is not None:
            status, message = "raised", f"your answer raised {type(err).__name__} at {where}: {err}"
        else:
            status, message = "checker failed", (
                f"the check itself failed ({type(err).__name__}: {err}) on what your answer returned. Most often "
                "the answer returned something of another kind or shape than the exercise asks for; if it returns "
                "exactly what is asked, this is a bug in the exercise: please report it.")
    if watch.shortcuts:
        return "shortcut", (f"your answer calls {', '.join(watch.shortcuts)}, the ready-made implementation. This "
                            "exercise asks you to build it yourself; the check compares your version with that one.")
    return status, message


def _record(key: str, status: str) -> None:
    """Under the grader (``python -m minibert.grade``), append the result to the file it names."""
    log = os.environ.get("MINIBERT_GRADE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps({"key": key, "status": status}) + "\n")


def passes(key: str, answer: Any, quiet: bool = True) -> bool:
    """True when ``answer`` is right. ``None``, ``...`` or an untouched stub counts as "not attempted yet".
    With ``quiet=False`` it prints what :func:`check` prints."""
    status, message = verdict(key, answer)
    _record(key, status)
    if not quiet:
        ex = get(key)
        mark = {"ok": "[ok]", "not attempted": "[ ]"}.get(status, "[x]")
        tail = f"\n    {_asking(key)}" if mark == "[x]" else ""
        print(f"{mark} {ex.key} {ex.title}: {message}{tail}")
    return status == "ok"


def check(key: str, answer: Any) -> None:
    """Check ``answer`` for exercise ``key`` and print one line: correct, not yet (with the reason and how to ask
    for a hint), or not attempted yet. A failure never shows the answer."""
    passes(key, answer, quiet=False)


def hint(key: str, level: int = 1) -> None:
    """Print the hint of tier ``level``: 1 = the idea, 2 = the API and shapes, 3 = code."""
    ex = get(key)
    if level not in TIERS:
        raise ValueError(f"hint levels are 1 (the idea), 2 (the API and shapes) and 3 (code); got {level!r}")
    if level > len(ex.hints):
        text = f"there is no tier-{level} hint for this one: solution(\"{key}\") shows the full answer."
    else:
        text = ex.hints[level - 1]
    more = f" More: hint(\"{key}\", {level + 1})." if level < len(ex.hints) else ""
    print(f"Hint {level} ({TIERS[level]}) for {ex.key} {ex.title}: {text}{more}")


def solution(key: str) -> None:
    """Reveal the model solution (it defines ``answer``; paste it into a cell to use it).

    In a notebook it is shown syntax-highlighted (with the plain text as fallback); elsewhere it is printed."""
    ex = get(key)
    text = f"# Solution to {ex.key} {ex.title}\n{ex.solution}"
    if _in_notebook():
        from IPython.display import display

        display(_Code(text))
    else:
        print(text)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Colab, Binder), False in a terminal or a plain script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class _Code:
    """Python source that a notebook shows highlighted (inline styles: no stylesheet needed, Colab included)."""

    def __init__(self, source: str):
        self.source = source

    def __repr__(self) -> str:
        return self.source.rstrip("\n")

    def _repr_html_(self) -> str:
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer
        except ImportError:
            import html

            return f"<pre>{html.escape(self.source)}</pre>"
        return highlight(self.source, PythonLexer(), HtmlFormatter(noclasses=True, nobackground=True))

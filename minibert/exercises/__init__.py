"""Self-checking exercises for the chapters.

In a notebook::

    from minibert.exercises import check, hint, solution
    def answer(x): ...          # the learner's attempt
    check("01.1", answer)       # prints a pass/fail line and, on failure, what is wrong and a hint
    hint("01.1")                # the hint on its own
    solution("01.1")            # reveals the model solution (try first!)

Each chapter registers its exercises in ``minibert/exercises/chapterNN.py`` with :func:`exercise`: a checker that
raises ``AssertionError("what is wrong")`` for a bad answer, a hint, a model solution (source code defining
``answer``) and a typical wrong answer. The test suite runs every solution and every wrong answer through its
checker, so a check can neither reject the model solution nor accept the classic mistake.
"""
from __future__ import annotations

import dis
import importlib
import pkgutil
import re
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Exercise", "exercise", "check", "passes", "hint", "solution", "get", "all_exercises", "CHAPTERS"]

# chapters whose exercise modules exist, found on disk: "01.3" lives in minibert/exercises/chapter01.py
CHAPTERS = tuple(sorted(m.name[len("chapter"):] for m in pkgutil.iter_modules(__path__)
                        if re.fullmatch(r"chapter\d\d", m.name)))


@dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    checker: Callable[[Any], None]
    hint: str
    solution: str
    wrong: str

    def run_solution(self, source: str | None = None) -> Any:
        """Execute a solution's source and return the ``answer`` it defines."""
        namespace: dict[str, Any] = {}
        exec(textwrap.dedent(source if source is not None else self.solution), namespace)  # noqa: S102 (our own text)
        if "answer" not in namespace:
            raise RuntimeError(f"the solution of exercise {self.key} defines no `answer`")
        return namespace["answer"]


_REGISTRY: dict[str, Exercise] = {}


def exercise(key: str, title: str, hint: str, solution: str, wrong: str):
    """Decorator registering a checker function under ``key`` ("CC.N")."""

    def register(checker: Callable[[Any], None]) -> Callable[[Any], None]:
        if key in _REGISTRY:
            raise ValueError(f"exercise {key} is registered twice")
        _REGISTRY[key] = Exercise(key, title, checker, hint, textwrap.dedent(solution).strip() + "\n",
                                  textwrap.dedent(wrong).strip() + "\n")
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


def _not_attempted(answer: Any) -> bool:
    """``None``, ``...`` or a function whose body is still just ``...`` (the notebooks' stubs)."""
    if answer is None or answer is Ellipsis:
        return True
    code = getattr(answer, "__code__", None)
    if code is None:
        return False
    # An empty body compiles to "return None" and nothing else (plus bookkeeping opcodes).
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("RESUME", "NOP", "CACHE"):
            continue
        if instruction.opname in ("LOAD_CONST", "RETURN_CONST") and instruction.argval is None:
            continue
        if instruction.opname == "RETURN_VALUE":
            continue
        return False
    return True


def passes(key: str, answer: Any, quiet: bool = True) -> bool:
    """True when ``answer`` is right. ``None``, ``...`` or an untouched stub counts as "not attempted yet".
    With ``quiet=False`` it prints what :func:`check` prints."""
    ex = get(key)
    if _not_attempted(answer):
        if not quiet:
            print(f"[ ] {ex.key} {ex.title}: not attempted yet. Replace the ... with your answer and run the cell again.")
        return False
    try:
        ex.checker(answer)
    except AssertionError as err:
        if not quiet:
            print(f"[x] {ex.key} {ex.title}: not yet. {err}\n    Hint: {ex.hint}")
        return False
    except Exception as err:  # the learner's code crashed inside the check: say so plainly
        if not quiet:
            print(f"[x] {ex.key} {ex.title}: your answer raised {type(err).__name__}: {err}\n    Hint: {ex.hint}")
        return False
    if not quiet:
        print(f"[ok] {ex.key} {ex.title}: correct!")
    return True


def check(key: str, answer: Any) -> None:
    """Check ``answer`` for exercise ``key`` and print one line: correct, not yet (with the reason and a hint),
    or not attempted yet."""
    passes(key, answer, quiet=False)


def hint(key: str) -> None:
    ex = get(key)
    print(f"Hint for {ex.key} {ex.title}: {ex.hint}")


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

"""Every exercise: the model solution is accepted, every registered wrong answer and the library shortcut are
rejected, an answer that never returns is stopped, a stub counts as not attempted, and no failure shows the answer."""
import inspect
import re

import numpy as np
import pytest

from minibert import exercises
from minibert.exercises import KINDS, all_exercises, check, passes, verdict
from minibert.exercises.watch import Watch, is_learner_code, shortcut_in

EXERCISES = all_exercises()
IDS = [e.key for e in EXERCISES]


def test_every_chapter_with_exercises_has_at_least_three():
    per_chapter = {}
    for ex in EXERCISES:
        per_chapter.setdefault(ex.key.split(".")[0], []).append(ex)
    assert per_chapter, "no exercises registered"
    for chapter, items in per_chapter.items():
        assert len(items) >= 3, f"chapter {chapter} has only {len(items)} exercises"


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_solution_passes(ex, capsys):
    assert passes(ex.key, ex.run_solution(), quiet=False), capsys.readouterr().out
    assert "[ok]" in capsys.readouterr().out


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_every_wrong_answer_fails_with_a_diagnosis_not_the_answer(ex, capsys):
    for source in ex.wrongs:
        check(ex.key, ex.run_solution(source))
        out = capsys.readouterr().out
        assert out.startswith("[x]"), f"{ex.key} accepted a registered wrong answer:\n{source}\n{out}"
        assert f'hint("{ex.key}")' in out and len(out.strip()) > 40
        assert "checker failed" not in out and "the check itself failed" not in out, out
        # the failure never prints the hint text or the solution
        for tier in ex.hints[1:]:
            assert tier not in out


@pytest.mark.parametrize("ex", [e for e in EXERCISES if e.shortcut], ids=[e.key for e in EXERCISES if e.shortcut])
def test_the_ready_made_implementation_is_rejected(ex):
    status, message = verdict(ex.key, ex.run_solution(ex.shortcut))
    assert status == "shortcut", f"{ex.key} accepted its shortcut ({status}): {message}"
    assert "build it yourself" in message


def _runs_code(ex) -> bool:
    solution = ex.run_solution()
    return inspect.isfunction(solution) or inspect.isclass(solution)


HANGABLE = [e for e in EXERCISES if _runs_code(e)]


@pytest.mark.parametrize("ex", HANGABLE, ids=[e.key for e in HANGABLE])
def test_an_answer_that_never_returns_is_stopped(ex):
    solution = ex.run_solution()
    if inspect.isclass(solution):
        class answer(solution.__mro__[1]):  # same kind of class as the solution, so type checks pass
            def __init__(self, *args, **kwargs):
                while True:
                    pass
    else:
        def answer(*args, **kwargs):
            while True:
                pass

    status, message = verdict(ex.key, answer, seconds=0.5)
    assert status == "timeout", (status, message)
    assert "did not finish within 0.5 s" in message


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_stub_counts_as_not_attempted(ex, capsys):
    def answer(*args):
        ...  # a learner's untouched stub

    check(ex.key, answer)
    assert "not attempted" in capsys.readouterr().out
    assert not passes(ex.key, answer) and not passes(ex.key, ...)


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_registration_is_complete(ex):
    assert ex.kind in KINDS
    assert 1 <= len(ex.hints) <= 3
    if ex.kind == "build":
        assert len(ex.hints) == 3, f"{ex.key}: a build exercise gives three tiers of hints"
    if ex.builds:
        assert ex.kind == "build" and ex.shortcut
        ex.forbidden()  # every name imports


def _code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith(("#", "import ",
                                                                                                   "from ")))


def test_every_chapter_asks_the_learner_to_build_its_mechanism():
    builds = [e for e in EXERCISES if e.kind == "build"]
    chapters = {e.key.split(".")[0] for e in builds}
    missing = sorted(set(exercises.CHAPTERS) - {"00"} - chapters)
    assert not missing, f"chapters without a build exercise: {missing}"
    long_builds = [e.key for e in builds if _code_lines(e.solution) >= 10]
    assert len(long_builds) >= 15, f"only {len(long_builds)} build exercises have a model solution of 10+ lines"
    assert all(e.builds for e in builds if _code_lines(e.solution) >= 10), \
        "a build exercise of substance names what it builds, so that handing that in is rejected"


def test_offspring_chapters_ask_for_a_prediction_before_running():
    predicted = {e.key.split(".")[0] for e in EXERCISES if e.kind == "predict"}
    missing = [c for c in ("08", "09", "10", "11", "12", "13", "14", "15") if c not in predicted]
    assert not missing, f"chapters without a predict-then-run exercise: {missing}"


def test_unknown_keys_explain_themselves():
    with pytest.raises(ValueError, match="chapter.number"):
        check("nonsense", 1)
    with pytest.raises(ValueError, match="no exercises for chapter"):
        check("99.1", 1)
    with pytest.raises(ValueError, match="has"):
        exercises.get("00.99")


def test_hint_tiers_and_solution_print(capsys):
    exercises.hint("00.1")
    exercises.hint("00.1", 3)
    exercises.solution("00.1")
    out = capsys.readouterr().out
    assert "Hint 1 (the idea) for 00.1" in out and "answer =" in out
    with pytest.raises(ValueError, match="hint levels"):
        exercises.hint("00.1", 4)


# -- the watch itself ----------------------------------------------------------------------------------------------

def _learner(source: str, name: str = "answer"):
    namespace = {}
    exec(compile(source, "<answer test>", "exec"), namespace)
    return namespace[name]


def test_learner_code_is_told_apart_from_the_library():
    assert is_learner_code("<ipython-input-3-abc>") and is_learner_code("<solution 01.3>")
    assert is_learner_code("/tmp/ipykernel_1234/2817.py")
    assert not is_learner_code(np.__file__) and not is_learner_code(re.__file__)
    assert not is_learner_code(exercises.__file__)
    assert not is_learner_code("<frozen importlib._bootstrap>")


def _library_side(source: str, name: str):
    """A function whose code claims to live in the package: what a checker's own code looks like to the watch."""
    namespace = {}
    exec(compile(source, exercises.__file__, "exec"), namespace)
    return namespace[name]


def test_the_watch_sees_wrappers_aliases_and_subclasses_but_not_the_checker():
    import torch

    from minibert.core.attention import MultiHeadSelfAttention, scaled_dot_product_attention

    forbidden = [("sdpa", scaled_dot_product_attention), ("fused", torch.nn.functional.scaled_dot_product_attention),
                 ("MHSA", MultiHeadSelfAttention)]
    q = torch.randn(1, 2, 3, 4)
    wrapper = _learner("from minibert.core.attention import scaled_dot_product_attention as f\n"
                       "def answer(q, k, v):\n    return f(q, k, v)\n")
    fused = _learner("import torch\ndef answer(q, k, v):\n    return torch.nn.functional.scaled_dot_product_attention(q, k, v)\n")
    composed = _learner("import torch\nfrom minibert.core.attention import MultiHeadSelfAttention\n"
                        "class answer(torch.nn.Module):\n"
                        "    def __init__(self):\n        super().__init__()\n"
                        "        self.inner = MultiHeadSelfAttention(4, 2)\n")
    honest = _learner("def answer(q, k, v):\n    w = (q @ k.transpose(-1, -2)).softmax(-1)\n    return w @ v\n")
    checker_call = _library_side("from minibert.core.attention import scaled_dot_product_attention as f\n"
                                 "def call(q):\n    return f(q, q, q)\n", "call")
    for answer, expected in ((wrapper, ["sdpa"]), (fused, ["fused"]), (honest, [])):
        with Watch(forbidden) as watch:
            answer(q, q, q)
            checker_call(q)  # the checker's own call: never counted
        assert watch.shortcuts == expected
    with Watch(forbidden) as watch:
        composed()
    assert watch.shortcuts == ["MHSA.__init__"]
    assert shortcut_in(scaled_dot_product_attention, forbidden) == "sdpa"
    assert shortcut_in(_learner("from minibert.core.attention import MultiHeadSelfAttention\n"
                                "class answer(MultiHeadSelfAttention):\n    pass\n"), forbidden) == "MHSA"
    assert shortcut_in(honest, forbidden) is None


def test_a_checker_that_breaks_is_reported_as_such():
    ex = exercises.get("00.1")
    original = ex.checker

    broken = _library_side("def broken(answer):\n    raise KeyError('internal')\n", "broken")

    object.__setattr__(ex, "checker", broken)  # the registry holds frozen dataclasses
    try:
        status, message = verdict("00.1", ex.run_solution())
    finally:
        object.__setattr__(ex, "checker", original)
    assert status == "checker failed" and "bug in the exercise" in message


def test_an_answer_that_raises_is_blamed_with_its_line():
    answer = _learner("def answer(x):\n    return undefined_name\n")
    status, message = verdict("01.1", answer)
    assert status == "raised" and "NameError" in message and "line 2" in message


def test_a_class_skeleton_counts_as_not_attempted():
    skeleton = _learner("import torch\nclass answer(torch.nn.Module):\n    def __init__(self, hidden):\n"
                        "        super().__init__()\n        ...\n\n    def forward(self, x):\n        ...\n")
    started = _learner("import torch\nclass answer(torch.nn.Module):\n    def __init__(self, hidden):\n"
                       "        super().__init__()\n        self.proj = torch.nn.Linear(hidden, hidden)\n\n"
                       "    def forward(self, x):\n        ...\n")
    from minibert.exercises import _not_attempted

    assert _not_attempted(skeleton) and not _not_attempted(started)

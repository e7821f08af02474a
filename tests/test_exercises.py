"""Every exercise's model solution passes its check, and its typical wrong answer fails with a message."""
import pytest

from minibert import exercises
from minibert.exercises import all_exercises, check, passes

EXERCISES = all_exercises()


def test_every_chapter_with_exercises_has_at_least_three():
    per_chapter = {}
    for ex in EXERCISES:
        per_chapter.setdefault(ex.key.split(".")[0], []).append(ex)
    assert per_chapter, "no exercises registered"
    for chapter, items in per_chapter.items():
        assert len(items) >= 3, f"chapter {chapter} has only {len(items)} exercises"


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.key for e in EXERCISES])
def test_solution_passes_and_wrong_answer_fails(ex, capsys):
    assert passes(ex.key, ex.run_solution(), quiet=False), capsys.readouterr().out
    assert "[ok]" in capsys.readouterr().out
    check(ex.key, ex.run_solution(ex.wrong))
    out = capsys.readouterr().out
    assert not passes(ex.key, ex.run_solution(ex.wrong))
    assert "[x]" in out and "Hint:" in out and len(out.strip()) > 40


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.key for e in EXERCISES])
def test_stub_counts_as_not_attempted(ex, capsys):
    def answer(*args):
        ...  # a learner's untouched stub

    check(ex.key, answer)
    assert "not attempted" in capsys.readouterr().out
    assert not passes(ex.key, answer) and not passes(ex.key, ...)


def test_unknown_keys_explain_themselves():
    with pytest.raises(ValueError, match="chapter.number"):
        check("nonsense", 1)
    with pytest.raises(ValueError, match="no exercises for chapter"):
        check("99.1", 1)
    with pytest.raises(ValueError, match="has"):
        exercises.get("00.99")


def test_hint_and_solution_print(capsys):
    exercises.hint("00.1")
    exercises.solution("00.1")
    out = capsys.readouterr().out
    assert "Hint for 00.1" in out and "answer =" in out

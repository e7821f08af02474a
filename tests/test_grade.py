"""The grader on a class of three: one student solved everything, one handed in a wrong answer and deleted a check
cell, one's notebook raises (and the cells after the error still run). Plus a hang stopped at the time limit."""
import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from minibert.exercises import get
from minibert.grade import grade_notebook

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("00.1", "00.2", "00.3")


def notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from minibert.exercises import check")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def answer_cell(key: str, source: str) -> str:
    return f"{source}\ncheck({key!r}, answer)"


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    solved = [answer_cell(k, get(k).solution) for k in KEYS]
    wrong = [answer_cell("00.1", get("00.1").wrong), answer_cell("00.2", get("00.2").solution)]  # 00.3 deleted
    raising = [answer_cell("00.1", get("00.1").solution), "raise RuntimeError('my bug')",
               answer_cell("00.2", "answer = ..."), answer_cell("00.3", get("00.3").solution)]
    for name, cells in (("alice", solved), ("bob", wrong), ("carol", raising)):
        nbformat.write(notebook(cells), folder / f"{name}.ipynb")
    return folder


def test_the_class_table_and_csv(class_folder):
    done = subprocess.run([sys.executable, "-m", "minibert.grade", str(class_folder), "--timeout", "240"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = {row["student"]: row for row in csv.DictReader((class_folder / "grades.csv").open())}
    assert [rows["alice"][k] for k in KEYS] == ["passed"] * 3 and rows["alice"]["passed"] == "3/3"
    assert [rows["bob"][k] for k in KEYS] == ["failed", "passed", "not run"] and rows["bob"]["passed"] == "1/3"
    assert [rows["carol"][k] for k in KEYS] == ["passed", "not attempted", "passed"]
    assert "RuntimeError: my bug" in rows["carol"]["problems"]
    print(done.stdout)
    assert "alice" in done.stdout and "legend" in done.stdout and "! cell 3 raised RuntimeError" in done.stdout


def test_a_notebook_that_hangs_is_stopped_and_reported(tmp_path):
    path = tmp_path / "dave.ipynb"
    nbformat.write(notebook([answer_cell("00.1", get("00.1").solution), "while True:\n    pass"]), path)
    result = grade_notebook(path, timeout=45, cell_timeout=120)  # the notebook's deadline interrupts the loop
    assert result.results["00.1"] == "passed"
    assert any("stopped" in problem for problem in result.problems)


def test_a_file_that_is_not_a_notebook_is_reported(tmp_path):
    path = tmp_path / "eve.ipynb"
    path.write_text("not json")
    result = grade_notebook(path)
    assert result.problems and "cannot be read as a notebook" in result.problems[0]


def test_the_grader_refuses_a_folder_without_notebooks(tmp_path):
    done = subprocess.run([sys.executable, "-m", "minibert.grade", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "holds no .ipynb file" in done.stderr

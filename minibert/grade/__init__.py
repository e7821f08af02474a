"""Grading a class's notebooks: ``python -m minibert.grade FOLDER``.

Every notebook under ``FOLDER`` (``alice.ipynb``, or ``alice/01_attention.ipynb``: the student is the file's stem, or
its folder when notebooks sit in one folder per student) is executed in a fresh kernel, offline, with a time limit,
and every ``check()`` it runs reports its result to the grader (not through its printed output, which a student may
change). The result per student and exercise is ``passed``, ``failed`` (a wrong answer, one that raised or took too
long, or the library's own implementation handed in), ``not attempted`` (the stub is still there) or ``not run`` (the
check cell was deleted, or the notebook stopped before it). A notebook that raises keeps running its later cells; one
that hangs is stopped at the time limit; either is reported, never fatal. Writes ``grades.csv`` (one row per student,
one column per exercise) and prints a table.
"""
from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["NotebookResult", "grade_notebook", "grade_folder", "write_csv", "table"]

CHECK_CALL = re.compile(r"""\b(?:check|passes)\(\s*["'](\d\d\.\d+)["']""")
OFFLINE = ("import socket as _socket\n"
           "_connect = _socket.socket.connect\n"
           "def _local_only(self, address, *rest):\n"
           "    host = address[0] if isinstance(address, tuple) else address\n"
           "    if isinstance(host, str) and host not in ('127.0.0.1', 'localhost', '::1') and not host.startswith('/'):\n"
           "        raise OSError('the grader runs notebooks offline')\n"
           "    return _connect(self, address, *rest)\n"
           "_socket.socket.connect = _local_only\n")
STATUS = {"ok": "passed", "not attempted": "not attempted"}


@dataclass
class NotebookResult:
    student: str
    path: Path
    results: dict[str, str] = field(default_factory=dict)  # exercise key -> passed / failed / not attempted
    expected: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def status(self, key: str) -> str:
        return self.results.get(key, "not run")


def expected_exercises(notebook, path: Path) -> list[str]:
    """The exercises a notebook is meant to check: every key its code calls ``check`` on, and every registered
    exercise of its chapter (from a file name such as ``01_attention.ipynb``), so a deleted check cell shows."""
    from minibert.exercises import CHAPTERS, all_exercises

    keys = {key for cell in notebook.cells if cell.cell_type == "code" for key in CHECK_CALL.findall(cell.source)}
    chapters = {key.split(".")[0] for key in keys}
    match = re.match(r"(\d\d)_", path.name)
    if match and match.group(1) in CHAPTERS:
        chapters.add(match.group(1))
    registered = [e.key for e in all_exercises() if e.key.split(".")[0] in chapters]
    return sorted(set(registered) | keys)


def grade_notebook(path: str | os.PathLike, student: str | None = None, timeout: float = 300.0,
                   cell_timeout: float = 120.0) -> NotebookResult:
    """Execute one notebook (a copy: the student's file is never written) and collect its checks."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from .client import notebook_client

    path = Path(path)
    result = NotebookResult(student or path.stem, path)
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 (not JSON, not a notebook: reported, the class goes on)
        result.problems.append(f"cannot be read as a notebook ({type(err).__name__}: {err})")
        return result
    result.expected = expected_exercises(notebook, path)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(OFFLINE))
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "checks.jsonl"
        env = {**os.environ, "MINIBERT_GRADE_LOG": str(log), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "MPLBACKEND": "Agg"}
        client = notebook_client(notebook, timeout=cell_timeout, allow_errors=True, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            _execute(client, notebook, env, timeout, cell_timeout)
        except (CellTimeoutError, TimeoutError) as err:
            result.problems.append(f"stopped: {err}".splitlines()[0][:200])
        except DeadKernelError:
            result.problems.append("the kernel died (out of memory? a crash in compiled code?)")
        except CellExecutionError as err:
            result.problems.append(f"a cell raised: {str(err).strip().splitlines()[-1][:200]}")
        for cell_number, cell in enumerate(notebook.cells[1:], start=1):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    result.problems.append(f"cell {cell_number} raised {output.get('ename')}: "
                                           f"{str(output.get('evalue'))[:160]}")
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                result.results[entry["key"]] = STATUS.get(entry["status"], "failed")
    return result


def _execute(client, notebook, env: dict, timeout: float, cell_timeout: float) -> None:
    """Run the cells one by one in a kernel with ``env``; no cell may run past ``cell_timeout`` seconds, nor the
    notebook past ``timeout`` seconds in all (the cell running then is interrupted like any slow cell)."""
    import time

    deadline = time.monotonic() + timeout
    with client.setup_kernel(env=env):
        for index, cell in enumerate(notebook.cells):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the notebook ran past {timeout:g} s; cells from {index} on did not run")
            client.timeout = max(1, int(min(cell_timeout, left)))
            client.execute_cell(cell, index)


def _student(path: Path, folder: Path) -> str:
    relative = path.relative_to(folder)
    return relative.parts[0] if len(relative.parts) > 1 else path.stem


def grade_folder(folder: str | os.PathLike, timeout: float = 300.0, cell_timeout: float = 120.0,
                 progress=print) -> list[NotebookResult]:
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder; pass the folder that holds the students' notebooks")
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        raise ValueError(f"{folder} holds no .ipynb file")
    results = []
    for path in notebooks:
        progress(f"grading {path.relative_to(folder)} ...")
        results.append(grade_notebook(path, _student(path, folder), timeout, cell_timeout))
    return results


def _keys(results: list[NotebookResult]) -> list[str]:
    return sorted({k for r in results for k in r.expected} | {k for r in results for k in r.results},
                  key=lambda k: tuple(int(x) for x in k.split(".")))


def write_csv(results: list[NotebookResult], path: str | os.PathLike) -> Path:
    """One row per (student, notebook), one column per exercise, then passed / total and the problems seen."""
    keys, path = _keys(results), Path(path)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "notebook", *keys, "passed", "problems"])
        for r in results:
            statuses = [r.status(k) if k in r.expected or k in r.results else "" for k in keys]
            passed = sum(s == "passed" for s in statuses)
            writer.writerow([r.student, r.path.name, *statuses, f"{passed}/{len(r.expected)}", "; ".join(r.problems)])
    return path


def table(results: list[NotebookResult]) -> str:
    """A readable table: one line per student and notebook, one column per exercise (ok, x, -, ?), then problems."""
    keys = _keys(results)
    marks = {"passed": "ok", "failed": "x", "not attempted": "-", "not run": "?"}
    width = max([7, *(len(r.student) for r in results)])
    lines = [f"{'student':<{width}}  " + " ".join(f"{k:>5}" for k in keys) + "  passed",
             "legend: ok passed, x failed, - not attempted, ? not run (check cell deleted or notebook stopped)"]
    for r in results:
        cells = [marks[r.status(k)] if k in r.expected or k in r.results else "" for k in keys]
        passed = sum(c == "ok" for c in cells)
        lines.append(f"{r.student:<{width}}  " + " ".join(f"{c:>5}" for c in cells) + f"  {passed}/{len(r.expected)}")
        lines += [f"{'':<{width}}  ! {problem}" for problem in r.problems]
    return "\n".join(lines)

"""The committed notebooks say only what is true on every machine, and speak to learners.

Five rules, each a function that lists what breaks it, run on every chapter and on planted examples (so a rule that
stopped finding anything would fail here too):

* **round-off:** a compared output (a code cell nbval compares: not tagged ``nbval-ignore-output`` or ``nbval-skip``)
  prints no number below 1e-4 in scientific notation (``2.7e-07``) or as a long decimal (``0.00000027``): such digits
  are floating-point round-off, which changes with the CPU, the BLAS kernel, memory alignment and the torch version.
  Print the bound met instead (``max |difference| < 1e-6``: a number right after ``<`` or ``≤`` is a bound and
  passes), or round to what the arithmetic guarantees. A cell may be allowed in ``ROUNDOFF_ALLOWED`` with its reason.
* **source material:** markdown never points at material learners do not have ("the seeds", "the slides", "the
  lecture", "the deck"): a claim cites the paper, with section or table.
* **machine paths:** no output shows a file-system path of the machine that ran it (``/home/...``, ``site-packages``,
  a temporary folder): it leaks one person's machine into everyone's textbook. An intended error is caught and its
  message printed, rather than a traceback full of paths.
* **stderr:** no output on stderr other than a progress bar: a warning in the committed textbook is a defect to fix
  at its source.
* **test markers:** no ``# NBVAL_...`` comment in a code cell: nbval reads cell tags (``nbval-ignore-output``,
  ``raises-exception``), and a learner should not read test plumbing.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if not p.name.endswith(".check.ipynb"))
params = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])

# (notebook file name, cell id) -> why that cell may print a small number in scientific notation.
ROUNDOFF_ALLOWED: dict[tuple[str, str], str] = {}

NOT_COMPARED_TAGS = {"nbval-ignore-output", "nbval-skip"}
SCIENTIFIC = re.compile(r"(?<![\w.])([<≤]=?\s*)?[-+]?(\d+(?:\.\d+)?[eE][-+]?\d+)(?![\w.])")
LONG_DECIMAL = re.compile(r"(?<![\w.])([<≤]=?\s*)?[-+]?(0\.0000\d*[1-9]\d*)(?![\w.])")
SOURCE_MATERIAL = re.compile(
    r"\bthe seeds\b|\bseed (?:slides?|decks?|lectures?)\b|\b(?:the|our|these) (?:slides?|decks?|lectures?)\b"
    r"|\blecture'?s\b",
    re.IGNORECASE)
MACHINE_PATH = re.compile(
    r"(?<![\w.:/~-])/(?:home|root|tmp|work|usr|opt|var|private|Users|content|mnt|srv)/[\w.-]"
    r"|site-packages|dist-packages|[A-Za-z]:\\\\?(?:Users|Windows)\\")
PROGRESS_BAR = re.compile(r"\d+%\|.*\||\d+/\d+ \[|it/s\]|s/it\]")
TEST_MARKER = re.compile(r"^\s*#\s*NBVAL_", re.MULTILINE)


def output_text(output) -> str:
    """The text an output shows: a stream, a plain-text result, or an error's name, message and traceback."""
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join([f"{output.ename}: {output.evalue}", *output.traceback])
    return str(output.get("data", {}).get("text/plain", ""))


def where(path_name: str, index: int, cell) -> str:
    first = cell.source.splitlines()[0][:60] if cell.source else ""
    return f"{path_name} cell {index} (id {cell.get('id')}, {first!r})"


def roundoff_findings(notebook, name: str) -> list[str]:
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or NOT_COMPARED_TAGS & set(cell.metadata.get("tags", [])):
            continue
        if (name, cell.get("id")) in ROUNDOFF_ALLOWED:
            continue
        for output in cell.outputs:
            text = output_text(output)
            for pattern in (SCIENTIFIC, LONG_DECIMAL):
                for match in pattern.finditer(text):
                    bound, number = match.group(1), match.group(2)
                    if bound or not 0 < abs(float(number)) < 1e-4:
                        continue
                    found.append(f"{where(name, index, cell)} prints {number}: round-off that changes between "
                                 f"machines; print the bound it meets ('< 1e-6') or round it")
    return found


def source_material_findings(notebook, name: str) -> list[str]:
    return [f"{where(name, index, cell)} says {match.group(0)!r}: learners have the papers, not our source "
            f"material; cite the paper (section, table)"
            for index, cell in enumerate(notebook.cells) if cell.cell_type == "markdown"
            for match in SOURCE_MATERIAL.finditer(cell.source)]


def machine_path_findings(notebook, name: str) -> list[str]:
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            match = MACHINE_PATH.search(re.sub(r"\x1b\[[0-9;]*m", "", output_text(output)))
            if match:
                found.append(f"{where(name, index, cell)} shows a machine path ({match.group(0)!r}...): print "
                             f"a relative name, or catch the intended error and print its message")
    return found


def stderr_findings(notebook, name: str) -> list[str]:
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stderr":
                lines = [line for line in re.split(r"[\r\n]", output.text) if line.strip()]
                noise = [line for line in lines if not PROGRESS_BAR.search(line)]
                if noise:
                    found.append(f"{where(name, index, cell)} writes to stderr: {noise[0][:100]!r}; fix the "
                                 f"warning at its source")
    return found


def nbval_comment_findings(notebook, name: str) -> list[str]:
    return [f"{where(name, index, cell)} carries a '# NBVAL_' comment: use the cell tag instead"
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and TEST_MARKER.search(cell.source)]


RULES = {
    "round-off": roundoff_findings,
    "source material": source_material_findings,
    "machine paths": machine_path_findings,
    "stderr": stderr_findings,
    "test markers": nbval_comment_findings,
}


@params
@pytest.mark.parametrize("rule", RULES)
def test_chapter_keeps_the_rule(path, rule):
    findings = RULES[rule](nbformat.read(path, as_version=4), path.name)
    assert not findings, "\n".join(findings)


def test_every_allowed_roundoff_cell_exists_and_says_why():
    for (name, cell_id), reason in ROUNDOFF_ALLOWED.items():
        notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        assert any(cell.get("id") == cell_id for cell in notebook.cells), f"{name} has no cell {cell_id}"
        assert len(reason) > 20, f"{name} cell {cell_id}: say why its round-off may be printed"


# ---- planted examples: each rule finds what it is for, and leaves alone what it is not for ----

def planted(*cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = list(cells)
    return notebook


def code(source="x", outputs=(), tags=()):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


@pytest.mark.parametrize("text", [
    "largest weight difference 2.7e-07\n", "max |difference| 1.8E-7\n", "gap: 0.00000027\n", "-3e-05 off\n"])
def test_roundoff_rule_finds_planted_round_off(text):
    assert roundoff_findings(planted(code(outputs=[stream(text)])), "planted.ipynb")


@pytest.mark.parametrize("text", [
    "max |difference| < 1e-6\n", "within ≤ 1e-05\n", "loss 2.3456\n", "lr 3e-04\n", "epsilon 1e-4 exactly? 0.5\n",
    "step 100 of 1e5\n", "accuracy 0.9731\n"])
def test_roundoff_rule_passes_bounds_and_ordinary_numbers(text):
    assert not roundoff_findings(planted(code(outputs=[stream(text)])), "planted.ipynb")


def test_roundoff_rule_ignores_cells_nbval_does_not_compare():
    cell = code(outputs=[stream("2.7e-07\n")], tags=["nbval-ignore-output"])
    assert not roundoff_findings(planted(cell), "planted.ipynb")


@pytest.mark.parametrize("text", [
    "As the seeds show, ...", "the slides derive it", "In the lecture we saw", "the lecture's example",
    "the seed decks cover it", "see the deck"])
def test_source_material_rule_finds_planted_words(text):
    assert source_material_findings(planted(nbformat.v4.new_markdown_cell(text)), "planted.ipynb")


@pytest.mark.parametrize("text", ["five seeds give 0.31 ± 0.02", "over random seeds 0-4", "RoBERTa (Liu et al. 2019, "
                                  "Table 4)", "lecturers can project it"])
def test_source_material_rule_passes_random_seeds_and_citations(text):
    assert not source_material_findings(planted(nbformat.v4.new_markdown_cell(text)), "planted.ipynb")


@pytest.mark.parametrize("output", [
    stream("saved to /tmp/tmpab12/model\n"),
    stream("File /home/ana/minibert/minibert/bert.py:93\n"),
    {"output_type": "error", "ename": "ValueError", "evalue": "bad",
     "traceback": ["\x1b[31mFile \x1b[39m/usr/lib/python3/dist-packages/torch/nn/modules/module.py:1736"]},
    {"output_type": "execute_result", "execution_count": 1, "metadata": {},
     "data": {"text/plain": "PosixPath('/work/main/assets/tiny_bert')"}},
])
def test_machine_path_rule_finds_planted_paths(output):
    assert machine_path_findings(planted(code(outputs=[output])), "planted.ipynb")


@pytest.mark.parametrize("text", ["read ../assets/tiny_bert/config.json\n", "see https://arxiv.org/abs/1810.04805\n",
                                  "ratio 3/4 of the heads\n"])
def test_machine_path_rule_passes_relative_paths_and_links(text):
    assert not machine_path_findings(planted(code(outputs=[stream(text)])), "planted.ipynb")


def test_stderr_rule_finds_a_warning_and_passes_a_progress_bar():
    warning = stream("UserWarning: loss_type=None was set in the config\n", name="stderr")
    bar = stream("training: 100%|██████████| 200/200 [00:04<00:00, 45.1it/s]\n", name="stderr")
    assert stderr_findings(planted(code(outputs=[warning])), "planted.ipynb")
    assert not stderr_findings(planted(code(outputs=[bar])), "planted.ipynb")


def test_test_marker_rule_finds_a_comment_and_passes_a_tag():
    assert nbval_comment_findings(planted(code("# NBVAL_IGNORE_OUTPUT\nprint(1)")), "planted.ipynb")
    assert not nbval_comment_findings(planted(code("print(1)", tags=["nbval-ignore-output"])), "planted.ipynb")

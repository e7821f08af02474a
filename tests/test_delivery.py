"""The course reaches learners: Binder's files, the README's badges, the CI workflow, revealed solutions.

What can be checked without Binder, Colab or GitHub: the files are where repo2docker and GitHub look for them and
agree with pyproject.toml; every chapter has its Colab and Binder badges; the workflow runs the README's test
command; a solution shows up highlighted in a notebook and as plain text elsewhere.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from minibert.environment import GITHUB_REPOSITORY, REPO_URL, binder_url, colab_url

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                   if not p.name.endswith(".check.ipynb"))


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=~!\[;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def project() -> dict:
    toml = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    return toml.loads((ROOT / "pyproject.toml").read_text())["project"]


# --- Binder (repo2docker) -------------------------------------------------------------------------------------

def environment_pip() -> list[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip, "environment.yml has no pip section"
    return pip[0]


def test_binder_reads_the_top_level_files():
    # repo2docker reads binder/ or .binder/ instead of the top level when either exists, and a Dockerfile
    # replaces everything else
    for shadow in ("binder", ".binder", "Dockerfile"):
        assert not (ROOT / shadow).exists(), f"{shadow} would make repo2docker ignore environment.yml"
    assert (ROOT / "environment.yml").is_file()
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    assert any(re.fullmatch(r"python=3\.1\d", d) for d in conda), "pin Python in environment.yml"
    assert "pip" in conda


def test_binder_environment_has_every_dependency_of_the_package():
    listed = {requirement_name(r) for r in environment_pip() if not r.startswith("-")}
    needed = project()["dependencies"] + project()["optional-dependencies"]["course"]
    missing = sorted({requirement_name(r) for r in needed} - listed)
    assert not missing, f"environment.yml's pip list lacks {missing} (pyproject.toml needs them)"


def test_binder_installs_the_cpu_build_of_the_oldest_supported_torch():
    pip = environment_pip()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip, "PyPI's Linux torch is a CUDA build"
    torch = [r for r in pip if requirement_name(r) == "torch"]
    floor = next(r for r in project()["dependencies"] if requirement_name(r) == "torch").split(">=")[1]
    assert torch == [f"torch=={floor}"], f"Binder should run the torch the course is tested with ({floor})"


def test_postbuild_installs_minibert_itself():
    post_build = ROOT / "postBuild"
    assert os.access(post_build, os.X_OK), "postBuild must be executable (git update-index --chmod=+x postBuild)"
    text = post_build.read_text()
    assert text.startswith("#!/"), "postBuild needs a shebang line"
    assert re.search(r"^pip install --no-deps -e \.$", text, flags=re.M), (
        "postBuild should install the package from the repository, without re-resolving dependencies")


# --- README badges and links ----------------------------------------------------------------------------------

def test_every_chapter_has_colab_and_binder_badges():
    readme = (ROOT / "README.md").read_text()
    for name in NOTEBOOKS:
        for url in (colab_url(name), binder_url(name)):
            assert f"]({url})" in readme, f"README.md has no badge linking {url}"


def test_links_name_the_one_repository():
    """Colab and Binder links, and GitHub links to a `minibert` repository, in the README and the chapters all name
    the repository of minibert.environment.REPO_URL."""
    texts = [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    ours = re.compile(r"(?:colab\.research\.google\.com/github/|mybinder\.org/v2/gh/)([\w.-]+/[\w.-]+?)(?:/|\?)")
    github = re.compile(r"github\.com/([\w.-]+/minibert)(?:\.git)?\b")
    for path in texts:
        text = path.read_text()
        for repository in ours.findall(text) + github.findall(text):
            assert repository == GITHUB_REPOSITORY, f"{path.name} links {repository}, not {GITHUB_REPOSITORY}"
    assert REPO_URL == f"https://github.com/{GITHUB_REPOSITORY}"


def test_readme_local_links_exist():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", readme):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = ROOT / target.split("#")[0]
        chapter = re.fullmatch(r"notebooks/\d\d_\w+\.ipynb", target)
        assert path.exists() or chapter, f"README.md links {target}, which does not exist"


# --- CI ---------------------------------------------------------------------------------------------------------

def test_workflow_runs_the_test_command_on_two_pythons_and_torches():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "tests.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True
    assert "push" in triggers and "pull_request" in triggers
    assert workflow["concurrency"]["cancel-in-progress"] is True
    (job,) = workflow["jobs"].values()
    runs = [step.get("run", "") for step in job["steps"]]
    assert "bash .ci/run" in runs, "the workflow must run the README's test command through .ci/run"
    assert any("actions/cache" in step.get("uses", "") for step in job["steps"]), "cache pip's downloads"
    matrix = job["strategy"]["matrix"]["include"]
    pythons = [m["python"] for m in matrix]
    torches = [m["torch"] for m in matrix]
    oldest_python = project()["requires-python"].removeprefix(">=")
    oldest_torch = next(r for r in project()["dependencies"] if requirement_name(r) == "torch").split(">=")[1]
    assert len(set(pythons)) == 2 and oldest_python in pythons
    assert f"torch=={oldest_torch}" in torches and "torch" in torches, "the oldest supported torch and the newest"
    assert job["env"]["MINIBERT_TORCH"] == "${{ matrix.torch }}"
    modes = {m["torch"]: m["nbval"] for m in matrix}
    assert modes[f"torch=={oldest_torch}"] == "strict", "the torch the outputs were made with compares them"
    assert job["env"]["MINIBERT_NBVAL"] == "${{ matrix.nbval }}"
    ci_run = (ROOT / ".ci" / "run").read_text()
    assert "bash course.sh test" in ci_run and "MINIBERT_REQUIRE_BROWSER=1" in ci_run
    assert "MINIBERT_KERNELS=avx2" in ci_run, "CI re-executes the notebooks on other kernels than made them"


# --- exercises: revealing a solution ----------------------------------------------------------------------------

def test_solution_is_highlighted_in_a_notebook_and_plain_elsewhere(capsys, monkeypatch):
    from IPython.core.formatters import DisplayFormatter

    from minibert import exercises

    exercises.solution("00.2")
    printed = capsys.readouterr().out
    assert printed.startswith("# Solution to 00.2") and "def answer(scores, temperature):" in printed

    shown = []
    monkeypatch.setattr(exercises, "_in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    exercises.solution("00.2")
    assert capsys.readouterr().out == "" and len(shown) == 1
    bundle, _ = DisplayFormatter().format(shown[0])
    assert bundle["text/plain"] == printed.rstrip("\n"), "the plain-text fallback is what a terminal prints"
    html = bundle["text/html"]
    assert "<span" in html and "style=" in html, "highlighted with inline styles (Colab has no stylesheet)"
    assert "def" in html and "softmax" in html

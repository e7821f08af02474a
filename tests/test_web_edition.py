"""Lecture mode, the static pages' widget figures and the release tag: the parts that need no browser or book builder.

The decks and the book themselves are built and opened in a real Chromium by ``tests/browser/web_in_browser.py``
(stage 2 of the test command).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import set_release_tag  # noqa: E402
import slide_metadata  # noqa: E402
import web_edition  # noqa: E402

CHAPTERS = slide_metadata.chapters([])
WIDGET_CHAPTERS = [p for p in CHAPTERS if web_edition.WIDGET_VIEW in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_cell_carries_current_slide_metadata(path):
    notebook = nbformat.read(path, as_version=4)
    kinds = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in notebook.cells]
    assert None not in kinds, "cells without slide metadata: run python scripts/slide_metadata.py"
    assert slide_metadata.is_current(path), (
        "the slide metadata is not what the rules give (a cell changed since): run python scripts/slide_metadata.py")
    assert kinds[0] == "slide", "the header opens the deck"
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    assert kinds[first_code] == "skip", "the setup cell is skipped in the deck"
    assert kinds.count("slide") >= 3, "a deck needs a slide per section"


def test_slide_rules():
    cells = [nbformat.v4.new_markdown_cell("# Chapter 99 · Title"), nbformat.v4.new_code_cell("setup()"),
             nbformat.v4.new_markdown_cell("## A section"), nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_markdown_cell("Short text after code."),
             nbformat.v4.new_markdown_cell(" ".join(["word"] * (slide_metadata.NOTES_WORDS + 1))),
             nbformat.v4.new_markdown_cell("### A step"), nbformat.v4.new_code_cell(""),
             nbformat.v4.new_code_cell("\n".join(["y = 2"] * (slide_metadata.BUDGET + 1)))]
    notebook = nbformat.v4.new_notebook(cells=cells)
    assert slide_metadata.slide_types(notebook) == ["slide", "skip", "slide", "-", "fragment", "notes", "subslide",
                                                    "skip", "subslide"]


def test_applying_the_slide_rules_twice_changes_nothing(tmp_path):
    copy = tmp_path / CHAPTERS[0].name
    copy.write_text(CHAPTERS[0].read_text(encoding="utf-8"), encoding="utf-8")
    slide_metadata.apply(copy)
    before = copy.read_text(encoding="utf-8")
    assert not slide_metadata.apply(copy)
    assert copy.read_text(encoding="utf-8") == before


@pytest.mark.parametrize("path", WIDGET_CHAPTERS, ids=[p.stem for p in WIDGET_CHAPTERS])
def test_static_pages_show_each_widget_as_its_last_figure(path):
    notebook = nbformat.read(path, as_version=4)
    original = json.dumps(notebook, sort_keys=True)
    static = web_edition.static_widgets(notebook, path.name[:2])
    assert json.dumps(notebook, sort_keys=True) == original, "the notebook itself must not change"
    assert "widgets" not in static.metadata, "no widget state: no page loads a widget manager"
    for before, after in zip(notebook.cells, static.cells):
        if before.cell_type != "code":
            continue
        views = sum(web_edition.WIDGET_VIEW in o.get("data", {}) for o in before.outputs)
        assert not any(web_edition.WIDGET_VIEW in o.get("data", {}) for o in after.outputs)
        if views:
            notes = [o for o in after.outputs if web_edition.INTERACT_NOTE in o.get("data", {}).get("text/plain", "")]
            figures = [o for o in after.outputs if "image/png" in o.get("data", {})]
            assert len(notes) == views and len(figures) >= views, (
                f"each widget should become its last figure and a note; got {len(figures)} figure(s), "
                f"{len(notes)} note(s) for {views} widget(s)")
            assert all("as last drawn" in n["data"]["text/plain"] for n in notes)
            text = json.dumps(after.outputs)
            assert "VBox(children=" not in text and "interactive(children=" not in text
        for output in after.outputs:
            if "image/png" in output.get("data", {}):
                assert output.metadata.get("alt", "").strip(), "every figure needs alt text"
                assert after.metadata["mystnb"]["image"]["alt"].strip()


def test_a_widget_without_a_stored_picture_says_so():
    cell = nbformat.v4.new_code_cell("explorer()", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", execution_count=1, data={
        web_edition.WIDGET_VIEW: {"model_id": "missing", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(children=(IntSlider(value=1),))"})]
    static = web_edition.static_widgets(nbformat.v4.new_notebook(cells=[cell]))
    text = " ".join(o["data"]["text/plain"] for o in static.cells[0].outputs)
    assert "keeps no picture" in text and web_edition.INTERACT_NOTE in text and "VBox" not in text


def test_remote_loads_finds_scripts_and_styles_from_other_hosts_only():
    page = """<link rel="stylesheet" href="https://cdn.example/reveal.css"><script src="_vendor/reveal.js"></script>
    <style>/* see https://example.org for the colours */ @import url("//fonts.example/x.css");</style>
    <script src='http://cdn.example/require.js'></script><a href="https://arxiv.org/abs/1810.04805">BERT</a>"""
    assert web_edition.remote_loads(page) == ["https://cdn.example/reveal.css", "//fonts.example/x.css",
                                              "http://cdn.example/require.js"]


def test_a_missing_build_tool_is_named():
    with pytest.raises(web_edition.MissingTool, match="pip install"):
        web_edition.vendored("surely_not_an_installed_package_for_minibert", "static", "MathJax")


def test_the_release_tag_script_moves_every_mention_of_the_tag():
    first = next(c for c in nbformat.read(CHAPTERS[0], as_version=4).cells if c.cell_type == "code")
    moved = set_release_tag.retag(first.source, "v9.8.7")
    assert moved.count("v9.8.7") == first.source.count(set_release_tag.release_tag()) == 4
    assert set_release_tag.release_tag() not in moved


def test_the_pages_workflow_builds_with_the_course_commands_and_deploys():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    runs = " ".join(step.get("run", "") for step in workflow["jobs"]["build"]["steps"])
    assert "bash course.sh book" in runs and "bash course.sh slides" in runs
    uses = [step.get("uses", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}

"""Give every chapter's cells their slide metadata, so a chapter is also a lecture deck.

    python scripts/slide_metadata.py            # every chapter in notebooks/
    python scripts/slide_metadata.py 01 03      # some chapters
    python scripts/slide_metadata.py --check    # exit 1 (and name the chapters) when a chapter is not up to date

The deck is what JupyterLab's RISE extension presents live (widgets included) and what `bash course.sh slides`
exports as a static reveal.js deck. Only ``cell.metadata.slideshow.slide_type`` is written: no source, no output, no
execution count changes, so the committed outputs (and strict nbval) are untouched. The rules are deterministic and
read nothing but a cell's source and outputs, so running the script again changes nothing:

* a markdown cell that opens with a ``#`` or ``##`` heading starts a **slide**; one with ``###`` or deeper a
  **subslide** (a vertical step under its section);
* the standard setup cell (the first code cell) and empty cells are **skip**: they matter to the notebook, not to
  the audience;
* a markdown cell of long prose without a heading (more than ``NOTES_WORDS`` words) becomes the lecturer's speaker
  **notes** (reveal.js shows them in the speaker view, key ``s``), so slides keep the short text;
* any other cell continues the current slide (``-``), unless the slide is already full (more than ``BUDGET`` lines
  of source and output, a figure counting ``FIGURE_LINES``): then it starts a **subslide**, so nothing runs off
  the bottom of the projector. A short markdown cell between code cells (one that prepares the next cell) is a
  **fragment** when it fits: it appears on the next key press.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NOTES_WORDS = 110  # a markdown cell longer than this (and without a heading) is speaker notes
BUDGET = 26  # lines a slide may hold before the next cell opens a subslide
FIGURE_LINES = 14  # what a figure counts against the budget
OUTPUT_LINES_CAP = 12  # a long printed output counts at most this much (the deck scrolls it)
FIGURE_MIMES = ("image/png", "image/svg+xml", "image/jpeg", "application/vnd.jupyter.widget-view+json")


def chapters(numbers: list[str] | None = None) -> list[Path]:
    """The chapter notebooks in course order, or those whose two-digit prefixes are in ``numbers``."""
    found = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if not p.name.endswith(".check.ipynb"))
    if numbers:
        unknown = set(numbers) - {p.name[:2] for p in found}
        if unknown:
            raise SystemExit(f"no chapter {', '.join(sorted(unknown))} in {NOTEBOOKS}")
        found = [p for p in found if p.name[:2] in numbers]
    return found


def heading_level(source: str) -> int:
    """1 for ``# Title``, 2 for ``## Section``...; 0 when the cell does not open with a heading."""
    match = re.match(r"\s*(#{1,6})\s", source)
    return len(match.group(1)) if match else 0


def weight(cell) -> int:
    """How many projector lines a cell takes: its source, its printed output (capped) and its figures."""
    lines = len(cell.source.splitlines())
    if cell.cell_type == "markdown":
        lines += len(re.findall(r"!\[[^\]]*\]\(", cell.source)) * FIGURE_LINES
        return lines
    printed = 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if any(mime in data for mime in FIGURE_MIMES):
            lines += FIGURE_LINES
        text = output.get("text", "") or data.get("text/plain", "")
        printed += len(str(text).splitlines())
        if output.get("output_type") == "error":
            printed += 3
    return lines + min(printed, OUTPUT_LINES_CAP)


def slide_types(notebook) -> list[str]:
    """The slide type of each cell, in order (the rules are in the module docstring)."""
    types = []
    first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), None)
    filled = 0  # lines on the current (sub)slide
    previous_visible = None  # the cell type of the last cell shown on a slide
    for index, cell in enumerate(notebook.cells):
        source = cell.source.strip()
        level = heading_level(source) if cell.cell_type == "markdown" else 0
        if not source or index == first_code or cell.cell_type == "raw":
            kind = "skip"
        elif level in (1, 2):
            kind = "slide"
        elif level >= 3:
            kind = "subslide"
        elif cell.cell_type == "markdown" and len(source.split()) > NOTES_WORDS:
            kind = "notes"
        elif filled + weight(cell) > BUDGET and filled > 0:
            kind = "subslide"
        elif cell.cell_type == "markdown" and previous_visible == "code":
            kind = "fragment"
        else:
            kind = "-"
        if kind in ("slide", "subslide"):
            filled = weight(cell)
        elif kind in ("-", "fragment"):
            filled += weight(cell)
        if kind not in ("skip", "notes"):
            previous_visible = cell.cell_type
        types.append(kind)
    if types and types[0] != "slide":
        types[0] = "slide"  # a deck opens on a slide
    return types


def apply(path: Path) -> bool:
    """Write the slide metadata into ``path``; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    for cell, kind in zip(notebook.cells, slide_types(notebook)):
        cell.metadata["slideshow"] = {"slide_type": kind}
    new = nbformat.writes(notebook) + "\n"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def is_current(path: Path) -> bool:
    notebook = nbformat.read(path, as_version=4)
    return all(cell.metadata.get("slideshow", {}).get("slide_type") == kind
               for cell, kind in zip(notebook.cells, slide_types(notebook)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers (default: all)")
    parser.add_argument("--check", action="store_true", help="change nothing; fail when a chapter is not current")
    args = parser.parse_args(argv)
    paths = chapters(args.chapters)
    if args.check:
        stale = [p.name for p in paths if not is_current(p)]
        if stale:
            print("slide metadata is not current in: " + ", ".join(stale)
                  + "\nrun: python scripts/slide_metadata.py", file=sys.stderr)
            return 1
        print(f"slide metadata is current in {len(paths)} chapters")
        return 0
    for path in paths:
        changed = apply(path)
        counts = {}
        for kind in slide_types(nbformat.read(path, as_version=4)):
            counts[kind] = counts.get(kind, 0) + 1
        summary = ", ".join(f"{counts[k]} {k}" for k in ("slide", "subslide", "fragment", "-", "notes", "skip")
                            if k in counts)
        print(f"{path.name}: {'updated' if changed else 'unchanged'} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Point every chapter's Colab setup cell at this release's git tag (``v`` + the package version).

    python scripts/set_release_tag.py           # rewrite the setup cells (after bumping the version)
    python scripts/set_release_tag.py --check   # exit 1 when a chapter clones another tag

Part of a release (CONTRIBUTING.md, "Release"): bump the version in pyproject.toml and ``minibert/__init__.py``, run
this, add the CHANGELOG section, commit, tag ``v<version>``. Only the tag inside the first code cell's source changes;
that cell is tagged ``nbval-ignore-output`` (it prints versions), so no committed output goes stale and nothing needs
re-executing.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minibert.environment import release_tag  # noqa: E402

# the three places the tag appears in the cell: the comment, the clone and the fallback for an existing copy
PATTERNS = (r"(course \()v[0-9][^)\s]*(\))", r"(--branch )v[0-9]\S*( )", r"(origin tag )v[0-9]\S*( )",
            r"(checkout -q )v[0-9][^)\s]*(\))")


def retag(source: str, tag: str) -> str:
    for pattern in PATTERNS:
        source = re.sub(pattern, rf"\g<1>{tag}\g<2>", source)
    return source


def main(argv: list[str]) -> int:
    tag = release_tag()
    stale = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        text = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(text, as_version=4)
        cell = next(c for c in notebook.cells if c.cell_type == "code")
        new = retag(cell.source, tag)
        if new == cell.source:
            continue
        stale.append(path.name)
        if "--check" not in argv:
            cell.source = new
            path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    if "--check" in argv and stale:
        print(f"these chapters clone another tag than {tag}: {', '.join(stale)}; run scripts/set_release_tag.py",
              file=sys.stderr)
        return 1
    print(f"{len(stale)} chapter(s) {'to update' if '--check' in argv else 'updated'} to {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

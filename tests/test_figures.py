"""The figures in assets/ are what scripts/make_figures.py draws, and the course shows them.

Byte-for-byte equality only holds for the matplotlib version that drew the committed files (it is recorded in
them); with another version the test still runs the script and checks names and picture sizes.
"""
from __future__ import annotations

import base64
import importlib.util
import re
import struct
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"


def load_script():
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "scripts" / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_figures = load_script()
NAMES = sorted(make_figures.FIGURES)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    make_figures.write(out)
    return out


def drawn_with(svg: Path) -> str | None:
    found = re.search(r"Matplotlib v([\w.]+)", svg.read_text())
    return found.group(1) if found else None


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name", NAMES)
def test_committed_figure_is_what_the_script_draws(name, fresh):
    for suffix in (".svg", ".png"):
        committed = ASSETS / f"{name}{suffix}"
        assert committed.is_file(), f"{committed.relative_to(ROOT)} is missing: run python scripts/make_figures.py"
    if drawn_with(ASSETS / f"{name}.svg") == matplotlib.__version__:
        for suffix in (".svg", ".png"):
            assert (fresh / f"{name}{suffix}").read_bytes() == (ASSETS / f"{name}{suffix}").read_bytes(), (
                f"assets/{name}{suffix} differs from what scripts/make_figures.py draws now: run the script and "
                f"commit the result")
    else:  # another matplotlib renders text differently; the drawing must still have the same frame
        assert png_size(fresh / f"{name}.png") == png_size(ASSETS / f"{name}.png")


@pytest.mark.parametrize("name", NAMES)
def test_figure_is_shown_somewhere(name):
    places = [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    assert any(re.search(rf"(assets/|attachment:){name}\.(svg|png)", p.read_text()) for p in places), (
        f"assets/{name}.* is shown neither in README.md nor in a chapter")


def test_notebook_attachments_are_the_current_figures():
    """A chapter showing assets/NAME.png as an attachment carries the current file (make_figures refreshes it)."""
    import nbformat

    seen = 0
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for name, bundle in cell.get("attachments", {}).items():
                if (ASSETS / name).is_file() and name.endswith(".png"):
                    seen += 1
                    assert base64.b64decode(bundle["image/png"]) == (ASSETS / name).read_bytes(), (
                        f"{path.name} shows an old {name}: run python scripts/make_figures.py")
    assert seen, "chapter 00 should show the course map (attachment:course_map.png)"

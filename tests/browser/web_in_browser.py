"""The lecture decks and the web edition, opened in a real headless Chromium (part of stage 2).

    python -m pytest tests/browser/web_in_browser.py -p no:nbval -o addopts=-ra

Uses what `bash course.sh slides` and `bash course.sh book` built in ``build/`` when it is newer than every
notebook; else builds it here (``scripts/web_edition.py``), and skips, saying what to install, when the build tools
(the `web` extra of pyproject.toml) are missing. The pages are served from ``build/`` on 127.0.0.1, and every request
to another host is refused and reported: the decks and the book must work offline.

* decks: a few chapters open, reveal.js starts, a key press advances the deck, every figure on the slides loads and
  has alt text, the widget of a chapter shows as its last figure with "run the notebook to interact", and no
  ``VBox(children=...)`` text shows;
* book: the first page lists every chapter in course order, a chapter page's figures load (with alt text), maths is
  typeset, and the search page finds a term.
"""
from __future__ import annotations

import functools
import json
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from browser_lab import ROOT, chapter_notebooks

BUILD = ROOT / "build"
SLIDES, BOOK = BUILD / "slides", BUILD / "book"
CHAPTERS = chapter_notebooks()
DECKS = [p for p in CHAPTERS if p.name[:2] in ("00", "01", "04")]  # the course map, maths + a widget, two widgets
BOOK_PAGE = "notebooks/01_attention.html"
TYPESET = ".MathJax, .MathJax_Display, .MathJax_SVG"  # what MathJax 2 leaves where it typeset maths


_MISSING_TOOLS: dict[str, str] = {}  # what could not be built for want of a tool -> why (tried once a run)


def _fresh(built: Path, what: str) -> bool:
    sources = [*CHAPTERS, ROOT / "scripts" / "web_edition.py"]
    if what == "slides":
        sources += (ROOT / "scripts" / "web_templates").rglob("*.*")
    newest_source = max(p.stat().st_mtime for p in sources)
    return built.exists() and built.stat().st_mtime >= newest_source


def _build(what: str, marker: Path) -> None:
    """Build the decks or the book unless ``build/`` already has a fresh copy; skip when the tools are missing."""
    import fcntl

    if what in _MISSING_TOOLS:
        pytest.skip(_MISSING_TOOLS[what])
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / ".web-build.lock", "w") as lock:  # test workers side by side build once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _fresh(marker, what):
            _run_build(what)


def _run_build(what: str) -> None:
    command = [sys.executable, str(ROOT / "scripts" / "web_edition.py"), what]
    if what == "slides":
        command += [p.name[:2] for p in DECKS]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if result.returncode == 3:  # web_edition.py: a build tool is missing
        _MISSING_TOOLS[what] = f"cannot build the {what}: {result.stderr.strip()} (then: bash course.sh browser)"
        pytest.skip(_MISSING_TOOLS[what])
    assert result.returncode == 0, f"building the {what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def server():
    """``build/`` served on 127.0.0.1 (the book's search needs http; file:// pages cannot fetch its index)."""
    BUILD.mkdir(exist_ok=True)
    handler = functools.partial(_QuietHandler, directory=str(BUILD))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def offline_page(page, server):
    """A page that may load only from the local server; what it tried to fetch elsewhere is in ``page.remote``."""
    page.remote = []

    def route(route_):
        if route_.request.url.startswith(server):
            route_.continue_()
        else:
            page.remote.append(route_.request.url)
            route_.abort()

    page.route("**/*", route)
    return page


def _images(page) -> list[dict]:
    return page.evaluate("""(scope) => [...document.querySelectorAll(scope)].map(img => ({
        src: img.getAttribute('src').slice(0, 80), alt: img.getAttribute('alt') || '',
        loaded: img.complete && img.naturalWidth > 0}))""", "img")


@pytest.mark.parametrize("notebook", DECKS, ids=[p.stem for p in DECKS])
def test_deck_opens_offline_advances_and_shows_its_figures(notebook, offline_page, server, output_dir):
    _build("slides", SLIDES / f"{notebook.stem}.slides.html")
    page = offline_page
    page.goto(f"{server}/slides/{notebook.stem}.slides.html")
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    total = page.evaluate("() => Reveal.getTotalSlides()")
    assert total >= 5, f"the deck has only {total} slides"
    before = page.evaluate("() => Reveal.getProgress()")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => Reveal.getProgress() > {before}", timeout=5_000)
    page.keyboard.press("Space")
    page.wait_for_timeout(1_000)  # the slide transition
    page.screenshot(path=str(output_dir / f"{notebook.stem}.slides.png"))
    images = _images(page)
    assert images, "the deck shows no figure"
    # reveal.js lays out every slide up front, so the figures of later slides load too
    page.wait_for_function("() => [...document.images].every(img => img.complete)", timeout=20_000)
    images = _images(page)
    broken = [i["src"] for i in images if not i["loaded"]]
    assert not broken, f"figures that do not load: {broken}"
    assert all(i["alt"].strip() for i in images), f"figures without alt text: {[i['src'] for i in images if not i['alt']]}"
    text = page.evaluate("() => document.querySelector('.reveal .slides').textContent")  # hidden slides too
    assert "VBox(children=" not in text and "interactive(children=" not in text, "a widget shows as text"
    if _has_widget(notebook):
        assert "run the notebook to interact" in text, "the widget's place does not say how to use it"
    assert page.evaluate("() => !!(window.MathJax && MathJax.Hub)"), "MathJax did not load"
    if _has_maths(notebook):  # MathJax typesets the chapter's maths
        page.wait_for_function(f"() => document.querySelectorAll('{TYPESET}').length > 0", timeout=30_000)
    assert not page.remote, f"the deck tried to load from the network: {page.remote[:5]}"
    assert not page.uncaught_errors, f"errors in the page: {page.uncaught_errors[:3]}"


def _has_maths(notebook: Path) -> bool:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return any(c["cell_type"] == "markdown" and "$" in "".join(c["source"]) for c in cells)


def _has_widget(notebook: Path) -> bool:
    return "application/vnd.jupyter.widget-view+json" in notebook.read_text(encoding="utf-8")


def test_book_lists_the_chapters_in_order_and_shows_a_chapter(offline_page, server, output_dir):
    _build("book", BOOK / "index.html")
    page = offline_page
    page.goto(f"{server}/book/index.html")  # Jupyter Book's index.html forwards to the first chapter
    page.wait_for_url(f"**/notebooks/{CHAPTERS[0].stem}.html", timeout=15_000)
    page.wait_for_load_state("load")
    links = page.evaluate("""() => [...document.querySelectorAll('nav.bd-links a.reference.internal')]
                                   .map(a => a.getAttribute('href'))""")
    chapters = [next((p.stem for p in CHAPTERS if p.stem in link), None) for link in links]
    listed = [c for c in chapters if c]
    assert listed == [p.stem for p in CHAPTERS[1:]], f"the navigation lists {listed}"
    page.goto(f"{server}/book/{BOOK_PAGE}")
    page.wait_for_load_state("load")
    page.wait_for_function("() => [...document.images].every(img => img.complete)", timeout=20_000)
    page.wait_for_function(f"() => document.querySelectorAll('{TYPESET}').length > 0", timeout=30_000)
    page.screenshot(path=str(output_dir / "book.chapter01.png"), full_page=False)
    images = [i for i in _images(page) if "_images/" in i["src"] or i["src"].startswith("data:")]
    assert images, "the chapter page shows no figure"
    assert all(i["loaded"] for i in images), f"figures that do not load: {[i['src'] for i in images if not i['loaded']]}"
    assert all(i["alt"].strip() for i in images), "a figure has no alt text"
    text = page.inner_text("main")
    assert "VBox(children=" not in text, "a widget shows as VBox(...) text"
    assert "run the notebook to interact" in text
    assert not page.remote, f"the page tried to load from the network: {page.remote[:5]}"


def test_book_search_finds_a_term(offline_page, server):
    _build("book", BOOK / "index.html")
    page = offline_page
    page.goto(f"{server}/book/search.html?q=wordpiece")
    page.wait_for_function("() => document.querySelectorAll('#search-results li, ul.search li').length > 0",
                           timeout=30_000)
    found = page.evaluate("() => [...document.querySelectorAll('ul.search li a')].map(a => a.getAttribute('href'))")
    assert any("04_tokenizers" in href for href in found), f"searching 'wordpiece' found {found[:10]}"
    assert not page.remote, f"the search page tried to load from the network: {page.remote[:5]}"

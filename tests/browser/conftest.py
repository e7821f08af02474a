"""Fixtures of the browser stage: one JupyterLab server and one headless Chromium for the whole run (for each
worker, when pytest-xdist runs chapters side by side: `MINIBERT_WORKERS=2 bash course.sh browser`).

Stage 1 of the test command walks into this folder too; nothing here imports Playwright until a fixture is used,
and this folder's test file is not named ``test_*.py``, so stage 1 collects nothing from it.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_lab import CHROMIUM_ARGS, ROOT, JupyterLab, find_chromium

OUTPUT = ROOT / "test-output" / "browser"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... under pytest-xdist; "" without it


def pytest_sessionstart(session):
    """Once per run, in the process that reports (not in each xdist worker): clear the last run's pictures and
    per-chapter results."""
    if WORKER:
        return
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in [*OUTPUT.glob("*.png"), *OUTPUT.glob("*.result.txt")]:
        old.unlink()


def record_result(chapter: str, text: str) -> None:
    """One chapter's summary, as a file: the workers that ran the chapters are not the process that reports."""
    (OUTPUT / f"{chapter}.result.txt").write_text(text)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def lab(output_dir):
    with JupyterLab(output_dir / f"jupyterlab{'-' + WORKER if WORKER else ''}.log") as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.fail("no Chromium found: install Debian's `chromium` package or set MINIBERT_CHROMIUM=/path/to/chrome "
                    "(`bash course.sh test` skips this stage, loudly, when it cannot install one)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.uncaught_errors = []
    page.on("pageerror", lambda error: page.uncaught_errors.append(str(error)))
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter):
    results = sorted(OUTPUT.glob("*.result.txt")) if OUTPUT.is_dir() and not WORKER else []
    if results:
        terminalreporter.section("chapters in a real browser")
        for path in results:
            terminalreporter.write_line(path.read_text())
        terminalreporter.write_line(f"screenshots and the JupyterLab log: {OUTPUT.relative_to(ROOT)}/")


def chapter_timeout() -> float:
    return float(os.environ.get("MINIBERT_BROWSER_TIMEOUT", "300"))

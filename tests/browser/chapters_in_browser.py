"""Stage 2 of the test command: every chapter, run in JupyterLab in a real headless Chromium.

    python -m pytest tests/browser/chapters_in_browser.py -p no:nbval -o addopts=-ra   # all chapters
    ... -k 00_welcome                                                                 # one chapter

For each chapter (``notebooks/NN_*.ipynb``, found on disk, so chapters that land later are covered): clear the
outputs, run all cells the way a learner does (JupyterLab's "Run All"), then check

* no cell raised, except cells tagged ``raises-exception`` (which must raise), and every cell ran;
* every image in the text (markdown cells: attachments, ``../assets/`` files) loads;
* every widget the chapter displays rendered in the page, and there are as many as the committed notebook shows;
* each widget with controls: its sliders, dropdowns, toggles and checkboxes, moved as a learner does, change its
  figure (the rules, and how hard each control is tried, are in widget_controls.py), and nothing crashed in the
  page or raised in the kernel meanwhile.

A screenshot per chapter (and one per widget after its controls moved) goes to ``test-output/browser/``.
Nothing here is collected by stage 1 (the file name does not match ``test_*.py``); `bash course.sh test` runs it.
"""
from __future__ import annotations

import time

import pytest
from browser_lab import (ROOT, broken_images, callback_errors, chapter_notebooks, committed_widget_views,
                         run_chapter, shutdown_kernel, wait_for_widgets, widget_error)
from widget_controls import move_controls
from conftest import chapter_timeout, record_result

CHAPTERS = chapter_notebooks()


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_and_its_widgets_work(notebook, lab, page, output_dir):
    started, log_start = time.monotonic(), len(lab.log_text())
    run = run_chapter(page, lab, notebook, timeout=chapter_timeout())
    run = wait_for_widgets(page, run)
    problems = run.problems()

    problems += [f"an image in the text does not load: {src!r}" for src in broken_images(page)]

    expected = committed_widget_views(notebook)
    widgets = run.widgets
    rendered = [w for w in widgets if w["rendered"]]
    if len(widgets) != expected:
        problems.append(f"the committed notebook displays {expected} widget(s) but the browser run displayed "
                        f"{len(widgets)}: re-execute it (scripts/execute_notebooks.py) or look for a cell that "
                        f"behaves differently in JupyterLab")
    for w in widgets:
        if not w["rendered"]:
            problems.append(f"widget {w['number']} did not render; the page shows: {widget_error(page, w['number'])!r}")

    notes = []
    for w in rendered:
        view = page.locator(f'[data-minibert-widget="{w["number"]}"]')
        report = move_controls(page, view)
        view.screenshot(path=str(output_dir / f"{notebook.stem}.widget{w['number']}.png"), animations="disabled")
        if not report.moves:
            notes.append(f"widget {w['number']}: no control to move")
        notes += [f"widget {w['number']} {move.describe()}" for move in report.moves]
        notes += [f"widget {w['number']} WARNING: {text}" for text in report.warnings]
        problems += [f"widget {w['number']}: {text}" for text in report.problems]
        for text in view.locator('[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts():
            if "Error" in text or "Traceback" in text:
                problems.append(f"widget {w['number']} shows an error: {text.strip()[-300:]}")

    kernel_log = lab.log_text()[log_start:]
    if "Traceback (most recent call last)" in kernel_log:
        problems.append("the kernel logged a traceback (an exception in a widget callback?):\n"
                        + kernel_log[kernel_log.index("Traceback (most recent call last)"):][:1500])
    raised = callback_errors(page)
    problems += [f"a widget callback raised in the kernel ({raised.count(e)}x): {e.strip()[-600:]}"
                 for e in dict.fromkeys(raised)]
    problems += [f"uncaught JavaScript error in the page: {e}" for e in page.uncaught_errors]

    if rendered:
        page.locator(f'[data-minibert-widget="{rendered[0]["number"]}"]').scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / f"{notebook.stem}.png"))
    shutdown_kernel(page)

    summary = (f"{notebook.stem}: {'ok' if not problems else 'FAILED'} in {time.monotonic() - started:.0f} s "
               f"(Run All {run.seconds:.0f} s); {sum(c.execution_count is not None for c in run.cells)}/"
               f"{len(run.cells)} code cells ran; widgets rendered {len(rendered)}/{expected}")
    record_result(notebook.stem, summary + "".join(f"\n    {n}" for n in notes))
    assert not problems, (f"{notebook.relative_to(ROOT)} in JupyterLab + Chromium:\n  - " + "\n  - ".join(problems)
                          + f"\n(screenshots: {output_dir.relative_to(ROOT)}/{notebook.stem}*.png)")

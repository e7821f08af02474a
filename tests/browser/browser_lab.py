"""Run the course's chapters the way a learner does: in JupyterLab, in a real (headless) Chromium.

This module holds the machinery of stage 2 of the test command (`bash course.sh test`); the checks themselves are in
``chapters_in_browser.py`` beside it. Nothing here downloads a browser: Playwright drives the Chromium installed on
the machine (Debian's ``chromium`` package, or ``MINIBERT_CHROMIUM=/path/to/chrome``).

* :class:`JupyterLab` starts one JupyterLab server on loopback for all chapters, with token auth, in a scratch root
  folder: ``notebooks/`` is a copy (running a chapter can never write into the repository's notebooks) and every
  other top-level entry of the repository is a symlink, so ``../assets/...`` works as it does in a checkout.
* :func:`run_chapter` opens a notebook in a fresh page, clears its outputs, runs all cells and reports what happened
  cell by cell (:class:`ChapterRun`).
* ``widget_controls.py`` moves the sliders and dropdowns of a widget and says whether its figure changed.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# Debian's chromium, as the brief of the browser stage asks; quiet and offline.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync",
                 # containers (CI) often have a 64 MB /dev/shm, too small for a page full of figures
                 "--disable-dev-shm-usage"]
CHROMIUM_CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                       "/Applications/Chromium.app/Contents/MacOS/Chromium",
                       "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"]

# JupyterLab settings for a test run: every cell attached to the page (the default windowing leaves cells out of
# the DOM while they are off screen), no autosave, no news pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def find_chromium() -> str | None:
    """Path of the Chromium to drive: ``$MINIBERT_CHROMIUM``, else the first known name on this machine."""
    explicit = os.environ.get("MINIBERT_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    return None


def chapter_notebooks() -> list[Path]:
    """Every chapter of the course: ``notebooks/NN_name.ipynb``, in order."""
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if not p.name.endswith(".check.ipynb"))


def committed_widget_views(notebook: Path) -> int:
    """How many widgets the chapter displays, read from its committed outputs (what a clean execution produced)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(WIDGET_MIME in output.get("data", {})
               for cell in cells if cell["cell_type"] == "code" for output in cell.get("outputs", []))


def course_environment() -> dict[str, str]:
    """The environment notebooks run in everywhere in the test suite (offline, 2 threads, this checkout first)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from execute_notebooks import course_environment as shared
    finally:
        sys.path.pop(0)
    env = shared()
    env.pop("MPLBACKEND", None)  # the kernel must use the inline backend, as in a learner's JupyterLab
    return env


def _die_with_parent() -> None:
    """In the server's process (Linux): get SIGTERM when the test process dies, even when it is killed, so no
    JupyterLab (and kernels) outlive an interrupted run."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the fixture's teardown still stops the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """One JupyterLab server on 127.0.0.1 with a random port and token, serving a scratch copy of the course."""

    def __init__(self, log_path: Path, startup_timeout: float = 120.0):
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.base = Path(tempfile.mkdtemp(prefix="minibert-lab-"))
        self.root = self.base / "course"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, relative_path: str) -> str:
        return f"{self.url}/lab/tree/{relative_path}?reset&token={self.token}"

    def _prepare(self) -> None:
        self.root.mkdir()
        for entry in ROOT.iterdir():
            if entry.name in {".git", ".venv", "notebooks", "test-output"} or entry.name.startswith(".ipynb"):
                continue
            (self.root / entry.name).symlink_to(entry)
        shutil.copytree(NOTEBOOKS, self.root / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.check.ipynb"))
        for relative, values in LAB_SETTINGS.items():
            path = self.base / "settings" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        for folder in ("workspaces", "config", "runtime", "data"):
            (self.base / folder).mkdir()

    def start(self) -> "JupyterLab":
        self._prepare()
        env = course_environment()
        env.update(JUPYTER_CONFIG_DIR=str(self.base / "config"), JUPYTER_RUNTIME_DIR=str(self.base / "runtime"),
                   JUPYTER_DATA_DIR=str(self.base / "data"))  # ignore the user's own Jupyter config and kernels
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                   "--LabApp.expose_app_in_browser=True",
                   f"--LabApp.user_settings_dir={self.base / 'settings'}",
                   f"--LabApp.workspaces_dir={self.base / 'workspaces'}"]
        if hasattr(os, "getuid") and os.getuid() == 0:
            command.append("--allow-root")  # JupyterLab refuses root otherwise (CI machines run as root)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {self.startup_timeout:.0f} s; see {self.log_path}")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> "JupyterLab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------------------------
# In the page. `window.jupyterapp` is there because the server runs with --LabApp.expose_app_in_browser.

_OPEN_AND_RUN = """async (path) => {
  const app = window.jupyterapp;
  await app.started; await app.restored;
  let panel = null;
  for (let i = 0; i < 600 && !panel; i++) {
    const w = app.shell.currentWidget;
    if (w && w.context && w.context.path === path && w.sessionContext) panel = w;
    else await new Promise(r => setTimeout(r, 100));
  }
  if (!panel) throw new Error('JupyterLab did not open ' + path);
  await panel.context.ready; await panel.sessionContext.ready;
  window.__minibert = {panel, done: false, error: null, callbackErrors: []};
  // Exceptions raised while the kernel handles a widget's message (a callback of a slider, say) belong to no
  // cell: JupyterLab sends them to its log console. Collect them here.
  panel.sessionContext.iopubMessage.connect((_, msg) => {
    if (!msg.parent_header || msg.parent_header.msg_type !== 'comm_msg') return;
    const type = msg.header.msg_type, content = msg.content;
    if (type === 'error') window.__minibert.callbackErrors.push(content.ename + ': ' + content.evalue);
    if (type === 'stream' && content.name === 'stderr' && /Traceback|Error|Exception/.test(content.text))
      window.__minibert.callbackErrors.push(content.text);
  });
  await app.commands.execute('notebook:clear-all-cell-outputs');
  app.commands.execute('notebook:run-all-cells')
    .then(() => { window.__minibert.done = true; })
    .catch(e => { window.__minibert.done = true; window.__minibert.error = String(e); });
  return panel.content.widgets.length;
}"""

_PROGRESS = """() => {
  const state = window.__minibert, kernel = state.panel.sessionContext.session?.kernel;
  const code = state.panel.content.widgets.filter(c => c.model.type === 'code');
  return {done: state.done, error: state.error, kernel: kernel ? kernel.status : 'none',
          pending: code.filter(c => c.model.executionCount === null).length};
}"""

# Every code cell with its outputs; each displayed widget's node gets a `data-minibert-widget` number.
_REPORT = """() => {
  const cells = [];
  let widgetNumber = 0;
  window.__minibert.panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs.toJSON();
    const tags = cell.model.getMetadata('tags') || [];
    const source = cell.model.sharedModel.getSource();
    const widgets = [];
    outputs.forEach((output, j) => {
      if (!(output.data && output.data['""" + WIDGET_MIME + """'])) return;
      const child = cell.outputArea.widgets[j];
      const node = child ? child.node : null;
      const number = widgetNumber++;
      if (node) node.setAttribute('data-minibert-widget', String(number));
      const view = node && node.querySelector('.jupyter-widgets[class*="widget-"]');
      // a view (or a view nested in it) that failed shows an error box instead of itself
      const broken = node && node.querySelectorAll('.jupyter-widgets-error-widget').length;
      const text = node ? node.textContent : '';
      widgets.push({number, model_id: output.data['""" + WIDGET_MIME + """'].model_id,
                    rendered: !!view && !broken && !/Error displaying widget|javascript error/.test(text),
                    text: text.replace(/\\s+/g, ' ').trim().slice(0, 300)});
    });
    cells.push({index, execution_count: cell.model.executionCount, first_line: source.split('\\n')[0],
                raises: tags.includes('raises-exception'),
                errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
                widgets});
  });
  return cells;
}"""

_SHUTDOWN = """async () => { const s = window.__minibert && window.__minibert.panel.sessionContext;
  if (s) await s.shutdown(); }"""


@dataclass
class Cell:
    index: int
    execution_count: int | None
    first_line: str
    raises: bool
    errors: list[str]
    widgets: list[dict]


@dataclass
class ChapterRun:
    name: str
    seconds: float
    cells: list[Cell] = field(default_factory=list)
    timed_out: bool = False
    run_error: str | None = None

    @property
    def widgets(self) -> list[dict]:
        return [w for cell in self.cells for w in cell.widgets]

    def problems(self) -> list[str]:
        found = []
        if self.timed_out:
            found.append(f"the cells were still running after {self.seconds:.0f} s")
        if self.run_error:
            found.append(f"JupyterLab's run-all failed: {self.run_error}")
        not_run = [c.index for c in self.cells if c.execution_count is None]
        if not_run:
            found.append(f"cells {not_run} never ran (execution stops at the first unexpected error)")
        for c in self.cells:
            if c.errors and not c.raises:
                found.append(f"cell {c.index} ({c.first_line[:60]!r}) raised {'; '.join(c.errors)[:400]}")
            if c.raises and not c.errors:
                found.append(f"cell {c.index} is tagged raises-exception but raised nothing")
        return found


def run_chapter(page, lab: JupyterLab, notebook: Path, timeout: float) -> ChapterRun:
    """Open ``notebook`` in ``page``, run all cells and wait until the kernel is idle with nothing left to run."""
    relative = notebook.relative_to(ROOT).as_posix()
    start = time.monotonic()
    page.goto(lab.notebook_url(relative))
    page.wait_for_function("window.jupyterapp !== undefined", timeout=timeout * 1000)
    page.evaluate(_OPEN_AND_RUN, relative)
    run = ChapterRun(notebook.stem, 0.0)
    idle_since = None
    while True:
        # JupyterLab's Run All sends every cell at once; its promise settles early when a cell raises (even one
        # tagged raises-exception, after which the kernel goes on with the rest). So the run is over when the
        # kernel is idle and every code cell has run, or when the kernel has stayed idle for a while with cells
        # left over (the kernel dropped them after an unexpected error).
        progress = page.evaluate(_PROGRESS)
        if progress["done"] and progress["kernel"] == "idle":
            idle_since = idle_since or time.monotonic()
            quiet = time.monotonic() - idle_since
            if quiet > (1.0 if progress["pending"] == 0 else 8.0):
                break
        else:
            idle_since = None
        if time.monotonic() - start > timeout:
            run.timed_out = True
            break
        time.sleep(0.25)
    run.seconds = time.monotonic() - start
    run.run_error = page.evaluate("() => window.__minibert.error")
    run.cells = [Cell(**c) for c in page.evaluate(_REPORT)]
    return run


def wait_for_widgets(page, run: ChapterRun, timeout: float = 30.0) -> ChapterRun:
    """Widget views render asynchronously after their output arrives: wait (up to ``timeout``) for all of them."""
    deadline = time.monotonic() + timeout
    while any(not w["rendered"] for w in run.widgets) and time.monotonic() < deadline:
        time.sleep(0.5)
        run.cells = [Cell(**c) for c in page.evaluate(_REPORT)]
    return run


def widget_error(page, number: int) -> str:
    """What a widget that failed to render shows; a failed view hides its JavaScript error until clicked."""
    view = page.locator(f'[data-minibert-widget="{number}"]')
    boxes = view.locator(".jupyter-widgets-error-widget")
    for i in range(boxes.count()):
        boxes.nth(i).click()
    return " ".join(view.inner_text().split())[:400]


def callback_errors(page) -> list[str]:
    """Exceptions the kernel reported while handling widget messages (see _OPEN_AND_RUN)."""
    return page.evaluate("() => window.__minibert.callbackErrors")


def broken_images(page, timeout: float = 15.0) -> list[str]:
    """Images in the chapter's text (markdown cells) that the browser could not load, e.g. a wrong assets/ path."""
    script = """() => [...document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown img')].map(img => {
        img.loading = 'eager';
        return {src: (img.getAttribute('src') || '').slice(0, 120), done: img.complete,
                ok: img.complete && img.naturalWidth > 0};
    })"""
    deadline = time.monotonic() + timeout
    images = page.evaluate(script)
    while any(not i["done"] for i in images) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        images = page.evaluate(script)
    return [i["src"] for i in images if not i["ok"]]


def kernel_status(page) -> str:
    return page.evaluate("() => window.__minibert.panel.sessionContext.session?.kernel?.status || 'none'")


def shutdown_kernel(page) -> None:
    try:
        page.evaluate(_SHUTDOWN)
    except Exception:  # the page may already be gone; the server's exit stops the kernel anyway
        pass

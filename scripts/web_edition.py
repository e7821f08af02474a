"""Build the course's lecture decks and its web edition from the committed notebooks, without executing them.

    python scripts/web_edition.py slides [NN ...]   # build/slides/NN_name.slides.html, one reveal.js deck a chapter
    python scripts/web_edition.py book              # build/book/index.html: the web edition (Jupyter Book 1.x)

`bash course.sh slides` and `bash course.sh book` install what these need (the `web` extra of pyproject.toml) and
call them. Both read the notebooks as committed, outputs included, and never run a cell. Nothing they produce loads
anything from the network: the decks load reveal.js (the copy the `sphinx-revealjs` package ships) and MathJax 2
(the copy `jupyter-server-mathjax` ships) from `build/slides/_vendor/`; the book serves the same MathJax from its own
`_static/` folder.

A widget cannot live in a static page. Its committed output is a widget view, whose figure sits in the notebook's
widget state (the Output widget inside it keeps the last figure it drew). :func:`static_widgets` puts that figure in
the widget's place, with the settings it was drawn for and a line saying "run the notebook to interact"; a static
export would otherwise show ``VBox(children=...)`` text, or load a widget manager from a CDN.
"""
from __future__ import annotations

import argparse
import copy
import html
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from slide_metadata import chapters  # one chapter selector for the decks, their metadata and the book

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # minibert, also when it is not installed
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
FIGURE_MIMES = ("image/png", "image/svg+xml", "image/jpeg")
INTERACT_NOTE = "run the notebook to interact"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"  # the one combined configuration jupyter-server-mathjax ships
TEMPLATES = Path(__file__).resolve().parent / "web_templates"


class MissingTool(RuntimeError):
    """A build tool is not installed (the message says what to install)."""


def vendored(package: str, folder: str, what: str) -> Path:
    """The folder ``folder`` inside the installed Python package ``package`` (a copy of a JavaScript library)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingTool(f"{what} comes from the Python package {package.replace('_', '-')}, which is not installed: "
                          f"run `bash course.sh slides` (it installs the `web` extra), or "
                          f"`pip install -e '.[web]'`")
    path = Path(list(spec.submodule_search_locations)[0]) / folder
    if not path.is_dir():
        raise MissingTool(f"{package} is installed but has no {folder}/ ({what}); reinstall it")
    return path


# ---------------------------------------------------------------------------------------------------------- widgets
def _plain(markdown: str) -> str:
    """Markdown to one plain sentence (for alt text): the first sentence of 20 characters or more."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", markdown)
    text = re.sub(r"^\s*(#+|[-*]|\d+\.)\s+", "", text, flags=re.M)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[#*_`$>|]", "", text)
    text = " ".join(text.split())
    sentences = [s for s in re.split(r"(?<=[.!?:])\s", text) if s]
    sentence = next((s for s in sentences if len(s) >= 20), sentences[0] if sentences else "")
    return sentence if len(sentence) <= 200 else sentence[:197] + "..."


def _control_setting(state: dict) -> str | None:
    """``"layer = 5"`` for a slider, dropdown, text box or checkbox that has a description; None otherwise."""
    description = state.get("description")
    if not description or "value" not in state and "index" not in state:
        return None
    if "_options_labels" in state and state.get("index") is not None:
        value = state["_options_labels"][state["index"]]
    else:
        value = state.get("value")
    if isinstance(value, float):
        value = f"{value:g}"
    if isinstance(value, str) and len(value) > 40:
        value = value[:37] + "..."
    return f"{description} = {value}"


def _walk(models: dict, model_id: str, seen: set) -> list[dict]:
    """The widget ``model_id`` and all the widgets inside it, depth first."""
    if model_id in seen or model_id not in models:
        return []
    seen.add(model_id)
    found = [models[model_id]]
    for child in models[model_id].get("state", {}).get("children", []) or []:
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            found += _walk(models, child[len("IPY_MODEL_"):], seen)
    return found


def static_widgets(notebook, chapter: str = ""):
    """A copy of ``notebook`` for static pages: every widget output becomes its last rendered figure and a note.

    Also gives every figure output alt text (``metadata.alt`` of the output, and the cell's ``mystnb.image.alt``
    for the book), taken from the markdown cell that introduces it. The widget state itself is dropped, so no
    exporter loads a widget manager.
    """
    notebook = copy.deepcopy(notebook)
    models = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    introduction, section = "", ""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            heading = re.match(r"\s*#+\s+(.+)", cell.source)
            section = _plain(heading.group(1)) if heading else section
            introduction = _plain(cell.source) or introduction
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW) if output.get("output_type") != "stream" else None
            if view is None:
                outputs.append(output)
                continue
            widgets = _walk(models, view.get("model_id", ""), set())
            figures = [inner for widget in widgets if widget.get("model_name") == "OutputModel"
                       for inner in widget.get("state", {}).get("outputs", [])
                       if any(mime in inner.get("data", {}) for mime in FIGURE_MIMES)]
            texts = [widget["state"]["value"] for widget in widgets
                     if widget.get("model_name") == "HTMLModel" and widget.get("state", {}).get("value")]
            settings = [s for s in (_control_setting(w.get("state", {})) for w in widgets) if s]
            shown = f" for {', '.join(settings)}" if settings else ""
            for text in texts:
                outputs.append(nbformat.v4.new_output("display_data", data={"text/html": text,
                                                                              "text/plain": _plain(text)}))
            for figure in figures:
                outputs.append(nbformat.v4.new_output("display_data", data=dict(figure["data"]),
                                                      metadata={"alt": f"Interactive figure ({section}) as last "
                                                                       f"drawn{shown}; the text before it: "
                                                                       f"{introduction}"}))
            if figures or texts:
                note = f"Interactive widget, shown as last drawn{shown}: {INTERACT_NOTE}."
            else:
                note = (f"Interactive widget: the notebook keeps no picture of it, so there is nothing to show "
                        f"here; {INTERACT_NOTE}.")
            outputs.append(nbformat.v4.new_output("display_data", data={
                "text/html": f'<p class="minibert-widget-note"><em>{html.escape(note)}</em></p>',
                "text/plain": note}))
        cell.outputs = outputs
        alt = None
        for number, output in enumerate(cell.outputs):
            if any(mime in output.get("data", {}) for mime in FIGURE_MIMES):
                output.setdefault("metadata", {})
                where = f"chapter {chapter}, {section}" if chapter else section
                alt = output["metadata"].get("alt") or (f"Figure ({where}) drawn by the code above; "
                                                        f"the text before it: {introduction}")
                output["metadata"]["alt"] = alt
        if alt:
            cell.metadata.setdefault("mystnb", {}).setdefault("image", {})["alt"] = alt
    notebook.metadata.pop("widgets", None)
    return notebook


# ----------------------------------------------------------------------------------------------------------- slides
def remote_loads(page: str) -> list[str]:
    """The scripts, style sheets and imports a page would fetch from another host (none, for the course's pages)."""
    tags = re.findall(r"<script[^>]*\ssrc=[\"']([^\"']+)|<link[^>]*\shref=[\"']([^\"']+)[^>]*>|@import\s+(?:url\()?"
                      r"[\"']([^\"']+)|\bimport\s[^;]*from\s+[\"']([^\"']+)", page)
    return [url for match in tags for url in match if re.match(r"(https?:)?//", url)]


def build_slides(numbers: list[str] | None = None, out: Path = BUILD / "slides") -> list[Path]:
    """One static reveal.js deck per chapter in ``out``, with reveal.js and MathJax copied beside them."""
    from nbconvert import SlidesExporter

    reveal = vendored("sphinx_revealjs", "_static/revealjs", "reveal.js")
    mathjax = vendored("jupyter_server_mathjax", "static", "MathJax")
    out.mkdir(parents=True, exist_ok=True)
    vendor = out / "_vendor"
    for source, name in ((reveal, "reveal.js"), (mathjax, "mathjax")):
        target = vendor / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
    exporter = SlidesExporter(template_name="minibert_reveal", extra_template_basedirs=[str(TEMPLATES)])
    exporter.reveal_url_prefix = "_vendor/reveal.js"
    exporter.reveal_theme = "white"
    exporter.reveal_scroll = True
    exporter.mathjax_url = f"_vendor/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    exporter.embed_images = True  # markdown images (../assets/...) travel inside the deck
    written = []
    for path in chapters(numbers):
        notebook = static_widgets(nbformat.read(path, as_version=4), path.name[:2])
        body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": path.stem,
                                                                                  "path": str(path.parent)}})
        remote = remote_loads(body)
        if remote:
            raise RuntimeError(f"{path.name}: the deck would load {remote[0]} from the network")
        target = out / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
        print(f"  {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return written


# ------------------------------------------------------------------------------------------------------------- book
BOOK_CONFIG = """\
# Written by scripts/web_edition.py; edit it there.
title: "BERT and its offspring"
author: "the minibert course"
copyright: "the minibert course authors: code MIT, prose and figures CC BY 4.0"
only_build_toc_files: true
execute:
  execute_notebooks: "off"
parse:
  myst_enable_extensions: [dollarmath, amsmath, colon_fence, linkify]
repository:
  url: {repo_url}
  path_to_book: notebooks
  branch: main
html:
  use_repository_button: true
  use_issues_button: false
  use_edit_page_button: false
  home_page_in_navbar: true
launch_buttons:
  notebook_interface: jupyterlab
  binderhub_url: "https://mybinder.org"
  colab_url: "https://colab.research.google.com"
sphinx:
  config:
    mathjax_path: "mathjax/MathJax.js?config={mathjax_config}"
    mathjax3_config: null
    myst_update_mathjax: false
    mathjax2_config:  # MathJax 2 (the offline copy); Sphinx marks the maths it should typeset with class "math"
      tex2jax:
        inlineMath: [['\\(', '\\)']]
        displayMath: [['\\[', '\\]']]
        processEscapes: true
        processClass: "math|output_area"
        ignoreClass: "tex2jax_ignore|mathjax_ignore|document"
    html_static_path: ["_vendor"]
    html_show_sourcelink: false
    nb_render_markdown_format: myst
    suppress_warnings: ["mystnb.unknown_mime_type", "myst.header"]
"""


def attachments_to_files(notebook, folder: Path, stem: str) -> None:
    """Markdown attachments (``![...](attachment:x.png)``) as files beside the book's copy of a notebook: the book
    builder does not read attachments. Changes the copy only."""
    import base64

    for cell in notebook.cells:
        for name, bundle in (cell.get("attachments") or {}).items():
            mime = next((m for m in FIGURE_MIMES if m in bundle), None)
            if mime is None:
                continue
            relative = f"_attachments/{stem}-{name}"
            (folder / "_attachments").mkdir(exist_ok=True)
            data = bundle[mime]
            (folder / relative).write_bytes(data.encode() if mime == "image/svg+xml" else base64.b64decode(data))
            cell.source = cell.source.replace(f"attachment:{name}", relative)
        cell.pop("attachments", None)


def build_book(out: Path = BUILD / "book") -> Path:
    """The web edition in ``out`` (``out/index.html`` opens chapter 00); returns ``out``."""
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or shutil.which("jupyter-book")
    if jupyter_book is None:
        raise MissingTool("the book needs Jupyter Book 1.x, which is not installed: run `bash course.sh book` "
                          "(it installs the `web` extra), or `pip install -e '.[web]'`")
    from minibert.environment import REPO_URL

    mathjax = vendored("jupyter_server_mathjax", "static", "MathJax")
    work = BUILD / "book-source"
    if work.exists():
        shutil.rmtree(work)
    (work / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "assets", work / "assets")  # chapters link ../assets/... as in a checkout
    # not _static/: Jupyter Book adds every script found there to every page (MathJax loads its own parts)
    shutil.copytree(mathjax, work / "_vendor" / "mathjax")
    paths = chapters()
    for path in paths:
        notebook = static_widgets(nbformat.read(path, as_version=4), path.name[:2])
        attachments_to_files(notebook, work / "notebooks", path.stem)
        nbformat.write(notebook, work / "notebooks" / path.name)
    (work / "_config.yml").write_text(BOOK_CONFIG.format(repo_url=REPO_URL, mathjax_config=MATHJAX_CONFIG))
    toc = ["# Written by scripts/web_edition.py: the chapters in course order.", "format: jb-book",
           f"root: notebooks/{paths[0].stem}", "chapters:"]
    toc += [f"- file: notebooks/{path.stem}" for path in paths[1:]]
    (work / "_toc.yml").write_text("\n".join(toc) + "\n")
    subprocess.run([jupyter_book, "build", str(work), "--builder", "html", "--path-output", str(work)], check=True)
    html_dir = work / "_build" / "html"
    for page in sorted(html_dir.rglob("*.html")):
        remote = remote_loads(page.read_text(encoding="utf-8"))
        if remote:
            raise RuntimeError(f"{page.relative_to(html_dir)} would load {remote[0]} from the network")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(html_dir, out)
    (out / ".nojekyll").touch()  # GitHub Pages: serve _static/ and _images/ as they are
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["slides", "book"])
    parser.add_argument("chapters", nargs="*", help="chapter numbers for the decks (default: all)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.what == "slides":
            written = build_slides(args.chapters or None)
            print(f"==> {len(written)} decks in build/slides/ ({time.monotonic() - started:.0f} s); they open "
                  f"offline: keep the _vendor/ folder beside them")
        else:
            if args.chapters:
                parser.error("the book is built whole; chapter numbers select decks only")
            out = build_book()
            print(f"==> the web edition is in {out.relative_to(ROOT)}/ ({time.monotonic() - started:.0f} s); "
                  f"open {out.relative_to(ROOT)}/index.html, or serve it (search needs http): "
                  f"python -m http.server -d {out.relative_to(ROOT)}")
    except MissingTool as error:
        print(f"web_edition.py: {error}", file=sys.stderr)
        return 3
    except subprocess.CalledProcessError as error:
        print(f"web_edition.py: the book builder failed ({error}); its messages are above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

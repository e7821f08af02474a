"""Draw the course's static diagrams into assets/ (SVG for the README and slides, PNG for notebooks).

    python scripts/make_figures.py            # (re)write every figure in assets/, refresh notebook attachments
    python scripts/make_figures.py --out DIR  # write them elsewhere (tests/test_figures.py compares with assets/)

A notebook shows a figure as a markdown-cell attachment (``![...](attachment:course_map.png)``): the picture
travels inside the notebook, so it shows in JupyterLab, on Binder and on Colab (where a relative ``../assets/`` path
has no file behind it). Writing into assets/ also refreshes every such attachment whose name is a file in assets/,
so notebooks never show a stale copy.

The figures are diagrams, not results: nothing here is computed by a model. Their text comes from the README's
chapter table (course map) and from BERT's published design (input representation, encoder block). Output is
deterministic for a given matplotlib version (no dates, fixed SVG ids), so re-running the script changes no file
unless a drawing changed.

* ``course_map``: the chapters and what each builds on (chapter 00 shows it);
* ``bert_input``: BERT's input representation, token + segment + position embeddings (Devlin et al., 2019, fig. 2);
* ``encoder_block``: one post-LN Transformer encoder layer as BERT uses it (Vaswani et al., 2017, fig. 1, left).
"""
from __future__ import annotations

import argparse
import base64
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
PNG_DPI = 110

# what each chapter builds on (beyond the one before it in its part); drawn as the course map's arrows
BUILDS_ON = {
    "01": ["00"], "02": ["01"], "03": ["02"],
    "04": ["03"], "05": ["04"], "06": ["05"], "07": ["06"],
    "08": ["05", "06"], "09": ["05"], "10": ["05", "06"], "11": ["05"], "12": ["05", "02"], "13": ["05", "02"],
    "14": ["05"], "15": ["05", "02"],
}
PARTS = [  # (chapters, colour, caption)
    (["00", "01", "02", "03"], "#dbe9f6", "the core: attention → BERT"),
    (["04", "05", "06", "07"], "#fde3c8", "from text to a trained, fine-tuned model"),
    (["08", "09", "10", "11", "12", "13", "14", "15"], "#dff2dc", "the offspring: read in any order after 05"),
]
EDGE = "#444444"


def chapter_titles() -> dict[str, str]:
    """Chapter number -> short title, from the README's chapter table."""
    rows = re.findall(r"^\| (\d\d) \| \[([^\]]+)\]\(notebooks/", (ROOT / "README.md").read_text(), flags=re.M)
    return dict(rows)


def box(ax, x, y, w, h, text, color, fontsize=10, weight="normal", style="round,pad=0.02,rounding_size=0.08"):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, facecolor=color, edgecolor=EDGE,
                                linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, weight=weight, wrap=True)


def arrow(ax, start, end, color=EDGE, style="-|>", width=1.0, dashed=False, rad=0.0, shrink=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=11, color=color, linewidth=width,
                                 linestyle=(0, (4, 3)) if dashed else "-", connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=shrink, shrinkB=shrink))


def blank_axes(width, height):
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def course_map():
    """Three bands of chapters; an arrow means 'builds on'."""
    titles = {n: t.replace(" & ", "\n& ") if len(t) > 16 else t for n, t in chapter_titles().items()}
    width, height = 14.4, 6.6  # wide enough for the eight offspring boxes side by side
    fig, ax = blank_axes(width, height)
    w, h, y_of_part = 1.66, 0.9, [5.35, 3.35, 1.1]
    centers = {}
    for (chapters, color, caption), y in zip(PARTS, y_of_part):
        step = (width - 0.4) / len(chapters) if len(chapters) > 4 else 2.3
        x0 = (width - step * (len(chapters) - 1)) / 2
        for i, number in enumerate(chapters):
            centers[number] = (x0 + i * step, y)
        ax.add_patch(FancyBboxPatch((0.1, y - h / 2 - 0.12), width - 0.2, h + 0.62, facecolor=color, alpha=0.35,
                                    edgecolor="none", boxstyle="round,pad=0,rounding_size=0.12"))
        ax.text(0.25, y + h / 2 + 0.3, caption, fontsize=12, style="italic", color="#333333", va="center", zorder=3,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})
    for number, (x, y) in centers.items():
        color = next(c for chapters, c, _ in PARTS if number in chapters)
        box(ax, x, y, w, h, f"{number}\n{titles.get(number, '?')}", color, fontsize=11.5)
    for number, sources in BUILDS_ON.items():
        for k, source in enumerate(sources):
            (x1, y1), (x2, y2) = centers[source], centers[number]
            if abs(y1 - y2) < 1e-6:  # neighbours in a band
                arrow(ax, (x1 + w / 2, y1), (x2 - w / 2, y2))
            else:  # from a band above: leave from the bottom, arrive at the top
                arrow(ax, (x1, y1 - h / 2), (x2, y2 + h / 2), dashed=k > 0, width=1.0 if k == 0 else 0.8,
                      color=EDGE if k == 0 else "#8a8a8a")
    ax.text(width - 0.15, 0.2, "arrow: builds on;  dashed: also uses", ha="right", fontsize=10, color="#555555")
    return fig


def embedding(name: str) -> str:
    """'E' with ``name`` as a subscript, in mathtext (whose parser wants each '#' escaped and outside \\mathrm)."""
    runs = re.findall(r"#+|[^#]+", name)
    return "$E_{\\mathrm{}" + "".join("\\#" * len(r) if r[0] == "#" else "\\mathrm{" + r + "}" for r in runs) + "}$"


def bert_input():
    """Input = token embedding + segment embedding + position embedding, per token (then LayerNorm, dropout)."""
    tokens = ["[CLS]", "my", "cat", "pu", "##rred", "[SEP]", "it", "was", "happy", "[SEP]"]
    segments = ["A"] * 6 + ["B"] * 4
    n = len(tokens)
    fig, ax = blank_axes(13.0, 5.35)
    x0, step, w, h = 2.35, 1.06, 0.92, 0.56
    rows = [  # (label, y, text of each cell, colour of each cell)
        ("input", 4.55, tokens, ["#ffffff"] * n),
        ("token\nembeddings", 3.55, [embedding(t) for t in tokens], ["#f6e3a1"] * n),
        ("segment\nembeddings", 2.45, [embedding(s) for s in segments],
         ["#bfe0c6" if s == "A" else "#a9cfe8" for s in segments]),
        ("position\nembeddings", 1.35, [embedding(str(i)) for i in range(n)], ["#e7ccef"] * n),
    ]
    for label, y, texts, colors in rows:
        ax.text(0.25, y, label, ha="left", va="center", fontsize=10.5, weight="bold" if label == "input" else None)
        for i, (text, color) in enumerate(zip(texts, colors)):
            box(ax, x0 + i * step, y, w, h, text, color, fontsize=10 if label == "input" else 10.5,
                style="square,pad=0.0" if label == "input" else "round,pad=0.02,rounding_size=0.06")
    for i in range(n):
        x = x0 + i * step
        for y in (3.0, 1.9):
            ax.text(x, y, "+", ha="center", va="center", fontsize=13, weight="bold", color="#333333")
    ax.text(0.25, 0.45, "sum, then LayerNorm and dropout → the encoder's input, one vector of size H per token",
            fontsize=10.5, color="#333333")
    boundary = x0 + (segments.index("B") - 0.5) * step  # between the first [SEP] and sentence B
    ax.plot([boundary, boundary], [1.0, 5.0], color="#777777", linewidth=1, linestyle=(0, (3, 3)))
    ax.text(boundary - 0.12, 4.98, "sentence A", ha="right", fontsize=9.5, color="#555555")
    ax.text(boundary + 0.12, 4.98, "sentence B", ha="left", fontsize=9.5, color="#555555")
    return fig


def encoder_block():
    """Post-LN encoder layer: x -> LN(x + MHA(x)) -> LN(h + FFN(h)), repeated L times."""
    fig, ax = blank_axes(7.2, 8.4)
    cx, w = 3.1, 3.2
    stages = [  # (y, label, colour, height)
        (0.55, "input vectors (B, T, H)", "#ffffff", 0.5),
        (1.75, "multi-head self-attention\nsoftmax(QKᵀ/√d + mask) V", "#f6e3a1", 0.9),
        (2.95, "add & LayerNorm", "#e8e8e8", 0.5),
        (4.35, "feed-forward\nLinear(H → 4H), GELU, Linear(4H → H)", "#bfe0c6", 0.9),
        (5.55, "add & LayerNorm", "#e8e8e8", 0.5),
        (6.75, "output vectors (B, T, H)", "#ffffff", 0.5),
    ]
    for y, label, color, height in stages:
        box(ax, cx, y, w, height, label, color, fontsize=10.5)
    for (y1, _, _, h1), (y2, _, _, h2) in zip(stages, stages[1:]):
        arrow(ax, (cx, y1 + h1 / 2), (cx, y2 - h2 / 2))
    # residual connections: branch off the main line, rejoin at "add & LayerNorm"
    x_side = cx - w / 2 - 0.45
    for y_branch, y_join in ((1.05, 2.95), (3.55, 5.55)):
        ax.plot([cx, x_side, x_side], [y_branch, y_branch, y_join], color="#c0392b", linewidth=1.3)
        ax.plot([cx], [y_branch], marker="o", markersize=4, color="#c0392b")
        arrow(ax, (x_side, y_join), (cx - w / 2, y_join), color="#c0392b", width=1.3)
        ax.text(x_side - 0.1, (y_branch + y_join) / 2, "residual", rotation=90, ha="right", va="center",
                fontsize=9, color="#c0392b")
    # the bracket: this block repeats
    x_bracket = cx + w / 2 + 0.35
    ax.plot([x_bracket - 0.12, x_bracket, x_bracket, x_bracket - 0.12], [0.95, 0.95, 5.95, 5.95], color=EDGE)
    ax.text(x_bracket + 0.15, 3.55, "× L layers\nBERT-base: L=12, H=768\nBERT-large: L=24, H=1024",
            va="center", fontsize=10)
    ax.text(0.2, 8.0, "one encoder layer (post-LN, as in BERT)", fontsize=11.5, weight="bold")
    ax.text(0.2, 7.55, "h = LayerNorm(x + MultiHead(x));  y = LayerNorm(h + FFN(h))", fontsize=10)
    return fig


FIGURES = {"course_map": course_map, "bert_input": bert_input, "encoder_block": encoder_block}


def write(out: Path) -> list[Path]:
    """Write every figure as ``NAME.svg`` and ``NAME.png`` into ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with plt.rc_context({"svg.hashsalt": "minibert", "svg.fonttype": "path", "font.family": "DejaVu Sans",
                         "mathtext.fontset": "dejavusans"}):
        for name, draw in FIGURES.items():
            fig = draw()
            for suffix, options in ((".svg", {"metadata": {"Date": None}}), (".png", {"dpi": PNG_DPI})):
                path = out / f"{name}{suffix}"
                fig.savefig(path, facecolor="white", **options)
                written.append(path)
            plt.close(fig)
    return written


def refresh_attachments(assets: Path = ASSETS) -> list[Path]:
    """Give every notebook attachment named like a file in ``assets`` that file's bytes; return changed notebooks."""
    import nbformat

    mimes = {".png": "image/png", ".svg": "image/svg+xml"}
    changed = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook, dirty = nbformat.read(path, as_version=4), False
        for cell in notebook.cells:
            for name in cell.get("attachments", {}):
                source = assets / name
                if source.suffix in mimes and source.is_file():
                    fresh = {mimes[source.suffix]: attachment_data(source)}
                    if cell.attachments[name] != fresh:
                        cell.attachments[name], dirty = fresh, True
        if dirty:
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


def attachment_data(path: Path) -> str:
    """How a notebook stores a file as an attachment: base64 for images, the text itself for SVG."""
    return path.read_text() if path.suffix == ".svg" else base64.b64encode(path.read_bytes()).decode("ascii")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ASSETS, help="folder to write into (default: assets/)")
    args = parser.parse_args()
    for path in write(args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    if args.out.resolve() == ASSETS:
        for path in refresh_attachments():
            print(f"refreshed the attachments of {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Merge stepper: scrub through a BPE or WordPiece training run and watch words fall into fewer pieces while the
vocabulary grows. Left: the followed words, cut into their current pieces (the pieces the latest merge made are
outlined in red). Right: the frequency (BPE) or score (WordPiece) that chose each merge, and the vocabulary size
and average pieces per word over the whole corpus, with the current step marked.

The numbers come from :func:`minibert.tokenizers.trace.trace_merges`; :func:`draw_merge_step` only draws, so it
can be tested and used for static figures without a browser.
"""
from __future__ import annotations

from ..tokenizers.trace import MergeTrace, trace_merges

__all__ = ["draw_merge_step", "merge_stepper"]

_PALETTE = ["#cfe2f3", "#d9ead3", "#fff2cc", "#f4cccc", "#d9d2e9", "#fce5cd", "#d0e0e3", "#ead1dc"]


def draw_merge_step(trace: MergeTrace, step: int, fig=None):
    """Draw the state after ``step`` merges (0 = before training). Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    if not 0 <= step <= trace.steps:
        raise ValueError(f"step must be in [0, {trace.steps}], got {step}")
    if fig is None:
        fig = plt.figure(figsize=(12, 4.8))
    fig.clear()
    grid = fig.add_gridspec(2, 2, width_ratios=[1.35, 1], hspace=0.45)
    ax_words, ax_score, ax_vocab = fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 1])

    merge = trace.history[step - 1] if step else None
    rows = trace.splits[step]
    longest = max(sum(max(len(p), 1) for p in pieces) + len(pieces) for pieces in rows)
    for row, (word, count, pieces) in enumerate(zip(trace.words, trace.counts, rows)):
        x = 0.0
        y = len(rows) - 1 - row
        ax_words.text(-0.6, y, word, ha="right", va="center", fontsize=9, family="monospace", color="dimgrey")
        for k, piece in enumerate(pieces):
            width = max(len(piece), 1) + 0.6
            new = merge is not None and piece == merge.token
            ax_words.add_patch(plt.Rectangle((x, y - 0.38), width, 0.76, facecolor=_PALETTE[k % len(_PALETTE)],
                                             edgecolor="red" if new else "grey", linewidth=2.2 if new else 0.8))
            ax_words.text(x + width / 2, y, piece, ha="center", va="center", fontsize=9, family="monospace")
            x += width + 0.25
        ax_words.text(longest * 1.25 + 1, y, f"{len(pieces)} piece{'s' * (len(pieces) != 1)}  (x{count})",
                      va="center", fontsize=8, color="dimgrey")
    label = max(len(w) for w in trace.words) + 1
    ax_words.set_xlim(-0.6 - label, longest * 1.25 + 9)
    ax_words.set_ylim(-0.8, len(rows) - 0.2)
    ax_words.axis("off")
    title = "before any merge" if merge is None else (
        f"merge {step}: {merge.left!r} + {merge.right!r} -> {merge.token!r}  ({trace.score_name} "
        + (f"{merge.score:.4g}, pair seen {merge.count}x)" if trace.score_name == "score" else f"{merge.count})"))
    ax_words.set_title(title, fontsize=10)

    steps = range(1, trace.steps + 1)
    ax_score.plot(steps, [m.score for m in trace.history], color="tab:blue", linewidth=1)
    if merge is not None:
        ax_score.plot([step], [merge.score], "o", color="red")
    ax_score.set_ylabel(trace.score_name)
    ax_score.set_yscale("log")
    ax_score.set_title(f"what chose each merge ({trace.score_name})", fontsize=9)

    ax_vocab.plot(range(trace.steps + 1), trace.vocab_sizes, color="tab:green", linewidth=1.2)
    ax_vocab.axvline(step, color="red", linewidth=1)
    ax_vocab.set_xlabel("merges")
    ax_vocab.set_ylabel("vocabulary", color="tab:green")
    twin = ax_vocab.twinx()
    twin.plot(range(trace.steps + 1), trace.pieces_per_word, color="tab:purple", linewidth=1.2)
    twin.set_ylabel("pieces / word", color="tab:purple")
    ax_vocab.set_title(f"vocabulary {trace.vocab_sizes[step]}, {trace.pieces_per_word[step]:.2f} pieces per word",
                       fontsize=9)
    return fig


def merge_stepper(trained, corpus, words: list[str] | None = None, max_words: int = 10, step: int | None = None):
    """An ipywidgets panel over a training run: a step slider (with play button) and the figure.

    ``trained``: the result of ``train_bpe``, ``train_wordpiece`` or ``ByteLevelBPETokenizer.train``;
    ``corpus``: the texts it was trained on (or a dict word -> count). Returns the widget; its ``.update(step)``
    redraws and returns the figure, ``.trace`` holds the numbers.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    trace = trace_merges(trained, corpus, words, max_words)
    step = trace.steps if step is None else step
    slider = widgets.IntSlider(value=step, min=0, max=trace.steps, description="merge",
                               layout=widgets.Layout(width="60%"))
    play = widgets.Play(value=step, min=0, max=trace.steps, interval=400, description="play")
    widgets.jslink((play, "value"), (slider, "value"))
    output = widgets.Output()
    fig = Figure(figsize=(12, 4.8))  # not registered with pyplot: a later plt.show() will not draw it again

    def update(step=None):
        draw_merge_step(trace, slider.value if step is None else step, fig)
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(fig)
        return fig

    slider.observe(lambda change: update(), names="value")
    panel = widgets.VBox([widgets.HBox([play, slider]), output])
    panel.update = update
    panel.figure = fig
    panel.trace = trace
    update(step)
    return panel

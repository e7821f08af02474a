"""Masking explorer: type a sentence (any language), choose the masking rate, the [MASK]/random/unchanged split,
the strategy (token, whole word, span) and a seed, and see what the model is shown and what it must predict.

All choices are made by :class:`minibert.masking.Masker`; this module only tokenizes for display and draws.
:func:`masking_view` computes the picture's data, :func:`draw_masking` draws it (tests and static figures use
both), :func:`masking_explorer` wraps them in ipywidgets.
"""
from __future__ import annotations

import re
import warnings
from typing import Sequence

import torch

from ..masking import IGNORE_INDEX, KEPT, MASKED, NOT_SELECTED, RANDOM, Masker, chinese_word_ids, wordpiece_word_ids

__all__ = ["simple_tokens", "masking_view", "draw_masking", "masking_explorer", "STRATEGIES"]

STRATEGIES = {"token": "token", "whole word": "word", "span": "span"}
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_COLORS = {NOT_SELECTED: "#eeeeee", MASKED: "#e45756", RANDOM: "#f2a93b", KEPT: "#54a24b"}
# matplotlib falls back through this list glyph by glyph; the CJK fonts are used where installed
_FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
          "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "Arial Unicode MS"]
# Without a CJK font installed, Chinese tokens are drawn as boxes; say so once in the docs, not on every redraw.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
_NAMES = {MASKED: "[MASK]", RANDOM: "random token", KEPT: "unchanged", NOT_SELECTED: "not selected"}


def simple_tokens(text: str) -> list[str]:
    """Tokens for display without a trained vocabulary: CJK characters one by one (as BERT does), other words
    and punctuation marks whole."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    return re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+|[^\w\s]", text)


def masking_view(text: str, strategy: str = "token", rate: float = 0.15, split=(0.8, 0.1, 0.1), seed: int = 0,
                 tokenizer=None) -> dict:
    """Mask ``text`` and return what to draw: ``tokens`` (the input, with [CLS]/[SEP]), ``seen`` (what the model
    sees), ``targets`` (the token to predict, or None), ``decisions``, ``spans`` and ``word_ids``.

    ``tokenizer``: a WordPiece tokenizer (minibert or transformers) to cut words into pieces and to draw random
    replacements from its vocabulary; without one, :func:`simple_tokens` and the sentence's own words are used.
    Chinese text is grouped into words by jieba for whole-word and span masking."""
    if not text or not text.strip():
        raise ValueError("type a sentence to mask")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r}")
    if tokenizer is not None:
        pieces = tokenizer.tokenize(text)
        vocab = getattr(tokenizer, "vocab", None) or tokenizer.get_vocab()
        vocabulary = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
        mask_token = "[MASK]" if "[MASK]" in vocab else tokenizer.mask_token
    else:
        pieces = simple_tokens(text)
        vocabulary = SPECIALS + sorted(set(pieces) - set(SPECIALS))
        mask_token = "[MASK]"
    if not pieces:
        raise ValueError(f"{text!r} has no token to mask")
    tokens = ["[CLS]", *pieces, "[SEP]"]
    index = {t: i for i, t in enumerate(vocabulary)}
    unknown = index.get("[UNK]", 1)
    ids = torch.tensor([index.get(t, unknown) for t in tokens])
    word_ids = chinese_word_ids(tokens) if _CJK.search(text) else wordpiece_word_ids(tokens)
    special = [index[t] for t in SPECIALS if t in index and t != "[UNK]"]
    masker = Masker(index[mask_token], len(vocabulary), special, rate=rate, split=split, unit=STRATEGIES[strategy])
    batch = masker(ids, torch.Generator().manual_seed(seed), word_ids=word_ids)
    seen = [vocabulary[i] for i in batch.input_ids.tolist()]
    targets = [tokens[t] if label != IGNORE_INDEX else None for t, label in enumerate(batch.labels.tolist())]
    return {"tokens": tokens, "seen": seen, "targets": targets, "decisions": batch.decisions.tolist(),
            "spans": batch.spans, "word_ids": word_ids, "strategy": strategy, "rate": rate, "split": tuple(split),
            "seed": seed, "budget": masker.budget(len(pieces))}


def draw_masking(view: dict, fig=None, per_row: int = 12):
    """Two lines of boxes per chunk of tokens: what the model sees (coloured by decision) and, under it, what it
    must predict. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    fonts = [f for f in _FONTS if f in installed] or ["sans-serif"]
    tokens, seen, targets, decisions = view["tokens"], view["seen"], view["targets"], view["decisions"]
    chunks = (len(tokens) + per_row - 1) // per_row
    if fig is None:
        fig = plt.figure(figsize=(12, 1.1 + 1.25 * chunks))
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlim(-0.5, per_row - 0.5)
    ax.set_ylim(-2.6 * chunks + 0.4, 1.2)
    ax.axis("off")
    words = view["word_ids"]
    for t, (shown, target, decision) in enumerate(zip(seen, targets, decisions)):
        row, col = divmod(t, per_row)
        y = -2.6 * row
        ax.add_patch(plt.Rectangle((col - 0.45, y - 0.35), 0.9, 0.7, color=_COLORS[decision], ec="#555555", lw=0.6))
        ax.text(col, y, shown, ha="center", va="center", fontsize=9, family=fonts)
        if target is not None:
            ax.text(col, y - 0.85, target, ha="center", va="center", fontsize=9, color="#1f3b73", weight="bold",
                    family=fonts)
        ax.text(col, y + 0.5, "" if words[t] is None else f"w{words[t]}", ha="center", fontsize=6, color="#888888")
        if col == 0:
            ax.text(-0.55, y, "sees", ha="right", va="center", fontsize=8, color="#555555")
            ax.text(-0.55, y - 0.85, "predicts", ha="right", va="center", fontsize=8, color="#1f3b73")
    for start, end, _ in view["spans"]:  # a bar under each word or span picked as one unit
        for t in range(start, end):
            row, col = divmod(t, per_row)
            left = col - 0.45 if t == start or col == 0 else col - 0.55
            ax.plot([left, col + (0.45 if t == end - 1 else 0.55)], [-2.6 * row - 1.2] * 2, color="#1f3b73", lw=2)
    counts = {code: sum(d == code for d in decisions) for code in (MASKED, RANDOM, KEPT)}
    picked = sum(counts.values())
    ax.set_title(f"{view['strategy']} masking, rate {view['rate']:.2f}, split {tuple(round(x, 2) for x in view['split'])}, "
                 f"seed {view['seed']}: {picked} of {len(tokens) - 2} tokens to predict (budget {view['budget']})",
                 fontsize=10)
    ax.legend(handles=[Patch(color=_COLORS[c], label=f"{_NAMES[c]} ({counts[c]})") for c in (MASKED, RANDOM, KEPT)],
              loc="upper right", bbox_to_anchor=(1.0, 0.02), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def masking_explorer(text: str = "The quick brown fox jumps over the lazy dog.", tokenizer=None,
                     strategy: str = "token", rate: float = 0.15, mask_share: float = 0.8, random_share: float = 0.1,
                     seed: int = 0):
    """The ipywidgets panel. Its ``.update(**changes)`` redraws and returns the figure; ``.view`` is the data."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    box = widgets.Text(value=text, description="sentence", layout=widgets.Layout(width="95%"))
    strategy_picker = widgets.ToggleButtons(options=list(STRATEGIES), value=strategy, description="strategy")
    rate_slider = widgets.FloatSlider(value=rate, min=0.05, max=0.6, step=0.01, description="rate")
    mask_slider = widgets.FloatSlider(value=mask_share, min=0.0, max=1.0, step=0.05, description="[MASK] share")
    random_slider = widgets.FloatSlider(value=random_share, min=0.0, max=1.0, step=0.05, description="random share")
    seed_slider = widgets.IntSlider(value=seed, min=0, max=99, description="seed")
    status = widgets.HTML()
    output = widgets.Output()
    with plt.ioff():
        fig = plt.figure(figsize=(12, 3.6))
    panel = widgets.VBox([box, strategy_picker, widgets.HBox([rate_slider, seed_slider]),
                          widgets.HBox([mask_slider, random_slider]), status, output])

    def update(**changes):
        controls = {"text": box, "strategy": strategy_picker, "rate": rate_slider, "mask_share": mask_slider,
                    "random_share": random_slider, "seed": seed_slider}
        unknown = set(changes) - set(controls)
        if unknown:
            raise ValueError(f"unknown setting {sorted(unknown)}; choose from {list(controls)}")
        busy[0] = True  # setting several controls must redraw once, not once per control
        try:
            for name, value in changes.items():
                controls[name].value = value
        finally:
            busy[0] = False
        mask = mask_slider.value
        random_part = min(random_slider.value, 1.0 - mask)
        split = (mask, random_part, max(0.0, 1.0 - mask - random_part))
        status.value = f"split: {split[0]:.2f} [MASK] / {split[1]:.2f} random / {split[2]:.2f} unchanged"
        try:
            panel.view = masking_view(box.value, strategy_picker.value, rate_slider.value, split, seed_slider.value,
                                      tokenizer)
        except ValueError as err:
            status.value = f"<b>{err}</b>"
            return fig
        draw_masking(panel.view, fig)
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(fig)
        return fig

    busy = [False]
    for control in (box, strategy_picker, rate_slider, mask_slider, random_slider, seed_slider):
        control.observe(lambda change: None if busy[0] else update(), names="value")
    panel.update = update
    panel.figure = fig
    update()
    return panel

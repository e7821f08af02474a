"""Relative-position explorer: pick a scheme (plain distance, Shaw clipping, T5 buckets, DeBERTa log buckets) and its
parameters; see the (query, key) matrix of what the model can tell apart and, for DeBERTa, the three score terms of
a toy sentence. Every number comes from :mod:`minibert.positions` and :mod:`minibert.disentangled_attention`.

:func:`relative_position_matrix` and :func:`deberta_terms` compute, :func:`draw_relative_positions` draws (testable
without a browser), :func:`relative_position_explorer` wraps them in ipywidgets.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..disentangled_attention import DisentangledSelfAttention
from ..positions import clipped_distance_index, deberta_log_buckets, relative_distances, t5_buckets

__all__ = ["SCHEMES", "relative_position_matrix", "deberta_terms", "draw_relative_positions",
           "relative_position_explorer"]

SCHEMES = ("distance", "shaw", "t5", "deberta")
_LABELS = {"distance": "j - i (no limit)", "shaw": "Shaw: clip(j - i, -k, k)", "t5": "T5 bucket of j - i",
           "deberta": "DeBERTa log bucket of i - j"}


def relative_position_matrix(scheme: str, length: int, k: int = 4, num_buckets: int = 32, max_distance: int = 128,
                             bidirectional: bool = True, bucket_size: int = 8, max_position: int = 64) -> np.ndarray:
    """``(length, length)`` integers: what the scheme makes of each (query ``i``, key ``j``) pair. Pairs with the
    same number share one learned embedding (Shaw), one scalar bias (T5) or one row of the relative table (DeBERTa)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    distances = relative_distances(length)  # j - i
    if scheme == "shaw":
        values = clipped_distance_index(distances, k) - k
    elif scheme == "t5":
        values = t5_buckets(distances, bidirectional, num_buckets, max_distance)
    elif scheme == "deberta":
        values = deberta_log_buckets(-distances, bucket_size, max_position)
    else:
        values = distances
    return values.numpy()


def deberta_terms(length: int, bucket_size: int = 8, max_position: int = 64, head: int = 0, hidden_size: int = 32,
                  num_heads: int = 2, seed: int = 0, x: torch.Tensor | None = None) -> dict[str, np.ndarray]:
    """The c2c, c2p and p2c terms (and their sum) of one head of a seeded toy disentangled attention layer on
    ``x`` ``(1, length, hidden)`` (seeded random vectors if None), each ``(length, length)``."""
    generator = torch.Generator().manual_seed(seed)
    attention = DisentangledSelfAttention(hidden_size, num_heads, max_position, bucket_size, ("c2p", "p2c"))
    with torch.no_grad():
        for p in attention.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.5)
        table = torch.randn(2 * attention.span, hidden_size, generator=generator)
        if x is None:
            x = torch.randn(1, length, hidden_size, generator=generator)
        terms = attention.eval().score_terms(x, table)
    out = {name: value[0, head].numpy() for name, value in terms.items()}
    out["sum"] = sum(out.values())
    return out


def draw_relative_positions(matrix: np.ndarray, title: str = "", tokens: Sequence[str] | None = None,
                            terms: dict[str, np.ndarray] | None = None, fig=None):
    """The integer matrix (numbers written in the cells when it is small) and, if given, the DeBERTa terms."""
    import matplotlib.pyplot as plt

    length = matrix.shape[0]
    labels = list(tokens) if tokens is not None else [str(i) for i in range(length)]
    if len(labels) != length:
        raise ValueError(f"{len(labels)} tokens for a {length} x {length} matrix")
    panels = 1 + (len(terms) if terms else 0)
    if fig is None:
        fig = plt.figure(figsize=(4.2 * panels, 4.2))
    fig.clear()
    axes = fig.subplots(1, panels, squeeze=False)[0]
    image = axes[0].imshow(matrix, cmap="coolwarm")
    if length <= 16:
        for i in range(length):
            for j in range(length):
                axes[0].text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=7)
    axes[0].set_title(title or "relative positions", fontsize=9)
    fig.colorbar(image, ax=axes[0], fraction=0.046, pad=0.04)
    for ax, (name, values) in zip(axes[1:], (terms or {}).items()):
        limit = float(np.abs(values).max()) or 1.0
        ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"{name} (max |.| {limit:.2f})", fontsize=9)
    for ax in axes:
        ax.set_xticks(range(length), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(length), labels, fontsize=7)
        ax.set_xlabel("key j")
    axes[0].set_ylabel("query i")
    fig.tight_layout()
    return fig


def relative_position_explorer(length: int = 12, tokens: Sequence[str] | None = None, scheme: str = "shaw"):
    """The ipywidgets panel. Its ``.update(scheme=None, **parameters)`` redraws and returns the figure."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    tokens = list(tokens) if tokens is not None else None
    if tokens is not None:
        length = len(tokens)
    controls = {
        "scheme": widgets.Dropdown(options=[(_LABELS[s], s) for s in SCHEMES], value=scheme, description="scheme"),
        "k": widgets.IntSlider(value=3, min=1, max=12, description="Shaw k"),
        "num_buckets": widgets.IntSlider(value=8, min=4, max=64, step=2, description="T5 buckets"),
        "max_distance": widgets.IntSlider(value=16, min=5, max=256, description="T5 max dist"),
        "bidirectional": widgets.Checkbox(value=True, description="T5 bidirectional"),
        "bucket_size": widgets.IntSlider(value=8, min=2, max=64, step=2, description="DeBERTa buckets"),
        "max_position": widgets.IntSlider(value=64, min=8, max=512, description="DeBERTa max"),
        "head": widgets.IntSlider(value=0, min=0, max=1, description="head"),
    }
    output, message = widgets.Output(), widgets.HTML()
    with plt.ioff():
        fig = plt.figure(figsize=(12, 4.2))

    syncing = [False]  # True while update() moves the controls itself: their observers must not redraw

    def update(scheme=None, **parameters):
        """Redraw with the current controls, overridden by ``scheme`` and ``parameters``; returns the figure."""
        if scheme is not None:
            parameters["scheme"] = scheme
        unknown = set(parameters) - set(controls)
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; the explorer has {sorted(controls)}")
        syncing[0] = True
        try:  # move the controls to what was asked, where they can show it
            for name, value in parameters.items():
                control = controls[name]
                if not hasattr(control, "min") or control.min <= value <= control.max:
                    control.value = value
        finally:
            syncing[0] = False
        values = {name: control.value for name, control in controls.items()}
        values.update(parameters)
        chosen, head = values.pop("scheme"), values.pop("head")
        try:
            matrix = relative_position_matrix(chosen, length, **values)
            terms = None
            if chosen == "deberta":
                full = deberta_terms(length, values["bucket_size"], values["max_position"], head)
                terms = {name: full[name] for name in ("c2c", "c2p", "p2c")}
        except ValueError as err:  # an impossible combination of parameters: say why instead of drawing
            message.value = f"<b>{err}</b>"
            return fig
        message.value = ""
        draw_relative_positions(matrix, _LABELS[chosen], tokens, terms, fig)
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(fig)
        return fig

    for control in controls.values():
        control.observe(lambda change: None if syncing[0] else update(), names="value")
    panel = widgets.VBox([widgets.HBox([controls["scheme"], controls["k"], controls["head"]]),
                          widgets.HBox([controls["num_buckets"], controls["max_distance"], controls["bidirectional"]]),
                          widgets.HBox([controls["bucket_size"], controls["max_position"]]), message, output])
    panel.update, panel.figure, panel.controls, panel.message = update, fig, controls, message
    update()
    return panel

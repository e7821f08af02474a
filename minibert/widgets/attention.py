"""Attention-head explorer: pick a layer, a head and a query token; see the head's (T x T) attention matrix and the
chosen token's row as bars. Works on any minibert encoder or directly on a list of attention tensors, offline.

The drawing function :func:`draw_attention` is separate from the widget so it can be tested (and used for static
figures) without a browser.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

__all__ = ["attention_stack", "draw_attention", "attention_explorer"]


def attention_stack(source, tokens: Sequence[str] | None = None, input_ids=None, token_type_ids=None,
                    attention_mask=None, batch_index: int = 0) -> np.ndarray:
    """Attention weights as one array ``(layers, heads, T, T)`` for one sequence.

    ``source`` is a minibert encoder (run on ``input_ids``), a model output with ``.attentions``, or a list of
    per-layer tensors shaped ``(batch, heads, T, T)`` or ``(heads, T, T)``.
    """
    if isinstance(source, torch.nn.Module):
        if input_ids is None:
            raise ValueError("pass input_ids (batch, T) to run the model on")
        with torch.no_grad():
            source = source(input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask,
                            output_attentions=True)
    if hasattr(source, "attentions"):
        source = source.attentions
    if source is None or len(source) == 0:
        raise ValueError("no attention tensors: run the model with output_attentions=True")
    layers = []
    for i, a in enumerate(source):
        a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        if a.ndim == 4:
            a = a[batch_index]
        if a.ndim != 3 or a.shape[-1] != a.shape[-2]:
            raise ValueError(f"layer {i}: expected (batch, heads, T, T) or (heads, T, T), got {a.shape}")
        layers.append(a)
    stack = np.stack(layers)
    if tokens is not None and len(tokens) != stack.shape[-1]:
        raise ValueError(f"{len(tokens)} tokens but the attention covers {stack.shape[-1]} positions")
    return stack


def draw_attention(stack: np.ndarray, tokens: Sequence[str], layer: int, head: int | str, query: int, fig=None):
    """Heatmap of one head (``head="mean"`` averages the heads) with the query's row outlined, and that row as bars.
    Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    layers, heads, length, _ = stack.shape
    if not 0 <= layer < layers:
        raise ValueError(f"layer must be in [0, {layers}), got {layer}")
    if not 0 <= query < length:
        raise ValueError(f"query must be in [0, {length}), got {query}")
    if head == "mean":
        matrix, head_name = stack[layer].mean(0), "mean of heads"
    elif isinstance(head, (int, np.integer)) and 0 <= head < heads:
        matrix, head_name = stack[layer, head], f"head {head}"
    else:
        raise ValueError(f"head must be in [0, {heads}) or 'mean', got {head!r}")
    if fig is None:
        fig = plt.figure(figsize=(11, 4.6))
    fig.clear()
    grid = fig.add_gridspec(1, 2, width_ratios=[1.15, 1])
    ax_map, ax_row = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    image = ax_map.imshow(matrix, cmap="viridis", vmin=0.0, vmax=max(float(matrix.max()), 1e-6))
    ax_map.set_xticks(range(length), tokens, rotation=90, fontsize=8)
    ax_map.set_yticks(range(length), tokens, fontsize=8)
    ax_map.add_patch(plt.Rectangle((-0.5, query - 0.5), length, 1, fill=False, edgecolor="red", linewidth=2))
    ax_map.set_xlabel("key (attended to)")
    ax_map.set_ylabel("query (attending)")
    ax_map.set_title(f"layer {layer}, {head_name}")
    fig.colorbar(image, ax=ax_map, fraction=0.046, pad=0.04)
    row = matrix[query]
    colors = ["tab:red" if i == int(np.argmax(row)) else "tab:blue" for i in range(length)]
    ax_row.bar(range(length), row, color=colors)
    ax_row.set_xticks(range(length), tokens, rotation=90, fontsize=8)
    ax_row.set_ylim(0, 1)
    ax_row.set_ylabel("attention weight")
    ax_row.set_title(f"where {tokens[query]!r} looks (row sums to {row.sum():.2f})")
    fig.tight_layout()
    return fig


def attention_explorer(source, tokens: Sequence[str], input_ids=None, token_type_ids=None, attention_mask=None,
                       batch_index: int = 0, layer: int = 0, head: int = 0, query: int = 0):
    """An ipywidgets panel: sliders for layer, head (with a "mean" option) and query token over the figure.

    ``source``: a minibert model (with ``input_ids``), a model output, or a list of attention tensors.
    Returns the widget; its ``.update(layer, head, query)`` redraws and returns the figure (used by the tests).
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    stack = attention_stack(source, tokens, input_ids, token_type_ids, attention_mask, batch_index)
    layers, heads, length, _ = stack.shape
    layer_slider = widgets.IntSlider(value=layer, min=0, max=layers - 1, description="layer")
    head_picker = widgets.Dropdown(options=[("mean", "mean")] + [(str(h), h) for h in range(heads)], value=head,
                                   description="head")
    query_slider = widgets.SelectionSlider(options=[(f"{i}: {t}", i) for i, t in enumerate(tokens)], value=query,
                                           description="query", layout=widgets.Layout(width="60%"))
    output = widgets.Output()
    fig = Figure(figsize=(11, 4.6))  # not pyplot-managed: a later plt.show() in the notebook must not redraw it

    syncing = []  # non-empty while update() moves the controls itself

    def redraw():
        draw_attention(stack, tokens, layer_slider.value, head_picker.value, query_slider.value, fig)
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(fig)
        return fig

    def update(layer=None, head=None, query=None):
        """Move the controls (those given) and redraw once; returns the figure."""
        syncing.append(True)
        try:
            for control, value in ((layer_slider, layer), (head_picker, head), (query_slider, query)):
                if value is not None:
                    control.value = value
        finally:
            syncing.pop()
        return redraw()

    for control in (layer_slider, head_picker, query_slider):
        control.observe(lambda change: None if syncing else redraw(), names="value")
    panel = widgets.VBox([widgets.HBox([layer_slider, head_picker]), query_slider, output])
    panel.update = update
    panel.figure = fig
    panel.stack = stack
    update()
    return panel

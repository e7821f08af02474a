"""Local/global attention explorer (chapter 15): which keys each query may see in a ModernBERT layer, and how far
information has travelled after each layer.

Left: the ``(T, T)`` mask of the chosen layer (a band of ``window // 2`` keys on each side in a local layer, every key
in a global one). Right: one row per layer, the input tokens that can have reached the chosen query by then: a local
layer widens the field by ``window // 2`` on each side, a global layer opens it to the whole sequence. The masks and
the fields come from :mod:`minibert.models.modernbert.local_attention`; :func:`local_global_view` returns them and
:func:`draw_local_global` draws them (testable without a browser).
"""
from __future__ import annotations

import torch

from minibert.models.modernbert.local_attention import receptive_field, sliding_window_mask

__all__ = ["local_global_view", "draw_local_global", "local_global_explorer", "modernbert_pattern"]


def modernbert_pattern(num_layers: int = 22, every: int = 3) -> list[str]:
    """ModernBERT's layer kinds: global at layers 0, every, 2 every, ...; local elsewhere."""
    return ["full_attention" if i % every == 0 else "sliding_attention" for i in range(num_layers)]


def local_global_view(layer_types: list[str], length: int, window: int, layer: int, query: int) -> dict:
    """The numbers the explorer shows: the chosen layer's mask and every layer's receptive field of ``query``."""
    if not 0 <= layer < len(layer_types):
        raise ValueError(f"layer must be in [0, {len(layer_types)}), got {layer}")
    if not 0 <= query < length:
        raise ValueError(f"query must be a position in [0, {length}), got {query}")
    local = layer_types[layer] == "sliding_attention"
    mask = sliding_window_mask(length, window) if local else torch.ones(length, length, dtype=torch.bool)
    fields = torch.stack(receptive_field(layer_types, length, window, query))
    return {"layer_types": list(layer_types), "length": length, "window": window, "layer": layer, "query": query,
            "mask": mask, "fields": fields, "keys_seen": int(mask[query].sum()),
            "reached": fields.sum(dim=1).tolist()}


def draw_local_global(view: dict, fig=None):
    """Draw a :func:`local_global_view`; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(12, 4.4))
    fig.clear()
    ax_mask, ax_field = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    kind = "global" if view["layer_types"][view["layer"]] == "full_attention" else "local"
    ax_mask.imshow(view["mask"].numpy(), cmap="Blues", vmin=0, vmax=1.3, interpolation="nearest")
    ax_mask.axhline(view["query"], color="tab:red", linewidth=1)
    ax_mask.set_title(f"layer {view['layer']} ({kind}): query {view['query']} sees {view['keys_seen']} keys",
                      fontsize=9)
    ax_mask.set_xlabel("key position j")
    ax_mask.set_ylabel("query position i")
    ax_field.imshow(view["fields"].numpy(), cmap="Oranges", vmin=0, vmax=1.3, aspect="auto", interpolation="nearest")
    ax_field.axvline(view["query"], color="tab:red", linewidth=1)
    labels = [f"{i} {'G' if kind == 'full_attention' else 'L'}" for i, kind in enumerate(view["layer_types"])]
    ax_field.set_yticks(range(len(labels)), labels, fontsize=7)
    ax_field.set_xlabel("input token")
    ax_field.set_ylabel("after layer (G global, L local)")
    ax_field.set_title(f"which inputs have reached token {view['query']} (window {view['window']})", fontsize=9)
    fig.tight_layout()
    return fig


def local_global_explorer(layer_types: list[str] | None = None, length: int = 96, window: int = 8, layer: int = 1,
                          query: int = 48):
    """An ipywidgets panel with sliders for the window, the layer and the query. Its ``.update(**values)`` sets
    sliders, redraws and returns the figure (used by the tests)."""
    import ipywidgets as widgets
    import matplotlib.pyplot  # noqa: F401 (in a notebook this sets up the inline backend, which renders a Figure)
    from matplotlib.figure import Figure

    layer_types = modernbert_pattern(6) if layer_types is None else list(layer_types)
    local_global_view(layer_types, length, window, layer, query)  # validate early
    sliders = {"window": widgets.IntSlider(value=window, min=0, max=length, step=2, description="window"),
               "layer": widgets.IntSlider(value=layer, min=0, max=len(layer_types) - 1, description="layer"),
               "query": widgets.IntSlider(value=query, min=0, max=length - 1, description="query")}
    output = widgets.Output()
    fig = Figure(figsize=(12, 4.4))  # not pyplot-managed: a later plt.show() in the notebook must not redraw it
    syncing = []

    def redraw():
        values = {name: slider.value for name, slider in sliders.items()}
        panel.view = local_global_view(layer_types, length, **values)
        draw_local_global(panel.view, fig)
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(fig)
        return fig

    def update(**values):
        """Set the sliders named in ``values`` and redraw once; returns the figure."""
        unknown = set(values) - set(sliders)
        if unknown:
            raise ValueError(f"unknown controls {sorted(unknown)}; use {sorted(sliders)}")
        syncing.append(True)
        try:
            for name, value in values.items():
                sliders[name].value = value
        finally:
            syncing.pop()
        return redraw()

    for slider in sliders.values():
        slider.observe(lambda change: None if syncing else redraw(), names="value")
    panel = widgets.VBox([widgets.HBox(list(sliders.values())), output])
    panel.update, panel.figure, panel.sliders = update, fig, sliders
    update()
    return panel

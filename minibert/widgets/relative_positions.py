r"""Relative-position explorer: pick a scheme (plain distance, Shaw clipping, T5 buckets, DeBERTa log buckets, RoPE's
score, ALiBi's bias) and its parameters; see the (query, key) matrix of what the model can tell apart on a toy sentence, the same function over
every distance up to :data:`PROFILE_WINDOW` (where the maximum distances act: a toy sentence is too short to reach
them) and, for DeBERTa, the three score terms. Every number comes from :mod:`minibert.core.positions`,
:mod:`minibert.core.rotary`, :mod:`minibert.core.alibi` and :mod:`minibert.models.deberta.disentangled_attention`.
RoPE's number for an offset ``j - i`` is the score :math:`q^\top R_{j-i}\, q` of one seeded random unit vector
:math:`q` with itself moved by that offset (:data:`ROPE_SEED`); ALiBi's is the bias :math:`-m_h |j - i|` of head ``head``.

:func:`relative_position_matrix`, :func:`relative_position_profile` and :func:`deberta_terms` compute (all three
for one setting: :func:`relative_position_view`), :func:`draw_relative_positions` draws (testable without a browser), :func:`relative_position_explorer` wraps them in
ipywidgets; the controls that the chosen scheme does not read are disabled (:data:`PARAMETERS`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from minibert.core.alibi import alibi_bias
from minibert.core.checks import integer
from minibert.core.positions import clipped_distance_index, relative_distances, t5_buckets
from minibert.core.rotary import rope_scores
from minibert.models.deberta.disentangled_attention import DisentangledSelfAttention

__all__ = ["SCHEMES", "PARAMETERS", "PROFILE_WINDOW", "ROPE_SEED", "relative_position_matrix", "relative_position_profile",
           "deberta_terms", "relative_position_view", "draw_relative_positions", "relative_position_explorer"]

SCHEMES = ("distance", "shaw", "t5", "deberta", "rope", "alibi")
PARAMETERS = {"distance": (), "shaw": ("k",), "t5": ("num_buckets", "max_distance", "bidirectional"),
              "deberta": ("bucket_size", "max_position", "head"), "rope": ("rope_base", "rope_dim"),
              "alibi": ("alibi_heads", "head")}  # the explorer's controls each scheme reads
ROPE_SEED = 0  # the random query RoPE's score is drawn for
ROPE_BASES = (("100", 100.0), ("10,000 (RoFormer)", 10000.0), ("160,000 (ModernBERT, global)", 160000.0))
PROFILE_WINDOW = 512  # distances -512..512: past the largest max_distance / max_position the sliders offer
_LABELS = {"distance": "j - i (no limit)", "shaw": "Shaw: clip(j - i, -k, k)", "t5": "T5 bucket of j - i",
           "deberta": "DeBERTa log bucket of i - j", "rope": "RoPE: score of q and q moved by j - i",
           "alibi": "ALiBi: bias -m |j - i| of one head"}


def _relative_positions(scheme: str, distances: torch.Tensor, k: int = 4, num_buckets: int = 32,
                        max_distance: int = 128, bidirectional: bool = True, bucket_size: int = 8,
                        max_position: int = 64, rope_base: float = 10000.0, rope_dim: int = 16, alibi_heads: int = 8,
                        head: int = 0) -> np.ndarray:
    """What ``scheme`` makes of each distance ``j - i`` in ``distances`` (any shape)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if scheme == "shaw":
        values = clipped_distance_index(distances, k) - k
    elif scheme == "t5":
        values = t5_buckets(distances, bidirectional, num_buckets, max_distance)
    elif scheme == "deberta":
        attention = DisentangledSelfAttention(2, 1, max_position, bucket_size, ("c2p", "p2c"))
        values = attention.table_rows(-distances) - attention.span
    elif scheme == "rope":  # q at position 0, the same q as a key at position j - i
        q = torch.randn(rope_dim, dtype=torch.float64, generator=torch.Generator().manual_seed(ROPE_SEED))
        q = q / q.norm()
        flat = distances.flatten()
        values = rope_scores(q[None], q.expand(len(flat), rope_dim), [0], flat, rope_base).reshape(distances.shape)
    elif scheme == "alibi":
        if not 0 <= head < alibi_heads:
            raise ValueError(f"head {head} does not exist among {alibi_heads} ALiBi heads")
        furthest = int(distances.abs().max())
        values = alibi_bias(alibi_heads, 1, furthest + 1)[head, 0][distances.abs()]  # depends on |j - i| only
    else:
        values = distances
    return values.numpy()


def relative_position_matrix(scheme: str, length: int, **parameters) -> np.ndarray:
    """``(length, length)``: what the scheme makes of each (query ``i``, key ``j``) pair (``parameters``: those of
    :data:`PARAMETERS`); integers, except RoPE's score and ALiBi's bias. Pairs with the
    same number share one learned embedding (Shaw), one scalar bias (T5) or one row of the relative table (DeBERTa:
    the row :class:`DisentangledSelfAttention` reads, as an offset ``i - j`` from the table's middle: the log bucket
    of ``i - j`` while ``|i - j| < max_position``, clamped to ``[-bucket_size, bucket_size)`` beyond)."""
    return _relative_positions(scheme, relative_distances(length), **parameters)


def relative_position_profile(scheme: str, window: int = PROFILE_WINDOW, **parameters) -> tuple[np.ndarray, np.ndarray]:
    """``(distances, values)``: what the scheme makes of every ``j - i`` in ``[-window, window]`` (the middle row
    of :func:`relative_position_matrix` for a ``2 window + 1``-token input, with the same ``parameters``)."""
    integer("", "window", window, minimum=1)
    distances = torch.arange(-window, window + 1)
    return distances.numpy(), _relative_positions(scheme, distances, **parameters)


def _saturation(distances: np.ndarray, values: np.ndarray) -> tuple[int | None, int | None]:
    """The distances from which on all farther ones (to the left, to the right) share one value: where a scheme
    stops telling distances apart. None where that happens only at the window's edge or right at 0 or +-1."""
    found = []
    for side in (distances < 0, distances > 0):
        d, v = distances[side], values[side]
        order = np.argsort(np.abs(d))
        d, v = d[order], v[order]
        same = v == v[-1]
        first = len(v) - int(np.argmin(same[::-1])) if not same.all() else 0  # start of the constant tail
        found.append(int(d[first]) if 0 < first < len(v) - 1 and abs(d[first]) > 1 else None)
    return found[0], found[1]


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


def relative_position_view(scheme: str, length: int, head: int = 0, window: int = PROFILE_WINDOW,
                           **parameters) -> dict:
    """Everything the explorer draws for one setting: ``matrix`` (:func:`relative_position_matrix`), ``profile``
    (:func:`relative_position_profile` over ``window``) and, for DeBERTa, ``terms`` (c2c, c2p, p2c of ``head``)."""
    reads_head = {"head": head} if scheme == "alibi" else {}
    view = {"matrix": relative_position_matrix(scheme, length, **parameters, **reads_head),
            "profile": relative_position_profile(scheme, window, **parameters, **reads_head), "terms": None,
            "highlight": None}
    if scheme == "alibi":  # the profile shows every head's bias, the chosen one highlighted
        heads = [relative_position_profile(scheme, window, **parameters, head=h)[1]
                 for h in range(parameters.get("alibi_heads", 8))]
        view["profile"], view["highlight"] = (view["profile"][0], np.stack(heads)), head
    if scheme == "deberta":
        bucket_size, max_position = parameters.get("bucket_size", 8), parameters.get("max_position", 64)
        full = deberta_terms(length, bucket_size, max_position, head)
        view["terms"] = {name: full[name] for name in ("c2c", "c2p", "p2c")}
    return view


def draw_relative_positions(matrix: np.ndarray, title: str = "", tokens: Sequence[str] | None = None,
                            terms: dict[str, np.ndarray] | None = None, fig=None,
                            profile: tuple[np.ndarray, np.ndarray] | None = None, highlight: int | None = None):
    """The integer matrix (numbers written in the cells when it is small) and, if given, the ``profile`` over a
    long window of distances (:func:`relative_position_profile`, drawn on a symmetric log axis with the matrix's
    distances shaded and the saturation points marked) and the DeBERTa terms. Without a profile: one row, the matrix
    then the terms; with one: the matrix and the profile, the terms in a second row."""
    import matplotlib.pyplot as plt

    length = matrix.shape[0]
    labels = list(tokens) if tokens is not None else [str(i) for i in range(length)]
    if len(labels) != length:
        raise ValueError(f"{len(labels)} tokens for a {length} x {length} matrix")
    terms = terms or {}
    if fig is None:
        width = 4.2 * (3 if profile is not None else 1 + len(terms))
        fig = plt.figure(figsize=(width, 4.2 * (2 if profile is not None and terms else 1)))
    fig.clear()
    if profile is None:
        grid = fig.add_gridspec(1, 1 + len(terms))
        matrix_ax, term_slots = fig.add_subplot(grid[0, 0]), [grid[0, 1 + n] for n in range(len(terms))]
    else:
        grid = fig.add_gridspec(2 if terms else 1, max(3, len(terms)))
        matrix_ax = fig.add_subplot(grid[0, 0])
        _draw_profile(fig.add_subplot(grid[0, 1:]), *profile, reach=length - 1, highlight=highlight)
        term_slots = [grid[1, n] for n in range(len(terms))]
    image = matrix_ax.imshow(matrix, cmap="coolwarm")
    if length <= 16:
        for i in range(length):
            for j in range(length):
                value = matrix[i, j]
                text = str(int(value)) if float(value).is_integer() else f"{value:.1f}"
                matrix_ax.text(j, i, text, ha="center", va="center", fontsize=7 if len(text) < 4 else 5)
    matrix_ax.set_title(title or "relative positions", fontsize=9)
    fig.colorbar(image, ax=matrix_ax, fraction=0.046, pad=0.04)
    grids = [matrix_ax]
    for slot, (name, values) in zip(term_slots, terms.items()):
        ax = fig.add_subplot(slot)
        limit = float(np.abs(values).max()) or 1.0
        ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"{name} (max |.| {limit:.2f})", fontsize=9)
        grids.append(ax)
    for ax in grids:
        ax.set_xticks(range(length), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(length), labels, fontsize=7)
        ax.set_xlabel("key j")
    matrix_ax.set_ylabel("query i")
    fig.tight_layout()
    return fig


def _draw_profile(ax, distances: np.ndarray, values: np.ndarray, reach: int, highlight: int | None = None) -> None:
    """The scheme's value for every distance, the toy sentence's distances (``|j - i| <= reach``) shaded. ``values``
    of shape ``(heads, distances)`` draw one line per head, head ``highlight`` thick."""
    if values.ndim == 2:
        for h, row in enumerate(values):
            ax.plot(distances, row, color="tab:blue" if h == highlight else "lightsteelblue",
                    lw=2 if h == highlight else 0.8, label=f"head {h} (chosen)" if h == highlight else None)
        values = values[highlight if highlight is not None else 0]
    else:
        ax.step(distances, values, where="mid", color="tab:blue")
    ax.axvspan(-reach, reach, color="tab:orange", alpha=0.15, label=f"the toy sentence's distances, |j - i| <= {reach}")
    for edge in _saturation(distances, values):
        if edge is not None:
            ax.axvline(edge, color="grey", ls=":")
            ax.annotate(f"{edge:+d}", (edge, values.min()), fontsize=7, ha="center", va="bottom", color="dimgrey")
    window = int(distances.max())
    ax.set_xscale("symlog", linthresh=4, linscale=0.6)
    ticks = [t for t in (1, 4, 16, 64, 256) if t < window] + [window]
    ax.set_xticks([-t for t in ticks[::-1]] + [0] + ticks, [str(-t) for t in ticks[::-1]] + ["0"] + [str(t) for t in ticks],
                  fontsize=7)
    ax.set_xlim(-window, window)
    ax.set_xlabel("relative distance j - i (symmetric log axis); dotted: from here on, all farther distances "
                  "share one value", fontsize=8)
    ax.set_title(f"the same scheme over every distance up to {window}", fontsize=9)
    ax.legend(fontsize=7, loc="best")


def relative_position_explorer(length: int = 12, tokens: Sequence[str] | None = None, scheme: str = "shaw"):
    """The ipywidgets panel. Its ``.update(scheme=None, **parameters)`` redraws and returns the figure; the controls
    of the parameters the chosen scheme does not read are disabled."""
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
        "rope_base": widgets.Dropdown(options=ROPE_BASES, value=10000.0, description="RoPE base"),
        "rope_dim": widgets.IntSlider(value=16, min=4, max=64, step=2, description="RoPE head dim"),
        "alibi_heads": widgets.IntSlider(value=8, min=2, max=16, description="ALiBi heads"),
    }
    output, message = widgets.Output(), widgets.HTML()
    with plt.ioff():
        fig = plt.figure(figsize=(12.6, 4.2))

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
        for name, control in controls.items():  # grey out what this scheme does not read
            control.disabled = name != "scheme" and name not in PARAMETERS[chosen]
        try:
            view = relative_position_view(chosen, length, head, **values)
        except ValueError as err:  # an impossible combination of parameters: say why instead of drawing
            message.value = f"<b>{err}</b>"
            return fig
        message.value = ""
        fig.set_size_inches(12.6, 8.4 if view["terms"] else 4.2)
        draw_relative_positions(view["matrix"], _LABELS[chosen], tokens, view["terms"], fig, view["profile"],
                                view["highlight"])
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(fig)
        return fig

    for control in controls.values():
        control.observe(lambda change: None if syncing[0] else update(), names="value")
    panel = widgets.VBox([widgets.HBox([controls["scheme"], controls["k"], controls["head"]]),
                          widgets.HBox([controls["num_buckets"], controls["max_distance"], controls["bidirectional"]]),
                          widgets.HBox([controls["bucket_size"], controls["max_position"]]),
                          widgets.HBox([controls["rope_base"], controls["rope_dim"], controls["alibi_heads"]]),
                          message, output])
    panel.update, panel.figure, panel.controls, panel.message = update, fig, controls, message
    update()
    return panel

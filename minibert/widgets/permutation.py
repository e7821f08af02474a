"""Permutation-mask explorer: type a sentence, pick a factorisation order (shuffle, a seed, or type it) and see
XLNet's content-stream and query-stream masks side by side, and which tokens each prediction may use.

Every mask comes from :mod:`minibert.models.xlnet.permutation`; :func:`draw_permutation_masks` only draws (and is what
the tests call); :func:`permutation_explorer` wraps it in ipywidgets controls.
"""
from __future__ import annotations

from typing import Sequence

import torch

from minibert.models.xlnet.permutation import check_order, permutation_masks, prediction_targets, rank_of, sample_order

__all__ = ["draw_permutation_masks", "prediction_table", "parse_order", "permutation_explorer"]


def prediction_table(tokens: Sequence[str], order, K: float = 1) -> list[tuple[int, str, list[str]]]:
    """For each target in order: ``(step, token, the tokens its query stream may use)``, from the masks."""
    order = check_order(order, len(tokens))
    targets = prediction_targets(order, K)
    _, query = permutation_masks(order, len(targets) if K > 1 else None)
    rank = rank_of(order)
    return [(int(rank[p]) + 1, tokens[p], [tokens[j] for j in range(len(tokens)) if query[p, j]])
            for p in targets.tolist()]


def parse_order(text: str, length: int) -> torch.Tensor:
    """``"3 1 0 2"`` or ``"3,1,0,2"`` -> a checked order (ValueError with the reason otherwise)."""
    try:
        values = [int(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(f"type the positions 0..{length - 1} separated by spaces, got {text!r}") from None
    return check_order(values, length)


def _split_sentence(sentence) -> list[str]:
    """A sentence as its tokens: a string is split on spaces; at least one token."""
    tokens = sentence.split() if isinstance(sentence, str) else [str(t) for t in sentence]
    if not tokens:
        raise ValueError("type a sentence: at least one word")
    return tokens


def draw_permutation_masks(tokens: Sequence[str], order, K: float = 1, fig=None):
    """Content mask (left) and query mask (right), rows = the position attending, columns = the position attended
    to, both in sentence order and labelled with each token's step in the factorisation order. Target rows are
    marked; the text under the plots lists, step by step, what each prediction may use. Returns the figure."""
    import matplotlib.pyplot as plt

    tokens = list(tokens)
    if len(tokens) == 0:
        raise ValueError("give at least one token")
    order = check_order(order, len(tokens))
    targets = prediction_targets(order, K)
    content, query = permutation_masks(order, len(targets) if K > 1 else None)
    rank = rank_of(order)
    labels = [f"{t} ({int(rank[i]) + 1})" for i, t in enumerate(tokens)]
    if fig is None:
        fig = plt.figure(figsize=(11, 5.4))
    fig.clear()
    grid = fig.add_gridspec(2, 2, height_ratios=[4, 1.3])
    titles = ("content stream h: sees earlier steps and itself", "query stream g: sees earlier steps only")
    for column, (mask, title) in enumerate(zip((content, query), titles)):
        ax = fig.add_subplot(grid[0, column])
        ax.imshow(mask.numpy().astype(float), cmap="Blues", vmin=0, vmax=1.3)
        ax.set_xticks(range(len(tokens)), labels, rotation=90, fontsize=8)
        ax.set_yticks(range(len(tokens)), labels, fontsize=8)
        for p in targets.tolist():  # outline the rows that make a prediction
            ax.add_patch(plt.Rectangle((-0.5, p - 0.5), len(tokens), 1, fill=False, edgecolor="tab:red", lw=1.5))
        ax.set_xlabel("attended to (token, step in the order)")
        if column == 0:
            ax.set_ylabel("attending")
        ax.set_title(title, fontsize=10)
    text_ax = fig.add_subplot(grid[1, :])
    text_ax.axis("off")
    lines = [f"step {step}: predict {token!r} from {', '.join(seen) if seen else 'nothing (only its position)'}"
             for step, token, seen in prediction_table(tokens, order, K)]
    order_text = " -> ".join(tokens[p] for p in order.tolist())
    text_ax.text(0, 1, f"order: {order_text}\n" + "\n".join(lines[:6]) + ("\n..." if len(lines) > 6 else ""),
                 va="top", family="monospace", fontsize=8.5)
    fig.tight_layout()
    return fig


def permutation_explorer(tokens: Sequence[str], order=None, seed: int = 0, K: float = 1):
    """An ipywidgets panel over :func:`draw_permutation_masks`: a box for the sentence (split on spaces), a "shuffle"
    button, a seed box, a text box to type an order, and a K slider for partial prediction.
    ``.update(sentence=..., order=..., seed=..., K=...)`` redraws and returns the figure (``seed`` draws a new order,
    and so does a new sentence); ``.state`` holds the ``"tokens"`` and the ``"order"`` shown."""
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    tokens = _split_sentence(tokens)
    state = {"tokens": tokens, "order": check_order(order, len(tokens)) if order is not None
             else sample_order(len(tokens), torch.Generator().manual_seed(seed))}
    sentence_box = widgets.Text(value=" ".join(tokens), description="sentence", continuous_update=False,
                                layout=widgets.Layout(width="520px"))  # redraws on Enter, not on every key
    seed_box = widgets.IntText(value=seed, description="seed", layout=widgets.Layout(width="160px"))
    shuffle = widgets.Button(description="shuffle", icon="random")
    typed = widgets.Text(value=" ".join(map(str, state["order"].tolist())), description="order",
                         layout=widgets.Layout(width="340px"))
    k_slider = widgets.IntSlider(value=int(K), min=1, max=max(1, len(tokens)), description="K")
    message = widgets.HTML()
    output = widgets.Output()
    fig = Figure(figsize=(11, 5.4))  # not pyplot-managed: a later plt.show() in the notebook must not redraw it
    syncing = []

    def redraw():
        draw_permutation_masks(state["tokens"], state["order"], k_slider.value, fig)
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(fig)
        return fig

    def update(sentence=None, order=None, seed=None, K=None):
        """Set a sentence (a string or a list of tokens), an order (a list or a typed string), or draw an order
        from ``seed``; set K; redraw once. Everything is checked before anything changes."""
        new_tokens = state["tokens"] if sentence is None else _split_sentence(sentence)
        if seed is None and sentence is not None and order is None:
            seed = seed_box.value  # a new sentence gets a fresh order of its own length
        new_order = state["order"]
        if seed is not None:
            new_order = sample_order(len(new_tokens), torch.Generator().manual_seed(seed))
        if order is not None:
            new_order = parse_order(order, len(new_tokens)) if isinstance(order, str) else \
                check_order(order, len(new_tokens))
        syncing.append(True)
        try:
            state["tokens"], state["order"] = new_tokens, new_order
            sentence_box.value = " ".join(new_tokens)
            if seed is not None:
                seed_box.value = seed
            k_slider.max = max(1, len(new_tokens))
            if K is not None:
                k_slider.value = K
            typed.value = " ".join(map(str, state["order"].tolist()))
            message.value = ""
        finally:
            syncing.pop()
        return redraw()

    def on_typed(change):
        if syncing:
            return
        try:
            update(order=change["new"])
        except ValueError as err:  # keep the last good order and say what is wrong
            message.value = f"<span style='color:#b00'>{err}</span>"

    def on_sentence(change):
        if syncing:
            return
        try:
            update(sentence=change["new"])
        except ValueError as err:
            message.value = f"<span style='color:#b00'>{err}</span>"

    def on_shuffle(_):
        update(seed=seed_box.value + 1)

    shuffle.on_click(on_shuffle)
    typed.observe(on_typed, names="value")
    sentence_box.observe(on_sentence, names="value")
    seed_box.observe(lambda change: None if syncing else update(seed=change["new"]), names="value")
    k_slider.observe(lambda change: None if syncing else redraw(), names="value")
    panel = widgets.VBox([sentence_box, widgets.HBox([shuffle, seed_box, k_slider]), widgets.HBox([typed, message]),
                          output])
    panel.update = update
    panel.figure = fig
    panel.state = state
    update()
    return panel

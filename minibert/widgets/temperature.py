"""Temperature explorer: one masked position, the teacher's and the student's predicted distributions softened at
temperature T (a slider), and DistilBERT's loss terms at that T.

Left: the top tokens' probabilities, teacher next to student, at T. Middle: the distillation term ``T^2 KL`` and
the plain ``KL`` over a range of temperatures (log scale), with the teacher's entropy against its maximum
``ln V``. Right: the size of the gradient each term sends to the student's logits. For the plain KL it is
``(p_s^T - p_t^T) / T``, which falls like ``1/T^2`` for large T (Hinton et al. 2015, section 2.1); the ``T^2``
factor turns it into ``T (p_s^T - p_t^T)``, which tends to ``(z_s - z_t) / N`` (centred logits) and stays the same
size. Every number comes from :mod:`minibert.distillation`; :func:`temperature_view` returns them and
:func:`draw_temperature` draws them (testable without a browser).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from minibert.models.distilbert.distillation import distillation_loss, soften

__all__ = ["temperature_view", "draw_temperature", "temperature_explorer", "TEMPERATURES"]

TEMPERATURES = np.geomspace(0.25, 20.0, 60)  # the range of the curve and of the slider


def _row(logits, name: str) -> torch.Tensor:
    """One position's logits as a float64 vector."""
    tensor = logits.detach() if isinstance(logits, torch.Tensor) else torch.as_tensor(np.asarray(logits, np.float64))
    tensor = tensor.double().squeeze()
    if tensor.dim() != 1 or tensor.numel() < 2:
        raise ValueError(f"{name} must be one position's logits, a vector over the vocabulary; got shape "
                         f"{tuple(logits.shape) if hasattr(logits, 'shape') else type(logits).__name__}")
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains inf or NaN")
    return tensor


def temperature_view(teacher_logits, student_logits, temperature: float, vocabulary: Sequence[str] | None = None,
                     target: int | None = None, top_k: int = 10, alpha_ce: float = 5.0, alpha_mlm: float = 2.0) -> dict:
    """The numbers the explorer shows at ``temperature``: top-k tokens (by the teacher at T = 1), both softened
    distributions at those tokens, the loss terms at T, and the terms' curves over :data:`TEMPERATURES`."""
    teacher, student = _row(teacher_logits, "teacher_logits"), _row(student_logits, "student_logits")
    if teacher.shape != student.shape:
        raise ValueError(f"teacher and student logits differ in size ({teacher.numel()} vs {student.numel()})")
    size = teacher.numel()
    if vocabulary is not None and len(vocabulary) != size:
        raise ValueError(f"vocabulary has {len(vocabulary)} entries but the logits cover {size} tokens")
    if target is not None and not 0 <= int(target) < size:
        raise ValueError(f"target {target} is outside the vocabulary [0, {size})")
    top = teacher.argsort(descending=True)[:min(top_k, size)].tolist()
    if target is not None and int(target) not in top:
        top.append(int(target))
    names = [vocabulary[i] if vocabulary is not None else str(i) for i in top]
    p_teacher, p_student = soften(teacher, temperature), soften(student, temperature)

    def terms(t: float) -> dict[str, float]:
        weights = dict(alpha_ce=alpha_ce, alpha_mlm=alpha_mlm if target is not None else 0.0, alpha_cos=0.0)
        out = distillation_loss(student[None], teacher[None], None if target is None else torch.tensor([int(target)]),
                                temperature=t, **weights)
        entropy = float(-(soften(teacher, t) * soften(teacher, t).clamp_min(1e-300).log()).sum())
        gradient = float((soften(student, t) - soften(teacher, t)).norm()) / t  # |d KL / d z_s|
        return {"ce": float(out.ce), "kl": float(out.ce) / t ** 2, "teacher_entropy": entropy,
                "mlm": float(out.mlm) if out.mlm is not None else None, "loss": float(out.loss),
                "grad_kl": gradient, "grad_ce": gradient * t ** 2}

    curve = [terms(float(t)) for t in TEMPERATURES]
    keys = ("ce", "kl", "teacher_entropy", "grad_kl", "grad_ce")
    return {"temperature": float(temperature), "tokens": names, "ids": top, "target": target,
            "teacher": p_teacher[top].numpy(), "student": p_student[top].numpy(), "terms": terms(temperature),
            "max_entropy": float(np.log(size)), "curve_T": TEMPERATURES,
            "curve": {k: np.array([c[k] for c in curve]) for k in keys}}


def draw_temperature(view: dict, fig=None):
    """Draw a :func:`temperature_view`: bars at T, the loss terms over T, and their gradients' sizes over T. Returns
    the matplotlib figure."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(13, 4.2))
    fig.clear()
    ax_bars, ax_curve, ax_grad = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1, 1]})
    x = np.arange(len(view["tokens"]))
    ax_bars.bar(x - 0.2, view["teacher"], width=0.4, label="teacher", color="tab:blue")
    ax_bars.bar(x + 0.2, view["student"], width=0.4, label="student", color="tab:orange")
    labels = [f"*{t}*" if view["target"] is not None and i == view["target"] else t
              for t, i in zip(view["tokens"], view["ids"])]
    ax_bars.set_xticks(x, labels, rotation=60, fontsize=8)
    ax_bars.set_ylim(0, 1.15 * max(view["teacher"].max(), view["student"].max()))  # the bars' own scale
    ax_bars.set_ylabel(f"probability at T = {view['temperature']:.2f}")
    ax_bars.legend(loc="upper right")
    terms = view["terms"]
    text = f"T²·KL = {terms['ce']:.3f}   KL = {terms['kl']:.4f}"
    if terms["mlm"] is not None:
        text += f"\nMLM (T=1) = {terms['mlm']:.3f}   total = {terms['loss']:.3f}"
    ax_bars.set_title(text, fontsize=9)
    temperatures = view["curve_T"]
    for key, label, style in (("ce", "T²·KL (distillation term)", "-"), ("kl", "KL", "--")):
        ax_curve.plot(temperatures, view["curve"][key], style, label=label)
    ax_curve.set_yscale("log")
    ax_curve.set_ylabel("loss term (log scale)")
    ax_entropy = ax_curve.twinx()
    ax_entropy.plot(temperatures, view["curve"]["teacher_entropy"], ":", color="tab:green",
                    label="teacher entropy (right axis)")
    ax_entropy.axhline(view["max_entropy"], color="tab:green", linewidth=0.8, alpha=0.5)
    ax_entropy.set_ylim(0, 1.05 * view["max_entropy"])
    ax_entropy.set_ylabel(f"teacher entropy, nats (line: uniform, ln V = {view['max_entropy']:.2f})", fontsize=8)
    lines = ax_curve.get_legend_handles_labels()
    extra = ax_entropy.get_legend_handles_labels()
    ax_curve.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=8, loc="lower left")
    ax_curve.set_title("the loss terms across temperatures", fontsize=9)
    for key, label, style in (("grad_ce", "|gradient of T²·KL|", "-"), ("grad_kl", "|gradient of KL| (~1/T²)", "--")):
        ax_grad.plot(temperatures, view["curve"][key], style, label=label)
    ax_grad.set_yscale("log")
    ax_grad.set_ylabel("size of the gradient on the student's logits", fontsize=8)
    ax_grad.legend(fontsize=8, loc="lower left")
    ax_grad.set_title("what the student feels: gradient sizes", fontsize=9)
    for ax in (ax_curve, ax_grad):
        ax.axvline(view["temperature"], color="grey", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("temperature T")
    fig.tight_layout()
    return fig


def temperature_explorer(teacher_logits, student_logits, vocabulary: Sequence[str] | None = None,
                         target: int | None = None, temperature: float = 2.0, top_k: int = 10):
    """An ipywidgets panel: a temperature slider (log scale, 0.25 to 20) over the figure. Its
    ``.update(temperature)`` moves the slider, redraws and returns the figure (used by the tests)."""
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    temperature_view(teacher_logits, student_logits, temperature, vocabulary, target, top_k)  # validate early
    slider = widgets.FloatLogSlider(value=temperature, base=10, min=np.log10(TEMPERATURES[0]),
                                    max=np.log10(TEMPERATURES[-1]), step=0.02, description="T",
                                    readout_format=".2f", continuous_update=False)
    output = widgets.Output()
    fig = Figure(figsize=(13, 4.2))  # not pyplot-managed: a later plt.show() in the notebook must not redraw it
    syncing = []

    def redraw():
        panel.view = temperature_view(teacher_logits, student_logits, slider.value, vocabulary, target, top_k)
        draw_temperature(panel.view, fig)
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(fig)
        return fig

    def update(temperature=None):
        """Set T (when given) and redraw once; returns the figure."""
        if temperature is not None:
            syncing.append(True)
            try:
                slider.value = temperature
            finally:
                syncing.pop()
        return redraw()

    panel = widgets.VBox([slider, output])
    slider.observe(lambda change: None if syncing else redraw(), names="value")
    panel.update, panel.figure, panel.slider = update, fig, slider
    update()
    return panel

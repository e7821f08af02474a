r"""ALBERT's parameter tables, recounted exactly on the meta device (nothing is allocated).

Where the parameters of a BERT-style encoder live (V vocabulary, E embedding width, H hidden width, L layers,
feed-forward 4H):

.. math::  \underbrace{V E + (512 + 2) E + 2E}_{\text{embeddings}}
           + \underbrace{(E H + H)}_{\text{projection, } E \ne H}
           + \underbrace{L' \,(12 H^2 + 13 H)}_{\text{encoder}} + \underbrace{H^2 + H}_{\text{pooler}}

where :math:`L'` counts *distinct* layers: L without sharing, 1 when all layers share (attention is
:math:`4H^2 + 4H` plus a LayerNorm, the feed-forward :math:`8H^2 + 5H` plus a LayerNorm).

The published figures are from Lan et al. (2020, ICLR), tables 2 (model sizes, with the average downstream score
and the training speed-up over BERT-large), 3 (embedding size E), 4 (cross-layer sharing) and appendix A.1
(depth and width), with the average of the paper's downstream scores (SQuAD 1.1/2.0, MNLI, SST-2, RACE). Every row
below prints our exact count next to the paper's rounded one and says, by computing it, whether they agree.
"""
from __future__ import annotations

from minibert.core.config import BertConfig
from minibert.core.parameter_count import count_parameters
from minibert.models.bert.model import BertModel
from .model import AlbertConfig, AlbertModel

__all__ = ["albert_parameters", "embedding_size_table", "sharing_table", "model_size_table", "depth_table",
           "width_table", "compare_with_published", "EMBEDDING_ABLATION", "SHARING_ABLATION", "MODEL_SIZES",
           "MODEL_RESULTS", "DEPTH_ABLATION", "WIDTH_ABLATION"]

# Lan et al. (2019), table 3: ALBERT-base (L=12, H=768) for several E, not shared and all-shared:
# (parameters in millions, average of the downstream scores).
EMBEDDING_ABLATION = {("none", 64): (87, 81.3), ("none", 128): (89, 81.7), ("none", 256): (93, 81.8),
                      ("none", 768): (108, 82.3), ("all", 64): (10, 79.0), ("all", 128): (12, 80.1),
                      ("all", 256): (16, 79.6), ("all", 768): (31, 79.8)}
# Table 4: ALBERT-base with E=768 and E=128, sharing all / attention only / FFN only / nothing.
SHARING_ABLATION = {(768, "all"): (31, 79.8), (768, "attention"): (83, 81.6), (768, "ffn"): (57, 79.5),
                    (768, "none"): (108, 82.3), (128, "all"): (12, 80.1), (128, "attention"): (64, 81.7),
                    (128, "ffn"): (38, 80.2), (128, "none"): (89, 81.6)}
# Table 2: the configurations, with BERT (trained by the ALBERT authors with the same 30k vocabulary). Millions.
MODEL_SIZES = {"BERT-base": 108, "BERT-large": 334, "ALBERT-base": 12, "ALBERT-large": 18, "ALBERT-xlarge": 60,
               "ALBERT-xxlarge": 235}
# Table 2, quality and speed: (average downstream score, training data throughput relative to BERT-large on the
# same hardware).
MODEL_RESULTS = {"BERT-base": (82.3, 4.7), "BERT-large": (85.2, 1.0), "ALBERT-base": (80.1, 5.6),
                 "ALBERT-large": (82.4, 1.7), "ALBERT-xlarge": (85.5, 0.6), "ALBERT-xxlarge": (88.7, 0.3)}
# Appendix A.1: ALBERT-large (all shared) at several depths: number of layers -> (millions, average score).
DEPTH_ABLATION = {1: (18, 52.9), 3: (18, 71.2), 6: (18, 77.2), 12: (18, 81.5), 24: (18, 82.1), 48: (18, 81.8)}
# Appendix A.1: a 3-layer ALBERT-large at several hidden sizes H (heads H / 64, feed-forward 4H):
# H -> (millions, average score).
WIDTH_ABLATION = {1024: (18, 71.2), 2048: (60, 74.6), 4096: (225, 76.3), 6144: (499, 74.0)}


def albert_parameters(size: str = "base", embedding_size: int = 128, sharing: str = "all", pooler: bool = True,
                      **overrides) -> int:
    """Exact parameter count of an ALBERT of ``size`` with embedding width E and a sharing mode, built on meta."""
    config = AlbertConfig.of_size(size, embedding_size=embedding_size, cross_layer_sharing=sharing, **overrides)
    return count_parameters(lambda: AlbertModel(config, add_pooler=pooler))


def compare_with_published(exact: int, pooler: int, published_millions: float) -> str:
    """Says how an exact count relates to a figure the paper rounded to millions."""
    if round(exact / 1e6) == published_millions:
        return "matches"
    if round((exact - pooler) / 1e6) == published_millions:
        return f"matches without the pooler ({pooler:,})"
    return f"paper is {published_millions - exact / 1e6:+.1f}M off"


def _row(label: str, exact: int, pooler: int, published: float, **columns) -> dict:
    return {**columns, "model": label, "exact": exact, "exact_millions": round(exact / 1e6, 2),
            "published_millions": published, "agreement": compare_with_published(exact, pooler, published)}


def _pooler(hidden: int) -> int:
    return hidden * hidden + hidden


def embedding_size_table() -> list[dict]:
    """Table 3: E in {64, 128, 256, 768}, not shared and all-shared, ALBERT-base (with the paper's average score)."""
    rows = []
    for (sharing, e), (published, average) in EMBEDDING_ABLATION.items():
        exact = albert_parameters("base", e, sharing)
        rows.append(_row(f"ALBERT-base E={e} {'all-shared' if sharing == 'all' else 'not-shared'}", exact,
                         _pooler(768), published, E=e, sharing=sharing, published_average=average))
    return rows


def sharing_table() -> list[dict]:
    """Table 4: sharing all / attention / FFN / none, at E=768 and E=128, ALBERT-base."""
    rows = []
    for (e, sharing), (published, average) in SHARING_ABLATION.items():
        exact = albert_parameters("base", e, sharing)
        rows.append(_row(f"ALBERT-base E={e} shared-{sharing}", exact, _pooler(768), published, E=e, sharing=sharing,
                         published_average=average))
    return rows


def model_size_table() -> list[dict]:
    """Table 2: BERT-base/large (30k vocabulary, no sharing, E = H) and ALBERT base/large/xlarge/xxlarge."""
    rows = []
    for name, published in MODEL_SIZES.items():
        family, size = name.split("-")
        if family == "BERT":
            config = BertConfig.base(vocab_size=30000) if size == "base" else BertConfig.large(vocab_size=30000)
            exact = count_parameters(lambda: BertModel(config))
        else:
            config = AlbertConfig.of_size(size)
            exact = albert_parameters(size)
        average, speedup = MODEL_RESULTS[name]
        rows.append(_row(name, exact, _pooler(config.hidden_size), published, L=config.num_hidden_layers,
                         H=config.hidden_size, E=config.embedding_width, published_average=average,
                         published_speedup=speedup))
    return rows


def depth_table(depths=(1, 3, 6, 12, 24, 48)) -> list[dict]:
    """ALBERT-large with all layers shared at several depths: the count does not move (the paper prints 18M), the
    quality does (the paper's average score)."""
    return [_row(f"ALBERT-large L={depth}", albert_parameters("large", num_hidden_layers=depth), _pooler(1024),
                 DEPTH_ABLATION[depth][0], L=depth, published_average=DEPTH_ABLATION[depth][1]) for depth in depths]


def width_table(widths=(1024, 2048, 4096, 6144)) -> list[dict]:
    """A 3-layer ALBERT-large (all shared) at several hidden sizes H, with H / 64 heads and a 4H feed-forward
    layer: the parameters grow about as H squared, the paper's average score does not keep up."""
    return [_row(f"ALBERT-large L=3 H={width}", albert_parameters(
        "large", num_hidden_layers=3, hidden_size=width, num_attention_heads=width // 64, intermediate_size=4 * width),
        _pooler(width), WIDTH_ABLATION[width][0], H=width, published_average=WIDTH_ABLATION[width][1])
        for width in widths]

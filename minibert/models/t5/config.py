"""T5's hyper-parameters under ``transformers``' ``T5Config`` names, so a T5 ``config.json`` reads and writes as is.

Raffel et al. (2020), "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer", section
3.1.1 (baseline: 12 + 12 layers, d_model 768, d_ff 3072, 12 heads of d_kv 64, 32 position buckets) and section 3.7
(T5-small ... T5-11B). T5 v1.1 (the checkpoints released after the paper) changes three things, all switches here:
a GeGLU feed-forward (Shazeer, 2020, "GLU Variants Improve Transformer": ``feed_forward_proj="gated-gelu"``), an
output layer untied from the embeddings (``tie_word_embeddings=False``) and no dropout in pre-training
(``dropout_rate=0.0``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, ClassVar

from minibert.core.config import COUNT, EPSILON, POSITIVE, PROBABILITY, ConfigBase
from minibert.core.checks import choice, number

__all__ = ["T5Config", "FEED_FORWARD_PROJECTIONS"]

FEED_FORWARD_PROJECTIONS = ("relu", "gated-gelu")  # T5 v1.0 and v1.1


def _boolean(owner: str, name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}.{name} must be True or False, got {value!r}")
    return value


@dataclass
class T5Config(ConfigBase):
    """The defaults are T5-small v1.0 (6 + 6 layers, d_model 512, 8 heads; Raffel et al., 2020, section 3.7)."""

    vocab_size: int = 32128
    d_model: int = 512
    d_kv: int = 64
    d_ff: int = 2048
    num_layers: int = 6
    num_decoder_layers: int | None = None  # None: as many as the encoder
    num_heads: int = 8
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.1
    layer_norm_epsilon: float = 1e-6
    initializer_factor: float = 1.0
    feed_forward_proj: str = "relu"
    tie_word_embeddings: bool = True  # v1.0: the output layer is the embedding table (times d_model ** -0.5)
    pad_token_id: int = 0
    eos_token_id: int = 1
    decoder_start_token_id: int = 0  # T5 starts decoding from the padding id

    model_type: ClassVar[str] = "t5"
    field_checks: ClassVar[dict[str, Callable]] = {
        **dict.fromkeys(("vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_heads",
                         "relative_attention_num_buckets", "relative_attention_max_distance"), POSITIVE),
        "num_decoder_layers": partial(POSITIVE, none=True),
        **dict.fromkeys(("pad_token_id", "eos_token_id", "decoder_start_token_id"), COUNT),
        "dropout_rate": PROBABILITY,
        "layer_norm_epsilon": EPSILON,
        "initializer_factor": partial(number, low=0.0, low_open=True),
        "feed_forward_proj": partial(choice, options=FEED_FORWARD_PROJECTIONS),
        "tie_word_embeddings": _boolean,
    }
    padding_in: ClassVar[tuple[str, str]] = ("pad_token_id", "vocab_size")
    # derived from feed_forward_proj / tie_word_embeddings by transformers, or options this model does not have
    hf_ignored_keys: ClassVar[frozenset[str]] = (ConfigBase.hf_ignored_keys - {"tie_word_embeddings"}) | {
        "dense_act_fn", "is_gated_act", "is_encoder_decoder", "classifier_dropout", "n_positions",
        "gradient_checkpointing", "bos_token_id", "task_specific_params",
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_decoder_layers is None:
            self.num_decoder_layers = self.num_layers
        for name in ("eos_token_id", "decoder_start_token_id"):
            if getattr(self, name) >= self.vocab_size:
                raise ValueError(f"{name} {getattr(self, name)} is outside the vocabulary [0, {self.vocab_size})")

    @property
    def is_gated(self) -> bool:
        return self.feed_forward_proj.startswith("gated-")

    @classmethod
    def tiny(cls, **overrides: Any) -> "T5Config":
        """A 2 + 2-layer, 64-wide model for tests and in-notebook demonstrations."""
        sizes = dict(vocab_size=100, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4,
                     relative_attention_num_buckets=16, relative_attention_max_distance=32)
        return cls(**{**sizes, **overrides})

    @classmethod
    def from_hf_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        # transformers 5 always ties in memory and records the v1.0 rescale as scale_decoder_outputs: that flag
        # says which head the weights were trained with
        scale = data.pop("scale_decoder_outputs", None)
        if scale is not None:
            data["tie_word_embeddings"] = bool(scale)
        eos = data.get("eos_token_id")
        if isinstance(eos, list):
            if len(eos) != 1:
                raise ValueError(f"eos_token_id lists {eos}; T5Config takes one end-of-sequence id")
            data["eos_token_id"] = eos[0]
        return data

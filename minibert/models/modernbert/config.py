"""ModernBERT's hyper-parameters under ``transformers.ModernBertConfig``'s names, on the course's one config base.

Warner et al. (2024), "Smarter, Better, Faster, Longer: A Modern Bidirectional Encoder for Fast, Memory Efficient,
and Long Context Finetuning and Inference" (section 2): ModernBERT-base is
22 layers, 768 wide, 12 heads, a GeGLU inner width of 1152, 8192 tokens of context. Every third layer attends
globally with a RoPE base of 160,000, the others attend within 128 tokens with a base of 10,000.

transformers 5 writes the layer pattern as ``layer_types`` and both RoPE bases in ``rope_parameters``; older
``config.json`` files carry ``global_attn_every_n_layers``, ``global_rope_theta`` and ``local_rope_theta``. Both
read; a save writes the transformers 5 form (which also keeps ``global_attn_every_n_layers``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, ClassVar

from minibert.core.checks import choice, number
from minibert.core.config import (ACTIVATIONS, COUNT, EPSILON, POSITIVE, PROBABILITY, STD, ConfigBase)

__all__ = ["ModernBertConfig", "LAYER_TYPES"]

LAYER_TYPES = ("full_attention", "sliding_attention")  # transformers' names for a global and a local layer
THETA = partial(number, low=1.0, low_open=True)


def _flag(owner: str, name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}.{name} must be True or False, got {value!r}")
    return value


@dataclass
class ModernBertConfig(ConfigBase):
    """Sizes and switches of a ModernBERT encoder; the defaults are ModernBERT-base's (``transformers``' defaults)."""

    vocab_size: int = 50368
    hidden_size: int = 768
    intermediate_size: int = 1152  # the GeGLU's inner width: Wi projects to twice this (value and gate)
    num_hidden_layers: int = 22
    num_attention_heads: int = 12
    hidden_activation: str = "gelu"
    max_position_embeddings: int = 8192
    initializer_range: float = 0.02
    initializer_cutoff_factor: float = 2.0
    norm_eps: float = 1e-5
    norm_bias: bool = False
    pad_token_id: int = 50283
    eos_token_id: int | None = 50282
    bos_token_id: int | None = 50281
    cls_token_id: int | None = 50281
    sep_token_id: int | None = 50282
    attention_bias: bool = False
    attention_dropout: float = 0.0
    global_attn_every_n_layers: int = 3
    layer_types: list | None = None  # None: global at layers 0, n, 2n, ...; local elsewhere
    global_rope_theta: float = 160000.0
    local_rope_theta: float = 10000.0
    local_attention: int = 128  # the whole window: a token sees local_attention // 2 tokens on each side
    embedding_dropout: float = 0.0
    mlp_bias: bool = False
    mlp_dropout: float = 0.0
    decoder_bias: bool = True
    classifier_activation: str = "gelu"
    classifier_bias: bool = False

    model_type: ClassVar[str] = "modernbert"
    field_checks: ClassVar[dict[str, Callable]] = {
        **dict.fromkeys(("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                         "max_position_embeddings", "global_attn_every_n_layers"), POSITIVE),
        "local_attention": partial(COUNT, why="the window in tokens, both sides together"),
        "pad_token_id": COUNT,
        **dict.fromkeys(("hidden_activation", "classifier_activation"), partial(choice, options=ACTIVATIONS)),
        **dict.fromkeys(("attention_dropout", "embedding_dropout", "mlp_dropout"), PROBABILITY),
        **dict.fromkeys(("global_rope_theta", "local_rope_theta"), THETA),
        **dict.fromkeys(("norm_bias", "attention_bias", "mlp_bias", "decoder_bias", "classifier_bias"), _flag),
        "norm_eps": EPSILON,
        "initializer_range": STD,
        "initializer_cutoff_factor": partial(number, low=0.0, low_open=True),
    }
    heads_split: ClassVar[tuple[str, str]] = ("hidden_size", "num_attention_heads")
    padding_in: ClassVar[tuple[str, str]] = ("pad_token_id", "vocab_size")

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.hidden_size // self.num_attention_heads) % 2:
            raise ValueError(f"RoPE rotates pairs of dimensions: the head width hidden_size / num_attention_heads = "
                             f"{self.hidden_size // self.num_attention_heads} must be even")
        if self.layer_types is not None:
            self.layer_types = list(self.layer_types)
            if len(self.layer_types) != self.num_hidden_layers or set(self.layer_types) - set(LAYER_TYPES):
                raise ValueError(f"layer_types must list one of {LAYER_TYPES} per layer ({self.num_hidden_layers} "
                                 f"layers), got {self.layer_types}")

    @property
    def attention_types(self) -> list[str]:
        """One of :data:`LAYER_TYPES` per layer: ``layer_types`` if given, else global every n-th layer from 0."""
        if self.layer_types is not None:
            return list(self.layer_types)
        n = self.global_attn_every_n_layers
        return [LAYER_TYPES[bool(i % n)] for i in range(self.num_hidden_layers)]

    @property
    def sliding_window(self) -> int:
        """Tokens seen on each side in a local layer (transformers' ``sliding_window``): ``local_attention // 2``."""
        return self.local_attention // 2

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def max_sequence_length(self) -> int:
        return self.max_position_embeddings

    @classmethod
    def base(cls, **overrides: Any) -> "ModernBertConfig":
        """answerdotai/ModernBERT-base: 22 layers, 768 wide, 12 heads (the defaults)."""
        return cls(**overrides)

    @classmethod
    def large(cls, **overrides: Any) -> "ModernBertConfig":
        """answerdotai/ModernBERT-large: 28 layers, 1024 wide, 16 heads, GeGLU inner width 2624."""
        sizes = dict(hidden_size=1024, num_hidden_layers=28, num_attention_heads=16, intermediate_size=2624)
        return cls(**{**sizes, **overrides})

    @classmethod
    def tiny(cls, **overrides: Any) -> "ModernBertConfig":
        """A 4-layer, 64-wide model with an 8-token window, small enough for tests and notebooks."""
        sizes = dict(vocab_size=1000, hidden_size=64, num_hidden_layers=4, num_attention_heads=4,
                     intermediate_size=96, max_position_embeddings=512, local_attention=8, pad_token_id=0,
                     eos_token_id=None, bos_token_id=None, cls_token_id=None, sep_token_id=None)
        return cls(**{**sizes, **overrides})

    # -- Hugging Face config.json ---------------------------------------------------------------------------------
    @classmethod
    def from_hf_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        if data.pop("rope_scaling", None) is not None:
            raise ValueError("rope_scaling is not supported by minibert's ModernBertModel (plain RoPE only)")
        rope = data.pop("rope_parameters", None) or {}
        for layer_type, field_name in (("full_attention", "global_rope_theta"),
                                       ("sliding_attention", "local_rope_theta")):
            params = rope.get(layer_type) or {}
            if params.get("rope_type", "default") != "default":
                raise ValueError(f"rope_parameters[{layer_type!r}] uses rope_type {params['rope_type']!r}; minibert "
                                 "supports the default (unscaled) RoPE only")
            if "rope_theta" in params:
                data[field_name] = params["rope_theta"]
        return data

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["layer_types"] = self.attention_types
        data["rope_parameters"] = {
            "full_attention": {"rope_type": "default", "rope_theta": data.pop("global_rope_theta")},
            "sliding_attention": {"rope_type": "default", "rope_theta": data.pop("local_rope_theta")},
        }
        return data

    def to_hf_dict(self, architecture: str = "ModernBertModel") -> dict[str, Any]:
        return super().to_hf_dict(architecture)

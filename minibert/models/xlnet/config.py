"""XLNet's hyper-parameters (chapter 12), under ``transformers.XLNetConfig``'s names and defaults.

XLNet keeps Hugging Face's names (``d_model``, ``n_layer``, ``n_head``) because its checkpoints' ``config.json`` use
them; ``from_dict`` refuses the options minibert's XLNet does not implement rather than ignore them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from minibert.core.checks import choice, integer, number

__all__ = ["XLNetConfig"]


_UNSUPPORTED = {"attn_type": "bi", "bi_data": False, "same_length": False}


@dataclass
class XLNetConfig:
    """XLNet's hyper-parameters under ``transformers.XLNetConfig``'s names and defaults (XLNet-large)."""

    vocab_size: int = 32000
    d_model: int = 1024
    n_layer: int = 24
    n_head: int = 16
    d_inner: int = 4096
    ff_activation: str = "gelu"
    dropout: float = 0.1
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02
    mem_len: int | None = 512
    pad_token_id: int = 5
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layer", "n_head", "d_inner"):
            integer("XLNetConfig", name, getattr(self, name), minimum=1)
        if self.d_model % self.n_head:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_head ({self.n_head})")
        choice("XLNetConfig", "ff_activation", self.ff_activation, ("gelu", "relu", "gelu_new"))
        number("XLNetConfig", "dropout", self.dropout, 0.0, 1.0, high_open=True)
        number("XLNetConfig", "layer_norm_eps", self.layer_norm_eps, low=0.0, low_open=True)
        number("XLNetConfig", "initializer_range", self.initializer_range, low=0.0)
        integer("XLNetConfig", "mem_len", self.mem_len, minimum=0, none=True)
        integer("XLNetConfig", "pad_token_id", self.pad_token_id, minimum=0, none=True)
        if self.pad_token_id is not None and self.pad_token_id >= self.vocab_size:
            raise ValueError(f"pad_token_id {self.pad_token_id} is outside the vocabulary [0, {self.vocab_size})")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_head

    @classmethod
    def tiny(cls, **overrides: Any) -> "XLNetConfig":
        """2 layers, 64 wide: for tests and notebooks."""
        return cls(**{**dict(vocab_size=1000, d_model=64, n_layer=2, n_head=4, d_inner=256, mem_len=32), **overrides})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "XLNetConfig":
        if not isinstance(data, dict):
            raise TypeError(f"XLNetConfig.from_dict expects a dict, got {type(data).__name__}")
        for key, supported in _UNSUPPORTED.items():
            if key in data and data[key] != supported:
                raise ValueError(f"{key}={data[key]!r} is not supported by minibert's XLNet (only {supported!r})")
        if (data.get("clamp_len") or -1) > 0 or data.get("reuse_len"):
            raise ValueError("clamp_len > 0 and reuse_len are not supported by minibert's XLNet")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        if "d_head" in data and data["d_head"] != data.get("d_model", cls.d_model) // data.get("n_head", cls.n_head):
            raise ValueError("d_head must equal d_model / n_head")
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_hf_dict(self, architecture: str = "XLNetLMHeadModel") -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {"architectures": [architecture], "model_type": "xlnet", **data, "d_head": self.d_head,
                "attn_type": "bi", "bi_data": False, "same_length": False, "clamp_len": -1, "reuse_len": None,
                "use_mems_eval": True, "use_mems_train": False, **self.extra}

"""XLNet's hyper-parameters (chapter 12), under ``transformers.XLNetConfig``'s names and defaults.

XLNet keeps Hugging Face's names (``d_model``, ``n_layer``, ``n_head``) because its checkpoints' ``config.json`` use
them; the checks are :class:`~minibert.core.config.ConfigBase`'s, shared with every other config.
``from_dict`` refuses the options minibert's XLNet does not implement rather than ignore them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, ClassVar

from minibert.core.checks import choice
from minibert.core.config import COUNT, EPSILON, POSITIVE, PROBABILITY, STD, ConfigBase

__all__ = ["XLNetConfig"]


_UNSUPPORTED = {"attn_type": "bi", "bi_data": False, "same_length": False}
# what to_hf_dict writes itself: these keys of a config.json are read (and refused if unsupported), not kept
_WRITTEN_BACK = {"d_head", "attn_type", "bi_data", "same_length", "clamp_len", "reuse_len", "use_mems_eval",
                 "use_mems_train"}


@dataclass
class XLNetConfig(ConfigBase):
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

    model_type: ClassVar[str] = "xlnet"
    field_checks: ClassVar[dict[str, Callable]] = {
        **dict.fromkeys(("vocab_size", "d_model", "n_layer", "n_head", "d_inner"), POSITIVE),
        "ff_activation": partial(choice, options=("gelu", "relu", "gelu_new")),
        "dropout": PROBABILITY,
        "layer_norm_eps": EPSILON,
        "initializer_range": STD,
        "mem_len": partial(COUNT, none=True),
        "pad_token_id": partial(COUNT, none=True),
    }
    heads_split: ClassVar[tuple[str, str]] = ("d_model", "n_head")
    padding_in: ClassVar[tuple[str, str]] = ("pad_token_id", "vocab_size")
    hf_ignored_keys: ClassVar[frozenset[str]] = ConfigBase.hf_ignored_keys | _WRITTEN_BACK

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_head

    @classmethod
    def tiny(cls, **overrides: Any) -> "XLNetConfig":
        """2 layers, 64 wide: for tests and notebooks."""
        return cls(**{**dict(vocab_size=1000, d_model=64, n_layer=2, n_head=4, d_inner=256, mem_len=32), **overrides})

    @classmethod
    def from_hf_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        for key, supported in _UNSUPPORTED.items():
            if key in data and data[key] != supported:
                raise ValueError(f"{key}={data[key]!r} is not supported by minibert's XLNet (only {supported!r})")
        if (data.get("clamp_len") or -1) > 0 or data.get("reuse_len"):
            raise ValueError("clamp_len > 0 and reuse_len are not supported by minibert's XLNet")
        if "d_head" in data and data["d_head"] != data.get("d_model", cls.d_model) // data.get("n_head", cls.n_head):
            raise ValueError("d_head must equal d_model / n_head")
        return data

    def to_hf_dict(self, architecture: str = "XLNetLMHeadModel") -> dict[str, Any]:
        return {**super().to_hf_dict(architecture), "d_head": self.d_head, "attn_type": "bi", "bi_data": False,
                "same_length": False, "clamp_len": -1, "reuse_len": None, "use_mems_eval": True,
                "use_mems_train": False}

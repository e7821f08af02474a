"""BERT's hyper-parameters, validated, and readable from / writable to a Hugging Face ``config.json``.

Devlin et al. (2019) name the sizes L (layers), H (hidden size) and A (attention heads); the feed-forward inner
size is 4H. BERT-base is L=12, H=768, A=12 (110M parameters), BERT-large L=24, H=1024, A=16 (340M).
Field names follow Hugging Face's ``BertConfig`` so a checkpoint's ``config.json`` maps onto this class unchanged.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .checks import choice, integer, number

ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
NORM_POSITIONS = ("post", "pre")  # where each sub-layer's LayerNorm sits (see minibert.core.transformer)

# Keys a Hugging Face BERT config carries that change nothing in an encoder; accepted and dropped on read.
_IGNORED_HF_KEYS = {
    "architectures", "model_type", "transformers_version", "_name_or_path", "gradient_checkpointing",
    "use_cache", "position_embedding_type", "torch_dtype", "dtype", "is_decoder",
    "add_cross_attention", "chunk_size_feed_forward", "output_attentions", "output_hidden_states",
    "return_dict", "bos_token_id", "eos_token_id", "tie_word_embeddings",
    "problem_type", "directionality", "pooler_fc_size", "pooler_num_attention_heads", "pooler_num_fc_layers",
    "pooler_size_per_head", "pooler_type", "tokenizer_class", "use_return_dict",
}


@dataclass
class BertConfig:
    """Sizes and switches of a BERT encoder. Every field is checked when the config is built.

    The defaults are BERT-base uncased. ``BertConfig.base()`` and ``BertConfig.large()`` give the two published
    sizes; ``BertConfig.tiny()`` a model small enough to train in a notebook.
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    initializer_range: float = 0.02
    embedding_size: int | None = None  # E < H factorises the embeddings (ALBERT, ELECTRA); None means E = H
    norm_position: str = "post"  # "post": LayerNorm(x + F(x)), BERT; "pre": x + F(LayerNorm(x)) (Xiong et al., 2020)
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # Switches the offspring set in their config subclasses (RobertaConfig, AlbertConfig, ...); BERT's values here.
    model_type: ClassVar[str] = "bert"  # written to config.json so transformers picks the matching class
    positions_past_padding: ClassVar[bool] = False  # RoBERTa: positions count real tokens from pad_token_id + 1

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                     "max_position_embeddings"):
            integer(owner, name, getattr(self, name), minimum=1)
        integer(owner, "type_vocab_size", self.type_vocab_size, minimum=0)
        integer(owner, "embedding_size", self.embedding_size, minimum=1, none=True)
        integer(owner, "pad_token_id", self.pad_token_id, minimum=0, none=True)
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads "
                f"({self.num_attention_heads}): each head gets hidden_size / heads dimensions. "
                f"Try num_attention_heads in {_divisors(self.hidden_size)}."
            )
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            number(owner, name, getattr(self, name), 0.0, 1.0, high_open=True)
        choice(owner, "hidden_act", self.hidden_act, ACTIVATIONS)
        choice(owner, "norm_position", self.norm_position, NORM_POSITIONS)
        number(owner, "layer_norm_eps", self.layer_norm_eps, low=0.0, low_open=True)
        number(owner, "initializer_range", self.initializer_range, low=0.0)
        if self.pad_token_id is not None and not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(f"pad_token_id {self.pad_token_id} is outside the vocabulary [0, {self.vocab_size})")

    @property
    def embedding_width(self) -> int:
        """E: the width of the embedding tables (H unless ``embedding_size`` factorises them)."""
        return self.embedding_size or self.hidden_size

    @property
    def cross_layer_sharing(self) -> str:
        """Which sub-layers the encoder layers share: BERT shares none (ALBERT's config makes this a field)."""
        return "none"

    @property
    def max_sequence_length(self) -> int:
        """The longest input the position table covers (RoBERTa's first pad_token_id + 1 rows are never used)."""
        offset = self.pad_token_id + 1 if self.positions_past_padding else 0
        return self.max_position_embeddings - offset

    @property
    def head_size(self) -> int:
        """Width of one attention head, d_k = H / A."""
        return self.hidden_size // self.num_attention_heads

    # -- the published sizes -------------------------------------------------------------------------------------
    @classmethod
    def base(cls, **overrides: Any) -> "BertConfig":
        """BERT-base: L=12, H=768, A=12, feed-forward 3072."""
        return cls(**overrides)

    @classmethod
    def large(cls, **overrides: Any) -> "BertConfig":
        """BERT-large: L=24, H=1024, A=16, feed-forward 4096."""
        sizes = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
        return cls(**{**sizes, **overrides})

    @classmethod
    def tiny(cls, **overrides: Any) -> "BertConfig":
        """A 2-layer, 64-wide model for tests and in-notebook training."""
        sizes = dict(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=256, max_position_embeddings=128)
        return cls(**{**sizes, **overrides})

    # -- Hugging Face config.json ---------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BertConfig":
        """Build from a Hugging Face style dict; unknown keys are kept in ``extra`` and written back on save."""
        if not isinstance(data, dict):
            raise TypeError(f"BertConfig.from_dict expects a dict, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        extra = {k: v for k, v in data.items() if k not in names and k not in _IGNORED_HF_KEYS}
        if not isinstance(data.get("extra", {}), dict):
            raise TypeError(f"{cls.__name__}.from_dict: extra must be a dict of extra settings, got "
                            f"{type(data['extra']).__name__}")
        extra.update(data.get("extra", {}))
        if data.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(
                f"position_embedding_type={data['position_embedding_type']!r} is not supported by BertModel; "
                "only absolute positions are (relative schemes live in minibert.core.positions)"
            )
        return cls(**known, extra=extra)

    @classmethod
    def from_json_file(cls, path: str | Path) -> "BertConfig":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no config file at {path}") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        if data["embedding_size"] is None:
            del data["embedding_size"]
        if data["norm_position"] == "post":  # BERT's order; transformers' BertModel knows no other
            del data["norm_position"]
        data.update(self.extra)
        return data

    def to_hf_dict(self, architecture: str = "BertModel") -> dict[str, Any]:
        """The dict ``transformers`` expects in ``config.json``."""
        return {"architectures": [architecture], "model_type": self.model_type,
                "position_embedding_type": "absolute", **self.to_dict()}

    def replace(self, **changes: Any) -> "BertConfig":
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, min(n, 64) + 1) if n % d == 0]

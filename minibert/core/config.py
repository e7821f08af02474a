"""The one config base, and BERT's hyper-parameters on it, readable from / writable to a Hugging Face ``config.json``.

:class:`ConfigBase` is what every model's config shares: each field checked when the config is built (one table,
``field_checks``, read by one ``__post_init__``), ``from_dict``/``to_dict`` for ``config.json`` (a subclass that
uses other names than its ``transformers`` twin translates them in one hook, ``from_hf_names``), ``from_json_file``
and ``replace``.

Devlin et al. (2019) name BERT's sizes L (layers), H (hidden size) and A (attention heads); the feed-forward inner
size is 4H. BERT-base is L=12, H=768, A=12 (110M parameters), BERT-large L=24, H=1024, A=16 (340M).
Field names follow Hugging Face's ``BertConfig`` so a checkpoint's ``config.json`` maps onto this class unchanged.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, ClassVar

from .checks import choice, integer, number

__all__ = ["ConfigBase", "BertConfig", "ACTIVATIONS", "POSITIVE", "COUNT", "PROBABILITY", "EPSILON", "STD"]

ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
NORM_POSITIONS = ("post", "pre")  # where each sub-layer's LayerNorm sits (see minibert.core.transformer)

# The checks fields share, by what the field is; each is called as check(owner, name, value).
POSITIVE = partial(integer, minimum=1)  # sizes and counts that cannot be zero
COUNT = partial(integer, minimum=0)  # counts that may be zero
PROBABILITY = partial(number, low=0.0, high=1.0, high_open=True)  # dropout rates
EPSILON = partial(number, low=0.0, low_open=True)  # LayerNorm's epsilon
STD = partial(number, low=0.0)  # the initialiser's standard deviation

# Keys any transformers config.json carries that change nothing in minibert's models; accepted and dropped on read.
_BOOKKEEPING_KEYS = frozenset({
    "architectures", "model_type", "transformers_version", "_name_or_path", "torch_dtype", "dtype",
    "output_attentions", "output_hidden_states", "return_dict", "use_return_dict", "chunk_size_feed_forward",
    "tokenizer_class", "problem_type", "is_decoder", "add_cross_attention", "tie_word_embeddings", "use_cache",
})


@dataclass
class ConfigBase:
    """The base of every config. A subclass is a dataclass of its fields plus three class attributes:

    ``field_checks`` (field name -> check, applied in order when the config is built), ``heads_split`` (the
    ``(width, heads)`` fields: the width must split evenly over the heads) and ``padding_in`` (the
    ``(pad id, vocabulary size)`` fields: the padding id must be a token). ``extra`` keeps the keys of a
    ``config.json`` the class has no field for, so that a save writes them back.
    """

    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, kw_only=True)

    model_type: ClassVar[str] = ""  # written to config.json so transformers picks the matching class
    field_checks: ClassVar[dict[str, Callable]] = {}
    heads_split: ClassVar[tuple[str, str] | None] = None
    padding_in: ClassVar[tuple[str, str] | None] = None
    hf_ignored_keys: ClassVar[frozenset[str]] = _BOOKKEEPING_KEYS

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name, check in self.field_checks.items():
            check(owner, name, getattr(self, name))
        if self.heads_split is not None:
            width_name, heads_name = self.heads_split
            width, heads = getattr(self, width_name), getattr(self, heads_name)
            if width % heads:
                raise ValueError(f"{width_name} ({width}) must be divisible by {heads_name} ({heads}): each head "
                                 f"gets {width_name} / heads dimensions. Try {heads_name} in {_divisors(width)}.")
        if self.padding_in is not None:
            pad_name, vocab_name = self.padding_in
            pad, vocab = getattr(self, pad_name), getattr(self, vocab_name)
            if pad is not None and pad >= vocab:
                raise ValueError(f"{pad_name} {pad} is outside the vocabulary [0, {vocab})")

    # -- Hugging Face config.json ---------------------------------------------------------------------------------
    @classmethod
    def from_hf_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Hook: rename (or refuse) the keys of a ``config.json`` whose names differ from this class's fields.
        ``data`` is a copy the hook may change. The base keeps everything as it is."""
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """Build from a Hugging Face style dict; unknown keys are kept in ``extra`` and written back on save."""
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}.from_dict expects a dict, got {type(data).__name__}")
        data = cls.from_hf_names(dict(data))
        given_extra = data.pop("extra", {})
        if not isinstance(given_extra, dict):
            raise TypeError(f"{cls.__name__}.from_dict: extra must be a dict of extra settings, got "
                            f"{type(given_extra).__name__}")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        extra = {k: v for k, v in data.items() if k not in names and k not in cls.hf_ignored_keys}
        return cls(**known, extra={**extra, **given_extra})

    @classmethod
    def from_json_file(cls, path: str | Path):
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no config file at {path}") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The fields (and ``extra``) as a plain dict, under this class's names."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        data.update(self.extra)
        return data

    def to_hf_dict(self, architecture: str) -> dict[str, Any]:
        """The dict ``transformers`` expects in ``config.json``."""
        return {"architectures": [architecture], "model_type": self.model_type, **self.to_dict()}

    def replace(self, **changes: Any):
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass
class BertConfig(ConfigBase):
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

    # Switches the offspring set in their config subclasses (RobertaConfig, AlbertConfig, ...); BERT's values here.
    model_type: ClassVar[str] = "bert"
    positions_past_padding: ClassVar[bool] = False  # RoBERTa: positions count real tokens from pad_token_id + 1

    field_checks: ClassVar[dict[str, Callable]] = {
        **dict.fromkeys(("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                         "max_position_embeddings"), POSITIVE),
        "type_vocab_size": COUNT,
        "embedding_size": partial(POSITIVE, none=True),
        "pad_token_id": partial(COUNT, none=True),
        "hidden_dropout_prob": PROBABILITY,
        "attention_probs_dropout_prob": PROBABILITY,
        "hidden_act": partial(choice, options=ACTIVATIONS),
        "norm_position": partial(choice, options=NORM_POSITIONS),
        "layer_norm_eps": EPSILON,
        "initializer_range": STD,
    }
    heads_split: ClassVar[tuple[str, str]] = ("hidden_size", "num_attention_heads")
    padding_in: ClassVar[tuple[str, str]] = ("pad_token_id", "vocab_size")
    # keys of BERT's config.json that describe options this encoder does not have (or the original TF pooler)
    hf_ignored_keys: ClassVar[frozenset[str]] = ConfigBase.hf_ignored_keys | {
        "gradient_checkpointing", "position_embedding_type", "bos_token_id", "eos_token_id", "directionality",
        "pooler_fc_size", "pooler_num_attention_heads", "pooler_num_fc_layers", "pooler_size_per_head", "pooler_type",
    }

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
    def from_hf_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(
                f"position_embedding_type={data['position_embedding_type']!r} is not supported by BertModel; "
                "only absolute positions are (relative schemes live in minibert.core.positions)"
            )
        return data

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if data["embedding_size"] is None:
            del data["embedding_size"]
        if data["norm_position"] == "post":  # BERT's order; transformers' BertModel knows no other
            del data["norm_position"]
        return data

    def to_hf_dict(self, architecture: str = "BertModel") -> dict[str, Any]:
        return {**super().to_hf_dict(architecture), "position_embedding_type": "absolute"}


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, min(n, 64) + 1) if n % d == 0]

r"""XLM's translation language model: a sentence and its translation in one input, positions restarting, languages
embedded.

Lample and Conneau (2019), "Cross-lingual Language Model Pretraining", section 3.3. Multilingual BERT simply
trains one masked LM on Wikipedia in 104 languages. XLM adds *translation language modelling* (TLM): concatenate a
sentence with its translation, mask tokens in both, and predict them. To fill a blank in the English half the model
may look at the French half, so it learns to align the two languages. Each position's input is

.. math::  e_t = E_{\mathrm{token}}[x_t] + E_{\mathrm{position}}[p_t] + E_{\mathrm{language}}[\ell_t]

with the positions :math:`p_t` *restarting at 0* for the second sentence and :math:`\ell_t` the language of the
half it belongs to (XLM's figure 1: ``</s> the [MASK] [MASK] blue </s> </s> [MASK] rideaux étaient [MASK] </s>``,
positions 0..5 and 0..5, languages en x 6 and fr x 6).

Structurally this is BERT with the segment table used as a language table: :class:`XLMModel` is a
:class:`~minibert.models.bert.model.BertModel` whose ``token_type_ids`` are language ids, and it reads and writes
``transformers.XLMModel`` checkpoints (``tests/test_family.py`` compares the two with the same weights).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from minibert.core.checkpoints import KeyRule
from minibert.core.config import BertConfig
from minibert.models.bert.model import BertModel

__all__ = ["TranslationInput", "translation_lm_input", "XLMConfig", "XLMModel", "XLM_KEY_RULES"]


@dataclass
class TranslationInput:
    """One TLM example: ``input_ids``, ``position_ids`` and ``language_ids``, equally long. ``input_ids`` is a
    tensor when the tokens were ids and a list of the symbols when they were strings."""

    input_ids: torch.Tensor | list
    position_ids: torch.Tensor
    language_ids: torch.Tensor

    def __len__(self) -> int:
        return len(self.position_ids)


def translation_lm_input(source: Sequence, target: Sequence, source_language: int, target_language: int,
                         separator: Any = "</s>") -> TranslationInput:
    """``</s> source </s> </s> target </s>`` with positions ``0..len(source)+1`` then again from 0, and each half
    tagged with its language id. Tokens may be ids (``input_ids`` is then a tensor) or strings (a list)."""
    for name, sentence in (("source", source), ("target", target)):
        if isinstance(sentence, str) or not isinstance(sentence, (Sequence, torch.Tensor)) or len(sentence) == 0:
            raise ValueError(f"{name} must be a non-empty list of tokens (split the text first)")
    for name, language in (("source_language", source_language), ("target_language", target_language)):
        if isinstance(language, bool) or not isinstance(language, int) or language < 0:
            raise ValueError(f"{name} must be a language id (an integer >= 0), got {language!r}")
    source, target = list(source), list(target)
    first, second = [separator] + source + [separator], [separator] + target + [separator]
    tokens = first + second
    positions = torch.cat([torch.arange(len(first)), torch.arange(len(second))])
    languages = torch.tensor([source_language] * len(first) + [target_language] * len(second))
    numeric = all(isinstance(t, int) or (isinstance(t, torch.Tensor) and t.dim() == 0) for t in tokens)
    ids = torch.tensor([int(t) for t in tokens]) if numeric else tokens
    return TranslationInput(ids, positions, languages)


# transformers' XLMConfig field names -> BertConfig's
_FROM_XLM = {"emb_dim": "hidden_size", "n_layers": "num_hidden_layers", "n_heads": "num_attention_heads",
             "dropout": "hidden_dropout_prob", "attention_dropout": "attention_probs_dropout_prob",
             "init_std": "initializer_range", "pad_index": "pad_token_id", "n_words": "vocab_size"}
_XLM_UNSUPPORTED = {"causal": True, "sinusoidal_embeddings": True, "asm": True}


@dataclass
class XLMConfig(BertConfig):
    """BERT's fields, read from and written as ``transformers.XLMConfig`` (``emb_dim``, ``n_layers``, ``n_langs``...).
    The language table is the segment table: ``type_vocab_size`` is the number of languages (0 when there is only
    one: XLM then adds no language embedding). XLM's feed-forward width is always 4 x ``hidden_size``."""

    type_vocab_size: int = 2  # languages

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.intermediate_size != 4 * self.hidden_size:
            raise ValueError(f"XLM's feed-forward is 4 x hidden_size = {4 * self.hidden_size} wide, "
                             f"got intermediate_size={self.intermediate_size}")
        if self.hidden_act not in ("gelu", "relu"):
            raise ValueError(f"XLM uses exact 'gelu' or 'relu', got {self.hidden_act!r}")

    @classmethod
    def from_hf_names(cls, data: dict[str, Any]) -> dict[str, Any]:
        if "emb_dim" not in data:  # already in BertConfig's names
            return super().from_hf_names(data)
        for key, bad in _XLM_UNSUPPORTED.items():
            if data.get(key) == bad:
                raise ValueError(f"XLM checkpoints with {key}={bad} are not supported by minibert's XLMModel")
        data = dict(data)
        languages = int(data.pop("n_langs", 1))
        uses_languages = data.pop("use_lang_emb", True) and languages > 1
        translated = {_FROM_XLM.get(k, k): v for k, v in data.items() if k not in _XLM_UNSUPPORTED}
        translated["type_vocab_size"] = languages if uses_languages else 0
        translated["intermediate_size"] = 4 * translated["hidden_size"]
        translated["hidden_act"] = "gelu" if translated.pop("gelu_activation", True) else "relu"
        # XLM-only keys (summary_*, lang2id ...) change nothing in the encoder and are not kept
        fields = {f.name for f in dataclasses.fields(cls)}
        return {k: v for k, v in translated.items() if k in fields}

    def to_hf_dict(self, architecture: str = "XLMModel") -> dict[str, Any]:
        return {"architectures": [architecture], "model_type": "xlm", "vocab_size": self.vocab_size,
                "emb_dim": self.hidden_size, "n_layers": self.num_hidden_layers,
                "n_heads": self.num_attention_heads, "dropout": self.hidden_dropout_prob,
                "attention_dropout": self.attention_probs_dropout_prob, "gelu_activation": self.hidden_act == "gelu",
                "sinusoidal_embeddings": False, "causal": False, "asm": False,
                "n_langs": max(self.type_vocab_size, 1), "use_lang_emb": self.type_vocab_size > 1,
                "max_position_embeddings": self.max_position_embeddings, "layer_norm_eps": self.layer_norm_eps,
                "init_std": self.initializer_range, "pad_index": self.pad_token_id, "pad_token_id": self.pad_token_id,
                "is_encoder": True}


XLM_KEY_RULES = [
    KeyRule("embeddings.", "embeddings.token."),
    KeyRule("position_embeddings.", "embeddings.position."),
    KeyRule("lang_embeddings.", "embeddings.segment."),
    KeyRule("layer_norm_emb.", "embeddings.norm."),
    KeyRule("attentions.{i}.q_lin.", "encoder.layers.{i}.attention.query."),
    KeyRule("attentions.{i}.k_lin.", "encoder.layers.{i}.attention.key."),
    KeyRule("attentions.{i}.v_lin.", "encoder.layers.{i}.attention.value."),
    KeyRule("attentions.{i}.out_lin.", "encoder.layers.{i}.attention.output."),
    KeyRule("layer_norm1.{i}.", "encoder.layers.{i}.attention_norm."),
    KeyRule("ffns.{i}.lin1.", "encoder.layers.{i}.ffn.inner."),
    KeyRule("ffns.{i}.lin2.", "encoder.layers.{i}.ffn.outer."),
    KeyRule("layer_norm2.{i}.", "encoder.layers.{i}.ffn_norm."),
]


class XLMModel(BertModel):
    """XLM's encoder: BERT with language embeddings in the segment slot and positions that may restart.

    ``model(input_ids, language_ids=None, position_ids=None, attention_mask=None)``; no pooler (XLM has none).
    """

    config_class = XLMConfig
    hf_architecture = "XLMModel"
    hf_key_rules = XLM_KEY_RULES
    hf_ignore = (r"position_ids$", r"^pred_layer\.")
    hf_base_prefix = "transformer."  # XLMWithLMHeadModel saves the encoder under "transformer."

    def __init__(self, config: XLMConfig):
        super().__init__(config, add_pooler=False)

    def forward(self, input_ids, language_ids=None, position_ids=None, attention_mask=None,
                output_attentions: bool = False, output_hidden_states: bool = False):
        return super().forward(input_ids, token_type_ids=language_ids, attention_mask=attention_mask,
                               output_attentions=output_attentions, output_hidden_states=output_hidden_states,
                               position_ids=position_ids)

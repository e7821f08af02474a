r"""T5: an encoder-decoder trained to undo damage (Raffel et al., 2020, section 2.1; objective in 3.1.4 and 3.3).

The encoder reads the corrupted input :math:`\tilde x`; the decoder writes the target one token at a time, reading
its own prefix (causal self-attention) and the encoder's output (cross-attention):

.. math::  p(y \mid \tilde x) = \prod_t \mathrm{softmax}(W_{out}\, d_t)_{y_t}, \qquad
           d = \mathrm{Decoder}(\mathrm{shift}(y), \mathrm{Encoder}(\tilde x))

Training is teacher forcing: the decoder input is the target shifted right by one, starting from
``decoder_start_token_id`` (T5: the padding id), and the loss is the cross-entropy at every target position whose
label is not ``IGNORE_INDEX``. One embedding table (``shared``) serves encoder and decoder. In T5 v1.0 the output
layer is that table too, applied to :math:`d_t \cdot d_{model}^{-1/2}` (the rescale keeps logits small with an
N(0, 1) embedding); v1.1 unties it (``lm_head``) and drops the rescale.

:meth:`T5ForConditionalGeneration.generate` decodes greedily and, to stay short, re-runs the decoder over the whole
prefix at every step (no key/value cache): ``O(n^2)`` decoder work for ``n`` tokens, fine for the course's sizes.
Checkpoints are ``transformers``' ``T5Model`` / ``T5ForConditionalGeneration`` folders in both directions.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core import inputs as check
from minibert.core.checkpoints import KeyRule, PretrainedMixin
from minibert.core.checks import integer
from minibert.core.inputs import IGNORE_INDEX
from minibert.core.normalization import RMSNorm
from minibert.core.outputs import ModelOutput

from .blocks import T5FeedForward, T5Stack, decoder_masks
from .config import T5Config

__all__ = ["T5Model", "T5ForConditionalGeneration", "Seq2SeqOutput", "T5_KEY_RULES", "shift_right"]


def _stack_rules(side: str, decoder: bool, gated: bool) -> list[KeyRule]:
    hf, ours = f"{side}.block.{{i}}.layer.", f"{side}.layers.{{i}}."
    ffn = f"{hf}{2 if decoder else 1}."
    projections = [("q", "query"), ("k", "key"), ("v", "value"), ("o", "output")]
    rules = [KeyRule(f"{hf}0.SelfAttention.{a}.", f"{ours}attention.{b}.") for a, b in projections]
    if decoder:
        rules += [KeyRule(f"{hf}1.EncDecAttention.{a}.", f"{ours}cross_attention.{b}.") for a, b in projections]
        rules.append(KeyRule(f"{hf}1.layer_norm.", f"{ours}cross_attention_norm."))
    if gated:  # wi_0 goes through the GELU and gates wi_1
        rules += [KeyRule(f"{ffn}DenseReluDense.wi_0.", f"{ours}ffn.gate."),
                  KeyRule(f"{ffn}DenseReluDense.wi_1.", f"{ours}ffn.inner.")]
    else:
        rules.append(KeyRule(f"{ffn}DenseReluDense.wi.", f"{ours}ffn.inner."))
    return rules + [
        KeyRule(f"{hf}0.layer_norm.", f"{ours}attention_norm."),
        KeyRule(f"{ffn}layer_norm.", f"{ours}ffn_norm."),
        KeyRule(f"{ffn}DenseReluDense.wo.", f"{ours}ffn.outer."),
        KeyRule(f"{side}.block.0.layer.0.SelfAttention.relative_attention_bias.",
                f"{side}.relative_bias.relative_attention_bias."),
        KeyRule(f"{side}.final_layer_norm.", f"{side}.final_norm."),
    ]


def t5_key_rules(gated: bool | None = None) -> list[KeyRule]:
    """transformers' T5 names <-> minibert's. ``gated=None`` gives the rules of both feed-forward kinds (reading a
    checkpoint, where only one kind is present); saving uses the model's own kind, so each name has one image."""
    kinds = (False, True) if gated is None else (gated,)
    rules = [KeyRule("shared.", "shared."), KeyRule("lm_head.", "lm_head.")]
    for kind in kinds:
        rules += _stack_rules("encoder", False, kind) + _stack_rules("decoder", True, kind)
    return list(dict.fromkeys(rules))


T5_KEY_RULES = t5_key_rules()


def shift_right(labels: torch.Tensor, start_id: int, pad_id: int) -> torch.Tensor:
    """Teacher forcing's decoder input: ``[start, y_1 .. y_{n-1}]``, with ``IGNORE_INDEX`` labels read as padding."""
    shifted = labels.new_full(labels.shape, start_id)
    shifted[:, 1:] = labels[:, :-1]
    return shifted.masked_fill(shifted == IGNORE_INDEX, pad_id)


@dataclass(kw_only=True)
class Seq2SeqOutput(ModelOutput):
    """``last_hidden_state``: the decoder's output; ``attentions``: the decoder's self-attention per layer (and
    ``cross_attentions``, ``encoder_attentions`` likewise) when asked for; ``hidden_states`` are the decoder's."""

    last_hidden_state: torch.Tensor | None = None
    encoder_last_hidden_state: torch.Tensor | None = None
    encoder_attentions: tuple[torch.Tensor, ...] | None = None
    cross_attentions: tuple[torch.Tensor, ...] | None = None
    encoder_hidden_states: tuple[torch.Tensor, ...] | None = None


class T5Model(PretrainedMixin, nn.Module):
    """The shared embedding, the encoder stack and the decoder stack; returns the decoder's hidden states."""

    config_class = T5Config
    hf_architecture = "T5Model"
    hf_key_rules = T5_KEY_RULES
    # older saves repeat the shared table per stack; transformers drops the unused cross-attention position table;
    # a bare model (or a tied head) has no use for lm_head
    hf_ignore = (r"^(encoder|decoder)\.embed_tokens\.weight$", r"EncDecAttention\.relative_attention_bias",
                 r"^lm_head\.weight$")

    def __init__(self, config: T5Config):
        self.check_config(config)
        super().__init__()
        self.config = config
        self.hf_key_rules = t5_key_rules(config.is_gated)
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config)
        self.decoder = T5Stack(config, decoder=True)
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        """Mesh TensorFlow's initialisation, as transformers' ``T5PreTrainedModel``: N(0, 1) embeddings, every
        projection N(0, 1 / fan_in), the query's also divided by sqrt(d_kv) (the missing attention scale)."""
        factor, d_model, d_kv = self.config.initializer_factor, self.config.d_model, self.config.d_kv
        if isinstance(module, nn.Embedding):
            std = 1.0 if module is getattr(self, "shared", None) else d_model ** -0.5  # else: position buckets
            nn.init.normal_(module.weight, std=factor * std)
        elif isinstance(module, RMSNorm):
            nn.init.constant_(module.weight, factor)
        elif isinstance(module, T5FeedForward):
            for linear in (module.gate, module.inner, module.outer):
                if linear is not None:
                    nn.init.normal_(linear.weight, std=factor * linear.in_features ** -0.5)
        elif hasattr(module, "query") and hasattr(module, "head_size"):  # an attention module
            nn.init.normal_(module.query.weight, std=factor * (d_model * d_kv) ** -0.5)
            for linear in (module.key, module.value, module.output):
                nn.init.normal_(linear.weight, std=factor * linear.in_features ** -0.5)
        elif isinstance(module, nn.Linear):  # the untied output layer
            nn.init.normal_(module.weight, std=factor)

    def embed(self, ids: torch.Tensor, name: str) -> torch.Tensor:
        return self.shared(check.token_ids(ids, self.config.vocab_size, name=name))

    @staticmethod
    def _mask(mask, ids: torch.Tensor, name: str):
        if mask is None:
            return None
        return check.binary_mask(name, mask, {tuple(ids.shape): "1 = real token, 0 = padding, shaped like the ids"})

    def encode(self, input_ids, attention_mask=None, output_attentions: bool = False,
               output_hidden_states: bool = False):
        """The encoder alone: ``(states (B, S, d_model), attentions, hidden_states)``."""
        embeddings = self.embed(input_ids, "input_ids")
        mask = self._mask(attention_mask, input_ids, "attention_mask")
        return self.encoder(embeddings, None if mask is None else mask[:, None, :],
                            output_attentions=output_attentions, output_hidden_states=output_hidden_states)

    def forward(self, input_ids, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, output_attentions: bool = False, output_hidden_states: bool = False,
                ) -> Seq2SeqOutput:
        """``encoder_outputs``: the ``(states, ...)`` of an earlier :meth:`encode` of ``input_ids`` (generation
        re-uses it at every step)."""
        if decoder_input_ids is None:
            raise ValueError("T5Model needs decoder_input_ids (the target shifted right, starting with "
                             "config.decoder_start_token_id); see minibert.models.t5.model.shift_right")
        if encoder_outputs is None:
            encoder_outputs = self.encode(input_ids, attention_mask, output_attentions, output_hidden_states)
        encoder_states = encoder_outputs[0]
        embeddings = self.embed(decoder_input_ids, "decoder_input_ids")
        ones = lambda shape: torch.ones(shape, dtype=torch.bool, device=embeddings.device)  # noqa: E731
        encoder_mask = self._mask(attention_mask, input_ids, "attention_mask")
        decoder_mask = self._mask(decoder_attention_mask, decoder_input_ids, "decoder_attention_mask")
        allowed, cross_allowed = decoder_masks(
            ones(decoder_input_ids.shape) if decoder_mask is None else decoder_mask,
            ones(encoder_states.shape[:2]) if encoder_mask is None else encoder_mask)
        states, attentions, hidden = self.decoder(embeddings, allowed, encoder_states, cross_allowed,
                                                  output_attentions, output_hidden_states)
        return Seq2SeqOutput(
            last_hidden_state=states, encoder_last_hidden_state=encoder_states,
            attentions=tuple(a for a, _ in attentions) if attentions else None,
            cross_attentions=tuple(c for _, c in attentions) if attentions else None,
            encoder_attentions=tuple(encoder_outputs[1]) if output_attentions and encoder_outputs[1] else None,
            hidden_states=tuple(hidden) if hidden else None,
            encoder_hidden_states=tuple(encoder_outputs[2]) if output_hidden_states and encoder_outputs[2] else None)


class T5ForConditionalGeneration(T5Model):
    """T5 with its output layer: logits over the vocabulary at every decoder position, a loss with ``labels``
    (the decoder input is then ``shift_right(labels)`` unless given) and greedy :meth:`generate`."""

    hf_architecture = "T5ForConditionalGeneration"

    def __init__(self, config: T5Config):
        super().__init__(config)
        if not config.tie_word_embeddings:  # tied: lm_head.weight in a checkpoint is a copy of shared, ignored
            self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
            self._init_weights(self.lm_head)

    @classmethod
    def _hf_state_for_loading(cls, state):
        # a transformers 5 model with tie_word_embeddings=False in memory still ties, and saves no lm_head
        if "lm_head.weight" not in state and "shared.weight" in state:
            state = {**state, "lm_head.weight": state["shared.weight"]}
        return state

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        if self.config.tie_word_embeddings:
            return (states * self.config.d_model ** -0.5) @ self.shared.weight.T
        return self.lm_head(states)

    def forward(self, input_ids, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                labels=None, encoder_outputs=None, output_attentions: bool = False,
                output_hidden_states: bool = False) -> Seq2SeqOutput:
        config = self.config
        if labels is not None:
            shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else ()
            check.labels(labels, shape, config.vocab_size, what="target token ids")
            if len(shape) != 2:
                raise ValueError(f"labels must have shape (batch, target_length), got {shape}")
            if decoder_input_ids is None:
                decoder_input_ids = shift_right(labels, config.decoder_start_token_id, config.pad_token_id)
            elif tuple(decoder_input_ids.shape) != tuple(labels.shape):
                raise ValueError(f"labels {tuple(labels.shape)} and decoder_input_ids "
                                 f"{tuple(decoder_input_ids.shape)} must have the same shape")
        elif decoder_input_ids is None:
            raise ValueError("give labels (the target; the decoder input is then the target shifted right) or "
                             "decoder_input_ids")
        out = super().forward(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs,
                              output_attentions, output_hidden_states)
        out.logits = self.logits(out.last_hidden_state)
        if labels is not None:
            out.loss = F.cross_entropy(out.logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE_INDEX)
        return out

    @torch.no_grad()
    def generate(self, input_ids, attention_mask=None, max_new_tokens: int = 20) -> torch.Tensor:
        """Greedy decoding: ``(B, 1 + n)`` ids starting with ``decoder_start_token_id``, ``n <= max_new_tokens``.
        A sequence that has written ``eos_token_id`` continues with padding; decoding stops when all have. The
        encoder runs once; the decoder re-reads the whole prefix at each step (no cache, see the module doc)."""
        integer("", "max_new_tokens", max_new_tokens, minimum=1)
        config = self.config
        encoded = self.encode(input_ids, attention_mask)
        out = torch.full((input_ids.shape[0], 1), config.decoder_start_token_id, dtype=torch.long,
                         device=input_ids.device)
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for _ in range(max_new_tokens):
            logits = self(input_ids, attention_mask, decoder_input_ids=out, encoder_outputs=encoded).logits
            step = logits[:, -1].argmax(-1).masked_fill(done, config.pad_token_id)
            out = torch.cat([out, step[:, None]], dim=1)
            done |= step == config.eos_token_id
            if bool(done.all()):
                break
        return out

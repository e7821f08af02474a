r"""A decoder-only (GPT-style) language model from BERT's own blocks: the same layers, a causal mask, next-token loss.

Radford et al. (2018), "Improving Language Understanding by Generative Pre-Training" (GPT): a Transformer whose
position :math:`t` may only attend to positions :math:`\le t`, trained to maximise

.. math::  \log p_\theta(x) = \sum_{t=1}^{T} \log p_\theta(x_t \mid x_{<t})
           = \sum_t \log \mathrm{softmax}\big(E\, h_{t-1}\big)_{x_t}

The only change from BERT is the mask (chapter 01's :func:`~minibert.core.attention.causal_mask`) and what is predicted:
every position predicts the *next* token, so one pass trains on all T - 1 predictions at once (a masked LM learns
from the 15% it masked). Generation feeds the model its own output one token at a time: greedy takes the most
likely token, sampling draws from the (temperature-scaled, optionally top-k) distribution.

This is exactly ``transformers.BertLMHeadModel`` with ``is_decoder=True``; the tests compare logits, loss and greedy
generation with it. (GPT-1 has the same post-LN blocks; GPT-2 moved LayerNorm before each sub-layer.)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.attention import causal_mask
from minibert.core.checkpoints import PretrainedMixin
from minibert.core.checks import integer
from minibert.core.config import BertConfig
from minibert.core.outputs import ModelOutput
from minibert.core.inputs import IGNORE_INDEX, binary_mask, integer_tensor, labels as checked_labels, token_ids
from minibert.models.bert.heads import BertForMaskedLM, MaskedLMHead
from minibert.models.bert.model import BertModel

__all__ = ["CausalLM", "CausalLMOutput", "next_token_loss"]


@dataclass(kw_only=True)
class CausalLMOutput(ModelOutput):
    """``logits[:, t]`` scores the token at ``t + 1``; ``loss`` is the mean next-token cross-entropy (with labels)."""


def next_token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``logits[:, t]`` against ``labels[:, t + 1]`` (-100 = ignore, e.g. padding)."""
    shifted = labels[:, 1:]
    if not bool((shifted != IGNORE_INDEX).any()):
        raise ValueError("no next token to predict: labels need at least two real tokens in some row")
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), shifted.reshape(-1),
                           ignore_index=IGNORE_INDEX)


class CausalLM(PretrainedMixin, nn.Module):
    """BERT's embeddings and encoder layers under a causal mask, with BERT's tied output layer.

    ``model(input_ids, attention_mask=None, labels=None)``: ``labels`` are usually ``input_ids`` with padding set
    to -100; the model shifts them itself. ``model.generate(prompt, max_new_tokens)`` continues a prompt.
    """

    config_class = BertConfig
    hf_architecture = "BertLMHeadModel"
    hf_key_rules = BertForMaskedLM.hf_key_rules
    hf_ignore = BertForMaskedLM.hf_ignore

    def __init__(self, config: BertConfig):
        super().__init__()
        self.assemble(config, BertModel(config, add_pooler=False), mlm=MaskedLMHead(config))

    def _extra_hf_config(self) -> dict:
        return {"is_decoder": True}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None,
                output_attentions: bool = False) -> CausalLMOutput:
        input_ids = token_ids(input_ids, self.config.vocab_size, self.config.max_sequence_length)
        batch, length = input_ids.shape
        mask = causal_mask(length, input_ids.device)[None].expand(batch, length, length)
        if attention_mask is not None:
            padding = binary_mask("attention_mask", attention_mask, {(batch, length): "1 = token, 0 = padding"})
            mask = mask & padding[:, None, :]  # nobody attends to padding
        out = self.bert(input_ids, token_type_ids, mask, output_attentions)
        logits = self.mlm(out.last_hidden_state, self.bert.embeddings.token.weight)
        loss = None
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.shape != input_ids.shape:
                raise ValueError(f"labels must be shaped like input_ids {tuple(input_ids.shape)} (the model shifts them)")
            checked_labels(labels, tuple(input_ids.shape), self.config.vocab_size)
            loss = next_token_loss(logits, labels)
        return CausalLMOutput(loss=loss, logits=logits, attentions=out.attentions)

    @torch.no_grad()
    def generate(self, prompt: torch.Tensor, max_new_tokens: int, do_sample: bool = False, temperature: float = 1.0,
                 top_k: int | None = None, generator: torch.Generator | None = None,
                 eos_token_id: int | None = None) -> torch.Tensor:
        """Continue ``prompt`` (``(T,)`` or ``(batch, T)``, no padding) by ``max_new_tokens`` tokens.

        Greedy by default; ``do_sample=True`` draws from ``softmax(logits / temperature)`` restricted to the
        ``top_k`` most likely tokens if given (pass a seeded ``generator`` to repeat a draw). A row stops growing
        (is padded with ``eos_token_id``) once it produced ``eos_token_id``. Returns prompt + continuation.
        """
        prompt = integer_tensor("prompt", prompt)
        single = prompt.dim() == 1
        ids = prompt.unsqueeze(0) if single else prompt
        if ids.dim() != 2 or ids.shape[1] == 0:
            raise ValueError(f"prompt must be a non-empty (T,) or (batch, T) tensor, got shape {tuple(prompt.shape)}")
        integer("", "max_new_tokens", max_new_tokens, minimum=1)
        limit = self.config.max_position_embeddings
        if ids.shape[1] + max_new_tokens > limit:
            raise ValueError(f"prompt ({ids.shape[1]}) + max_new_tokens ({max_new_tokens}) exceeds the model's "
                             f"{limit} positions; shorten the prompt or ask for fewer tokens")
        if do_sample and not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        if top_k is not None and (not isinstance(top_k, int) or not 1 <= top_k <= self.config.vocab_size):
            raise ValueError(f"top_k must be an integer in [1, {self.config.vocab_size}] or None, got {top_k!r}")
        if eos_token_id is not None and (isinstance(eos_token_id, bool) or not isinstance(eos_token_id, int)
                                         or not 0 <= eos_token_id < self.config.vocab_size):
            raise ValueError(f"eos_token_id must be a token id in [0, {self.config.vocab_size}) or None, "
                             f"got {eos_token_id!r}")
        was_training = self.training
        self.eval()
        finished = torch.zeros(ids.shape[0], dtype=torch.bool)
        for _ in range(max_new_tokens):
            logits = self(ids).logits[:, -1]  # (batch, vocab): the next token after the last one
            if do_sample:
                logits = logits / temperature
                if top_k is not None:
                    kth = logits.topk(top_k, dim=-1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                token = torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(1)
            else:
                token = logits.argmax(-1)
            if eos_token_id is not None:
                token = token.masked_fill(finished, eos_token_id)
                finished |= token == eos_token_id
            ids = torch.cat([ids, token[:, None]], dim=1)
            if eos_token_id is not None and bool(finished.all()):
                break
        self.train(was_training)
        return ids[0] if single else ids

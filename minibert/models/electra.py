r"""ELECTRA: a small generator fills the blanks, a discriminator spots which tokens were replaced.

Clark et al. (2020), "ELECTRA: Pre-training Text Encoders as Discriminators Rather Than Generators". A masked LM
learns only from the 15% of positions it masked. ELECTRA turns every position into a training signal:

1. mask a set :math:`m` of positions and let a small **generator** (a masked LM) predict them;
2. build :math:`x^{\mathrm{corrupt}}` by *sampling* a token from the generator at each masked position
   (:math:`\hat x_i \sim p_G(x_i \mid x^{\mathrm{masked}})`) and keeping the original elsewhere;
3. the **discriminator** labels every token original (0) or replaced (1): *replaced-token detection* (RTD).

.. math::  \min_{\theta_G, \theta_D} \sum_x \mathcal{L}_{\mathrm{MLM}}(x, \theta_G)
           + \lambda\, \mathcal{L}_{\mathrm{Disc}}(x, \theta_D), \qquad \lambda = 50

.. math::  \mathcal{L}_{\mathrm{Disc}} = -\sum_{t} \big[\mathbb{1}(x^{\mathrm{corrupt}}_t = x_t) \log(1 - D(x^{\mathrm{corrupt}}, t))
           + \mathbb{1}(x^{\mathrm{corrupt}}_t \ne x_t) \log D(x^{\mathrm{corrupt}}, t)\big]

A sampled token that happens to equal the original counts as *original*. Sampling is discrete, so no gradient flows
from the discriminator's loss into the generator (the paper trains the generator by maximum likelihood, not
adversarially); the two share their embeddings, and the RTD loss does reach those. The generator is small (a
quarter of the discriminator's width here and in ELECTRA-small): a too-strong generator makes the task too hard.
After pre-training the generator is thrown away and the discriminator is fine-tuned like BERT.

:class:`ElectraDiscriminator` equals ``transformers.ElectraForPreTraining`` and :class:`ElectraGenerator`
``transformers.ElectraForMaskedLM``, weights and checkpoints included (``tests/test_electra.py``).
:class:`UnigramElectra` is a control whose replacements are drawn from token frequencies, so that only the context
gives them away; :func:`detection_metrics` measures a pair on held-out text against the baselines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from minibert.core.checkpoints import BUFFER_KEYS, KeyRule, PretrainedMixin, prefixed_rules
from minibert.core.config import BertConfig
from minibert.core.inputs import IGNORE_INDEX
from minibert.core.outputs import ModelOutput
from minibert.core.transformer import activation_function
from .bert.heads import BertForMaskedLM, MaskedLMHead, _check_labels
from .bert.model import BERT_KEY_RULES, BertModel

__all__ = ["ElectraConfig", "ElectraDiscriminator", "ElectraGenerator", "Electra", "UnigramElectra", "ElectraOutput",
           "DiscriminatorOutput", "ReplacedTokenHead", "sample_replacements", "detection_metrics", "ELECTRA_KEY_RULES"]


@dataclass
class ElectraConfig(BertConfig):
    """ELECTRA's hyper-parameters under ``transformers``' names; the defaults are ``transformers.ElectraConfig()``'s,
    which is ELECTRA-small's discriminator (E=128 factorised embeddings, H=256, 12 layers, 4 heads)."""

    hidden_size: int = 256
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    embedding_size: int | None = 128

    @classmethod
    def tiny(cls, **overrides: Any) -> "ElectraConfig":
        """A 2-layer, 64-wide discriminator with 32-wide embeddings, for tests and notebooks."""
        return super().tiny(**{"embedding_size": 32, **overrides})

    def generator_config(self, fraction: float = 0.25) -> "ElectraConfig":
        """The generator's config: ``fraction`` of the width, heads and feed-forward, the same depth, and the
        same embedding width (the two share their embedding tables). ELECTRA's code does exactly this."""
        if not 0 < fraction <= 1:
            raise ValueError(f"generator fraction must be in (0, 1], got {fraction}")
        heads = max(1, round(self.num_attention_heads * fraction))
        hidden = max(heads, round(self.hidden_size * fraction) // heads * heads)
        return self.replace(hidden_size=hidden, num_attention_heads=heads,
                            intermediate_size=max(1, round(self.intermediate_size * fraction)),
                            embedding_size=self.embedding_width, hidden_act="gelu")

    def to_hf_dict(self, architecture: str = "ElectraForPreTraining") -> dict[str, Any]:
        # transformers assumes E = 128 when embedding_size is missing, so it is always written
        return {"architectures": [architecture], "model_type": "electra", "position_embedding_type": "absolute",
                **self.to_dict(), "embedding_size": self.embedding_width}


ELECTRA_KEY_RULES = prefixed_rules(BERT_KEY_RULES + [KeyRule("embeddings_project.", "embedding_projection.")],
                                   hf="electra.", ours="bert.")


class ReplacedTokenHead(nn.Module):
    """``D(x, t) = sigmoid(w^T act(W h_t + b) + c)``: one logit per token, "was this token replaced?"."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = activation_function(config.hidden_act)
        self.prediction = nn.Linear(config.hidden_size, 1)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.prediction(self.activation(self.dense(hidden))).squeeze(-1)


@dataclass(kw_only=True)
class DiscriminatorOutput(ModelOutput):
    """``logits`` ``(batch, T)``: > 0 means "replaced"; ``loss``: mean binary cross-entropy over real tokens."""


class ElectraDiscriminator(PretrainedMixin, nn.Module):
    """The encoder that is kept: BERT (with factorised embeddings when E < H) plus the replaced-token head.
    ``labels``: 1 where the token was replaced, 0 where it is original (padding is ignored)."""

    config_class = ElectraConfig
    hf_architecture = "ElectraForPreTraining"
    hf_key_rules = ELECTRA_KEY_RULES + [KeyRule("discriminator_predictions.dense.", "rtd.dense."),
                                        KeyRule("discriminator_predictions.dense_prediction.", "rtd.prediction.")]
    hf_ignore = BUFFER_KEYS

    def __init__(self, config: ElectraConfig):
        super().__init__()
        self.assemble(config, BertModel(config, add_pooler=False), rtd=ReplacedTokenHead(config))

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, labels=None,
                output_attentions: bool = False) -> DiscriminatorOutput:
        out = self.bert(input_ids, token_type_ids, attention_mask, output_attentions)
        logits = self.rtd(out.last_hidden_state)
        loss = None
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.shape != input_ids.shape:
                raise ValueError(f"labels must be a 0/1 tensor shaped like input_ids {tuple(input_ids.shape)}")
            if not bool(((labels == 0) | (labels == 1)).all()):
                raise ValueError("replaced-token labels must be 0 (original) or 1 (replaced)")
            real = attention_mask.bool() if attention_mask is not None else torch.ones_like(labels, dtype=torch.bool)
            loss = F.binary_cross_entropy_with_logits(logits[real], labels[real].to(logits.dtype))
        return DiscriminatorOutput(loss=loss, logits=logits, attentions=out.attentions)


class ElectraGenerator(BertForMaskedLM):
    """A masked LM with ELECTRA's names (``transformers.ElectraForMaskedLM``); its output layer is the (shared)
    token embedding matrix. Its transform always uses GELU, as in ELECTRA."""

    config_class = ElectraConfig
    hf_architecture = "ElectraForMaskedLM"
    hf_key_rules = ELECTRA_KEY_RULES + [KeyRule("generator_predictions.dense.", "mlm.dense."),
                                        KeyRule("generator_predictions.LayerNorm.", "mlm.norm."),
                                        KeyRule("generator_lm_head.bias", "mlm.bias")]
    hf_ignore = BUFFER_KEYS + (r"^generator_lm_head\.weight$",)

    def __init__(self, config: ElectraConfig):
        super().__init__(config)
        self.add_heads(mlm=MaskedLMHead(config.replace(hidden_act="gelu")))


@torch.no_grad()
def sample_replacements(logits: torch.Tensor, generator: torch.Generator | None = None,
                        temperature: float = 1.0) -> torch.Tensor:
    """One token per row of ``logits`` ``(n, vocab)``, drawn from ``softmax(logits / temperature)``. No gradient:
    the draw is discrete, so nothing could flow back through it anyway."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    return torch.multinomial((logits.float() / temperature).softmax(-1), 1, generator=generator).squeeze(-1)


@dataclass(kw_only=True)
class ElectraOutput(ModelOutput):
    """``loss = mlm_loss + rtd_weight * rtd_loss``. ``corrupted_ids``: the discriminator's input; ``replaced``: where it
    differs from the original (the RTD labels); ``generator_logits``: ``(n_masked, vocab)`` in row-major order."""

    mlm_loss: torch.Tensor
    rtd_loss: torch.Tensor
    corrupted_ids: torch.Tensor
    replaced: torch.Tensor
    generator_logits: torch.Tensor
    discriminator_logits: torch.Tensor


class Electra(nn.Module):
    """Generator and discriminator trained together; they share one embedding module (token, position and
    segment tables and their LayerNorm). ``model(masked_ids, attention_mask=..., labels=...)`` runs the three steps
    of the module docstring; ``labels`` hold the original ids at masked positions and -100 elsewhere, as for BERT.
    ``temperature``: replacements are drawn from ``softmax(scores / temperature)``; ELECTRA samples at 1, and above 1
    the proposals are flatter than the generator's belief (more rare tokens, easier to spot)."""

    def __init__(self, config: ElectraConfig, generator_config: ElectraConfig | None = None,
                 rtd_weight: float = 50.0, temperature: float = 1.0):
        super().__init__()
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
                or not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a positive number (ELECTRA samples at 1), got {temperature!r}")
        self.temperature = float(temperature)
        generator_config = generator_config or config.generator_config()
        for name in ("vocab_size", "embedding_width", "max_position_embeddings", "type_vocab_size", "pad_token_id"):
            if getattr(config, name) != getattr(generator_config, name):
                raise ValueError(f"generator and discriminator share their embeddings, so their {name} must agree "
                                 f"({getattr(generator_config, name)} vs {getattr(config, name)})")
        self.rtd_weight = _rtd_weight(rtd_weight)
        self.discriminator = ElectraDiscriminator(config)
        self.generator = ElectraGenerator(generator_config)
        self.generator.bert.embeddings = self.discriminator.bert.embeddings

    def forward(self, input_ids: torch.Tensor, token_type_ids=None, attention_mask=None, labels=None, *,
                generator: torch.Generator | None = None, temperature: float | None = None,
                label_smoothing: float = 0.0) -> ElectraOutput:
        """Arguments as for :class:`~minibert.models.bert.heads.BertForMaskedLM` (so the MLM trainer can drive it);
        ``generator`` seeds the sampling of replacements. Label smoothing is not part of ELECTRA and is refused."""
        if labels is None:
            raise ValueError("ELECTRA needs labels: the original ids at the masked positions, -100 elsewhere")
        if label_smoothing:
            raise ValueError("label smoothing is not part of ELECTRA's objective; use label_smoothing=0")
        _check_labels(labels, input_ids, self.discriminator.config.vocab_size)
        masked = labels != IGNORE_INDEX
        if not bool(masked.any()):
            raise ValueError("labels has no masked position (all -100): mask some tokens first")
        # 1. the generator predicts the masked tokens (maximum likelihood)
        scores, mlm_loss = self.propose(input_ids, token_type_ids, attention_mask, labels)
        # 2. sample replacements (discrete: no gradient) into the ORIGINAL sequence
        original = torch.where(masked, labels, input_ids)
        corrupted = original.clone()
        corrupted[masked] = sample_replacements(scores.detach(), generator,
                                                self.temperature if temperature is None else temperature)
        replaced = corrupted != original
        # 3. the discriminator labels every real token
        disc = self.discriminator(corrupted, token_type_ids, attention_mask, labels=replaced.long())
        loss = mlm_loss + self.rtd_weight * disc.loss
        return ElectraOutput(loss=loss, mlm_loss=mlm_loss, rtd_loss=disc.loss, corrupted_ids=corrupted,
                             replaced=replaced, generator_logits=scores, discriminator_logits=disc.logits)

    def propose(self, input_ids, token_type_ids, attention_mask, labels) -> tuple[torch.Tensor, torch.Tensor]:
        """Step 1: the scores ``(n_masked, vocab)`` (row-major order) from which the replacements are drawn, and
        the generator's MLM loss. A variant that proposes replacements another way overrides this hook."""
        masked = labels != IGNORE_INDEX
        hidden = self.generator.bert(input_ids, token_type_ids, attention_mask).last_hidden_state
        scores = self.generator.mlm(hidden[masked], self.generator.bert.embeddings.token.weight)
        return scores, F.cross_entropy(scores, labels[masked])


def _rtd_weight(value) -> float:
    if not value > 0:
        raise ValueError(f"rtd_weight must be > 0 (ELECTRA uses 50), got {value!r}")
    return float(value)


class UnigramElectra(Electra):
    """A control: ELECTRA whose "generator" is fixed token frequencies. Replacements are drawn from ``frequencies``
    (one weight per id; zero for ids never to propose, e.g. special tokens) whatever the context, and nothing is
    learned on the generator's side. A replacement is then exactly as frequent as an original token, so token
    identity says nothing: from the first step the discriminator can only succeed by reading the context.
    ``mlm_loss`` is the unigram model's cross-entropy on the masked tokens (a constant to compare with)."""

    def __init__(self, config: ElectraConfig, frequencies: torch.Tensor, rtd_weight: float = 50.0):
        nn.Module.__init__(self)
        frequencies = torch.as_tensor(frequencies, dtype=torch.float64)
        if frequencies.shape != (config.vocab_size,) or not bool(torch.isfinite(frequencies).all()) \
                or bool((frequencies < 0).any()) or not frequencies.sum() > 0:
            raise ValueError(f"frequencies must be {config.vocab_size} finite non-negative weights, not all zero")
        self.rtd_weight = _rtd_weight(rtd_weight)
        self.discriminator = ElectraDiscriminator(config)
        self.generator, self.temperature = None, 1.0
        self.register_buffer("log_frequencies", (frequencies / frequencies.sum()).log().float())

    def propose(self, input_ids, token_type_ids, attention_mask, labels) -> tuple[torch.Tensor, torch.Tensor]:
        masked = labels != IGNORE_INDEX
        scores = self.log_frequencies.expand(int(masked.sum()), -1)
        return scores, F.cross_entropy(scores, labels[masked])


def _auc(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """Probability that a random positive outscores a random negative (ties count half): the ROC AUC."""
    pos, neg = scores[positive].double(), scores[~positive].double()
    if pos.numel() == 0 or neg.numel() == 0:
        return float("nan")
    ranks = torch.empty(len(scores), dtype=torch.float64)
    order = torch.cat([pos, neg]).argsort()
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.float64)
    values = torch.cat([pos, neg])
    for value in values.unique()[values.unique(return_counts=True)[1] > 1]:  # average the ranks of ties
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


@torch.no_grad()
def detection_metrics(model: Electra, input_ids, attention_mask, labels, generator: torch.Generator | None = None,
                      frequencies: torch.Tensor | None = None) -> dict[str, float]:
    """How well the discriminator spots the generator's replacements on one (held-out) batch, in eval mode.

    ``auc``: chance that a replaced token scores above an original one (0.5 = guessing); ``rtd_loss`` against
    ``base_rate_loss``, the loss of always predicting the fraction of replaced tokens; ``replaced``: that fraction;
    ``generator_accuracy``: how often the generator's top guess is right. With ``frequencies`` (one weight per id,
    e.g. the training text's token counts) also ``rarity_auc``: the AUC of token rarity alone, ``-log frequency``
    of the token the discriminator reads (no model, no context; ids of frequency 0 count as never replaced)."""
    was_training = model.training
    model.eval()
    out = model(input_ids, attention_mask=attention_mask, labels=labels, generator=generator)
    model.train(was_training)
    real = attention_mask.bool() if attention_mask is not None else torch.ones_like(input_ids, dtype=torch.bool)
    p = float(out.replaced[real].double().mean())
    base = -(p * math.log(p) + (1 - p) * math.log(1 - p)) if 0 < p < 1 else 0.0
    masked = labels != IGNORE_INDEX
    metrics = {"auc": _auc(out.discriminator_logits[real], out.replaced[real]), "rtd_loss": float(out.rtd_loss),
               "base_rate_loss": base, "replaced": p, "mlm_loss": float(out.mlm_loss),
               "generator_accuracy": float((out.generator_logits.argmax(-1) == labels[masked]).double().mean())}
    if frequencies is not None:
        frequencies = torch.as_tensor(frequencies, dtype=torch.float64)
        rarity = torch.where(frequencies > 0, -frequencies.log(), -math.inf)  # frequency 0: special, never replaced
        metrics["rarity_auc"] = _auc(rarity.to(input_ids.device)[out.corrupted_ids][real], out.replaced[real])
    return metrics

r"""The "New York" example: why predicting two masked tokens independently loses their dependency.

Yang et al. (2019, XLNet, section 2.6) compare the objectives on "[New] [York] is a city" with both city tokens to
predict. BERT predicts each from the unmasked context alone; XLNet, in an order where "New" comes first, predicts
"York" knowing "New":

.. math::  \mathcal{J}_{\mathrm{BERT}} = \log p(\text{New} \mid \text{is a city}) + \log p(\text{York} \mid \text{is a city})

.. math::  \mathcal{J}_{\mathrm{XLNet}} = \log p(\text{New} \mid \text{is a city}) + \log p(\text{York} \mid \text{New}, \text{is a city})

On a corpus of two-word city names the best possible independent model is the product of the two marginals,
:math:`q(a, b) = p(a)\,p(b)`, which also gives probability to "new angeles" and "los york". An autoregressive
factorisation :math:`p(a)\,p(b \mid a)` can represent the true joint exactly. Averaged over the corpus the gap is a
classical quantity, the *mutual information* of the two words:

.. math::  \mathbb{E}\big[\log p(a)\,p(b \mid a)\big] - \mathbb{E}\big[\log p(a)\,p(b)\big] = I(A; B) \ge 0

:class:`CityCorpus` is that corpus; :func:`exact_tables` the ideal numbers; :func:`mlm_tables` measures a trained
masked LM both ways (one pass with both words masked, or filling the first word in before predicting the second);
:func:`xlnet_tables` a permutation LM in one pass per order (chapter 12 trains both with :func:`train_city_mlm` and
:func:`train_city_xlnet`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from minibert.core.inputs import IGNORE_INDEX
from minibert.training.loop import fit

__all__ = ["CITIES", "TEMPLATES", "CityCorpus", "exact_tables", "mlm_tables", "expected_log_likelihood",
           "invalid_mass", "mutual_information", "train_city_mlm", "xlnet_tables", "train_city_xlnet"]

# two-word city names and how often each occurs: the first word alone is ambiguous ("new" -> york, delhi, orleans)
CITIES = {("new", "york"): 5, ("new", "delhi"): 2, ("new", "orleans"): 1, ("san", "francisco"): 3,
          ("san", "diego"): 2, ("los", "angeles"): 4, ("las", "vegas"): 3}
TEMPLATES = ("{} is a city", "i live in {}", "we flew to {} today", "{} has a big airport")
SPECIALS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")


@dataclass
class CityCorpus:
    """Every template filled with every city, weighted by the city's count. Ids: 4 specials, then the words."""

    cities: dict = field(default_factory=lambda: dict(CITIES))
    templates: tuple = TEMPLATES

    def __post_init__(self):
        words = sorted({w for t in self.templates for w in t.split() if w != "{}"} | {w for c in self.cities for w in c})
        self.vocab = {w: i for i, w in enumerate(SPECIALS + tuple(words))}
        self.firsts = sorted({a for a, _ in self.cities})
        self.seconds = sorted({b for _, b in self.cities})
        total = sum(self.cities.values())
        self.joint = torch.zeros(len(self.firsts), len(self.seconds), dtype=torch.float64)
        for (a, b), count in self.cities.items():
            self.joint[self.firsts.index(a), self.seconds.index(b)] = count / total

    def sentence(self, template: str, city: tuple[str, str]) -> tuple[torch.Tensor, int]:
        """``[CLS] words [SEP]`` as ids, and the position of the city's first word."""
        words = ["[CLS]"] + template.format(" ".join(city)).split() + ["[SEP]"]
        return torch.tensor([self.vocab[w] for w in words]), words.index(city[0])

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(ids, attention_mask, city_start)`` for ``batch`` sentences drawn from the corpus (padded)."""
        pairs = list(self.cities)
        weights = torch.tensor([self.cities[p] for p in pairs], dtype=torch.float64)
        cities = torch.multinomial(weights, batch, replacement=True, generator=generator).tolist()
        templates = torch.randint(len(self.templates), (batch,), generator=generator).tolist()
        rows = [self.sentence(self.templates[t], pairs[c]) for t, c in zip(templates, cities)]
        length = max(len(r) for r, _ in rows)
        ids = torch.zeros(batch, length, dtype=torch.long)
        mask = torch.zeros(batch, length, dtype=torch.long)
        for row, (sentence, _) in enumerate(rows):
            ids[row, :len(sentence)], mask[row, :len(sentence)] = sentence, 1
        return ids, mask, torch.tensor([start for _, start in rows])


def exact_tables(corpus: CityCorpus) -> dict[str, torch.Tensor]:
    """The ideal models' ``q(a, b)``: the true joint (what an autoregressive factorisation can reach) and the
    product of marginals (the best any independent prediction can do)."""
    return {"joint": corpus.joint, "independent": corpus.joint.sum(1, keepdim=True) * corpus.joint.sum(0, keepdim=True)}


def mutual_information(joint: torch.Tensor) -> float:
    """:math:`I(A;B) = \\sum p(a,b) \\log \\frac{p(a,b)}{p(a)p(b)}` in nats."""
    independent = joint.sum(1, keepdim=True) * joint.sum(0, keepdim=True)
    nonzero = joint > 0
    return float((joint[nonzero] * (joint[nonzero] / independent[nonzero]).log()).sum())


def expected_log_likelihood(corpus: CityCorpus, table: torch.Tensor) -> float:
    """:math:`\\mathbb{E}_{(a,b) \\sim \\text{corpus}} \\log q(a, b)` in nats: higher is better, the true joint is best."""
    nonzero = corpus.joint > 0
    return float((corpus.joint[nonzero] * table[nonzero].clamp_min(1e-300).log()).sum())


def invalid_mass(corpus: CityCorpus, table: torch.Tensor) -> float:
    """Probability ``q`` gives to names that are not cities ("new angeles", "los york"...)."""
    return float(table[corpus.joint == 0].sum())


@torch.no_grad()
def mlm_tables(model, corpus: CityCorpus) -> dict[str, torch.Tensor]:
    """A masked LM's ``q(a, b)``, averaged over the templates: ``"independent"`` from one pass with both words
    masked, :math:`q(a)\\,q(b)`; ``"left_to_right"``: :math:`q(a)\\,q(b \\mid a)`, the second pass with ``a`` filled in.
    Probabilities are renormalised over the candidate first / second words."""
    model.eval()
    mask_id = corpus.vocab["[MASK]"]
    first_ids = torch.tensor([corpus.vocab[w] for w in corpus.firsts])
    second_ids = torch.tensor([corpus.vocab[w] for w in corpus.seconds])
    tables = {"independent": 0.0, "left_to_right": 0.0}
    placeholder = next(iter(corpus.cities))
    for template in corpus.templates:
        ids, start = corpus.sentence(template, placeholder)
        both = ids.clone()
        both[start:start + 2] = mask_id
        logits = model(both[None]).logits[0]
        p_first = logits[start, first_ids].softmax(-1)
        p_second = logits[start + 1, second_ids].softmax(-1)
        filled = both.repeat(len(first_ids), 1)
        filled[:, start] = first_ids
        p_second_given = model(filled).logits[:, start + 1][:, second_ids].softmax(-1)
        tables["independent"] = tables["independent"] + p_first[:, None] * p_second[None, :]
        tables["left_to_right"] = tables["left_to_right"] + p_first[:, None] * p_second_given
    return {k: (v / len(corpus.templates)).double() for k, v in tables.items()}


def train_city_mlm(corpus: CityCorpus, steps: int = 300, seed: int = 0, batch: int = 32, lr: float = 3e-3):
    """A tiny BERT trained on the corpus with the first, the second or both city words masked (a third of the
    time each), so it learns the marginals *and* the conditionals. Returns ``(model, losses)``."""
    from minibert.core.config import BertConfig
    from minibert.models.bert.heads import BertForMaskedLM

    torch.manual_seed(seed)
    config = BertConfig.tiny(vocab_size=len(corpus.vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                             intermediate_size=64, max_position_embeddings=16, hidden_dropout_prob=0.0,
                             attention_probs_dropout_prob=0.0)
    model = BertForMaskedLM(config)
    generator = torch.Generator().manual_seed(seed)
    mask_id = corpus.vocab["[MASK]"]

    def next_batch() -> dict[str, torch.Tensor]:
        ids, attention, start = corpus.sample(batch, generator)
        which = torch.randint(3, (batch,), generator=generator)  # 0: first word, 1: second, 2: both
        rows = torch.arange(batch)
        masked = torch.zeros_like(ids, dtype=torch.bool)
        masked[rows, start] = which != 1
        masked[rows, start + 1] = which != 0
        labels = torch.where(masked, ids, torch.full_like(ids, IGNORE_INDEX))
        return {"input_ids": ids.masked_fill(masked, mask_id), "attention_mask": attention, "labels": labels}

    losses = fit(model, next_batch, steps, lr)
    return model.eval(), losses



@torch.no_grad()
def xlnet_tables(model, corpus: CityCorpus, masks=None) -> dict[str, torch.Tensor]:
    r"""A permutation LM's ``q(a, b)``, averaged over the templates. In an order that ends "..., first word,
    second word", the first word's query stream sees only the context and the second's also sees the first word:
    one pass gives :math:`q(a)\,q(b \mid a)` (``"left_to_right"``, run once per candidate ``a``);
    ``"right_to_left"`` is the order ending "..., second word, first word": :math:`q(b)\,q(a \mid b)`.

    ``masks(order, num_predict)`` -> ``(content, query)`` builds the attention masks (default
    :func:`~minibert.models.xlnet.permutation.permutation_masks`; chapter 12's exercise passes the learner's)."""
    from .permutation import permutation_masks, target_mapping, to_perm_mask

    masks = permutation_masks if masks is None else masks

    model.eval()
    candidates = {"first": torch.tensor([corpus.vocab[w] for w in corpus.firsts]),
                  "second": torch.tensor([corpus.vocab[w] for w in corpus.seconds])}
    tables = {"left_to_right": 0.0, "right_to_left": 0.0}
    for template in corpus.templates:
        ids, start = corpus.sentence(template, next(iter(corpus.cities)))
        context = [p for p in range(len(ids)) if p not in (start, start + 1)]
        for name, (earlier, later) in (("left_to_right", ("first", "second")), ("right_to_left", ("second", "first"))):
            positions = {"first": start, "second": start + 1}
            order = torch.tensor(context + [positions[earlier], positions[later]])
            _, query = masks(order, 2)
            query = torch.as_tensor(query).bool()
            rows = len(candidates[earlier])
            batch = ids.repeat(rows, 1)
            batch[:, positions[earlier]] = candidates[earlier]  # each candidate for the earlier word, in turn
            logits = model(batch, perm_mask=to_perm_mask(query).expand(rows, -1, -1),
                           target_mapping=target_mapping(order[-2:], len(ids)).expand(rows, -1, -1)).logits
            p_earlier = logits[0, 0, candidates[earlier]].double().softmax(-1)  # the same in every row: unseen
            p_later = logits[:, 1][:, candidates[later]].double().softmax(-1)  # (earlier candidate, later candidate)
            table = p_earlier[:, None] * p_later
            tables[name] = tables[name] + (table if earlier == "first" else table.t())
    return {k: v / len(corpus.templates) for k, v in tables.items()}


def train_city_xlnet(corpus: CityCorpus, steps: int = 300, seed: int = 0, batch: int = 32, lr: float = 3e-3,
                     num_predict: int = 2):
    """A tiny XLNet trained with the permutation LM on the corpus. Per sentence: a random order of its words
    ([CLS], [SEP] and padding are context), the last ``num_predict`` of the order predicted by the query stream,
    the other words visible to one another (XLNet's partial prediction). Returns ``(model, losses)``."""
    from .config import XLNetConfig
    from .model import XLNetLMHeadModel
    from .permutation import permutation_masks, to_perm_mask

    torch.manual_seed(seed)
    model = XLNetLMHeadModel(XLNetConfig(vocab_size=len(corpus.vocab), d_model=32, n_layer=2, n_head=2, d_inner=64,
                                         dropout=0.0, mem_len=0))
    generator = torch.Generator().manual_seed(seed)

    def next_batch() -> dict[str, torch.Tensor]:
        ids, attention, _ = corpus.sample(batch, generator)
        length = ids.shape[1]
        perms, mappings, labels = [], [], []
        for row in range(batch):
            real = int(attention[row].sum())
            words = torch.arange(1, real - 1)[torch.randperm(real - 2, generator=generator)]
            order = torch.cat([torch.tensor([0, real - 1]), torch.arange(real, length), words])
            _, query = permutation_masks(order, num_predict=num_predict)
            perms.append(to_perm_mask(query))
            mappings.append(F.one_hot(order[-num_predict:], length).float())
            labels.append(ids[row, order[-num_predict:]])
        return {"input_ids": ids, "attention_mask": attention, "perm_mask": torch.stack(perms),
                "target_mapping": torch.stack(mappings), "labels": torch.stack(labels)}

    losses = fit(model, next_batch, steps, lr)
    return model.eval(), losses

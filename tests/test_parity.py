"""A transformers checkpoint loads into minibert: one test over every (minibert class, transformers class, tiny
config) triple whose model reads BERT's inputs.

For each row, transformers builds the model with random weights (far from their initial values) and saves it;
minibert's ``from_pretrained`` reads it (in eval mode, with the config's values), computes the same outputs at the
real tokens of a padded batch, and saves the same tensors under the same names again. The other direction
(minibert saves, transformers loads every key) and each model's own checks (losses, attentions, sharing, heads) are
in the model's test module. Tolerance (docs/architecture.md): 1e-5 in float32.
"""
from __future__ import annotations

import pytest
import torch
import transformers
from test_bert_parity import CONFIGS as BERT_CONFIGS
from test_deberta import SIZES as DEBERTA_SIZES
from test_deberta import VARIANTS as DEBERTA_VARIANTS
from test_deberta import make_batch as deberta_batch
from test_electra import CONFIGS as ELECTRA_CONFIGS

from minibert import BertModel, DebertaV2Model, ElectraDiscriminator

TOL = 1e-5

# id: (minibert class, transformers class, transformers config, outputs compared, config fields carried over as
# "name" or ("minibert's name", "transformers' name"))
TRIPLES = {
    "bert-0": (BertModel, transformers.BertModel, lambda: transformers.BertConfig(**BERT_CONFIGS[0]),
               ("last_hidden_state", "pooler_output"), ("hidden_act", "layer_norm_eps")),
    "bert-1": (BertModel, transformers.BertModel, lambda: transformers.BertConfig(**BERT_CONFIGS[1]),
               ("last_hidden_state", "pooler_output"), ("hidden_act", "layer_norm_eps", "type_vocab_size")),
    "deberta-v3+conv": (DebertaV2Model, transformers.DebertaV2Model,
                        lambda: transformers.DebertaV2Config(**DEBERTA_SIZES, **DEBERTA_VARIANTS["v3+conv"]),
                        ("last_hidden_state",), ("position_buckets", "share_att_key", "conv_kernel_size")),
    "electra-0": (ElectraDiscriminator, transformers.ElectraForPreTraining,
                  lambda: transformers.ElectraConfig(**ELECTRA_CONFIGS[0]), ("logits",),
                  (("embedding_width", "embedding_size"),)),
    "electra-1": (ElectraDiscriminator, transformers.ElectraForPreTraining,
                  lambda: transformers.ElectraConfig(**ELECTRA_CONFIGS[1]), ("logits",),
                  (("embedding_width", "embedding_size"),)),
}
# the random weights of each family's own tests: DeBERTa's N(0, 0.3^2), ELECTRA's LayerNorm scales around 1
RANDOM_WEIGHTS = {DebertaV2Model: dict(scale=0.3), ElectraDiscriminator: dict(norms_near_one=True)}


def bert_inputs(make_batch, config, seed):
    ids, types, mask = make_batch(config, seed=seed)
    return dict(input_ids=ids, token_type_ids=types, attention_mask=mask)


def deberta_inputs(make_batch, config, seed):
    ids, _, mask = deberta_batch(config, seed=seed)
    return dict(input_ids=ids, attention_mask=mask)


INPUTS = {DebertaV2Model: deberta_inputs}


@pytest.mark.parametrize("row", sorted(TRIPLES))
def test_transformers_checkpoint_loads_into_minibert(row, make_batch, randomize, tmp_path):
    ours_class, hf_class, hf_config, outputs, carried = TRIPLES[row]
    hf_config = hf_config()
    torch.manual_seed(2)
    theirs = hf_class(hf_config).eval()
    randomize(theirs, 3, **RANDOM_WEIGHTS.get(ours_class, {}))
    theirs.save_pretrained(tmp_path)
    ours = ours_class.from_pretrained(tmp_path)
    assert not ours.training
    for name in carried:
        ours_name, hf_name = (name, name) if isinstance(name, str) else name
        assert getattr(ours.config, ours_name) == getattr(hf_config, hf_name), name
    inputs = INPUTS.get(ours_class, bert_inputs)(make_batch, ours.config, 4)
    real = inputs["attention_mask"].bool()
    with torch.no_grad():
        a, b = ours(**inputs), theirs(**inputs)
    for name in outputs:
        x, y = getattr(a, name), getattr(b, name)
        difference = x - y if name == "pooler_output" else (x - y)[real]  # per token: real tokens only
        assert difference.abs().max() < TOL, name
    ours.save_pretrained(tmp_path / "again")  # and back: the same tensors under the same names
    again = ours_class.from_pretrained(tmp_path / "again")
    for (name, x), (_, y) in zip(ours.state_dict().items(), again.state_dict().items()):
        assert torch.equal(x, y), name

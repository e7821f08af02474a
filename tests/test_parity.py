"""Checkpoints cross in both directions: one test over every (minibert class, transformers class, tiny config)
triple whose model reads BERT's inputs (encoders and their heads).

For each row, transformers builds the model with random weights (far from their initial values) and saves it;
minibert's ``from_pretrained`` reads it (in eval mode, with the config's values) and computes the same outputs at the
real tokens of a padded batch (a sequence-level output such as a pooler or a classifier's logits: every row). Then
minibert saves it, transformers loads that folder with no missing, unexpected or mis-shaped key and computes the same
outputs again, and minibert reads its own save back tensor for tensor. Each model's own checks (losses, attentions,
sharing, generation) are in the model's test module. Tolerance (docs/architecture.md): 1e-5 in float32; logits over
a vocabulary sum H products of size ~1 and get 1e-4.
"""
from __future__ import annotations

import pytest
import torch
import transformers
from test_bert_parity import CONFIGS as BERT_CONFIGS
from test_deberta import SIZES as DEBERTA_SIZES
from test_deberta import VARIANTS as DEBERTA_VARIANTS
from test_deberta import make_batch as deberta_batch
from test_albert import CONFIGS as ALBERT_CONFIGS
from test_distilbert import CONFIG as DISTILBERT_CONFIG
from test_electra import CONFIGS as ELECTRA_CONFIGS
from test_roberta import CONFIGS as ROBERTA_CONFIGS
from test_roberta import make_batch as roberta_batch
from test_modernbert import SIZES as MODERNBERT_SIZES
from test_modernbert import make_batch as modernbert_batch
from test_t5 import SIZES as T5_SIZES
from test_t5 import batch as t5_batch

from minibert import (AlbertModel, BertForMaskedLM, BertForPreTraining, BertForSequenceClassification, BertModel,
                      CausalLM, DebertaV2Model, DistilBertForMaskedLM, DistilBertModel, ElectraDiscriminator,
                      ModernBertForMaskedLM, ModernBertModel, RobertaForMaskedLM, RobertaModel, T5ForConditionalGeneration,
                      T5Model)

TOL = 1e-5

DISTIL_HF = dict(vocab_size=DISTILBERT_CONFIG["vocab_size"], dim=DISTILBERT_CONFIG["hidden_size"],
                 n_layers=DISTILBERT_CONFIG["num_hidden_layers"], n_heads=DISTILBERT_CONFIG["num_attention_heads"],
                 hidden_dim=DISTILBERT_CONFIG["intermediate_size"],
                 max_position_embeddings=DISTILBERT_CONFIG["max_position_embeddings"], activation="gelu")
NSP = ("nsp_logits", "seq_relationship_logits")

# id: (minibert class, transformers class, transformers config, outputs compared as "name" or ("minibert's name",
# "transformers' name"), config fields carried over likewise)
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
    "bert-mlm": (BertForMaskedLM, transformers.BertForMaskedLM, lambda: transformers.BertConfig(**BERT_CONFIGS[1]),
                 ("logits",), ("hidden_act",)),
    "bert-pretraining": (BertForPreTraining, transformers.BertForPreTraining,
                         lambda: transformers.BertConfig(**BERT_CONFIGS[0]),
                         (("logits", "prediction_logits"), NSP), ()),
    "bert-classifier": (BertForSequenceClassification, transformers.BertForSequenceClassification,
                        lambda: transformers.BertConfig(**BERT_CONFIGS[0], num_labels=3), ("logits",), ()),
    "causal-lm": (CausalLM, transformers.BertLMHeadModel,
                  lambda: transformers.BertConfig(**BERT_CONFIGS[0], is_decoder=True), ("logits",), ()),
    "roberta-0": (RobertaModel, transformers.RobertaModel,
                  lambda: transformers.RobertaConfig(**ROBERTA_CONFIGS[0], pad_token_id=1),
                  ("last_hidden_state", "pooler_output"), ("pad_token_id",)),
    "roberta-1-mlm": (RobertaForMaskedLM, transformers.RobertaForMaskedLM,
                      lambda: transformers.RobertaConfig(**ROBERTA_CONFIGS[1]), ("logits",),
                      ("pad_token_id", "layer_norm_eps")),
    "albert-shared": (AlbertModel, transformers.AlbertModel, lambda: transformers.AlbertConfig(**ALBERT_CONFIGS[0]),
                      ("last_hidden_state", "pooler_output"), ("embedding_size",)),
    "albert-unshared": (AlbertModel, transformers.AlbertModel,
                        lambda: transformers.AlbertConfig(**ALBERT_CONFIGS[1], num_hidden_groups=4),
                        ("last_hidden_state", "pooler_output"), ("embedding_size", "type_vocab_size")),
    "distilbert": (DistilBertModel, transformers.DistilBertModel, lambda: transformers.DistilBertConfig(**DISTIL_HF),
                   ("last_hidden_state",), (("hidden_size", "dim"), ("num_hidden_layers", "n_layers"))),
    "distilbert-mlm": (DistilBertForMaskedLM, transformers.DistilBertForMaskedLM,
                       lambda: transformers.DistilBertConfig(**DISTIL_HF), ("logits",), ()),
    "modernbert": (ModernBertModel, transformers.ModernBertModel,
                   lambda: transformers.ModernBertConfig(**MODERNBERT_SIZES), ("last_hidden_state",),
                   ("local_attention", ("attention_types", "layer_types"))),
    "modernbert-mlm": (ModernBertForMaskedLM, transformers.ModernBertForMaskedLM,
                       lambda: transformers.ModernBertConfig(**MODERNBERT_SIZES, mlp_bias=True), ("logits",),
                       ("mlp_bias",)),
    "t5-v1.0": (T5ForConditionalGeneration, transformers.T5ForConditionalGeneration,
                lambda: transformers.T5Config(**T5_SIZES, decoder_start_token_id=0),
                ("logits", "encoder_last_hidden_state"), ("d_kv", "feed_forward_proj")),
    "t5-v1.1-model": (T5Model, transformers.T5Model,
                      lambda: transformers.T5Config(**T5_SIZES, feed_forward_proj="gated-gelu"),
                      ("last_hidden_state", "encoder_last_hidden_state"), ("feed_forward_proj",)),
}
# the random weights of each family's own tests: DeBERTa's N(0, 0.3^2), ELECTRA's LayerNorm scales around 1
RANDOM_WEIGHTS = {DebertaV2Model: dict(scale=0.3), ElectraDiscriminator: dict(norms_near_one=True),
                  ModernBertModel: dict(norms_near_one=True), ModernBertForMaskedLM: dict(norms_near_one=True),
                  T5ForConditionalGeneration: dict(norms_near_one=True), T5Model: dict(norms_near_one=True)}


def bert_inputs(make_batch, config, seed):
    ids, types, mask = make_batch(config, seed=seed)
    return dict(input_ids=ids, token_type_ids=types, attention_mask=mask)


def deberta_inputs(make_batch, config, seed):
    ids, _, mask = deberta_batch(config, seed=seed)
    return dict(input_ids=ids, attention_mask=mask)


def roberta_inputs(make_batch, config, seed):
    ids, mask = roberta_batch(config, seed=seed)
    return dict(input_ids=ids, attention_mask=mask)


def ids_and_mask(make_batch, config, seed):
    ids, _, mask = make_batch(config, seed=seed)
    return dict(input_ids=ids, attention_mask=mask)


def modernbert_inputs(make_batch, config, seed):
    ids, mask = modernbert_batch(seed=seed)
    return dict(input_ids=ids, attention_mask=mask)


def t5_inputs(make_batch, config, seed):
    ids, mask, labels, decoder_mask = t5_batch(seed)
    return dict(input_ids=ids, attention_mask=mask, decoder_input_ids=labels.clamp(min=0))


INPUTS = {ModernBertModel: modernbert_inputs, ModernBertForMaskedLM: modernbert_inputs, T5ForConditionalGeneration: t5_inputs,
          T5Model: t5_inputs, DebertaV2Model: deberta_inputs, RobertaModel: roberta_inputs, RobertaForMaskedLM: roberta_inputs,
          DistilBertModel: ids_and_mask, DistilBertForMaskedLM: ids_and_mask, CausalLM: ids_and_mask}


def assert_same_outputs(a, b, outputs, real, row):
    for name in outputs:
        ours_name, hf_name = (name, name) if isinstance(name, str) else name
        x, y = getattr(a, ours_name), getattr(b, hf_name)
        per_token = x.dim() >= 2 and tuple(x.shape[:2]) == tuple(real.shape)
        difference = (x - y)[real] if per_token else x - y  # per token: real tokens only
        tolerance = TOL * 10 if "logits" in ours_name and per_token else TOL
        assert difference.abs().max() < tolerance, f"{row}: {ours_name}"


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
    assert_same_outputs(a, b, outputs, real, row)
    ours.save_pretrained(tmp_path / "again")  # and back, to transformers and to minibert: same names, same tensors
    options = {} if hf_class.__name__.startswith("DistilBert") else {"attn_implementation": "eager"}
    back, info = hf_class.from_pretrained(tmp_path / "again", output_loading_info=True, **options)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    with torch.no_grad():
        assert_same_outputs(a, back.eval()(**inputs), outputs, real, row)
    again = ours_class.from_pretrained(tmp_path / "again")
    for (name, x), (_, y) in zip(ours.state_dict().items(), again.state_dict().items()):
        assert torch.equal(x, y), name

"""ALBERT: factorised embeddings and cross-layer sharing, against transformers' ALBERT and against the paper's
parameter tables."""
import pytest
import torch
import transformers
from test_bert_parity import TOL

from minibert import BertConfig, count_parameters
from minibert.core.transformer import EncoderLayer
from minibert.models.albert.model import AlbertConfig, AlbertForMaskedLM, AlbertForPreTraining, AlbertModel
from minibert.models.albert.parameter_tables import (EMBEDDING_ABLATION, MODEL_SIZES, SHARING_ABLATION,
                                                     albert_parameters, depth_table, embedding_size_table,
                                                     model_size_table, sharing_table)

CONFIGS = [
    dict(vocab_size=211, embedding_size=16, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
         intermediate_size=37, max_position_embeddings=96),
    dict(vocab_size=157, embedding_size=8, hidden_size=48, num_hidden_layers=4, num_attention_heads=3,
         intermediate_size=64, hidden_act="gelu", type_vocab_size=3, max_position_embeddings=80, layer_norm_eps=1e-7,
         pad_token_id=2),
]


@pytest.mark.parametrize("overrides", CONFIGS)
@pytest.mark.parametrize("sharing", ["all", "none"])
def test_albert_model_equals_transformers(hf_twin, make_batch, randomize, overrides, sharing, tmp_path):
    config = AlbertConfig(**overrides, cross_layer_sharing=sharing)
    ours = AlbertModel(config).eval()
    randomize(ours, 1)
    theirs = hf_twin(ours, transformers.AlbertModel, tmp_path)
    assert theirs.config.num_hidden_groups == (1 if sharing == "all" else config.num_hidden_layers)
    ids, types, mask = make_batch(config)
    real = mask.bool()
    with torch.no_grad():
        a = ours(ids, types, mask, output_attentions=True, output_hidden_states=True)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, output_attentions=True,
                   output_hidden_states=True)
        fast = ours(ids, types, mask)
    assert (a.last_hidden_state - b.last_hidden_state)[real].abs().max() < TOL
    assert (fast.last_hidden_state - b.last_hidden_state)[real].abs().max() < TOL
    assert (a.pooler_output - b.pooler_output).abs().max() < TOL
    assert len(a.attentions) == len(b.attentions) == config.num_hidden_layers
    for x, y in zip(a.attentions, b.attentions):
        assert (x - y)[real[:, None, :, None].expand_as(x)].abs().max() < TOL


def test_transformers_checkpoints_load_into_minibert(make_batch, randomize, tmp_path):
    hf_config = transformers.AlbertConfig(**CONFIGS[0], num_hidden_groups=1)
    torch.manual_seed(2)
    theirs = transformers.AlbertForPreTraining(hf_config).eval()
    randomize(theirs, 3)
    theirs.save_pretrained(tmp_path)
    ours = AlbertForPreTraining.from_pretrained(tmp_path)
    masked_lm = AlbertForMaskedLM.from_pretrained(tmp_path)
    encoder = AlbertModel.from_pretrained(tmp_path)
    assert ours.config.cross_layer_sharing == "all" and len(ours.bert.encoder.layers) == 1
    ids, types, mask = make_batch(ours.config, seed=4)
    labels = torch.where(torch.rand(ids.shape, generator=torch.Generator().manual_seed(5)) < 0.15, ids, -100)
    labels[mask == 0] = -100
    labels[0, 0] = ids[0, 0]
    order = torch.tensor([0, 1, 1, 0])
    with torch.no_grad():
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels, sentence_order_label=order)
        a = ours(ids, types, mask, labels=labels, sentence_order_label=order, return_logits=True)
        lm = masked_lm(ids, types, mask).logits
        pooled = encoder(ids, types, mask).pooler_output
    real = mask.bool()
    assert (a.logits - b.prediction_logits)[real].abs().max() < TOL * 10  # logits sum E products of size ~1
    assert (lm - b.prediction_logits)[real].abs().max() < TOL * 10
    assert (a.nsp_logits - b.sop_logits).abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL
    assert torch.equal(ours.nsp(pooled), a.nsp_logits)
    # the pre-training model scores chosen rows only, as BertForMaskedLM does (the trainer's evaluation uses it)
    with torch.no_grad():
        rows = ours(ids, types, mask, positions=labels != -100).logits
    assert torch.allclose(rows, a.logits[labels != -100], atol=1e-5)


@pytest.mark.parametrize("model_class, hf_class", [(AlbertForMaskedLM, transformers.AlbertForMaskedLM),
                                                    (AlbertForPreTraining, transformers.AlbertForPreTraining)])
def test_heads_save_for_transformers(hf_twin, make_batch, randomize, model_class, hf_class, tmp_path):
    config = AlbertConfig(**CONFIGS[1])
    ours = model_class(config).eval()
    randomize(ours, 6)
    theirs = hf_twin(ours, hf_class, tmp_path)
    ids, types, mask = make_batch(config, seed=7)
    with torch.no_grad():
        a = ours(ids, types, mask)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask)
    logits_b = b.logits if hasattr(b, "logits") else b.prediction_logits
    assert (a.logits - logits_b)[mask.bool()].abs().max() < TOL * 10
    # the MLM head maps H down to E, and scores against the E-wide token table itself
    assert ours.mlm.dense.weight.shape == (config.embedding_size, config.hidden_size)
    assert "mlm.decoder.weight" not in dict(ours.named_parameters())


# -- sharing ------------------------------------------------------------------------------------------------------
def _closed_form(V, E, H, L, sharing, positions=512, types=2, inner=None):
    """The module docstring of minibert.models.albert.parameter_tables, written out: the count without building
    anything."""
    inner = inner or 4 * H
    attention = 4 * H * H + 4 * H + 2 * H
    ffn = 2 * H * inner + inner + H + 2 * H
    copies = {"all": (1, 1), "attention": (1, L), "ffn": (L, 1), "none": (L, L)}[sharing]
    projection = E * H + H if E != H else 0
    return (V + positions + types) * E + 2 * E + projection + copies[0] * attention + copies[1] * ffn + H * H + H


@pytest.mark.parametrize("sharing", ["all", "attention", "ffn", "none"])
@pytest.mark.parametrize("E", [64, 128, 768])
def test_counts_follow_the_closed_form(sharing, E):
    assert albert_parameters("base", E, sharing) == _closed_form(30000, E, 768, 12, sharing)


@pytest.mark.parametrize("size", ["base", "large", "xlarge", "xxlarge"])
def test_released_sizes_count_like_transformers(size):
    ours = albert_parameters(size)
    config = AlbertConfig.of_size(size)
    with torch.device("meta"):
        theirs = transformers.AlbertModel(transformers.AlbertConfig(**config.to_dict()))
    assert ours == sum(p.numel() for p in theirs.parameters())


@pytest.mark.parametrize("sharing", ["all", "attention", "ffn"])
def test_shared_sub_layers_are_one_module_applied_at_every_depth(randomize, sharing):
    torch.manual_seed(0)
    config = AlbertConfig.tiny(cross_layer_sharing=sharing, hidden_dropout_prob=0.0)
    model = AlbertModel(config).eval()
    randomize(model, 8)
    encoder = model.encoder
    layers = [encoder.layer(i) for i in range(config.num_hidden_layers)]
    attention_shared = all(layer.attention is layers[0].attention for layer in layers)
    ffn_shared = all(layer.ffn is layers[0].ffn and layer.ffn_norm is layers[0].ffn_norm for layer in layers)
    assert attention_shared == (sharing in ("all", "attention"))
    assert ffn_shared == (sharing in ("all", "ffn"))
    # the forward pass applies exactly these modules in order
    x = torch.randn(2, 7, config.hidden_size)
    expected = x
    for layer in layers:
        expected = layer(expected)[0]
    with torch.no_grad():
        assert torch.equal(encoder(x)[0], expected)
    # a shared weight collects the gradient of every depth it is used at
    encoder(x)[0].sum().backward()
    grad = layers[0].attention.query.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_depth_costs_no_parameters_when_everything_is_shared():
    counts = {row["exact"] for row in depth_table()}
    assert counts == {17_683_968}
    assert albert_parameters("large", sharing="none") > 10 * albert_parameters("large")


# -- the paper's tables -------------------------------------------------------------------------------------------
def test_embedding_and_sharing_ablations_reproduce_the_published_figures():
    rows = embedding_size_table() + sharing_table()
    assert len(rows) == len(EMBEDDING_ABLATION) + len(SHARING_ABLATION) == 16
    for row in rows:
        if row["sharing"] == "none":  # the paper's not-shared (BERT-like) rows leave the 590,592 pooler out
            assert row["agreement"] == "matches without the pooler (590,592)", row
            assert round((row["exact"] - 590_592) / 1e6) == row["published_millions"]
        else:
            assert row["agreement"] == "matches", row
            assert round(row["exact"] / 1e6) == row["published_millions"]
    e128 = {row["sharing"]: row["exact"] for row in sharing_table() if row["E"] == 128}
    assert e128 == {"all": 11_683_584, "attention": 63_647_232, "ffn": 37_686_528, "none": 89_650_176}


def test_model_size_table_shows_where_the_paper_differs():
    rows = {row["model"]: row for row in model_size_table()}
    assert set(rows) == set(MODEL_SIZES)
    assert rows["ALBERT-base"]["exact"] == 11_683_584 and rows["ALBERT-base"]["agreement"] == "matches"
    assert rows["ALBERT-large"]["agreement"] == "matches"
    assert rows["BERT-large"]["agreement"].startswith("matches without the pooler")
    assert rows["ALBERT-xlarge"]["exact"] == 58_724_864 and rows["ALBERT-xlarge"]["agreement"] == "paper is +1.3M off"
    assert rows["ALBERT-xxlarge"]["exact"] == 222_595_584
    assert rows["ALBERT-xxlarge"]["agreement"] == "paper is +12.4M off"


# -- configuration and errors -------------------------------------------------------------------------------------
def test_config_round_trip_through_transformers_names():
    hf = transformers.AlbertConfig(**CONFIGS[1], num_hidden_groups=4)
    ours = AlbertConfig.from_dict(hf.to_dict())
    assert ours.cross_layer_sharing == "none" and ours.embedding_size == 8 and ours.pad_token_id == 2
    written = ours.to_hf_dict()
    assert written["model_type"] == "albert" and written["num_hidden_groups"] == 4
    assert AlbertConfig.from_dict(written) == ours
    assert AlbertConfig.base().to_dict()["num_hidden_groups"] == 1


def test_bad_configurations_are_explained(tmp_path):
    with pytest.raises(ValueError, match="cross_layer_sharing must be one of"):
        AlbertConfig.tiny(cross_layer_sharing="ffn-only")
    with pytest.raises(ValueError, match="num_hidden_groups=2"):
        AlbertConfig.from_dict({**CONFIGS[0], "num_hidden_groups": 2})
    with pytest.raises(ValueError, match="inner_group_num=2"):
        AlbertConfig.from_dict({**CONFIGS[0], "inner_group_num": 2})
    with pytest.raises(ValueError, match="no transformers equivalent"):
        AlbertModel(AlbertConfig.tiny(cross_layer_sharing="attention")).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="always projects E -> H"):
        AlbertModel(AlbertConfig.tiny(embedding_size=64)).save_pretrained(tmp_path)
    with pytest.raises(TypeError, match="AlbertConfig"):
        AlbertModel(BertConfig.tiny())
    with pytest.raises(ValueError, match="unknown ALBERT size"):
        AlbertConfig.of_size("huge")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        AlbertModel(AlbertConfig.tiny())(torch.tensor([[1, 2, 1000]]))


def test_bert_encoders_are_unchanged_by_the_sharing_switch():
    config = BertConfig.tiny(num_hidden_layers=3)
    assert config.cross_layer_sharing == "none"
    with torch.device("meta"):
        layers = [EncoderLayer.from_config(config) for _ in range(3)]
    from minibert import BertModel

    model = BertModel(config)
    assert len(model.encoder.layers) == 3
    assert count_parameters(model.encoder) == 3 * sum(p.numel() for p in layers[0].parameters())

"""Bad input gets one clear error; checkpoints load and save safely; parameter counts match the papers."""
import json

import pytest
import torch
import transformers

from minibert import BertConfig, BertForMaskedLM, BertModel, count_parameters
from minibert.core.checkpoints import CheckpointError, resolve_checkpoint
from minibert.core.parameter_count import parameter_table


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return BertModel(BertConfig.tiny(max_position_embeddings=16)).eval()


# -- configuration ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides, error, message", [
    (dict(hidden_size=100, num_attention_heads=12), ValueError, "divisible by num_attention_heads"),
    (dict(num_hidden_layers=0), ValueError, "positive integer"),
    (dict(hidden_size=64.0), TypeError, "positive integer"),
    (dict(num_hidden_layers=True), TypeError, "positive integer, got True"),
    (dict(hidden_dropout_prob=1.5), ValueError, r"\[0, 1\)"),
    (dict(hidden_dropout_prob=float("nan")), ValueError, "finite"),
    (dict(attention_probs_dropout_prob="0.1"), TypeError, "must be a number"),
    (dict(hidden_act="swish"), ValueError, "hidden_act"),
    (dict(pad_token_id=5000, vocab_size=100), ValueError, "pad_token_id"),
    (dict(layer_norm_eps=0), ValueError, "layer_norm_eps"),
    (dict(initializer_range=-0.02), ValueError, "initializer_range"),
])
def test_invalid_config(overrides, error, message):
    with pytest.raises(error, match=message):
        BertConfig(**overrides)


def test_config_json_roundtrip_keeps_unknown_keys():
    data = {**BertConfig.tiny().to_hf_dict(), "custom_field": 7}
    config = BertConfig.from_dict(data)
    assert config.extra == {"custom_field": 7} and config.to_dict()["custom_field"] == 7
    with pytest.raises(ValueError, match="position_embedding_type"):
        BertConfig.from_dict({**data, "position_embedding_type": "relative_key"})


# -- inputs ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: dict(input_ids=[[1, 2, 3]]), TypeError, "torch.Tensor"),
    (lambda: dict(input_ids=torch.ones(1, 4)), TypeError, "integers"),
    (lambda: dict(input_ids=torch.ones(4, dtype=torch.long)), ValueError, "unsqueeze"),
    (lambda: dict(input_ids=torch.ones(1, 2, 3, dtype=torch.long)), ValueError, r"\(batch, seq_len\)"),
    (lambda: dict(input_ids=torch.ones(1, 0, dtype=torch.long)), ValueError, "empty"),
    (lambda: dict(input_ids=torch.ones(1, 17, dtype=torch.long)), ValueError, "max_position_embeddings=16"),
    (lambda: dict(input_ids=torch.tensor([[1, 1000]])), ValueError, "id 1000, outside the vocabulary"),
    (lambda: dict(input_ids=torch.tensor([[1, -1]])), ValueError, "id -1"),
    (lambda: dict(input_ids=torch.ones(2, 4, dtype=torch.long), attention_mask=torch.ones(2, 5)), ValueError,
     "attention_mask has shape"),
    (lambda: dict(input_ids=torch.ones(2, 4, dtype=torch.long), attention_mask=torch.full((2, 4), -10000.0)),
     ValueError, "only 0 and 1"),
    (lambda: dict(input_ids=torch.ones(2, 4, dtype=torch.long), attention_mask=[[1, 1, 1, 1]] * 2), TypeError,
     "attention_mask must be a torch.Tensor"),
    (lambda: dict(input_ids=torch.ones(2, 4, dtype=torch.long), token_type_ids=torch.full((2, 4), 2)), ValueError,
     "token_type_ids must be in"),
    (lambda: dict(input_ids=torch.ones(2, 4, dtype=torch.long), token_type_ids=torch.zeros(2, 3, dtype=torch.long)),
     ValueError, "token_type_ids has shape"),
])
def test_bad_inputs_raise_clear_errors(tiny, make, error, message):
    with pytest.raises(error, match=message):
        tiny(**make())


def test_fully_padded_row_gives_no_nan(tiny):
    ids = torch.tensor([[5, 6, 7, 8], [0, 0, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [0, 0, 0, 0]])
    for need in (False, True):
        out = tiny(ids, attention_mask=mask, output_attentions=need)
        assert torch.isfinite(out.last_hidden_state).all() and torch.isfinite(out.pooler_output).all()


def test_padding_does_not_change_real_tokens(tiny):
    ids = torch.tensor([[5, 6, 7]])
    padded = torch.tensor([[5, 6, 7, 0, 0]])
    with torch.no_grad():
        a = tiny(ids).last_hidden_state
        b = tiny(padded, attention_mask=torch.tensor([[1, 1, 1, 0, 0]])).last_hidden_state[:, :3]
    assert (a - b).abs().max() < 1e-5


def test_bool_and_three_dimensional_masks(tiny):
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        a = tiny(ids, attention_mask=torch.tensor([[1, 1, 1, 0]])).last_hidden_state
        b = tiny(ids, attention_mask=torch.tensor([[True, True, True, False]])).last_hidden_state
        full = torch.tensor([[1, 1, 1, 0]]).bool()[:, None, :].expand(1, 4, 4)
        c = tiny(ids, attention_mask=full).last_hidden_state
    assert torch.equal(a, b) and (a - c).abs().max() < 1e-6


def test_mlm_label_errors():
    model = BertForMaskedLM(BertConfig.tiny())
    ids = torch.tensor([[5, 6, 7]])
    with pytest.raises(ValueError, match="labels has shape"):
        model(ids, labels=torch.tensor([[5, 6]]))
    with pytest.raises(ValueError, match="no position to predict"):
        model(ids, labels=torch.full((1, 3), -100))
    with pytest.raises(ValueError, match=r"\[0, 1000\)"):
        model(ids, labels=torch.tensor([[-100, 5000, -100]]))
    with pytest.raises(ValueError, match="no mask token"):
        model.fill_mask(ids, mask_token_id=103)


# -- checkpoints -----------------------------------------------------------------------------------------------------
def test_missing_folder_and_files(tmp_path):
    with pytest.raises(CheckpointError, match="no local folder named"):
        resolve_checkpoint(str(tmp_path / "nowhere"), local_files_only=True)
    with pytest.raises(CheckpointError, match="no config.json"):
        BertModel.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(BertConfig.tiny().to_hf_dict()))
    with pytest.raises(CheckpointError, match="no weights"):
        BertModel.from_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="is a file"):
        BertModel.from_pretrained(tmp_path / "config.json")
    with pytest.raises(TypeError):
        BertModel.from_pretrained(42)


def test_mismatched_keys_are_listed(tmp_path):
    theirs = transformers.BertModel(transformers.BertConfig(**BertConfig.tiny().to_dict()))
    theirs.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    # wrong shapes: the config says 3 layers with a different width
    (tmp_path / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3, "intermediate_size": 128}))
    with pytest.raises(CheckpointError) as err:
        BertModel.from_pretrained(tmp_path)
    text = str(err.value)
    assert "missing from the checkpoint" in text and "encoder.layer.2.attention.self.query.weight" in text
    assert "wrong shape" in text and "encoder.layer.0.intermediate.dense.weight" in text


def test_unexpected_keys_are_listed(tmp_path):
    from safetensors.torch import load_file, save_file

    BertModel(BertConfig.tiny()).save_pretrained(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    state["encoder.layer.0.attention.self.rotary.weight"] = torch.zeros(3)
    save_file(state, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="not used by the model.*rotary"):
        BertModel.from_pretrained(tmp_path)


def test_pytorch_bin_checkpoint_with_legacy_names_and_heads(tmp_path):
    """Old BERT checkpoints: pytorch_model.bin, LayerNorm.gamma/beta, a "bert." prefix and pre-training heads."""
    theirs = transformers.BertForPreTraining(transformers.BertConfig(**BertConfig.tiny().to_dict())).eval()
    state = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
             for k, v in theirs.state_dict().items()}
    torch.save(state, tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text(json.dumps(BertConfig.tiny().to_hf_dict()))
    ours = BertModel.from_pretrained(tmp_path)
    ids = torch.tensor([[2, 3, 4, 5]])
    with torch.no_grad():
        assert (ours(ids).last_hidden_state - theirs.bert(input_ids=ids).last_hidden_state).abs().max() < 1e-5


def test_save_does_not_clobber_a_file_and_overwrites_atomically(tmp_path):
    model = BertModel(BertConfig.tiny())
    target = tmp_path / "file"
    target.write_text("precious")
    with pytest.raises(CheckpointError, match="not a folder"):
        model.save_pretrained(target)
    assert target.read_text() == "precious"
    folder = tmp_path / "ckpt"
    model.save_pretrained(folder)
    model.save_pretrained(folder)  # overwriting an existing checkpoint works and leaves no temporary files
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]


# -- parameter counts ------------------------------------------------------------------------------------------------
def test_published_parameter_counts_without_allocating():
    table = {row["model"]: row for row in parameter_table()}
    assert table["BERT-base"]["total"] == 109_482_240
    assert table["BERT-large"]["total"] == 335_141_888
    base = table["BERT-base"]
    assert base["embeddings"] + base["encoder"] + base["pooler"] == base["total"]
    # the masked-LM head adds a transform and a bias but no second vocabulary matrix (it is tied)
    mlm = count_parameters(lambda: BertForMaskedLM(BertConfig()))
    assert mlm == 109_482_240 - 768 * 768 - 768 + (768 * 768 + 768) + 2 * 768 + 30522
    with pytest.raises(TypeError):
        count_parameters(3)


# -- the offline corpus ------------------------------------------------------------------------------------------------
def test_corpus_loads_and_splits_by_document():
    from minibert.corpus import load_documents, load_text, split_documents

    docs = load_documents()
    assert len(docs) > 200 and sum(len(d) for d in docs) > 5000
    assert len(load_text().split()) > 90_000
    train, held = split_documents(docs, held_out=0.1, seed=0)
    assert len(train) + len(held) == len(docs) and len(held) == round(len(docs) * 0.1)
    assert split_documents(docs, seed=0) == (train, held) and split_documents(docs, seed=1) != (train, held)
    with pytest.raises(ValueError, match="fraction"):
        split_documents(docs, held_out=1.0)


def test_factorised_embeddings_switch():
    """embedding_size=E < H: V x E tables, one E x H projection, an MLM head that maps back to E."""
    config = BertConfig.tiny(embedding_size=16)
    model = BertForMaskedLM(config)
    assert model.bert.embeddings.token.weight.shape == (1000, 16)
    assert model.bert.embedding_projection.weight.shape == (64, 16)
    assert model.mlm.dense.weight.shape == (16, 64)
    ids = torch.randint(0, 1000, (2, 7))
    assert model(ids).logits.shape == (2, 7, 1000)
    plain = BertModel(BertConfig.tiny())
    assert plain.embedding_projection is None and "embedding_size" not in BertConfig.tiny().to_dict()
    saved = count_parameters(lambda: BertModel(BertConfig())) - count_parameters(
        lambda: BertModel(BertConfig(embedding_size=128)))
    assert saved == (30522 + 512 + 2) * (768 - 128) + 2 * (768 - 128) - (128 * 768 + 768)
    with pytest.raises(ValueError, match="embedding_size"):
        BertConfig(embedding_size=0)

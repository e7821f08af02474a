"""RoBERTa as a configuration of minibert's BERT, against transformers' RoBERTa with the same random weights.

Tolerance (docs/architecture.md): 1e-5 in float32, eval mode, with padding. Hidden states are compared at real tokens.
"""
import pytest
import torch
import transformers
from test_bert_parity import TOL

from minibert import BertConfig, BertModel, count_parameters
from minibert.models.roberta import RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification, RobertaModel

CONFIGS = [
    dict(vocab_size=211, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
         max_position_embeddings=98),
    dict(vocab_size=157, hidden_size=48, num_hidden_layers=3, num_attention_heads=3, intermediate_size=64,
         hidden_act="gelu_new", type_vocab_size=2, max_position_embeddings=72, layer_norm_eps=1e-7, pad_token_id=4),
]


def make_batch(config, batch=4, seed=0, left_padding=False):
    """Ids as long as the model allows, padded to several lengths; ``left_padding`` pads at the start instead."""
    g = torch.Generator().manual_seed(seed)
    length = config.max_sequence_length
    ids = torch.randint(0, config.vocab_size, (batch, length), generator=g)
    ids[ids == config.pad_token_id] = config.pad_token_id + 1  # no padding id among the real tokens
    lengths = torch.randint(2, length + 1, (batch,), generator=g)
    lengths[0] = length
    positions = torch.arange(length)[None, :]
    mask = (positions >= length - lengths[:, None]) if left_padding else (positions < lengths[:, None])
    mask = mask.long()
    return ids.masked_fill(mask == 0, config.pad_token_id), mask


@pytest.mark.parametrize("overrides", CONFIGS)
@pytest.mark.parametrize("left_padding", [False, True])
def test_roberta_model_equals_transformers(hf_twin, randomize, overrides, left_padding, tmp_path):
    config = RobertaConfig(**overrides)
    ours = RobertaModel(config).eval()
    randomize(ours, 1)
    theirs = hf_twin(ours, transformers.RobertaModel, tmp_path)
    ids, mask = make_batch(config, left_padding=left_padding)
    real = mask.bool()
    with torch.no_grad():
        a = ours(ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
        b = theirs(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
        fast = ours(ids, attention_mask=mask)  # the fused-attention path
    assert (a.last_hidden_state - b.last_hidden_state)[real].abs().max() < TOL
    assert (fast.last_hidden_state - b.last_hidden_state)[real].abs().max() < TOL
    assert (a.pooler_output - b.pooler_output).abs().max() < TOL
    for x, y in zip(a.hidden_states, b.hidden_states):
        assert (x - y)[real].abs().max() < TOL
    for x, y in zip(a.attentions, b.attentions):
        assert (x - y)[real[:, None, :, None].expand_as(x)].abs().max() < TOL


def test_position_ids_count_real_tokens_past_the_padding_index():
    config = RobertaConfig(**CONFIGS[1])  # pad_token_id = 4
    model = RobertaModel(config)
    ids = torch.tensor([[7, 8, 9, 4, 4], [4, 4, 7, 8, 9], [7, 4, 8, 4, 9]])
    expected = transformers.models.roberta.modeling_roberta.RobertaEmbeddings.create_position_ids_from_input_ids(ids, 4)
    assert torch.equal(model.embeddings.position_ids(ids), expected)
    assert model.embeddings.position_ids(ids)[0].tolist() == [5, 6, 7, 4, 4]
    # BERT keeps 0..T-1 whatever the ids are
    assert BertModel(BertConfig.tiny()).embeddings.position_ids(ids).tolist() == [0, 1, 2, 3, 4]


def test_transformers_checkpoint_loads_into_minibert(randomize, tmp_path):
    hf_config = transformers.RobertaConfig(**CONFIGS[0], type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1)
    torch.manual_seed(2)
    theirs = transformers.RobertaForMaskedLM(hf_config).eval()
    randomize(theirs, 3)
    theirs.save_pretrained(tmp_path)
    head = RobertaForMaskedLM.from_pretrained(tmp_path)
    encoder = head.bert
    assert isinstance(encoder.config, RobertaConfig) and encoder.config.layer_norm_eps == 1e-5
    ids, mask = make_batch(encoder.config, seed=4)
    labels = torch.where(torch.rand(ids.shape, generator=torch.Generator().manual_seed(5)) < 0.15, ids, -100)
    labels[mask == 0] = -100
    labels[0, 0] = ids[0, 0]
    with torch.no_grad():
        b = theirs(input_ids=ids, attention_mask=mask, labels=labels, output_hidden_states=True)
        a = head(ids, attention_mask=mask, labels=labels, return_logits=True)
        hidden = encoder(ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    assert (hidden - b.hidden_states[-1])[real].abs().max() < TOL
    assert (a.logits - b.logits)[real].abs().max() < TOL * 10  # logits sum H products of size ~1
    assert abs(a.loss.item() - b.loss.item()) < TOL


def test_masked_lm_and_classifier_save_for_transformers(hf_twin, randomize, tmp_path):
    config = RobertaConfig(**CONFIGS[1])
    ids, mask = make_batch(config, seed=6)
    for ours_class, hf_class in ((RobertaForMaskedLM, transformers.RobertaForMaskedLM),
                                 (RobertaForSequenceClassification, transformers.RobertaForSequenceClassification)):
        ours = ours_class(config).eval()
        randomize(ours, 7)
        theirs = hf_twin(ours, hf_class, tmp_path / ours_class.__name__)
        with torch.no_grad():
            a, b = ours(ids, attention_mask=mask).logits, theirs(input_ids=ids, attention_mask=mask).logits
        a, b = (a[mask.bool()], b[mask.bool()]) if a.dim() == 3 else (a, b)
        assert (a - b).abs().max() < TOL * 10, ours_class.__name__
        reloaded = ours_class.from_pretrained(tmp_path / ours_class.__name__)
        with torch.no_grad():
            assert torch.equal(reloaded(ids, attention_mask=mask).logits, ours(ids, attention_mask=mask).logits)


def test_config_reads_and_writes_transformers_names(tmp_path):
    hf = transformers.RobertaConfig(vocab_size=321, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                    intermediate_size=100, max_position_embeddings=66, type_vocab_size=1,
                                    layer_norm_eps=1e-5, pad_token_id=1)
    ours = RobertaConfig.from_dict(hf.to_dict())
    assert (ours.vocab_size, ours.max_position_embeddings, ours.max_sequence_length, ours.pad_token_id) == (321, 66, 64, 1)
    written = ours.to_hf_dict("RobertaModel")
    assert written["model_type"] == "roberta"
    assert transformers.RobertaConfig(**written).layer_norm_eps == 1e-5
    assert BertConfig().to_hf_dict()["model_type"] == "bert"


def test_roberta_base_parameter_count_equals_transformers():
    config = RobertaConfig()
    ours = count_parameters(lambda: RobertaModel(config))
    with torch.device("meta"):
        theirs = sum(p.numel() for p in transformers.RobertaModel(transformers.RobertaConfig(**config.to_dict()))
                     .parameters())
    assert ours == theirs == 124_645_632


def test_bad_input_is_explained():
    config = RobertaConfig(**CONFIGS[0])  # 98 rows, pad 1: 96 usable positions
    model = RobertaModel(config).eval()
    assert config.max_sequence_length == 96
    model(torch.full((1, 96), 5))
    with pytest.raises(ValueError, match="limit of 96 tokens"):
        model(torch.full((1, 97), 5))
    with pytest.raises(ValueError, match="max_position_embeddings .* must exceed pad_token_id"):
        RobertaConfig(max_position_embeddings=2, pad_token_id=1)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(torch.full((1, 4), config.vocab_size))

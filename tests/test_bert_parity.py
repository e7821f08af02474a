"""minibert's BERT against transformers' with the same random weights, loaded both ways.

Tolerance (docs/architecture.md): 1e-5 max abs difference in float32, eval mode, with padding and token types. Padded
positions carry no meaning, so hidden states are compared at real tokens.
"""
import pytest
import torch
import transformers

from minibert import BertConfig, BertForMaskedLM, BertForPreTraining, BertForSequenceClassification, BertModel

TOL = 1e-5

CONFIGS = [
    dict(vocab_size=211, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
         max_position_embeddings=96),
    dict(vocab_size=157, hidden_size=48, num_hidden_layers=3, num_attention_heads=3, intermediate_size=64,
         hidden_act="gelu_new", type_vocab_size=3, max_position_embeddings=160, layer_norm_eps=1e-7),
    dict(vocab_size=300, hidden_size=24, num_hidden_layers=1, num_attention_heads=1, intermediate_size=50,
         hidden_act="relu", max_position_embeddings=64, pad_token_id=5),
]


@pytest.mark.parametrize("overrides", CONFIGS)
def test_bert_model_equals_transformers(hf_twin, make_batch, randomize, overrides, tmp_path):
    config = BertConfig(**overrides)
    torch.manual_seed(0)
    ours = BertModel(config).eval()
    randomize(ours, 1)
    theirs = hf_twin(ours, transformers.BertModel, tmp_path)
    ids, types, mask = make_batch(config)
    real = mask.bool()
    with torch.no_grad():
        a = ours(ids, types, mask, output_attentions=True, output_hidden_states=True)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, output_attentions=True,
                   output_hidden_states=True)
        fast = ours(ids, types, mask)  # SDPA path
    assert (a.last_hidden_state - b.last_hidden_state)[real].abs().max() < TOL
    assert (fast.last_hidden_state - b.last_hidden_state)[real].abs().max() < TOL
    assert (a.pooler_output - b.pooler_output).abs().max() < TOL
    assert len(a.attentions) == config.num_hidden_layers
    for x, y in zip(a.attentions, b.attentions):
        assert x.shape == (4, config.num_attention_heads, ids.shape[1], ids.shape[1])
        assert (x - y)[real[:, None, :, None].expand_as(x)].abs().max() < TOL
    for x, y in zip(a.hidden_states, b.hidden_states):
        assert (x - y)[real].abs().max() < TOL


def test_default_token_types_and_mask_match(hf_twin, make_batch, randomize, tmp_path):
    config = BertConfig(**CONFIGS[0])
    ours = BertModel(config).eval()
    randomize(ours, 5)
    theirs = hf_twin(ours, transformers.BertModel, tmp_path, attn="sdpa")
    ids = make_batch(config)[0]
    with torch.no_grad():
        assert (ours(ids).last_hidden_state - theirs(input_ids=ids).last_hidden_state).abs().max() < TOL


def test_masked_lm_head_logits_and_loss(hf_twin, make_batch, randomize, tmp_path):
    config = BertConfig(**CONFIGS[1])
    ours = BertForMaskedLM(config).eval()
    randomize(ours, 6)
    theirs = hf_twin(ours, transformers.BertForMaskedLM, tmp_path)
    ids, types, mask = make_batch(config, seed=7)
    labels = torch.full_like(ids, -100)
    chosen = (torch.rand(ids.shape, generator=torch.Generator().manual_seed(8)) < 0.15) & mask.bool()
    labels[chosen] = ids[chosen]
    with torch.no_grad():
        a = ours(ids, types, mask, labels=labels, return_logits=True)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
        sparse = ours(ids, types, mask, positions=chosen)
        no_labels = ours(ids, types, mask)
    real = mask.bool()
    assert (a.logits - b.logits)[real].abs().max() < TOL * 10  # logits are sums over H terms of size ~1
    assert abs(a.loss.item() - b.loss.item()) < TOL
    assert (sparse.logits - b.logits[chosen]).abs().max() < TOL * 10
    assert no_labels.loss is None and no_labels.logits.shape == (*ids.shape, config.vocab_size)
    # the decoder is the embedding matrix itself, not a copy
    assert "mlm.decoder.weight" not in dict(ours.named_parameters())


def test_pretraining_heads(hf_twin, make_batch, randomize, tmp_path):
    config = BertConfig(**CONFIGS[0])
    ours = BertForPreTraining(config).eval()
    randomize(ours, 9)
    theirs = hf_twin(ours, transformers.BertForPreTraining, tmp_path)
    ids, types, mask = make_batch(config, seed=10)
    labels = torch.where(torch.rand(ids.shape) < 0.2, ids, torch.full_like(ids, -100))
    labels[0, 1] = ids[0, 1]
    nsp = torch.tensor([0, 1, 1, 0])
    with torch.no_grad():
        a = ours(ids, types, mask, labels=labels, next_sentence_label=nsp, return_logits=True)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels, next_sentence_label=nsp)
    assert (a.nsp_logits - b.seq_relationship_logits).abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL
    assert (a.logits - b.prediction_logits)[mask.bool()].abs().max() < TOL * 10


@pytest.mark.parametrize("num_labels", [3, 1])
def test_sequence_classification(hf_twin, make_batch, randomize, num_labels, tmp_path):
    config = BertConfig(**CONFIGS[1])
    ours = BertForSequenceClassification(config, num_labels=num_labels).eval()
    randomize(ours, 11)
    theirs = hf_twin(ours, transformers.BertForSequenceClassification, tmp_path)
    ids, types, mask = make_batch(config, seed=12)
    labels = torch.tensor([0, 2, 1, 1]) if num_labels == 3 else torch.tensor([0.5, -1.0, 2.0, 0.0])
    with torch.no_grad():
        a = ours(ids, types, mask, labels=labels)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
    assert (a.logits - b.logits).abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL
    again = BertForSequenceClassification.from_pretrained(tmp_path)
    assert again.num_labels == num_labels


def test_training_mode_gradients_match(hf_twin, make_batch, randomize, tmp_path):
    """Same weights, same labels, no dropout: the gradients of the MLM loss agree parameter by parameter."""
    config = BertConfig(**CONFIGS[0], hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    ours = BertForMaskedLM(config)
    randomize(ours, 13)
    theirs = hf_twin(ours, transformers.BertForMaskedLM, tmp_path)
    ours.train(); theirs.train()
    ids, types, mask = make_batch(config, seed=14)
    labels = torch.where(mask.bool() & (torch.rand(ids.shape) < 0.3), ids, torch.full_like(ids, -100))
    ours(ids, types, mask, labels=labels).loss.backward()
    theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels).loss.backward()
    a = ours.bert.encoder.layers[0].attention.query.weight.grad
    b = theirs.bert.encoder.layer[0].attention.self.query.weight.grad
    assert (a - b).abs().max() < 1e-5
    a = ours.bert.embeddings.token.weight.grad
    b = theirs.bert.embeddings.word_embeddings.weight.grad
    assert (a - b).abs().max() < 1e-5

"""T5 (chapter 14) against transformers' T5Model / T5ForConditionalGeneration, v1.0 (ReLU, tied head) and v1.1
(GeGLU, untied head): the same random weights loaded both ways give the same encoder output, decoder output, logits,
loss and greedy tokens on padded batches (docs/architecture.md: 1e-5 in float32)."""
from __future__ import annotations

import pytest
import torch
import transformers

from minibert.core.checkpoints import CheckpointError
from minibert.models.t5 import T5Config, T5ForConditionalGeneration, T5Model
from minibert.models.t5.model import shift_right

TOL = 1e-5
VARIANTS = {"v1.0": dict(feed_forward_proj="relu", tie_word_embeddings=True),
            "v1.1": dict(feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0)}
SIZES = dict(vocab_size=60, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=2, num_heads=4,
             relative_attention_num_buckets=8, relative_attention_max_distance=16)


def config(variant: str, **changes) -> T5Config:
    return T5Config(**{**SIZES, **VARIANTS[variant], **changes})


def batch(seed: int = 0):
    """Encoder ids with padding (rows of 11, 6 and 3 real tokens), a target with -100 past each row's end and
    the matching decoder mask."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, SIZES["vocab_size"], (3, 11), generator=g)
    mask = (torch.arange(11)[None] < torch.tensor([11, 6, 3])[:, None]).long()
    labels = torch.randint(2, SIZES["vocab_size"], (3, 7), generator=g)
    decoder_mask = (torch.arange(7)[None] < torch.tensor([7, 4, 2])[:, None]).long()
    return ids.masked_fill(mask == 0, 0), mask, labels.masked_fill(decoder_mask == 0, -100), decoder_mask


def random_model(variant: str, randomize, cls=T5ForConditionalGeneration, seed: int = 1):
    torch.manual_seed(0)
    return randomize(cls(config(variant)), seed, scale=0.2, norms_near_one=True).eval()


def both(a, b, name, real=None):
    difference = (a - b) if real is None else (a - b)[real]
    assert difference.abs().max() < TOL, f"{name}: max |difference| {difference.abs().max():.2e}"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_ours_saved_loads_in_transformers_with_the_same_outputs(variant, randomize, tmp_path):
    ours = random_model(variant, randomize)
    ours.save_pretrained(tmp_path)
    theirs, info = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    theirs.eval()
    ids, mask, labels, decoder_mask = batch()
    with torch.no_grad():
        a = ours(ids, mask, labels=labels, decoder_attention_mask=decoder_mask)
        b = theirs(input_ids=ids, attention_mask=mask, labels=labels, decoder_attention_mask=decoder_mask)
    both(a.encoder_last_hidden_state, b.encoder_last_hidden_state, "encoder output", mask.bool())
    both(a.logits, b.logits, "logits", decoder_mask.bool())
    both(a.loss, b.loss, "loss")
    base, base_theirs = T5Model.from_pretrained(tmp_path), transformers.T5Model.from_pretrained(tmp_path).eval()
    decoder_ids = shift_right(labels, 0, 0)
    with torch.no_grad():
        x = base(ids, mask, decoder_input_ids=decoder_ids, decoder_attention_mask=decoder_mask).last_hidden_state
        y = base_theirs(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids,
                        decoder_attention_mask=decoder_mask).last_hidden_state
    both(x, y, "decoder output", decoder_mask.bool())


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_transformers_checkpoint_loads_into_ours(variant, randomize, tmp_path):
    hf_config = transformers.T5Config(**{**SIZES, **VARIANTS[variant]}, decoder_start_token_id=0)
    torch.manual_seed(0)
    theirs = transformers.T5ForConditionalGeneration(hf_config)
    if not VARIANTS[variant]["tie_word_embeddings"]:  # transformers 5 ties in memory; v1.1 checkpoints are untied
        theirs.lm_head.weight = torch.nn.Parameter(torch.empty_like(theirs.lm_head.weight))
    randomize(theirs, 2, scale=0.2, norms_near_one=True).eval()
    theirs.save_pretrained(tmp_path)
    ours = T5ForConditionalGeneration.from_pretrained(tmp_path)
    assert not ours.training and ours.config.tie_word_embeddings == VARIANTS[variant]["tie_word_embeddings"]
    ids, mask, labels, decoder_mask = batch(1)
    with torch.no_grad():
        a = ours(ids, mask, labels=labels, decoder_attention_mask=decoder_mask)
        b = theirs(input_ids=ids, attention_mask=mask, labels=labels, decoder_attention_mask=decoder_mask)
    both(a.logits, b.logits, "logits", decoder_mask.bool())
    both(a.loss, b.loss, "loss")
    ours.save_pretrained(tmp_path / "again")
    again = T5ForConditionalGeneration.from_pretrained(tmp_path / "again")
    for (name, x), (_, y) in zip(ours.state_dict().items(), again.state_dict().items()):
        assert torch.equal(x, y), name


def test_a_transformers_v1_1_saved_with_its_head_tied_in_memory_loads_untied(randomize, tmp_path):
    # transformers 5 ties every T5 head in memory and saves no lm_head; scale_decoder_outputs=False says "v1.1"
    theirs = transformers.T5ForConditionalGeneration(transformers.T5Config(**SIZES, **VARIANTS["v1.1"]))
    randomize(theirs, 4, scale=0.2, norms_near_one=True).eval().save_pretrained(tmp_path)
    ours = T5ForConditionalGeneration.from_pretrained(tmp_path)
    assert not ours.config.tie_word_embeddings and torch.equal(ours.lm_head.weight, ours.shared.weight)
    ids, mask, labels, decoder_mask = batch(3)
    with torch.no_grad():
        a = ours(ids, mask, labels=labels, decoder_attention_mask=decoder_mask)
        b = theirs(input_ids=ids, attention_mask=mask, decoder_input_ids=shift_right(labels, 0, 0),
                   decoder_attention_mask=decoder_mask)
    both(a.logits, b.logits, "logits", decoder_mask.bool())


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_greedy_generation_writes_the_same_tokens_as_transformers(variant, randomize, tmp_path):
    ours = random_model(variant, randomize, seed=3)
    ours.save_pretrained(tmp_path)
    theirs = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path).eval()
    ids, mask, _, _ = batch(2)
    ours_tokens = ours.generate(ids, mask, max_new_tokens=8)
    their_tokens = theirs.generate(input_ids=ids, attention_mask=mask, do_sample=False, num_beams=1,
                                   max_new_tokens=8)
    assert ours_tokens.tolist() == their_tokens.tolist()


def test_a_batch_computes_each_sequence_as_if_alone(randomize):
    ours = random_model("v1.1", randomize)
    ids, mask, labels, decoder_mask = batch()
    with torch.no_grad():
        together = ours(ids, mask, labels=labels, decoder_attention_mask=decoder_mask).logits
        for row in range(3):
            n, m = int(mask[row].sum()), int(decoder_mask[row].sum())
            alone = ours(ids[row:row + 1, :n], labels=labels[row:row + 1, :m]).logits
            both(together[row, :m], alone[0], f"row {row}")


def test_the_eos_stops_a_row_and_padding_follows(randomize):
    ours = random_model("v1.0", randomize)
    ids, mask, _, _ = batch()
    tokens = ours.generate(ids, mask, max_new_tokens=6)
    assert tokens[:, 0].eq(ours.config.decoder_start_token_id).all() and tokens.shape[1] <= 7
    for row in tokens.tolist():
        if ours.config.eos_token_id in row[1:]:
            end = row.index(ours.config.eos_token_id, 1)
            assert all(t == ours.config.pad_token_id for t in row[end + 1:])


def test_a_fully_masked_row_gives_no_nan(randomize):
    ours = random_model("v1.0", randomize)
    ids, mask, labels, decoder_mask = batch()
    mask[2] = 0
    decoder_mask[2] = 0
    with torch.no_grad():
        out = ours(ids, mask, labels=labels, decoder_attention_mask=decoder_mask)
    assert torch.isfinite(out.logits).all() and torch.isfinite(out.encoder_last_hidden_state).all()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_gradients_reach_every_parameter(variant):
    torch.manual_seed(0)
    ours = T5ForConditionalGeneration(config(variant))
    ids, mask, labels, decoder_mask = batch()
    ours(ids, mask, labels=labels, decoder_attention_mask=decoder_mask).loss.backward()
    silent = [n for n, p in ours.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, silent


def test_bfloat16_runs():
    torch.manual_seed(0)
    ours = T5ForConditionalGeneration(config("v1.1")).to(torch.bfloat16).eval()
    ids, mask, labels, decoder_mask = batch()
    with torch.no_grad():
        out = ours(ids, mask, labels=labels, decoder_attention_mask=decoder_mask)
    assert out.logits.dtype == torch.bfloat16 and torch.isfinite(out.logits).all() and torch.isfinite(out.loss)
    assert ours.generate(ids, mask, max_new_tokens=3).shape[0] == 3


def test_the_shared_position_bias_lives_in_the_stack_and_v1_0_ties_the_head():
    v10, v11 = T5ForConditionalGeneration(config("v1.0")), T5ForConditionalGeneration(config("v1.1"))
    names = [n for n, _ in v10.named_parameters() if "relative_attention_bias" in n]
    assert names == ["encoder.relative_bias.relative_attention_bias.weight",
                     "decoder.relative_bias.relative_attention_bias.weight"]
    assert not hasattr(v10, "lm_head") and v11.lm_head.weight.shape == (SIZES["vocab_size"], SIZES["d_model"])
    assert not any(n.endswith(".bias") for n, _ in v11.named_parameters()), "T5 has no biases"
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(v11) - count(T5Model(config("v1.1"))) == SIZES["vocab_size"] * SIZES["d_model"]


def test_config_reads_and_writes_transformers_names():
    ours = config("v1.1")
    hf = transformers.T5Config(**{k: v for k, v in ours.to_hf_dict("T5ForConditionalGeneration").items()
                                  if k not in ("architectures", "model_type")})
    assert hf.is_gated_act and hf.dense_act_fn == "gelu_new" and hf.d_kv == ours.d_kv
    back = T5Config.from_dict(hf.to_dict())
    assert back.feed_forward_proj == "gated-gelu" and not back.tie_word_embeddings and back.num_decoder_layers == 2
    assert T5Config(num_layers=3).num_decoder_layers == 3


def test_bad_inputs_get_clear_errors(tmp_path):
    ours = T5ForConditionalGeneration(config("v1.0")).eval()
    ids, mask, labels, _ = batch()
    with pytest.raises(ValueError, match="labels .* or decoder_input_ids"):
        ours(ids, mask)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        ours(ids + 100, mask, labels=labels)
    with pytest.raises(ValueError, match="attention_mask has shape"):
        ours(ids, mask[:, :4], labels=labels)
    with pytest.raises(ValueError, match="only 0 and 1"):
        ours(ids, mask * 2, labels=labels)
    with pytest.raises(TypeError, match="labels must be an integer"):
        ours(ids, mask, labels=labels.float())
    with pytest.raises(ValueError, match="decoder_input_ids"):
        T5Model(config("v1.0"))(ids, mask)
    with pytest.raises(ValueError, match="feed_forward_proj"):
        config("v1.0", feed_forward_proj="swish")
    with pytest.raises(TypeError, match="built from its own config"):
        T5Model(transformers.T5Config())
    with pytest.raises(ValueError, match="max_new_tokens"):
        ours.generate(ids, mask, max_new_tokens=0)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointError):
        T5Model.from_pretrained(tmp_path)

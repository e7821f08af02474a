"""ModernBERT against transformers.ModernBertModel (eager attention) with the same random weights: 1e-5 in float32,
eval mode, right and left padding, sequences longer than the local window; checkpoints both ways; each sequence alone
= in a batch; unpadded = padded; a fully masked row; gradients; bfloat16; clear errors on bad input."""
from __future__ import annotations

import json

import pytest
import torch
import transformers

from minibert import count_parameters
from minibert.core.checkpoints import CheckpointError
from minibert.models.modernbert.config import ModernBertConfig
from minibert.models.modernbert.local_attention import layer_masks, receptive_field, sliding_window_mask
from minibert.models.modernbert.model import ModernBertForMaskedLM, ModernBertModel
from minibert.models.modernbert.unpadding import pad, segment_positions, unpad

pytestmark = pytest.mark.usefixtures("one_thread")
TOL = 1e-5
# 4 layers, global at 0 and 3, an 8-token window (4 each side): every test sequence is longer than the window
SIZES = dict(vocab_size=97, hidden_size=32, num_hidden_layers=4, num_attention_heads=4, intermediate_size=40,
             max_position_embeddings=64, local_attention=8, global_attn_every_n_layers=3, pad_token_id=0,
             global_rope_theta=500.0, local_rope_theta=100.0)
VARIANTS = {
    "base": {},
    "biases+pattern": dict(attention_bias=True, mlp_bias=True, norm_bias=True, hidden_activation="gelu_new",
                           layer_types=["sliding_attention", "full_attention"] + ["sliding_attention"] * 2,
                           local_attention=6),
}
LENGTH = 30


def make_batch(config=None, batch=4, length=LENGTH, seed=0, side="right"):
    """Row 0 full, rows 1-3 padded (on ``side``) to 20, 5 and 13 real tokens."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, SIZES["vocab_size"], (batch, length), generator=g)
    lengths = torch.tensor([length, 20, 5, 13, 9, 17][:batch])
    positions = torch.arange(length)[None, :]
    real = positions < lengths[:, None] if side == "right" else positions >= length - lengths[:, None]
    mask = real.long()
    return ids.masked_fill(mask == 0, SIZES["pad_token_id"]), mask


def pair(variant, randomize, hf_twin, folder, model_class=ModernBertModel, hf_class=transformers.ModernBertModel):
    config = ModernBertConfig(**{**SIZES, **VARIANTS[variant]})
    ours = randomize(model_class(config).eval(), 1, norms_near_one=True)
    return ours, hf_twin(ours, hf_class, folder)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_modernbert_equals_transformers(variant, side, randomize, hf_twin, tmp_path):
    ours, theirs = pair(variant, randomize, hf_twin, tmp_path)
    assert LENGTH > ours.config.local_attention
    ids, mask = make_batch(side=side)
    real = mask.bool()
    with torch.no_grad():
        a = ours(ids, mask, output_attentions=True, output_hidden_states=True)
        b = theirs(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
    assert (a.last_hidden_state - b.last_hidden_state)[real].abs().max() < TOL
    # transformers records each layer's output before the final norm; ours ends with the normed one
    assert len(a.hidden_states) == len(b.hidden_states) == 5
    for x, y in zip(a.hidden_states[:-1], b.hidden_states[:-1], strict=True):
        assert (x - y)[real].abs().max() < TOL * 10 * (1 + y[real].abs().max())
    for x, y in zip(a.attentions, b.attentions, strict=True):
        assert (x - y)[real[:, None, :, None].expand_as(x)].abs().max() < TOL
    assert (a.last_hidden_state[0, :-1] - a.last_hidden_state[0, 1:]).abs().amax(-1).min() > 1e-3  # not trivial


def test_local_layers_see_only_their_window(randomize):
    """All-local model: a token changed outside a query's reach leaves it unchanged; one global layer reaches it."""
    kinds = ["sliding_attention"] * 2
    config = ModernBertConfig(**{**SIZES, "num_hidden_layers": 2, "layer_types": kinds})
    model = randomize(ModernBertModel(config).eval(), 2, norms_near_one=True)
    ids, _ = make_batch(batch=1)
    changed = ids.clone()
    changed[0, 20] = (ids[0, 20] % 90) + 2
    field = receptive_field(kinds, LENGTH, config.local_attention, query=5)[-1]
    assert field.nonzero().flatten().tolist() == list(range(0, 14))  # 2 layers x 4 tokens each side
    with torch.no_grad():
        before, after = model(ids).last_hidden_state, model(changed).last_hidden_state
    assert (before - after)[0, 5].abs().max() == 0
    assert (before - after)[0, 20].abs().max() > 1e-3
    global_model = randomize(ModernBertModel(config.replace(layer_types=["full_attention"] * 2)).eval(), 2,
                             norms_near_one=True)
    with torch.no_grad():
        assert (global_model(ids).last_hidden_state - global_model(changed).last_hidden_state)[0, 5].abs().max() > 1e-4


@pytest.mark.parametrize("side", ["right", "left"])
def test_each_sequence_alone_equals_the_batch(side, randomize):
    model = randomize(ModernBertModel(ModernBertConfig(**SIZES)).eval(), 3, norms_near_one=True)
    ids, mask = make_batch(side=side)
    with torch.no_grad():
        batched = model(ids, mask).last_hidden_state
        for row in range(len(ids)):
            real = mask[row].bool()
            alone = model(ids[row][real][None]).last_hidden_state[0]
            assert (alone - batched[row][real]).abs().max() < TOL


@pytest.mark.parametrize("side", ["right", "left"])
def test_unpadded_path_equals_padded_path(side, randomize):
    model = randomize(ModernBertModel(ModernBertConfig(**SIZES)).eval(), 4, norms_near_one=True)
    ids, mask = make_batch(side=side)
    real = mask.bool()
    with torch.no_grad():
        padded = model(ids, mask, output_hidden_states=True)
        unpadded = model(ids, mask, output_hidden_states=True, unpad=True)
    for x, y in zip(padded.hidden_states, unpadded.hidden_states, strict=True):
        assert (x - y)[real].abs().max() < TOL
        assert not y[~real].any()  # pad() leaves zeros at the padding


def test_unpad_and_pad_are_inverse():
    hidden = torch.randn(3, 7, 5)
    mask = torch.tensor([[1] * 7, [1] * 5 + [0] * 2, [0] * 7])
    packed, indices, cu_seqlens, longest = unpad(hidden, mask)
    assert cu_seqlens.tolist() == [0, 7, 12, 12] and longest == 7 and packed.shape == (12, 5)
    assert segment_positions(cu_seqlens).tolist() == list(range(7)) + list(range(5))
    back = pad(packed, indices, 3, 7)
    assert torch.equal(back[mask.bool()], hidden[mask.bool()]) and not back[~mask.bool()].any()


def test_transformers_checkpoint_loads_into_minibert_masked_lm(randomize, tmp_path):
    config = transformers.ModernBertConfig(**SIZES)
    torch.manual_seed(5)
    theirs = randomize(transformers.ModernBertForMaskedLM(config).eval(), 6, norms_near_one=True)
    theirs.save_pretrained(tmp_path)
    ours = ModernBertForMaskedLM.from_pretrained(tmp_path)
    assert ours.config.attention_types == config.layer_types
    assert (ours.config.global_rope_theta, ours.config.local_rope_theta) == (500.0, 100.0)
    ids, mask = make_batch(seed=7)
    labels = torch.where(mask.bool() & (ids % 4 == 0), ids, torch.full_like(ids, -100))
    with torch.no_grad():
        a, b = ours(ids, mask, labels=labels), theirs(input_ids=ids, attention_mask=mask, labels=labels)
        assert (a.logits - b.logits)[mask.bool()].abs().max() < 10 * TOL
        assert abs(a.loss.item() - b.loss.item()) < TOL
        encoder = ModernBertModel.from_pretrained(tmp_path)  # the bare encoder reads the MLM folder
        assert (encoder(ids, mask).last_hidden_state - theirs.model(input_ids=ids, attention_mask=mask)
                .last_hidden_state)[mask.bool()].abs().max() < TOL
    ours.save_pretrained(tmp_path / "again")
    back, info = transformers.ModernBertForMaskedLM.from_pretrained(tmp_path / "again", output_loading_info=True,
                                                                    attn_implementation="eager")
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    with torch.no_grad():
        assert (back.eval()(input_ids=ids, attention_mask=mask).logits - b.logits)[mask.bool()].abs().max() < 10 * TOL


def test_fully_masked_row_gives_no_nan():
    model = ModernBertModel(ModernBertConfig(**SIZES)).eval()
    ids, mask = make_batch()
    mask[1] = 0
    with torch.no_grad():
        for unpadded in (False, True):
            out = model(ids, mask, unpad=unpadded).last_hidden_state
            assert torch.isfinite(out).all()


def test_gradients_reach_every_parameter():
    model = ModernBertForMaskedLM(ModernBertConfig(**{**SIZES, **VARIANTS["biases+pattern"]}))
    ids, mask = make_batch()
    labels = torch.where(mask.bool(), ids, torch.full_like(ids, -100))
    model(ids, mask, labels=labels).loss.backward()
    silent = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent


def test_bfloat16_runs():
    model = ModernBertModel(ModernBertConfig(**SIZES)).to(torch.bfloat16).eval()
    ids, mask = make_batch()
    with torch.no_grad():
        for unpadded in (False, True):
            out = model(ids, mask, unpad=unpadded).last_hidden_state
            assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()


def test_parameter_count_equals_transformers_for_the_published_sizes():
    for ours_config, hf_config in ((ModernBertConfig.base(), transformers.ModernBertConfig()),
                                   (ModernBertConfig.large(), transformers.ModernBertConfig(
                                       hidden_size=1024, num_hidden_layers=28, num_attention_heads=16,
                                       intermediate_size=2624))):
        ours = count_parameters(lambda: ModernBertForMaskedLM(ours_config))
        with torch.device("meta"):
            theirs = sum(p.numel() for p in transformers.ModernBertForMaskedLM(hf_config).parameters())
        assert ours == theirs
    assert count_parameters(lambda: ModernBertModel(ModernBertConfig.base())) == 149_014_272


def test_config_reads_both_forms_of_config_json():
    legacy = {"model_type": "modernbert", "global_attn_every_n_layers": 2, "global_rope_theta": 1e5,
              "local_rope_theta": 1e4, "num_hidden_layers": 4, "reference_compile": True}
    config = ModernBertConfig.from_dict(legacy)
    assert config.attention_types == ["full_attention", "sliding_attention"] * 2
    written = config.to_hf_dict()
    assert written["rope_parameters"]["full_attention"]["rope_theta"] == 1e5
    again = ModernBertConfig.from_dict(json.loads(json.dumps(written)))
    assert again.attention_types == config.attention_types and again.global_rope_theta == 1e5
    hf = transformers.ModernBertConfig(**{k: v for k, v in written.items() if k not in ("architectures",)})
    assert hf.layer_types == config.attention_types and hf.sliding_window == config.sliding_window


def test_receptive_field_equals_the_product_of_the_masks():
    kinds = ["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"]
    local = sliding_window_mask(30, 6).float()
    reach = torch.eye(30)
    for layer, kind in enumerate(kinds):
        reach = torch.ones(30, 30) if kind == "full_attention" else ((local @ reach) > 0).float()
        for query in (0, 7, 29):
            assert torch.equal(receptive_field(kinds, 30, 6, query)[layer], reach[query].bool())


def test_sliding_window_mask_and_layer_masks():
    mask = sliding_window_mask(6, 4)
    assert mask.sum(1).tolist() == [3, 4, 5, 5, 4, 3] and torch.equal(mask, mask.T)
    real = torch.tensor([[True] * 5 + [False]])
    masks = layer_masks(real, 4, torch.float32)
    assert masks["full_attention"].shape == (1, 1, 1, 6) and masks["sliding_attention"].shape == (1, 1, 6, 6)
    assert layer_masks(torch.ones(1, 6, dtype=torch.bool), 4, torch.float32)["full_attention"] is None


@pytest.mark.parametrize("make, error, pattern", [
    (lambda m: m(torch.tensor([[1, 200]])), ValueError, "outside the vocabulary"),
    (lambda m: m(torch.tensor([1, 2])), ValueError, "unsqueeze"),
    (lambda m: m(torch.tensor([[1.0, 2.0]])), TypeError, "integers"),
    (lambda m: m(torch.ones(1, 3, dtype=torch.long), torch.ones(1, 3, 3)), ValueError, r"\(batch, T\)"),
    (lambda m: m(torch.ones(1, 3, dtype=torch.long), torch.tensor([[1, 0.5, 1]])), ValueError, "only 0 and 1"),
    (lambda m: m(torch.ones(1, 3, dtype=torch.long), unpad=True, output_attentions=True), ValueError, "unpad"),
    (lambda m: m(torch.ones(1, 65, dtype=torch.long)), ValueError, "exceeds"),
    (lambda m: ModernBertConfig(**{**SIZES, "hidden_size": 30, "num_attention_heads": 6}), ValueError, "even"),
    (lambda m: ModernBertConfig(**{**SIZES, "layer_types": ["full_attention"]}), ValueError, "one of"),
    (lambda m: ModernBertConfig(**{**SIZES, "local_attention": -2}), ValueError, "local_attention"),
    (lambda m: ModernBertConfig(**{**SIZES, "norm_bias": 1}), TypeError, "True or False"),
    (lambda m: ModernBertConfig.from_dict({"rope_parameters": {"full_attention": {"rope_type": "yarn"}}}),
     ValueError, "default"),
    (lambda m: sliding_window_mask(4, 2.5), TypeError, "integer"),
])
def test_bad_input_gets_a_clear_error(make, error, pattern):
    model = ModernBertModel(ModernBertConfig(**SIZES)).eval()
    with pytest.raises(error, match=pattern):
        make(model)


def test_a_bert_checkpoint_is_refused_by_name(tmp_path):
    from minibert import BertConfig, BertModel

    BertModel(BertConfig.tiny()).save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="'bert' checkpoint"):
        ModernBertModel.from_pretrained(tmp_path)


# -- the chapter's widget: it draws what local_attention computes -----------------------------------------------------
def test_local_global_view_and_widget():
    import matplotlib

    matplotlib.use("Agg")
    from minibert.widgets import local_global_explorer, local_global_view, modernbert_pattern

    kinds = modernbert_pattern(6)
    assert kinds == ["full_attention", "sliding_attention", "sliding_attention"] * 2
    view = local_global_view(kinds, 64, 8, layer=1, query=30)
    assert view["keys_seen"] == 9 and torch.equal(view["mask"], sliding_window_mask(64, 8))
    assert view["reached"] == [64] * 6  # layer 0 is global: everything has reached token 30 from the start
    local_only = local_global_view(["sliding_attention"] * 3, 64, 8, layer=0, query=30)
    assert local_only["reached"] == [9, 17, 25]
    panel = local_global_explorer(kinds, length=64, window=8, layer=1, query=30)
    figure = panel.update(layer=0)
    assert panel.view["keys_seen"] == 64 and "global" in figure.axes[0].get_title()
    with pytest.raises(ValueError, match="unknown controls"):
        panel.update(head=1)
    with pytest.raises(ValueError, match="query"):
        local_global_view(kinds, 10, 4, layer=0, query=10)

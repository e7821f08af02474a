"""DeBERTa-v2 against transformers with the same random weights (1e-5, float32, eval, padding), checkpoints both
ways, disentangled attention against the NumPy reference, the p2c index convention, the enhanced mask decoder."""
import functools
import numpy as np
import pytest
import torch
import transformers
from hypothesis import given, settings, strategies as st

from minibert import count_parameters
from minibert.core.attention import causal_mask
from minibert.core.checkpoints import CheckpointError
from minibert.models.deberta.disentangled_attention import DisentangledSelfAttention
from minibert.models.deberta.model import DebertaV2Config, DebertaV2ForMaskedLM, DebertaV2Model, enhanced_mask_decoder
from minibert.reference import positions as ref


@pytest.fixture(scope="module")
def randomize(randomize):
    """This module's random weights: N(0, 0.3^2)."""
    return functools.partial(randomize, scale=0.3)


TOL = 1e-5
SIZES = dict(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=40,
             max_position_embeddings=80)
VARIANTS = {
    # deberta-v3: log buckets, shared keys, layer-normed relative table, no absolute input positions; + v2's conv
    "v3+conv": dict(relative_attention=True, position_buckets=8, max_relative_positions=40, share_att_key=True,
                    norm_rel_ebd="layer_norm", pos_att_type="p2c|c2p", position_biased_input=False,
                    conv_kernel_size=3),
    # deberta v1 style: clipped distances, separate position projections, segments, a narrower embedding
    "v1-style": dict(relative_attention=True, max_relative_positions=16, pos_att_type=["c2p", "p2c"],
                     type_vocab_size=2, embedding_size=24, hidden_act="gelu_new"),
    "p2c only": dict(relative_attention=True, max_relative_positions=6, pos_att_type=["p2c"]),
    "c2p only": dict(relative_attention=True, position_buckets=4, max_relative_positions=20, pos_att_type=["c2p"],
                     share_att_key=True),
    "absolute": dict(relative_attention=False),
}


def make_batch(config, batch=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    length = config.max_position_embeddings
    ids = torch.randint(1, config.vocab_size, (batch, length), generator=g)
    mask = torch.ones_like(ids)
    mask[1, length // 2:] = 0
    mask[2, 3:] = 0
    ids = ids.masked_fill(mask == 0, config.pad_token_id)
    types = (torch.randint(0, max(config.type_vocab_size, 1), ids.shape, generator=g) * mask
             if config.type_vocab_size else None)
    return ids, types, mask


@pytest.mark.parametrize("variant", VARIANTS)
def test_deberta_v2_model_equals_transformers(hf_twin, randomize, variant, tmp_path):
    config = DebertaV2Config(**SIZES, **VARIANTS[variant])
    ours = randomize(DebertaV2Model(config).eval(), 1)
    theirs = hf_twin(ours, transformers.DebertaV2Model, tmp_path)
    ids, types, mask = make_batch(config)
    real = mask.bool()
    with torch.no_grad():
        a = ours(ids, types, mask, output_attentions=True, output_hidden_states=True)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, output_attentions=True,
                   output_hidden_states=True)

    assert (a.last_hidden_state - b.last_hidden_state)[real].abs().max() < TOL
    for x, y in zip(a.hidden_states, b.hidden_states, strict=True):
        assert (x - y)[real].abs().max() < TOL
    for x, y in zip(a.attentions, b.attentions, strict=True):
        assert (x - y)[real[:, None, :, None].expand_as(x)].abs().max() < TOL
    assert (a.last_hidden_state[0, :-1] - a.last_hidden_state[0, 1:]).abs().amax(-1).min() > 1e-3  # not trivial


def test_masked_lm_without_decoder_equals_transformers(hf_twin, randomize, tmp_path):
    config = DebertaV2Config(**SIZES, **{**VARIANTS["v1-style"], "embedding_size": None})
    ours = randomize(DebertaV2ForMaskedLM(config).eval(), 4)
    assert not ours.uses_enhanced_mask_decoder
    theirs = hf_twin(ours, transformers.DebertaV2ForMaskedLM, tmp_path)
    ids, types, mask = make_batch(config, seed=5)
    labels = torch.where((torch.rand(ids.shape, generator=torch.Generator().manual_seed(6)) < 0.2) & mask.bool(),
                         ids, torch.full_like(ids, -100))
    with torch.no_grad():
        a = ours(ids, types, mask, labels=labels, return_logits=True)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
    assert (a.logits - b.logits)[mask.bool()].abs().max() < 10 * TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL


def test_enhanced_mask_decoder_equals_transformers_layers_run_as_in_the_paper(hf_twin, randomize, tmp_path):
    """Original DeBERTa code: query = H^{L-1} + P, the last layer twice, keys/values H^{L-1}. transformers has the
    pieces (its layers accept query_states) but no decoder; assemble it from them and compare."""
    config = DebertaV2Config(**SIZES, **VARIANTS["v3+conv"])
    ours = randomize(DebertaV2ForMaskedLM(config).eval(), 7)
    assert ours.uses_enhanced_mask_decoder
    theirs = hf_twin(ours, transformers.DebertaV2ForMaskedLM, tmp_path)
    ids, _, mask = make_batch(config, seed=8)
    with torch.no_grad():
        out = ours.deberta(ids, attention_mask=mask, output_hidden_states=True)
        decoded = enhanced_mask_decoder(ours.deberta, out.hidden_states, mask)
        hf = theirs.deberta(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        encoder = theirs.deberta.encoder
        context = hf.hidden_states[-2]
        query = context + ours.deberta.embeddings.position.weight[: ids.shape[1]]
        pair_mask = encoder.get_attention_mask(mask)
        rel_pos = encoder.get_rel_pos(context)
        for _ in range(2):
            query = encoder.layer[-1](context, pair_mask, query_states=query, relative_pos=rel_pos,
                                      rel_embeddings=encoder.get_rel_embedding())[0]
        real = mask.bool()
        assert (decoded - query)[real].abs().max() < TOL
        assert (decoded - out.last_hidden_state)[real].abs().max() > 0.1  # the decoder changes something
        logits = ours(ids, attention_mask=mask).logits
        expected = theirs.lm_predictions(query, theirs.deberta.embeddings.word_embeddings)
        assert (logits - expected)[real].abs().max() < 10 * TOL


def test_save_and_reload_round_trip(randomize, tmp_path):
    config = DebertaV2Config.tiny()
    model = randomize(DebertaV2ForMaskedLM(config).eval(), 9)
    model.save_pretrained(tmp_path)
    again = DebertaV2ForMaskedLM.from_pretrained(tmp_path)
    ids = torch.randint(0, config.vocab_size, (2, 20))
    with torch.no_grad():
        assert torch.equal(model(ids).logits, again(ids).logits)
    # a bare DebertaV2Model reads the same folder (drops the head and the unused absolute positions)
    assert DebertaV2Model.from_pretrained(tmp_path).embeddings.position is None


def test_missing_keys_are_reported(tmp_path):
    config = DebertaV2Config(**SIZES, **VARIANTS["v1-style"])
    DebertaV2Model(config).save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="rel_embeddings|pos_key_proj|wrong shape|missing"):
        DebertaV2Model.from_pretrained(tmp_path, max_relative_positions=8)


# -- disentangled attention on its own --------------------------------------------------------------------------------
def linear(layer):
    return {"weight": layer.weight.detach().numpy(), "bias": layer.bias.detach().numpy()}


@pytest.mark.parametrize("share, buckets", [(False, -1), (True, 8)])
def test_disentangled_attention_equals_numpy_reference(randomize, share, buckets):
    module = randomize(DisentangledSelfAttention(16, 2, 12, buckets, share_att_key=share).double().eval(), 10)
    g = torch.Generator().manual_seed(11)
    x = torch.randn(1, 14, 16, dtype=torch.float64, generator=g)
    table = torch.randn(2 * module.span, 16, dtype=torch.float64, generator=g)
    mask = causal_mask(14)
    with torch.no_grad():
        ours = module(x, mask, relative_embeddings=table)[0][0].numpy()
    params = {name: linear(getattr(module, name)) for name in ("query", "key", "value", "output")}
    params["position_key"] = params["key"] if share else linear(module.position_key)
    params["position_query"] = params["query"] if share else linear(module.position_query)
    theirs = ref.disentangled_attention(x[0].numpy(), params, 2, module.relative_index(14).numpy(), table.numpy(),
                                        mask.numpy())
    assert np.abs(ours - theirs).max() < 1e-6


def test_p2c_uses_the_same_delta_as_c2p_not_the_papers_transpose(randomize):
    module = randomize(DisentangledSelfAttention(8, 1, 5, pos_att_type=("c2p", "p2c")).double().eval(), 12)
    g = torch.Generator().manual_seed(13)
    x = torch.randn(1, 9, 8, dtype=torch.float64, generator=g)
    table = torch.randn(2 * module.span, 8, dtype=torch.float64, generator=g)
    with torch.no_grad():
        terms = module.score_terms(x, table)
        k, pos_q = module.key(x)[0], module.position_query(table)
    scale = np.sqrt(3 * 8)
    code = torch.zeros(9, 9, dtype=torch.float64)
    paper = torch.zeros(9, 9, dtype=torch.float64)
    for i in range(9):
        for j in range(9):
            code[i, j] = k[j] @ pos_q[min(max(i - j, -5), 4) + 5] / scale
            paper[i, j] = k[j] @ pos_q[min(max(j - i, -5), 4) + 5] / scale
    assert torch.allclose(terms["p2c"][0, 0], code, atol=1e-12)
    assert not torch.allclose(terms["p2c"][0, 0], paper, atol=1e-3)
    assert set(terms) == {"c2c", "c2p", "p2c"}


@settings(max_examples=20, deadline=None)
@given(length=st.integers(2, 20), seed=st.integers(0, 10_000), buckets=st.sampled_from([-1, 4, 8]))
def test_position_terms_depend_only_on_distance(randomize, length, seed, buckets):
    module = randomize(DisentangledSelfAttention(8, 2, 10, buckets).double().eval(), seed)
    same = torch.randn(1, 1, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    table = torch.randn(2 * module.span, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        terms = module.score_terms(same.expand(1, length, 8), table)
    for name in ("c2p", "p2c"):
        assert torch.allclose(terms[name][..., 1:, 1:], terms[name][..., :-1, :-1], atol=1e-10)


@settings(max_examples=10, deadline=None)
@given(length=st.integers(2, 8), seed=st.integers(0, 10_000))
def test_causal_disentangled_attention_leaks_nothing_from_the_future(randomize, length, seed):
    module = randomize(DisentangledSelfAttention(8, 2, 4).double().eval(), seed)
    table = torch.randn(8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    x = torch.randn(length, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))
    forward = lambda t: module(t[None], causal_mask(length), relative_embeddings=table)[0][0]  # noqa: E731
    jac = torch.autograd.functional.jacobian(forward, x, vectorize=True)
    future = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
    assert jac.abs().amax(dim=(1, 3))[future].max() == 0


# -- sizes, configuration, bad input ----------------------------------------------------------------------------------
def test_v3_base_parameter_count_matches_transformers():
    config = DebertaV2Config.v3_base()
    hf_config = transformers.DebertaV2Config(**{k: v for k, v in config.to_hf_dict().items()
                                                if k not in ("architectures", "model_type")})
    ours = count_parameters(lambda: DebertaV2Model(config))
    theirs = count_parameters(lambda: transformers.DebertaV2Model(hf_config))
    assert ours == theirs
    assert 183_000_000 < ours < 185_000_000  # "184M" on the model card: 86M backbone + 98M embeddings


@pytest.mark.parametrize("overrides, message", [
    (dict(pos_att_type=["c2p", "p2p"]), "pos_att_type"),
    (dict(conv_kernel_size=4), "odd"),
    (dict(norm_rel_ebd="batch_norm"), "norm_rel_ebd"),
    (dict(relative_attention=True, position_buckets=7), "even"),
    (dict(relative_attention=True, position_buckets=80, max_relative_positions=40), "max_position"),
    (dict(hidden_size=30), "divisible"),
])
def test_invalid_config(overrides, message):
    with pytest.raises(ValueError, match=message):
        DebertaV2Config(**{**SIZES, **overrides})


def test_bad_inputs_get_clear_errors():
    model = DebertaV2Model(DebertaV2Config.tiny()).eval()
    with pytest.raises(ValueError, match="max_position_embeddings"):
        model(torch.zeros(1, 129, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(batch, T\) attention_mask"):
        model(torch.zeros(1, 4, dtype=torch.long), attention_mask=torch.ones(1, 4, 4))
    with pytest.raises(TypeError, match="DebertaV2Config"):
        DebertaV2Model(transformers.DebertaV2Config())
    with pytest.raises(ValueError, match="relative_embeddings"):
        DisentangledSelfAttention(8, 2, 4)(torch.randn(1, 3, 8))

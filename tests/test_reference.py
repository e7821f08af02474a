"""The NumPy reference against torch: our attention module, torch's SDPA, LayerNorm, GELU, one encoder layer.

Tolerance (docs/architecture.md): 1e-6 max abs difference in float64.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minibert import reference as ref
from minibert.core.attention import MultiHeadSelfAttention, attention_bias, causal_mask, scaled_dot_product_attention
from minibert.core.transformer import EncoderLayer

TOL = 1e-6


def random_padding_mask(rng, batch, length):
    lengths = rng.integers(1, length + 1, size=batch)
    lengths[0] = length  # one row unpadded
    return np.arange(length)[None, :] < lengths[:, None]


# -- softmax ---------------------------------------------------------------------------------------------------------
def test_softmax_is_stable_for_huge_scores():
    out = ref.softmax(np.array([1000.0, 1001.0, 1002.0]))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, ref.softmax(np.array([0.0, 1.0, 2.0])), atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 9)),
              elements=st.floats(-1e4, 1e4, allow_nan=False)))
def test_softmax_rows_are_distributions_and_match_torch(x):
    out = ref.softmax(x)
    assert np.all(out >= 0) and np.allclose(out.sum(-1), 1.0)
    np.testing.assert_allclose(out, torch.softmax(torch.from_numpy(x), -1).numpy(), atol=1e-12)


# -- attention --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask_kind", ["none", "padding", "causal", "random"])
def test_numpy_equals_torch_equals_sdpa_float64(mask_kind):
    rng = np.random.default_rng(0)
    batch, heads, length, width = 3, 4, 37, 16
    q, k, v = (rng.standard_normal((batch, heads, length, width)) for _ in range(3))
    if mask_kind == "none":
        mask = None
    elif mask_kind == "padding":
        mask = random_padding_mask(rng, batch, length)[:, None, None, :]
    elif mask_kind == "causal":
        mask = ref.causal_mask(length)
    else:
        mask = rng.random((batch, 1, length, length)) < 0.7
        mask[..., 0] = True  # every query can see at least one key
    out_np, w_np = ref.scaled_dot_product_attention(q, k, v, mask)

    tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
    tmask = None if mask is None else torch.from_numpy(np.broadcast_to(mask, (batch, 1, length, length)).copy())
    out_t, w_t = scaled_dot_product_attention(tq, tk, tv, tmask)
    bias = None if tmask is None else attention_bias(tmask, torch.float64)
    out_sdpa = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=bias)

    assert np.abs(out_np - out_t.numpy()).max() < TOL
    assert np.abs(w_np - w_t.numpy()).max() < TOL
    assert np.abs(out_np - out_sdpa.numpy()).max() < TOL
    np.testing.assert_allclose(w_np.sum(-1), 1.0, atol=1e-12)
    if mask is not None:
        assert np.all(w_np[~np.broadcast_to(mask, w_np.shape)] == 0.0)


def test_causal_attention_matches_torch_is_causal():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 3, 20, 8)) for _ in range(3))
    out_np, _ = ref.scaled_dot_product_attention(q, k, v, ref.causal_mask(20))
    out_t = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), is_causal=True)
    assert np.abs(out_np - out_t.numpy()).max() < TOL
    assert torch.equal(causal_mask(20), torch.from_numpy(ref.causal_mask(20)))


def test_fully_masked_row_is_uniform_not_nan():
    q = k = v = np.ones((1, 1, 3, 2))
    mask = np.zeros((1, 1, 1, 3), dtype=bool)
    out, weights = ref.scaled_dot_product_attention(q, k, v, mask)
    assert np.all(np.isfinite(out)) and np.allclose(weights, 1 / 3)
    out_t, w_t = scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), torch.from_numpy(mask))
    assert torch.isfinite(out_t).all() and torch.allclose(w_t, torch.full_like(w_t, 1 / 3))


def test_split_merge_heads_roundtrip():
    x = np.random.default_rng(2).standard_normal((2, 5, 12))
    heads = ref.split_heads(x, 3)
    assert heads.shape == (2, 3, 5, 4)
    np.testing.assert_array_equal(heads[:, 1], x[:, :, 4:8])  # head 1 owns the second slice of the width
    np.testing.assert_array_equal(ref.merge_heads(heads), x)


def linear_params(linear):
    return {"weight": linear.weight.detach().numpy(), "bias": linear.bias.detach().numpy()}


def attention_params(module):
    return {name: linear_params(getattr(module, name)) for name in ("query", "key", "value", "output")}


@pytest.mark.parametrize("need_weights", [True, False])
def test_multi_head_attention_numpy_equals_torch_module(need_weights):
    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    module = MultiHeadSelfAttention(48, 6).double().eval()
    x = rng.standard_normal((3, 29, 48))
    mask = random_padding_mask(rng, 3, 29)
    out_np, w_np = ref.multi_head_attention(x, attention_params(module), 6, ref.padding_mask(mask))
    out_t, w_t = module(torch.from_numpy(x), torch.from_numpy(mask)[:, None, None, :], need_weights=need_weights)
    assert np.abs(out_np - out_t.detach().numpy()).max() < TOL
    if need_weights:
        assert w_t.shape == (3, 6, 29, 29)
        assert np.abs(w_np - w_t.detach().numpy()).max() < TOL
    else:
        assert w_t is None


# -- the rest of the layer --------------------------------------------------------------------------------------------
def test_layer_norm_and_gelus_match_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 7, 32)) * 3
    w, b = rng.standard_normal(32), rng.standard_normal(32)
    expected = F.layer_norm(torch.from_numpy(x), (32,), torch.from_numpy(w), torch.from_numpy(b), eps=1e-12)
    assert np.abs(ref.layer_norm(x, w, b) - expected.numpy()).max() < TOL
    tx = torch.from_numpy(x)
    assert np.abs(ref.gelu_erf(x) - F.gelu(tx).numpy()).max() < 1e-12
    assert np.abs(ref.gelu_tanh(x) - F.gelu(tx, approximate="tanh").numpy()).max() < 1e-12
    assert np.abs(ref.gelu_erf(x) - ref.gelu_tanh(x)).max() > 1e-5  # they are different functions


@pytest.mark.parametrize("activation", ["gelu", "gelu_new", "relu"])
def test_encoder_layer_numpy_equals_torch(activation):
    torch.manual_seed(1)
    rng = np.random.default_rng(5)
    layer = EncoderLayer(32, 4, 80, activation=activation).double().eval()
    for p in layer.parameters():  # move LayerNorm away from identity so the test would notice a swapped norm
        torch.nn.init.normal_(p, std=0.3)
    x = rng.standard_normal((2, 23, 32))
    mask = random_padding_mask(rng, 2, 23)
    params = {
        "attention": attention_params(layer.attention),
        "attention_norm": linear_params(layer.attention_norm),
        "ffn": {"inner": linear_params(layer.ffn.inner), "outer": linear_params(layer.ffn.outer)},
        "ffn_norm": linear_params(layer.ffn_norm),
    }
    out_np, w_np = ref.encoder_layer(x, params, 4, ref.padding_mask(mask), activation)
    out_t, w_t = layer(torch.from_numpy(x), torch.from_numpy(mask)[:, None, None, :], need_weights=True)
    assert np.abs(out_np - out_t.detach().numpy()).max() < TOL
    assert np.abs(w_np - w_t.detach().numpy()).max() < TOL


def test_reference_rejects_bad_input():
    with pytest.raises(ValueError, match="divisible"):
        ref.split_heads(np.zeros((1, 2, 10)), 3)
    with pytest.raises(TypeError, match="boolean"):
        ref.scaled_dot_product_attention(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((2, 4)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="broadcast"):
        ref.scaled_dot_product_attention(np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((3, 4)), np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="d_k"):
        ref.scaled_dot_product_attention(np.zeros((2, 4)), np.zeros((2, 5)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="activation"):
        ref.feed_forward(np.zeros((1, 2)), {}, activation="swish")

"""Transformer-XL: the relative shift equals a naive loop, attention equals the NumPy reference (the four terms one
pair at a time), segment-by-segment with memory equals one pass under the matching mask, and the memory is cut off
from the gradient. transformers 5 has no Transformer-XL class, so these are the checks."""
import functools
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from minibert.models.transformer_xl import (RelativeMultiHeadAttention, TransformerXL, TransformerXLConfig,
                                            memory_causal_mask, relative_position_table, relative_shift, segment_mask)
from minibert.reference import positions as ref


@pytest.fixture(scope="module")
def randomize(randomize):
    """This module's random weights: N(0, 0.3^2)."""
    return functools.partial(randomize, scale=0.3)


FAST = settings(max_examples=25, deadline=None)


def naive_shift(raw, table, query_length, key_length):
    """out[i, j] = raw[i, column of distance i + M - j], by looking the distance up in the table."""
    memory = key_length - query_length
    out = torch.full((*raw.shape[:-1], key_length), float("nan"), dtype=raw.dtype)
    for i in range(query_length):
        for j in range(key_length):
            hits = (table == i + memory - j).nonzero()
            if len(hits):
                out[..., i, j] = raw[..., i, hits.item()]
    return out


@FAST
@given(query_length=st.integers(1, 9), memory=st.integers(0, 9), bidirectional=st.booleans(), seed=st.integers(0, 99))
def test_relative_shift_equals_naive_loop(query_length, memory, bidirectional, seed):
    key_length = query_length + memory
    table = relative_position_table(key_length, query_length, bidirectional)
    raw = torch.randn(2, 3, query_length, len(table), generator=torch.Generator().manual_seed(seed))
    expected = naive_shift(raw, table, query_length, key_length)
    got = relative_shift(raw, key_length)
    needed = memory_causal_mask(query_length, memory) if not bidirectional else torch.ones_like(got[0, 0], dtype=bool)
    assert not expected[..., needed].isnan().any()  # the table covers every distance the mask lets through
    assert torch.equal(got[..., needed], expected[..., needed])


def test_relative_shift_needs_a_long_enough_table():
    with pytest.raises(ValueError, match="relative_position_table"):
        relative_shift(torch.zeros(3, 4), key_length=4)


def txl_params(module):
    return {name: {"weight": getattr(module, name).weight.detach().numpy()}
            for name in ("query", "key", "value", "output", "position")} | {
        "content_bias": module.content_bias.detach().numpy(), "position_bias": module.position_bias.detach().numpy()}


@pytest.mark.parametrize("heads, segment, memory", [(1, 5, 0), (2, 4, 3), (4, 3, 6)])
def test_relative_attention_equals_numpy_four_terms(randomize, heads, segment, memory):
    module = randomize(RelativeMultiHeadAttention(16, heads).double().eval(), 1)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, segment, 16, dtype=torch.float64, generator=g)
    mem = torch.randn(1, memory, 16, dtype=torch.float64, generator=g) if memory else None
    mask = memory_causal_mask(segment, memory)
    with torch.no_grad():
        ours = module(x, mask, memory=mem)[0][0].numpy()
    theirs = ref.transformer_xl_attention(x[0].numpy(), txl_params(module), heads,
                                          None if mem is None else mem[0].numpy(), mask.numpy())

    assert np.abs(ours - theirs).max() < 1e-6


def run_in_segments(model, x, segment):
    memory, outputs = None, []
    for start in range(0, x.shape[1], segment):
        out = model(x[:, start:start + segment], memory)
        memory, outputs = out.memory, outputs + [out.last_hidden_state]
    return torch.cat(outputs, 1), memory


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-6)])
@pytest.mark.parametrize("segment, memory", [(6, 6), (4, 2), (5, 12)])
def test_one_layer_with_memory_equals_one_pass_under_the_segment_mask(randomize, segment, memory, dtype, tol):
    model = randomize(TransformerXL(TransformerXLConfig(16, 2, 32, 1, memory_length=memory)).to(dtype).eval(), 3)
    x = torch.randn(2, 4 * segment, 16, dtype=dtype, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        by_segment, _ = run_in_segments(model, x, segment)
        one_pass, _ = model.layers[0](x, segment_mask(x.shape[1], segment, memory))
    assert (by_segment - one_pass).abs().max() < tol
    # the mask matters: a plain causal pass sees further back and differs (so this test can fail)
    if memory < 3 * segment:
        with torch.no_grad():
            causal, _ = model.layers[0](x, memory_causal_mask(x.shape[1]))
        assert (by_segment - causal).abs().max() > 1e-3


def test_unbounded_memory_equals_a_causal_pass_at_any_depth(randomize):
    model = randomize(TransformerXL(TransformerXLConfig(16, 4, 32, 3, memory_length=100)).double().eval(), 5)
    x = torch.randn(2, 15, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        by_segment, memory = run_in_segments(model, x, 5)
        assert (by_segment - model(x).last_hidden_state).abs().max() < 1e-10
    assert len(memory) == 3 and memory[0].shape == (2, 15, 16)


def test_memory_receives_no_gradient(randomize):
    model = randomize(TransformerXL(TransformerXLConfig(16, 2, 32, 2, memory_length=4)), 7)
    first = torch.randn(1, 4, 16, requires_grad=True)
    second = torch.randn(1, 4, 16, requires_grad=True)
    out1 = model(first)
    assert all(not m.requires_grad for m in out1.memory)
    model(second, out1.memory).last_hidden_state.sum().backward()
    assert first.grad is None  # nothing flowed back into the previous segment
    assert second.grad is not None and second.grad.abs().sum() > 0


@settings(max_examples=10, deadline=None)
@given(length=st.integers(2, 8), memory=st.integers(0, 5), seed=st.integers(0, 10_000))
def test_transformer_xl_leaks_nothing_from_the_future(randomize, length, memory, seed):
    model = randomize(TransformerXL(TransformerXLConfig(8, 2, 16, 2, memory_length=memory)).double().eval(), seed)
    g = torch.Generator().manual_seed(seed)
    mem = [torch.randn(1, memory, 8, dtype=torch.float64, generator=g) for _ in range(2)] if memory else None
    x = torch.randn(length, 8, dtype=torch.float64, generator=g)
    jac = torch.autograd.functional.jacobian(lambda t: model(t[None], mem).last_hidden_state[0], x, vectorize=True)
    future = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
    assert jac.abs().amax(dim=(1, 3))[future].max() == 0


@FAST
@given(length=st.integers(2, 12), memory=st.integers(0, 6), seed=st.integers(0, 10_000))
def test_relative_scores_depend_only_on_distance(randomize, length, memory, seed):
    module = randomize(RelativeMultiHeadAttention(8, 2).double().eval(), seed)
    same = torch.randn(1, 1, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    x, mem = same.expand(1, length, 8), same.expand(1, memory, 8)
    q = module.split_heads(module.query(x))
    context = torch.cat([mem, x], 1)
    k = module.split_heads(module.key(context))
    r = module.position_keys(length + memory, length, dtype=torch.float64)
    with torch.no_grad():
        scores = module.scores(q, k, r)[..., memory:]  # the segment's own keys; the memory block is just as regular
    keep = memory_causal_mask(length)
    diag = torch.where(keep, scores, 0)
    assert torch.allclose(diag[..., 1:, 1:], diag[..., :-1, :-1] * keep[1:, 1:], atol=1e-10)


def test_bad_memory_and_inputs_are_refused():
    model = TransformerXL(TransformerXLConfig(16, 2, 32, 2, memory_length=4))
    x = torch.randn(2, 3, 16)
    memory = model(x).memory
    with pytest.raises(ValueError, match="width"):
        model(x, [torch.randn(2, 4, 8)] * 2)
    with pytest.raises(ValueError, match="batch"):
        model(x, [torch.randn(3, 4, 16)] * 2)
    with pytest.raises(ValueError, match="one tensor per layer"):
        model(x, memory[:1])
    with pytest.raises(ValueError, match="memory must be"):
        model(x, [torch.randn(4, 16)] * 2)
    with pytest.raises(ValueError, match="batch, T, 16"):
        model(torch.randn(2, 3, 8))
    with pytest.raises(ValueError, match="memory_length"):
        TransformerXL(TransformerXLConfig(16, 2, 32, 2, memory_length=-1))
    assert model(x, memory).last_hidden_state.shape == (2, 3, 16)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_xlnet_content_stream_is_this_attention(randomize, bidirectional):
    """XLNet (chapter 12) reuses this attention: its content stream without segments equals ours plus its
    residual-and-LayerNorm, given the same weights, the same memory and XLNet's own position table."""
    from transformers import XLNetConfig
    from transformers.models.xlnet.modeling_xlnet import XLNetRelativeAttention

    from minibert.core.positions import sinusoidal_encoding

    theirs = randomize(XLNetRelativeAttention(XLNetConfig(d_model=16, n_head=2, d_inner=32, dropout=0.0)).double(), 8)
    theirs.eval()
    ours = RelativeMultiHeadAttention(16, 2).double().eval()
    with torch.no_grad():
        for name, param in [("query", theirs.q), ("key", theirs.k), ("value", theirs.v), ("position", theirs.r)]:
            getattr(ours, name).weight.copy_(param.reshape(16, 16).T)
        ours.output.weight.copy_(theirs.o.reshape(16, 16))
        ours.content_bias.copy_(theirs.r_w_bias)
        ours.position_bias.copy_(theirs.r_r_bias)
    g = torch.Generator().manual_seed(9)
    x, memory = torch.randn(2, 5, 16, dtype=torch.float64, generator=g), torch.randn(2, 3, 16, dtype=torch.float64, generator=g)
    table = relative_position_table(8, 5, bidirectional)
    r = sinusoidal_encoding(table, 16, interleave=False, dtype=torch.float64)[:, None].expand(-1, 2, -1)
    mask = None if bidirectional else memory_causal_mask(5, 3)
    hf_mask = None if mask is None else (~mask).double()[:, :, None, None]
    with torch.no_grad():
        expected = theirs(x.transpose(0, 1), None, hf_mask, None, r, None, mems=memory.transpose(0, 1))[0]
        got = theirs.layer_norm(x + ours(x, mask, memory=memory, bidirectional=bidirectional)[0])
    assert (got - expected.transpose(0, 1)).abs().max() < 1e-10

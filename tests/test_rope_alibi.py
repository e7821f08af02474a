"""RoPE (Su et al. 2021) and ALiBi (Press et al. 2022): NumPy reference == minibert's torch code == transformers'
functions, in float64, on random inputs, for several head counts and lengths; the relative-offset property of RoPE;
BLOOM's padded ALiBi; clear errors on bad inputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers.models.bloom.modeling_bloom import _get_alibi_slopes, build_alibi_tensor
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb as llama_apply
from transformers.models.llama.modeling_llama import rotate_half as llama_rotate_half
from transformers.models.modernbert.modeling_modernbert import apply_rotary_pos_emb as modernbert_apply

from minibert.core.alibi import alibi_bias, alibi_key_bias, alibi_slopes
from minibert.core.rotary import RotaryEmbedding, apply_rope, rope_cos_sin, rope_frequencies, rope_scores, rotate_half
from minibert.reference import positions as ref

TOL = 1e-6
HEAD_COUNTS = (1, 2, 3, 5, 6, 8, 12, 16, 20, 24, 32)


def gen(seed):
    return torch.Generator().manual_seed(seed)


# -- RoPE ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("head_dim,length,base", [(2, 5, 10000.0), (8, 9, 10000.0), (16, 33, 10000.0),
                                                  (64, 17, 160000.0), (32, 7, 100.0)])
def test_rope_reference_torch_and_transformers_agree(head_dim, length, base):
    q = torch.randn(2, 3, length, head_dim, dtype=torch.float64, generator=gen(head_dim))
    k = torch.randn(2, 3, length, head_dim, dtype=torch.float64, generator=gen(head_dim + 1))
    cos, sin = rope_cos_sin(length, head_dim, base)
    ours_q, ours_k = apply_rope(q, k, cos, sin)
    for apply in (llama_apply, modernbert_apply):  # the two production copies of the same function
        theirs_q, theirs_k = apply(q, k, cos[None], sin[None])
        assert (ours_q - theirs_q).abs().max() < TOL and (ours_k - theirs_k).abs().max() < TOL
    assert torch.equal(rotate_half(q), llama_rotate_half(q))
    positions = np.arange(length)
    for b in range(2):
        for h in range(3):
            assert np.abs(ref.rope_rotate(q[b, h].numpy(), positions, base) - ours_q[b, h].numpy()).max() < TOL


def test_rope_layouts_differ_by_a_permutation_only():
    """The paper's neighbouring pairs (eq. 34) and transformers' halves are the same rotation on permuted inputs."""
    d = 12
    x = np.random.default_rng(0).normal(size=(6, d))
    to_halves = np.concatenate([np.arange(0, d, 2), np.arange(1, d, 2)])  # (0,1),(2,3).. -> (i, i + d/2)
    interleaved = ref.rope_rotate(x, range(6), interleaved=True)
    halves = ref.rope_rotate(x[:, to_halves], range(6))
    assert np.abs(interleaved[:, to_halves] - halves).max() < 1e-12


def test_rope_cos_sin_match_transformers_rotary_classes():
    """transformers computes the angles in float32: equal to its precision (positions < 64)."""
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    config = LlamaConfig(hidden_size=64, num_attention_heads=4, rope_parameters={"rope_type": "default",
                                                                                   "rope_theta": 10000.0})
    theirs = LlamaRotaryEmbedding(config)
    assert torch.allclose(theirs.inv_freq.double(), rope_frequencies(16), rtol=1e-6, atol=0)
    position_ids = torch.arange(64)[None].expand(2, 64)
    cos, sin = theirs(torch.zeros(1, dtype=torch.float32), position_ids)
    ours_cos, ours_sin = RotaryEmbedding(16)(position_ids, torch.float64)
    assert (cos.double() - ours_cos).abs().max() < 2e-5 and (sin.double() - ours_sin).abs().max() < 2e-5
    # per-sequence positions (batch, T, d) broadcast over heads as in transformers
    q = torch.randn(2, 4, 64, 16, dtype=torch.float64, generator=gen(3))
    ours, _ = apply_rope(q, q, ours_cos, ours_sin)
    theirs_q, _ = llama_apply(q, q, ours_cos, ours_sin)
    assert (ours - theirs_q).abs().max() < TOL


@pytest.mark.parametrize("seed", range(5))
def test_rope_scores_depend_only_on_the_offset(seed):
    """q at i, k at j scores the same as q at i + s, k at j + s, for any shift s (Su et al., eq. 16)."""
    g = gen(seed)
    q, k = torch.randn(5, 32, dtype=torch.float64, generator=g), torch.randn(7, 32, dtype=torch.float64, generator=g)
    qi, kj = torch.randint(0, 50, (5,), generator=g), torch.randint(0, 50, (7,), generator=g)
    base_scores = rope_scores(q, k, qi, kj)
    for shift in (1, 17, 1000, 123456):
        assert (rope_scores(q, k, qi + shift, kj + shift) - base_scores).abs().max() < 1e-8
    # and it is not a constant: a different offset gives a different score
    assert (rope_scores(q, k, qi + 3, kj) - base_scores).abs().max() > 1e-3
    # the scores are those of the NumPy reference's rotated vectors
    expected = ref.rope_rotate(q.numpy(), qi.numpy()) @ ref.rope_rotate(k.numpy(), kj.numpy()).T
    assert np.abs(expected - base_scores.numpy()).max() < TOL


def test_rope_keeps_lengths():
    x = torch.randn(1, 2, 40, 8, dtype=torch.float64, generator=gen(0))
    rotated, _ = apply_rope(x, x, *rope_cos_sin(40, 8))
    assert torch.allclose(rotated.norm(dim=-1), x.norm(dim=-1))


@pytest.mark.parametrize("call,message", [
    (lambda: rope_cos_sin(4, 7), "must be even"),
    (lambda: rope_frequencies(0), "head_dim must be an integer >= 2"),
    (lambda: rope_frequencies(8, base=1.0), "base must be a number > 1"),
    (lambda: rope_cos_sin(torch.tensor([0.5, 1.5]), 8), "positions must be integers"),
    (lambda: rope_cos_sin(0, 8), "positions must be >= 1"),
    (lambda: apply_rope(torch.zeros(2, 5, 8), torch.zeros(2, 5, 8), *rope_cos_sin(5, 8)), r"\(batch, heads, T"),
    (lambda: apply_rope(torch.zeros(1, 2, 5, 8), torch.zeros(1, 2, 5, 8), *rope_cos_sin(6, 8)), "do not fit"),
    (lambda: apply_rope(torch.zeros(1, 2, 5, 7), torch.zeros(1, 2, 5, 7), *rope_cos_sin(5, 8)), "must be even"),
    (lambda: rope_scores(torch.zeros(3, 8), torch.zeros(3, 8), [0, 1], [0, 1, 2]), "one position per vector"),
    (lambda: RotaryEmbedding(9), "must be even"),
    (lambda: ref.rope_rotate(np.zeros((2, 5)), [0, 1]), "must be even"),
])
def test_rope_bad_inputs_say_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- ALiBi --------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_heads", HEAD_COUNTS)
def test_alibi_slopes_reference_torch_and_bloom_agree(num_heads):
    ours = alibi_slopes(num_heads)
    assert ours.shape == (num_heads,)
    assert np.abs(np.array(ref.alibi_slopes(num_heads)) - ours.numpy()).max() < 1e-12
    theirs = _get_alibi_slopes(num_heads, torch.device("cpu")).double()  # float32 inside BLOOM
    assert torch.allclose(ours, theirs, rtol=TOL, atol=0)
    assert len(set(ours.tolist())) == num_heads  # every head its own slope


def test_alibi_slopes_of_eight_heads_are_the_papers():
    """Section 3: "for 8 heads the slopes are 1/2^1, 1/2^2, ..., 1/2^8"."""
    assert alibi_slopes(8).tolist() == [2.0 ** -h for h in range(1, 9)]
    assert alibi_slopes(16)[:2].tolist() == [2 ** -0.5, 2.0 ** -1]


@pytest.mark.parametrize("num_heads,length", [(1, 4), (3, 9), (8, 16), (12, 7), (20, 12)])
def test_alibi_bias_reference_and_torch_agree(num_heads, length):
    for causal in (False, True):
        ours = alibi_bias(num_heads, length, length + 3, causal=causal)
        assert np.abs(ref.alibi_bias(num_heads, length, length + 3, causal) - ours.numpy()).max() < TOL


@pytest.mark.parametrize("num_heads", (2, 5, 8, 12))
def test_alibi_with_padding_as_bloom_applies_it(num_heads):
    """BLOOM's tensor (m * key position over real tokens) equals ours, and under a causal + padding mask it gives
    the same attention weights as the paper's -m (i - j), left and right padding alike."""
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0, 0, 0]])
    batch, length = mask.shape
    ours = alibi_key_bias(mask, num_heads)
    theirs = build_alibi_tensor(mask, num_heads, torch.float64).view(batch, num_heads, 1, length)
    assert torch.allclose(ours, theirs, rtol=TOL, atol=TOL)
    scores = torch.randn(batch, num_heads, length, length, dtype=torch.float64, generator=gen(num_heads))
    positions = (mask.cumsum(-1) - 1) * mask
    visible = (positions[:, :, None] >= positions[:, None, :]) & mask[:, None, :].bool() & mask[:, :, None].bool()
    visible |= torch.eye(length, dtype=torch.bool)  # padded queries look at themselves, no row is empty
    minus = torch.finfo(torch.float64).min
    paper = -alibi_slopes(num_heads)[None, :, None, None] * (positions[:, :, None] - positions[:, None, :]
                                                             ).clamp(min=0)[:, None].double()
    weights = [torch.softmax((scores + b).masked_fill(~visible[:, None], minus), -1) for b in (ours, paper)]
    real = mask.bool()[:, None, :, None]
    assert ((weights[0] - weights[1]).abs() * real).max() < 1e-12


def test_alibi_bias_is_zero_on_the_diagonal_and_falls_linearly():
    bias = alibi_bias(4, 10)
    assert torch.equal(torch.diagonal(bias, dim1=1, dim2=2), torch.zeros(4, 10, dtype=torch.float64))
    steps = bias[:, 0, 1:] - bias[:, 0, :-1]
    assert torch.allclose(steps, -alibi_slopes(4)[:, None].expand(4, 9))


@pytest.mark.parametrize("call,message", [
    (lambda: alibi_slopes(0), "num_heads must be an integer >= 1"),
    (lambda: alibi_slopes(2.0), "num_heads must be an integer >= 1"),
    (lambda: alibi_bias(4, 0), "query_length must be an integer >= 1"),
    (lambda: alibi_key_bias(torch.ones(5), 4), r"\(batch, T\)"),
    (lambda: alibi_key_bias(torch.full((1, 5), 2), 4), "only 0"),
])
def test_alibi_bad_inputs_say_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()

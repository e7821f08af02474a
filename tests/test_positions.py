"""Absolute encodings, relative distances and buckets, Shaw and T5 relative attention.

Bucket functions are compared with transformers on every distance in [-1000, 1000]; attention against the NumPy
reference (float64, one pair at a time); properties with hypothesis: relative schemes are translation-invariant,
causal variants leak nothing from the future.
"""
import functools
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from transformers.models.deberta_v2.modeling_deberta_v2 import make_log_bucket_position
from transformers.models.t5.modeling_t5 import T5Attention, T5Config

from minibert.core.attention import MultiHeadSelfAttention, attention_bias, causal_mask
from minibert.core.positions import (LearnedPositions, SinusoidalPositions, clipped_distance_index, deberta_log_buckets,
                                     relative_distances, sinusoid_shift_matrix, sinusoidal_encoding, t5_buckets)
from minibert.core.relative_attention import ShawRelativeAttention, T5RelativeBias
from minibert.reference import positions as ref


@pytest.fixture(scope="module")
def randomize(randomize):
    """This module's random weights: N(0, 0.5^2), so the position terms weigh as much as the content."""
    return functools.partial(randomize, scale=0.5)


GRID = torch.arange(-1000, 1001)
FAST = settings(max_examples=25, deadline=None)
FEW = settings(max_examples=10, deadline=None)  # for the Jacobian checks, which cost more per example


def linear(layer):
    return {"weight": layer.weight.detach().numpy(), "bias": None if layer.bias is None else layer.bias.detach().numpy()}


# -- absolute positions ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("interleave", [True, False])
def test_sinusoids_equal_numpy_reference(interleave):
    positions = [0, 1, 7, 100, 511, -3, 2.5]
    ours = sinusoidal_encoding(torch.tensor(positions), 64, interleave=interleave, dtype=torch.float64).numpy()
    assert np.abs(ours - ref.sinusoidal_encoding(positions, 64, interleave=interleave)).max() < 1e-12
    # the paper's formula at one entry: PE(pos, 2i) = sin(pos / 10000^(2i/d))
    assert np.isclose(ours[3, 2 * 5] if interleave else ours[3, 5], np.sin(100 / 10000 ** (10 / 64)))


@FAST
@given(pos=st.floats(-500, 500), k=st.floats(-200, 200), half=st.integers(1, 32))
def test_a_fixed_matrix_maps_pos_to_pos_plus_k(pos, k, half):
    dim = 2 * half
    table = sinusoidal_encoding(torch.tensor([pos, pos + k], dtype=torch.float64), dim, dtype=torch.float64)
    assert torch.allclose(sinusoid_shift_matrix(k, dim) @ table[0], table[1], atol=1e-9)


def test_sinusoid_similarity_depends_only_on_distance():
    table = sinusoidal_encoding(300, 64, dtype=torch.float64)
    for k in (0, 1, 5, 40):
        dots = (table[:-k or None] * table[k:]).sum(-1)
        assert torch.allclose(dots, dots[0].expand_as(dots), atol=1e-9), k
    assert (table[0] @ table[1]) > (table[0] @ table[30])  # nearer positions look more alike


def test_position_tables_refuse_what_they_cannot_encode():
    assert LearnedPositions(16, 8)(16).shape == (16, 8)
    assert SinusoidalPositions(8, max_length=32)(20).shape == (20, 8)
    with pytest.raises(ValueError, match="learned positions"):
        LearnedPositions(16, 8)(17)
    with pytest.raises(ValueError, match="max_length"):
        SinusoidalPositions(8, max_length=32)(33)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_encoding(4, 7)


# -- distances and buckets -----------------------------------------------------------------------------------------
def test_relative_distances_and_clipping():
    d = relative_distances(4)
    assert d.tolist() == [[0, 1, 2, 3], [-1, 0, 1, 2], [-2, -1, 0, 1], [-3, -2, -1, 0]]
    assert relative_distances(2, 5, query_offset=3).tolist() == [[-3, -2, -1, 0, 1], [-4, -3, -2, -1, 0]]
    index = clipped_distance_index(relative_distances(10), 2)
    assert index.min() == 0 and index.max() == 4 and index[0, 9] == 4 and index[9, 0] == 0 and index[3, 4] == 3


@pytest.mark.parametrize("k, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError),
                                      (None, TypeError)])
def test_clip_distance_below_one_is_refused(k, error):
    with pytest.raises(error, match="clip distance k"):
        clipped_distance_index(relative_distances(3), k)
    with pytest.raises(error):
        ShawRelativeAttention(8, 2, k)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets, max_distance", [(32, 128), (8, 20), (16, 16), (64, 500), (128, 1000), (6, 7)])
def test_t5_buckets_equal_transformers_on_the_full_grid(num_buckets, max_distance, bidirectional):
    theirs = T5Attention._relative_position_bucket(GRID, bidirectional, num_buckets, max_distance)
    assert torch.equal(t5_buckets(GRID, bidirectional, num_buckets, max_distance), theirs)


@pytest.mark.parametrize("bucket_size, max_position", [(256, 512), (8, 64), (64, 128), (4, 1000), (32, 33 + 1)])
def test_deberta_log_buckets_equal_transformers_on_the_full_grid(bucket_size, max_position):
    theirs = make_log_bucket_position(GRID, bucket_size, max_position).long()
    assert torch.equal(deberta_log_buckets(GRID, bucket_size, max_position), theirs)
    small = GRID.abs() <= bucket_size // 2
    assert torch.equal(deberta_log_buckets(GRID, bucket_size, max_position)[small], GRID[small])  # exact band


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_buckets=7), "even"), (dict(num_buckets=1), "num_buckets"), (dict(num_buckets=0), "num_buckets"),
    (dict(num_buckets=2), ">= 4"), (dict(num_buckets=32, max_distance=8), "max_distance"),
])
def test_bad_t5_bucket_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        t5_buckets(GRID, **{"bidirectional": True, "max_distance": 128, **kwargs})
    with pytest.raises(ValueError, match=message):
        T5RelativeBias(4, **{"max_distance": 128, **kwargs})


@pytest.mark.parametrize("bucket_size, max_position, message", [(7, 64, "even"), (0, 64, "bucket_size"),
                                                                (64, 20, "max_position")])
def test_bad_deberta_bucket_parameters(bucket_size, max_position, message):
    with pytest.raises(ValueError, match=message):
        deberta_log_buckets(GRID, bucket_size, max_position)


# -- Shaw et al. -----------------------------------------------------------------------------------------------------
def shaw_params(module):
    return {name: linear(getattr(module, name)) for name in ("query", "key", "value", "output")} | {
        "relative_keys": module.relative_keys.weight.detach().numpy(),
        "relative_values": module.relative_values.weight.detach().numpy()}


@pytest.mark.parametrize("heads, k, causal", [(1, 1, False), (2, 3, True), (4, 20, False)])
def test_shaw_attention_equals_numpy_reference(randomize, heads, k, causal):
    module = randomize(ShawRelativeAttention(16, heads, k).double().eval(), 1)
    x = torch.randn(1, 11, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    mask = causal_mask(11) if causal else None
    with torch.no_grad():
        ours = module(x, mask)[0][0].numpy()
    theirs = ref.shaw_attention(x[0].numpy(), shaw_params(module), heads, k, None if mask is None else mask.numpy())
    assert np.abs(ours - theirs).max() < 1e-6


def test_shaw_embeddings_are_shared_by_heads_and_number_2k_plus_1():
    module = ShawRelativeAttention(32, 4, 5)
    assert module.relative_keys.weight.shape == (11, 8) and module.relative_values.weight.shape == (11, 8)


def scores_are_toeplitz(scores: torch.Tensor) -> bool:
    """S[i, j] == S[i + 1, j + 1]: the score depends on j - i only."""
    return torch.allclose(scores[..., 1:, 1:], scores[..., :-1, :-1], atol=1e-10)


@FAST
@given(length=st.integers(2, 14), k=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_shaw_scores_depend_only_on_distance(randomize, length, k, seed):
    module = randomize(ShawRelativeAttention(8, 2, k).double().eval(), seed)
    x = torch.randn(1, 1, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)).expand(1, length, 8)
    with torch.no_grad():
        weights = module(x, need_weights=True)[1]
    # identical content everywhere: whatever varies across the matrix comes from positions, and only via j - i.
    # log-weights are scores minus a per-row constant, so compare each row to its own diagonal entry.
    logw = weights.log()
    assert scores_are_toeplitz(logw - logw.diagonal(dim1=-2, dim2=-1)[..., None])


def shifted_outputs(module, x, offset, **kwargs):
    """The module on x, and on [junk prefix of length offset, x] with the prefix hidden as keys."""
    g = torch.Generator().manual_seed(offset)
    prefix = torch.randn(x.shape[0], offset, x.shape[2], dtype=x.dtype, generator=g)
    longer = torch.cat([prefix, x], 1)
    keys = torch.arange(longer.shape[1]) >= offset
    mask = kwargs.pop("mask_fn")(longer.shape[1]) & keys[None, :]
    with torch.no_grad():
        alone = module(x, kwargs.pop("mask_fn_alone")(x.shape[1]), **kwargs)[0]
        shifted = module(longer, mask, **kwargs)[0][:, offset:]
    return alone, shifted


@FAST
@given(length=st.integers(2, 10), offset=st.integers(1, 12), seed=st.integers(0, 10_000), causal=st.booleans())
def test_shaw_attention_is_translation_invariant(randomize, length, offset, seed, causal):
    module = randomize(ShawRelativeAttention(8, 2, 3).double().eval(), seed)
    x = torch.randn(2, length, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))
    full = (lambda n: causal_mask(n)) if causal else (lambda n: torch.ones(n, n, dtype=torch.bool))
    alone, shifted = shifted_outputs(module, x, offset, mask_fn=full, mask_fn_alone=full)
    assert torch.allclose(alone, shifted, atol=1e-10)


def future_leak(forward, x):
    """max |d out_i / d x_j| over j > i."""
    jac = torch.autograd.functional.jacobian(forward, x, vectorize=True)  # (T, H, T, H) for one sequence
    length = x.shape[0]
    future = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
    return jac.abs().amax(dim=(1, 3))[future].max().item()


@FEW
@given(length=st.integers(2, 9), seed=st.integers(0, 10_000))
def test_causal_shaw_leaks_nothing_from_the_future(randomize, length, seed):
    module = randomize(ShawRelativeAttention(8, 2, 2).double().eval(), seed)
    x = torch.randn(length, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    assert future_leak(lambda t: module(t[None], causal_mask(length))[0][0], x) == 0.0
    assert future_leak(lambda t: module(t[None])[0][0], x) > 0  # without the mask it does: the test can fail


# -- T5 bias ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bidirectional", [True, False])
def test_t5_bias_equals_transformers_compute_bias(randomize, bidirectional):
    config = T5Config(d_model=16, d_kv=4, num_heads=4, relative_attention_num_buckets=8,
                      relative_attention_max_distance=20, is_decoder=not bidirectional)
    theirs = T5Attention(config, has_relative_attention_bias=True).eval()
    ours = T5RelativeBias(4, 8, 20, bidirectional)
    randomize(ours, 3)
    theirs.relative_attention_bias.weight.data.copy_(ours.relative_attention_bias.weight)
    with torch.no_grad():
        assert torch.equal(ours(37), theirs.compute_bias(37, 37))
        assert torch.equal(ours(5, 37, query_offset=32), theirs.compute_bias(5, 37, past_seen_tokens=32))


def test_t5_bias_takes_another_bucket_function(randomize):
    """The hook chapter 02 plugs the learner's buckets into: same function, same bias; another one, another bias."""
    ours = randomize(T5RelativeBias(4, 8, 20), 3)
    same = T5RelativeBias(4, 8, 20, bucket_function=lambda d, *settings: t5_buckets(d, *settings).numpy())
    clipped = T5RelativeBias(4, 8, 20, bucket_function=lambda d, *settings: d.clamp(-3, 3) + 3)
    for other in (same, clipped):
        other.load_state_dict(ours.state_dict())
    with torch.no_grad():
        assert torch.equal(same(23), ours(23)) and same.buckets(23).dtype == torch.long
        assert not torch.equal(clipped(23), ours(23))
    with pytest.raises(TypeError, match="bucket_function"):
        T5RelativeBias(4, bucket_function="t5")


@FAST
@given(length=st.integers(2, 30), seed=st.integers(0, 1000), bidirectional=st.booleans())
def test_t5_bias_depends_only_on_distance(randomize, length, seed, bidirectional):
    bias = randomize(T5RelativeBias(3, 8, 16, bidirectional).double(), seed)(length)
    assert scores_are_toeplitz(bias)


@FEW
@given(length=st.integers(2, 9), seed=st.integers(0, 10_000))
def test_causal_t5_attention_leaks_nothing_from_the_future(randomize, length, seed):
    attention = randomize(MultiHeadSelfAttention(8, 2).double().eval(), seed)
    bias = randomize(T5RelativeBias(2, 8, 16, bidirectional=False).double(), seed)
    mask = bias(length) + attention_bias(causal_mask(length), torch.float64)
    x = torch.randn(length, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    assert future_leak(lambda t: attention(t[None], mask)[0][0], x) == 0.0


# -- the relative-position explorer ------------------------------------------------------------------------------------
def test_explorer_matrices_come_from_the_library():
    from minibert.widgets import relative_position_matrix

    d = relative_distances(9)
    assert np.array_equal(relative_position_matrix("distance", 9), d.numpy())
    assert np.array_equal(relative_position_matrix("shaw", 9, k=2), d.clamp(-2, 2).numpy())
    assert np.array_equal(relative_position_matrix("t5", 9, num_buckets=8, max_distance=12, bidirectional=False),
                          t5_buckets(d, False, 8, 12).numpy())
    assert np.array_equal(relative_position_matrix("deberta", 9, bucket_size=4, max_position=16),
                          deberta_log_buckets(-d, 4, 16).numpy())
    with pytest.raises(ValueError, match="scheme"):
        relative_position_matrix("sinusoid", 9)


def test_explorer_rope_and_alibi_come_from_the_library():
    from minibert.core.alibi import alibi_bias, alibi_slopes
    from minibert.core.rotary import rope_scores
    from minibert.widgets import relative_position_matrix, relative_position_profile
    from minibert.widgets.relative_positions import ROPE_BASES, ROPE_SEED

    q = torch.randn(16, dtype=torch.float64, generator=torch.Generator().manual_seed(ROPE_SEED))
    q = q / q.norm()
    rope = relative_position_matrix("rope", 9, rope_dim=16, rope_base=10000.0)
    positions = torch.arange(9)
    expected = rope_scores(q.expand(9, 16), q.expand(9, 16), positions, positions).numpy()
    assert np.abs(rope - expected).max() < 1e-9  # q moved to i and to j: the score of offset j - i
    assert np.isclose(rope[0, 0], 1.0) and np.allclose(rope, rope.T)
    for i in range(1, 9):  # constant along every diagonal: only the offset counts
        assert np.allclose(np.diagonal(rope, i), rope[0, i])
    for head in (0, 3):
        alibi = relative_position_matrix("alibi", 9, alibi_heads=6, head=head)
        assert np.array_equal(alibi, alibi_bias(6, 9)[head].numpy())
        distances, values = relative_position_profile("alibi", 40, alibi_heads=6, head=head)
        assert np.allclose(values, -alibi_slopes(6)[head].item() * np.abs(distances))
    with pytest.raises(ValueError, match="does not exist among 4 ALiBi heads"):
        relative_position_matrix("alibi", 5, alibi_heads=4, head=4)
    curves = [relative_position_profile("rope", 64, rope_base=base)[1] for _, base in ROPE_BASES]
    assert not any(np.allclose(a, b) for a, b in zip(curves, curves[1:]))


def test_deberta_terms_have_the_structure_of_their_definitions():
    from minibert.widgets import deberta_terms, relative_position_matrix

    terms = deberta_terms(10, bucket_size=4, max_position=16, head=1)
    assert set(terms) == {"c2c", "c2p", "p2c", "sum"}
    assert np.allclose(terms["sum"], terms["c2c"] + terms["c2p"] + terms["p2c"])
    buckets = relative_position_matrix("deberta", 10, bucket_size=4, max_position=16)
    for i in range(10):  # c2p: within a row, equal buckets give equal scores; p2c: the same within a column
        for j in range(9):
            assert np.isclose(terms["c2p"][i, j], terms["c2p"][i, j + 1]) == (buckets[i, j] == buckets[i, j + 1])
            assert np.isclose(terms["p2c"][j, i], terms["p2c"][j + 1, i]) == (buckets[j, i] == buckets[j + 1, i])


def test_explorer_profile_is_the_matrix_middle_row_and_deberta_reads_the_clamped_table_row():
    from minibert.models.deberta.disentangled_attention import DisentangledSelfAttention
    from minibert.widgets import relative_position_matrix, relative_position_profile

    for scheme, kwargs in [("distance", {}), ("shaw", dict(k=5)), ("t5", dict(num_buckets=16, max_distance=40)),
                           ("t5", dict(num_buckets=8, max_distance=20, bidirectional=False)),
                           ("deberta", dict(bucket_size=6, max_position=24))]:
        distances, values = relative_position_profile(scheme, 60, **kwargs)
        assert np.array_equal(distances, np.arange(-60, 61))
        assert np.array_equal(values, relative_position_matrix(scheme, 121, **kwargs)[60]), scheme
    # DeBERTa: the row DisentangledSelfAttention gathers, which is what transformers does (log bucket, then clamp)
    d = relative_distances(80)
    attention = DisentangledSelfAttention(8, 2, 24, 6)
    assert np.array_equal(relative_position_matrix("deberta", 80, bucket_size=6, max_position=24),
                          (attention.relative_index(80) - 6).numpy())
    assert np.array_equal(relative_position_matrix("deberta", 80, bucket_size=6, max_position=24),
                          make_log_bucket_position(-d, 6, 24).long().clamp(-6, 5).numpy())
    for window, error in ((0, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="window"):
            relative_position_profile("t5", window)


def test_every_control_matters_exactly_for_its_schemes():
    """For each scheme, moving a control changes what the explorer draws if and only if the scheme reads it (the
    others are disabled in the panel); the maximum distances matter even for an 11-token sentence."""
    from minibert.widgets import relative_position_view
    from minibert.widgets.relative_positions import PARAMETERS, SCHEMES

    base = dict(k=3, num_buckets=8, max_distance=16, bidirectional=True, bucket_size=8, max_position=64, head=0,
                rope_base=10000.0, rope_dim=16, alibi_heads=8)
    moved = dict(k=1, num_buckets=16, max_distance=100, bidirectional=False, bucket_size=16, max_position=300, head=1,
                 rope_base=100.0, rope_dim=32, alibi_heads=12)

    def drawn(scheme, **setting):
        view = relative_position_view(scheme, 11, **setting)
        return [view["matrix"], *view["profile"], *(view["terms"] or {}).values()]

    def same(a, b):
        return all(np.array_equal(x, y) for x, y in zip(a, b))

    for scheme in SCHEMES:
        before = drawn(scheme, **base)
        for name in base:
            changed = not same(before, drawn(scheme, **{**base, name: moved[name]}))
            assert changed == (name in PARAMETERS[scheme]), (scheme, name, changed)
    # the sliders of the largest distances change the drawing across their whole track, not only at one end
    for scheme, name, track in (("t5", "max_distance", (5, 88, 172, 256)),
                                ("deberta", "max_position", (8, 176, 344, 512))):
        views = [drawn(scheme, **{**base, name: value}) for value in track]
        assert not any(same(a, b) for a, b in zip(views, views[1:])), (scheme, name)


def test_explorer_draws_and_its_controls_redraw():
    import matplotlib

    matplotlib.use("Agg")
    from minibert.widgets import (draw_relative_positions, relative_position_explorer, relative_position_matrix,
                                  relative_position_profile)
    from minibert.widgets.relative_positions import PARAMETERS

    tokens = "a new store opened beside the new mall".split()
    panel = relative_position_explorer(tokens=tokens, scheme="shaw")
    enabled = {name for name, control in panel.controls.items() if not control.disabled}
    assert enabled == {"scheme", "k"}
    fig = panel.update(scheme="t5", num_buckets=8, max_distance=12)
    assert np.array_equal(fig.axes[0].images[0].get_array(),
                          relative_position_matrix("t5", 8, num_buckets=8, max_distance=12))
    profile_axes = [ax for ax in fig.axes if ax.get_xscale() == "symlog"]
    assert len(profile_axes) == 1
    assert np.array_equal(profile_axes[0].lines[0].get_ydata(),
                          relative_position_profile("t5", num_buckets=8, max_distance=12)[1])
    assert panel.controls["scheme"].value == "t5" and panel.controls["num_buckets"].value == 8
    for scheme in PARAMETERS:  # moving the scheme greys out what it does not read
        panel.controls["scheme"].value = scheme
        enabled = {name for name, control in panel.controls.items() if not control.disabled}
        assert enabled == {"scheme", *PARAMETERS[scheme]}
    panel.controls["k"].value = 2
    panel.controls["scheme"].value = "shaw"  # moving a control redraws through its observer
    assert np.array_equal(panel.figure.axes[0].images[0].get_array(), relative_position_matrix("shaw", 8, k=2))
    fig = panel.update(scheme="deberta", bucket_size=4, max_position=16)
    assert sum(1 for ax in fig.axes if ax.images) == 4  # the distance matrix and the three terms
    fig = panel.update(scheme="alibi", alibi_heads=4, head=1)  # every head's bias, head 1 highlighted
    profile = next(ax for ax in fig.axes if ax.get_xscale() == "symlog")
    assert len(profile.lines) == 4 and profile.lines[1].get_linewidth() > profile.lines[0].get_linewidth()
    fig = panel.update(scheme="rope", rope_dim=8)
    assert np.array_equal(fig.axes[0].images[0].get_array(), relative_position_matrix("rope", 8, rope_dim=8))
    panel.update(scheme="t5", num_buckets=7)
    assert "even" in panel.message.value  # an impossible setting is explained, not drawn
    with pytest.raises(ValueError, match="unknown parameters"):
        panel.update(buckets=3)
    with pytest.raises(ValueError, match="tokens"):
        draw_relative_positions(np.zeros((3, 3)), tokens=["a"])

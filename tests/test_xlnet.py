"""XLNet: permutation masks (properties), partial prediction, the mask explorer widget, and (with the model)
equality with transformers.XLNetLMHeadModel given the same perm_mask / target_mapping and weights."""
import functools
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from minibert.models.xlnet.permutation import (check_order, permutation_masks, prediction_targets, rank_of,  # noqa: E402
                                               sample_order, target_mapping, to_perm_mask, xlnet_batch_masks)
from minibert.widgets import draw_permutation_masks, permutation_explorer, prediction_table  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

orders = st.integers(1, 40).flatmap(lambda n: st.permutations(list(range(n))))


@settings(max_examples=200, deadline=None)
@given(orders)
def test_query_stream_never_sees_itself_or_later_steps(order):
    content, query = permutation_masks(order)
    rank = {position: step for step, position in enumerate(order)}
    for i in range(len(order)):
        for j in range(len(order)):
            assert bool(query[i, j]) == (rank[j] < rank[i])  # strictly earlier in the order: never itself
            assert bool(content[i, j]) == (rank[j] <= rank[i])  # earlier or equal: itself included
    assert not bool(query.diagonal().any()) and bool(content.diagonal().all())
    assert torch.equal(content, query | torch.eye(len(order), dtype=torch.bool))
    # the first step predicts from nothing, the last from everything else
    assert int(query[order[0]].sum()) == 0 and int(query[order[-1]].sum()) == len(order) - 1


@settings(max_examples=150, deadline=None)
@given(orders, st.integers(1, 8))
def test_partial_prediction_predicts_the_last_part_of_the_order(order, K):
    targets = prediction_targets(order, K)
    n = max(1, -(-len(order) // K))
    assert targets.tolist() == list(order[len(order) - n:])
    content, query = permutation_masks(order, num_predict=n)
    rank = rank_of(order)
    is_target = torch.zeros(len(order), dtype=torch.bool)
    is_target[targets] = True
    for i in targets.tolist():  # targets keep the order masks exactly
        assert torch.equal(query[i], rank < rank[i]) and torch.equal(content[i], rank <= rank[i])
    assert not bool((content | query)[~is_target][:, is_target].any()), "context must never see a target"
    assert bool(content[~is_target][:, ~is_target].all()), "context tokens see one another"
    mapping = target_mapping(targets, len(order))
    assert mapping.shape == (n, len(order)) and torch.equal(mapping.argmax(1), targets)
    assert torch.equal(to_perm_mask(query), (~query).float())


def test_sampled_orders_are_uniform_permutations():
    g = torch.Generator().manual_seed(0)
    firsts = torch.stack([sample_order(4, g) for _ in range(4000)])
    assert all(sorted(o.tolist()) == [0, 1, 2, 3] for o in firsts[:50])
    share = torch.bincount(firsts[:, 0], minlength=4).double() / len(firsts)
    assert torch.allclose(share, torch.full((4,), 0.25, dtype=torch.float64), atol=0.03)
    orders, perm, mapping, targets = xlnet_batch_masks(10, 3, K=3, generator=g)
    assert orders.shape == (3, 10) and perm.shape == (3, 10, 10) and mapping.shape == (3, 4, 10)
    assert torch.equal(targets, orders[:, -4:])


@pytest.mark.parametrize("order, message", [
    ([0, 1, 1], "repeated \\[1\\]"),
    ([0, 2], "missing \\[1\\]"),
    ([], "permutation"),
    (torch.tensor([[0, 1]]), "1-D"),
])
def test_bad_orders(order, message):
    with pytest.raises(ValueError, match=message):
        check_order(order)


def test_bad_partial_prediction_arguments():
    with pytest.raises(ValueError, match="K must be a number >= 1"):
        prediction_targets([0, 1, 2], 0.5)
    with pytest.raises(ValueError, match="K must be"):
        prediction_targets([0, 1, 2], 0)
    with pytest.raises(ValueError, match="permutation of 0..3"):
        check_order([0, 1, 2], length=4)
    with pytest.raises(TypeError, match="integer"):
        check_order(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="num_predict"):
        permutation_masks([1, 0], num_predict=3)
    with pytest.raises(ValueError, match="once"):
        target_mapping([1, 1], 3)


# -- the explorer widget ----------------------------------------------------------------------------------------------
TOKENS = ["New", "York", "is", "a", "city"]


def test_drawing_shows_the_library_masks():
    order = [2, 3, 4, 0, 1]  # is a city New York
    fig = draw_permutation_masks(TOKENS, order)
    content, query = permutation_masks(order)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), content.numpy().astype(float))
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), query.numpy().astype(float))
    table = prediction_table(TOKENS, order)
    assert table[-1] == (5, "York", ["New", "is", "a", "city"])
    assert table[0] == (1, "is", [])
    text = fig.axes[2].texts[0].get_text()
    assert "predict 'York' from New, is, a, city" in text and "is -> a -> city -> New -> York" in text
    partial = prediction_table(TOKENS, order, K=3)  # ceil(5 / 3) = 2 targets
    assert [row[1] for row in partial] == ["New", "York"]


def test_explorer_controls():
    panel = permutation_explorer(TOKENS, seed=3)
    first = panel.state["order"].clone()
    fig = panel.update(order="4 3 2 1 0")
    assert panel.state["order"].tolist() == [4, 3, 2, 1, 0]
    _, query = permutation_masks([4, 3, 2, 1, 0])
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), query.numpy().astype(float))
    panel.update(seed=3)
    assert torch.equal(panel.state["order"], first)  # a seed gives its order back
    sentence, typed, message = panel.children[0], panel.children[2].children[0], panel.children[2].children[1]
    typed.value = "0 0 1 2 3"  # a bad order: the panel keeps the last good one and says why
    assert torch.equal(panel.state["order"], first) and "repeated" in message.value
    typed.value = "1 0 2 3 4"
    assert panel.state["order"].tolist() == [1, 0, 2, 3, 4]
    with pytest.raises(ValueError, match="separated by spaces"):
        panel.update(order="one two")
    # another sentence: its own tokens and a fresh order of its length, drawn from the seed box; K stays in range
    k_slider = panel.children[1].children[2]
    panel.update(K=5)
    sentence.value = "the cat sat"
    assert panel.state["tokens"] == ["the", "cat", "sat"] and sorted(panel.state["order"].tolist()) == [0, 1, 2]
    assert k_slider.max == 3 and k_slider.value == 3 and typed.value == " ".join(map(str, panel.state["order"].tolist()))
    content, _ = permutation_masks(panel.state["order"], num_predict=1)  # K = 3: ceil(3 / 3) = 1 target
    np.testing.assert_array_equal(panel.figure.axes[0].images[0].get_array(), content.numpy().astype(float))
    assert [t.get_text() for t in panel.figure.axes[0].get_xticklabels()][0].startswith("the")
    sentence.value = "   "  # nothing to show: the panel keeps the last sentence and says why
    assert panel.state["tokens"] == ["the", "cat", "sat"] and "at least one word" in message.value
    with pytest.raises(ValueError, match="permutation of 0..2"):
        panel.update(order=[0, 1, 2, 3])
    assert len(panel.state["order"]) == 3  # a bad call changes nothing


# -- the "New York" demonstration ------------------------------------------------------------------------------------
def test_new_york_gap_is_the_mutual_information():
    from minibert.models.xlnet.joint_prediction import (CityCorpus, exact_tables, expected_log_likelihood, invalid_mass,
                                                        mutual_information)

    corpus = CityCorpus()
    tables = exact_tables(corpus)
    gap = expected_log_likelihood(corpus, tables["joint"]) - expected_log_likelihood(corpus, tables["independent"])
    assert abs(gap - mutual_information(corpus.joint)) < 1e-12 and gap > 1.0
    assert invalid_mass(corpus, tables["joint"]) == 0 and invalid_mass(corpus, tables["independent"]) > 0.5
    assert abs(float(tables["independent"].sum()) - 1) < 1e-12


def test_a_trained_mlm_shows_the_gap():
    from minibert.models.xlnet.joint_prediction import (CityCorpus, expected_log_likelihood, invalid_mass, mlm_tables,
                                                        train_city_mlm)

    corpus = CityCorpus()
    model, losses = train_city_mlm(corpus, steps=300, batch=16)
    tables = mlm_tables(model, corpus)
    independent = expected_log_likelihood(corpus, tables["independent"])
    left_to_right = expected_log_likelihood(corpus, tables["left_to_right"])
    assert left_to_right - independent > 0.8, (independent, left_to_right)
    assert invalid_mass(corpus, tables["independent"]) > 0.5 > 0.2 > invalid_mass(corpus, tables["left_to_right"])


# -- the model against transformers.XLNetLMHeadModel -----------------------------------------------------------------
import transformers  # noqa: E402

from minibert.models.xlnet.config import XLNetConfig  # noqa: E402
from minibert.models.xlnet.model import XLNetLMHeadModel  # noqa: E402


@pytest.fixture(scope="module")
def randomize(randomize):
    """LayerNorm scales around 1, the other weights N(0, 0.2^2)."""
    return functools.partial(randomize, norms_near_one=True)


TOL = 1e-5
XLNET_CONFIGS = [
    dict(vocab_size=101, d_model=32, n_layer=2, n_head=4, d_inner=48, mem_len=20),
    dict(vocab_size=77, d_model=48, n_layer=3, n_head=3, d_inner=40, ff_activation="relu", mem_len=None,
         layer_norm_eps=1e-7),
]


@pytest.fixture(scope="module", params=range(len(XLNET_CONFIGS)))
def xlnet_pair(randomize, hf_twin, request, tmp_path_factory):
    torch.manual_seed(0)
    ours = XLNetLMHeadModel(XLNetConfig(**XLNET_CONFIGS[request.param])).eval()
    randomize(ours, 1 + request.param)
    theirs = hf_twin(ours, transformers.XLNetLMHeadModel, tmp_path_factory.mktemp("xlnet"), attn=None)
    assert theirs.lm_loss.weight.data_ptr() == theirs.transformer.word_embedding.weight.data_ptr()
    return ours, theirs


def batch(config, size=3, length=96, seed=2):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, config.vocab_size, (size, length), generator=g)
    mask = torch.ones(size, length, dtype=torch.long)
    mask[1, length * 2 // 3:] = 0
    mask[2, 9:] = 0
    segments = (torch.arange(length) >= length // 3).long().expand(size, length).clone()
    return ids, mask, segments, g


def test_query_stream_equals_transformers(xlnet_pair):
    ours, theirs = xlnet_pair
    ids, mask, segments, g = batch(ours.config)
    orders, perm, mapping, targets = xlnet_batch_masks(ids.shape[1], ids.shape[0], K=6, generator=g)
    labels = ids.gather(1, targets)
    with torch.no_grad():
        a = ours(ids, mask, perm, mapping, segments, labels=labels, output_attentions=True)
        b = theirs(input_ids=ids, attention_mask=mask, perm_mask=perm, target_mapping=mapping,
                   token_type_ids=segments, labels=labels, output_attentions=True, output_hidden_states=True)
    assert a.logits.shape == (3, 16, ours.config.vocab_size)
    assert (a.last_hidden_state - b.hidden_states[-1]).abs().max() < TOL  # the query stream's final states
    assert (a.logits - b.logits).abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL
    assert b.logits.std() > 0.5
    for (content, query), (their_content, their_query) in zip(a.attentions, b.attentions):
        assert (content - their_content)[mask.bool()[:, None, :, None].expand_as(content)].abs().max() < TOL
        assert (query - their_query).abs().max() < TOL


def test_content_stream_and_memory_equal_transformers(xlnet_pair):
    ours, theirs = xlnet_pair
    ids, mask, segments, g = batch(ours.config, seed=3)
    with torch.no_grad():
        a = ours(ids, mask, token_type_ids=segments)
        b = theirs(input_ids=ids, attention_mask=mask, token_type_ids=segments)
        real = mask.bool()
        assert (a.logits - b.logits)[real].abs().max() < TOL
        for ours_memory, their_memory in zip(a.memory, b.mems):
            assert torch.allclose(ours_memory, their_memory.transpose(0, 1), atol=TOL)
            assert not ours_memory.requires_grad
        # the next segment reads the memory; with a permutation and targets too
        more = torch.randint(0, ours.config.vocab_size, (3, 40), generator=g)
        _, perm, mapping, _ = xlnet_batch_masks(40, 3, K=4, generator=g)
        c = ours(more, perm_mask=perm, target_mapping=mapping, memory=a.memory)
        d = theirs(input_ids=more, perm_mask=perm, target_mapping=mapping, mems=b.mems)
    assert (c.logits - d.logits).abs().max() < TOL
    kept = ours.config.mem_len or 96 + 40
    assert c.memory[0].shape[1] == min(kept, 96 + 40)


def test_transformers_checkpoint_loads_into_minibert(randomize, tmp_path):
    hf_config = transformers.XLNetConfig(vocab_size=64, d_model=24, n_layer=2, n_head=2, d_inner=30, mem_len=16)
    torch.manual_seed(0)
    theirs = transformers.XLNetLMHeadModel(hf_config).eval()
    randomize(theirs, 7)
    theirs.save_pretrained(tmp_path)
    ours = XLNetLMHeadModel.from_pretrained(tmp_path)
    assert ours.config.d_head == 12 and not ours.training
    g = torch.Generator().manual_seed(8)
    ids = torch.randint(0, 64, (2, 30), generator=g)
    _, perm, mapping, _ = xlnet_batch_masks(30, 2, K=3, generator=g)
    with torch.no_grad():
        a = ours(ids, perm_mask=perm, target_mapping=mapping).logits
        b = theirs(input_ids=ids, perm_mask=perm, target_mapping=mapping).logits
    assert (a - b).abs().max() < TOL
    ours.save_pretrained(tmp_path / "again")
    again = XLNetLMHeadModel.from_pretrained(tmp_path / "again")
    for (name, x), (_, y) in zip(ours.state_dict().items(), again.state_dict().items()):
        assert torch.equal(x, y), name


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(7))), st.integers(0, 2**31 - 1))
def test_a_prediction_never_depends_on_its_own_token_or_later_steps(order, seed):
    """End to end through two layers: change the token at a target, or at a later step of the order, and that
    target's logits do not move; change an earlier step and they do."""
    torch.manual_seed(0)
    model = XLNetLMHeadModel(XLNetConfig.tiny(vocab_size=50, d_model=16, n_head=2, d_inner=32, dropout=0.0)).eval()
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 50, (1, 7), generator=g)
    _, query = permutation_masks(order)
    perm = to_perm_mask(query)[None]
    mapping = target_mapping(list(range(7)), 7)[None]  # every position predicted, each by its query stream
    with torch.no_grad():
        base = model(ids, perm_mask=perm, target_mapping=mapping).logits[0]
        for step, position in enumerate(order):
            changed = ids.clone()
            changed[0, position] = (changed[0, position] + 1) % 50
            logits = model(changed, perm_mask=perm, target_mapping=mapping).logits[0]
            for later_step, target in enumerate(order):
                moved = not torch.allclose(logits[target], base[target], atol=1e-6)
                if later_step <= step:  # the changed token is the target itself or comes after it
                    assert not moved, f"the prediction at step {later_step} saw the token of step {step}"
            if step < len(order) - 1:
                assert not torch.allclose(logits[order[-1]], base[order[-1]], atol=1e-6)


def test_xlnet_bad_input():
    model = XLNetLMHeadModel(XLNetConfig.tiny(vocab_size=50)).eval()
    ids = torch.randint(0, 50, (2, 6))
    with pytest.raises(ValueError, match="one-hot"):
        model(ids, target_mapping=torch.full((2, 1, 6), 0.5))
    with pytest.raises(ValueError, match=r"perm_mask has shape \(2, 6, 5\); expected \(2, 6, 6\)"):
        model(ids, perm_mask=torch.zeros(2, 6, 5))
    with pytest.raises(ValueError, match="perm_mask must contain only 0 and 1"):
        model(ids, perm_mask=torch.full((2, 6, 6), 0.5))
    with pytest.raises(ValueError, match="attention_mask must contain only 0 and 1"):
        model(ids, attention_mask=torch.full((2, 6), -10000.0))
    with pytest.raises(ValueError, match="target_mapping must be"):
        model(ids, target_mapping=torch.zeros(2, 6))
    with pytest.raises(ValueError, match="one tensor per layer"):
        model(ids, memory=[torch.zeros(2, 3, 64)])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(torch.tensor([[50]]))
    with pytest.raises(ValueError, match="labels must be shaped"):
        model(ids, labels=torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="attn_type='uni' is not supported"):
        XLNetConfig.from_dict({"attn_type": "uni"})
    with pytest.raises(ValueError, match="divisible"):
        XLNetConfig(d_model=30, n_head=4)


def test_a_query_with_nothing_to_see_gets_an_empty_context(xlnet_pair):
    """The one deliberate difference from transformers: with every position predicted (K = 1) and no memory, the
    first step of the order may see nothing. transformers' softmax over an all-masked row then spreads evenly over
    every key, its own token included (the prediction changes with its answer); minibert gives it an empty context.
    All other predictions agree."""
    ours, theirs = xlnet_pair
    order = [3, 0, 5, 1, 2, 4]
    _, query = permutation_masks(order)
    perm, mapping = to_perm_mask(query)[None], target_mapping(order, 6)[None]
    ids = torch.randint(0, ours.config.vocab_size, (1, 6), generator=torch.Generator().manual_seed(4))
    changed = ids.clone()
    changed[0, 3] = (changed[0, 3] + 1) % ours.config.vocab_size  # the first step's own token
    with torch.no_grad():
        a, a2 = (ours(x, perm_mask=perm, target_mapping=mapping).logits[0] for x in (ids, changed))
        b, b2 = (theirs(input_ids=x, perm_mask=perm, target_mapping=mapping).logits[0] for x in (ids, changed))
    assert torch.equal(a[0], a2[0]), "minibert's first prediction must not depend on its own token"
    assert not torch.allclose(b[0], b2[0]), "transformers leaks here (if this fails, transformers changed)"
    assert (a[1:] - b[1:]).abs().max() < TOL

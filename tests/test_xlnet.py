"""XLNet: permutation masks (properties), partial prediction, the mask explorer widget, and (with the model)
equality with transformers.XLNetLMHeadModel given the same perm_mask / target_mapping and weights."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from minibert.permutation import (check_order, permutation_masks, prediction_targets, rank_of,  # noqa: E402
                                  sample_order, target_mapping, to_perm_mask, xlnet_batch_masks)
from minibert.widgets import draw_permutation_masks, permutation_explorer, prediction_table  # noqa: E402

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
    typed = panel.children[1].children[0]
    typed.value = "0 0 1 2 3"  # a bad order: the panel keeps the last good one and says why
    assert torch.equal(panel.state["order"], first) and "repeated" in panel.children[1].children[1].value
    typed.value = "1 0 2 3 4"
    assert panel.state["order"].tolist() == [1, 0, 2, 3, 4]
    with pytest.raises(ValueError, match="separated by spaces"):
        panel.update(order="one two")


# -- the "New York" demonstration ------------------------------------------------------------------------------------
def test_new_york_gap_is_the_mutual_information():
    from minibert.joint_prediction import CityCorpus, exact_tables, expected_log_likelihood, invalid_mass, \
        mutual_information

    corpus = CityCorpus()
    tables = exact_tables(corpus)
    gap = expected_log_likelihood(corpus, tables["joint"]) - expected_log_likelihood(corpus, tables["independent"])
    assert abs(gap - mutual_information(corpus.joint)) < 1e-12 and gap > 1.0
    assert invalid_mass(corpus, tables["joint"]) == 0 and invalid_mass(corpus, tables["independent"]) > 0.5
    assert abs(float(tables["independent"].sum()) - 1) < 1e-12


def test_a_trained_mlm_shows_the_gap():
    from minibert.joint_prediction import CityCorpus, expected_log_likelihood, invalid_mass, mlm_tables, \
        train_city_mlm

    corpus = CityCorpus()
    model, losses = train_city_mlm(corpus, steps=300)
    tables = mlm_tables(model, corpus)
    independent = expected_log_likelihood(corpus, tables["independent"])
    left_to_right = expected_log_likelihood(corpus, tables["left_to_right"])
    assert left_to_right - independent > 0.8, (independent, left_to_right)
    assert invalid_mass(corpus, tables["independent"]) > 0.5 > 0.2 > invalid_mass(corpus, tables["left_to_right"])

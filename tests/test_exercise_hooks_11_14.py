"""The small hooks through which chapters 11-13 run the learner's code inside the library: a span selector in the
masker, the mask builder of the XLNet city tables, and the score function of DeBERTa's attention."""
import numpy as np
import pytest
import torch

from minibert.core.swap import swap_in
from minibert.exercises import get
from minibert.masking import Masker
from minibert.models.deberta.disentangled_attention import DisentangledSelfAttention
from minibert.models.deberta.model import DebertaV2Config, DebertaV2Model
from minibert.models.xlnet.joint_prediction import CityCorpus, train_city_xlnet, xlnet_tables
from minibert.models.xlnet.permutation import permutation_masks

pytestmark = pytest.mark.usefixtures("one_thread")


def _span_masker(**options):
    return Masker(mask_token_id=1, vocab_size=50, special_ids=[0, 1, 2], unit="span", **options)


def test_a_span_selector_replaces_the_masker_s_selection_and_gets_its_settings():
    ids = torch.randint(3, 50, (4, 40), generator=torch.Generator().manual_seed(0))
    words = torch.arange(40).div(2, rounding_mode="floor").expand(4, -1)  # two-token words
    solution = get("11.5").run_solution()
    ours, theirs = _span_masker(), _span_masker(span_selector=solution)
    a, b = ours(ids, 3, word_ids=words), theirs(ids, 3, word_ids=words)
    assert torch.equal(a.input_ids, b.input_ids) and a.spans == b.spans  # the model solution draws as the library

    seen = {}

    def selector(groups, generator, rate, p, max_words):
        seen.update(rate=rate, p=p, max_words=max_words)
        start, end = groups[0]
        return [(np.int64(start), end, 1)]  # any integer type

    masked = _span_masker(rate=0.3, span_p=0.5, max_span=4, span_selector=selector)(ids[0], 0, word_ids=words[0])
    assert seen == {"rate": 0.3, "p": 0.5, "max_words": 4}
    assert masked.spans == [(0, 2, 1)] and int((masked.labels != -100).sum()) == 2


def test_a_span_selector_is_refused_where_it_cannot_apply():
    with pytest.raises(ValueError, match="unit='span'"):
        Masker(1, 50, [0], unit="word", span_selector=lambda *a, **k: [])
    with pytest.raises(ValueError, match="callable"):
        Masker(1, 50, [0], unit="span", span_selector="mine")
    with pytest.raises(ValueError, match="max_predictions"):
        Masker(1, 50, [0], unit="span", span_selector=lambda *a, **k: [], max_predictions=5)


def test_the_city_tables_take_a_mask_builder():
    corpus = CityCorpus()
    model, _ = train_city_xlnet(corpus, steps=2, seed=0)
    reference = xlnet_tables(model, corpus)
    as_numpy = xlnet_tables(model, corpus, masks=lambda order, n: tuple(m.numpy() for m in permutation_masks(order, n)))
    solution = xlnet_tables(model, corpus, masks=get("12.1").run_solution())
    for name in reference:
        assert torch.equal(reference[name], as_numpy[name]) and torch.equal(reference[name], solution[name])


def test_disentangled_attention_takes_a_score_function_through_swap_in():
    torch.manual_seed(0)
    config = DebertaV2Config.tiny(position_buckets=8, max_relative_positions=64)
    model = DebertaV2Model(config).eval()
    ids = torch.randint(1, config.vocab_size, (2, 30))
    mask = torch.ones_like(ids)
    mask[1, 20:] = 0
    calls = []

    def library_terms_via_hook(q, k, pos_key, pos_query, span, bucket):
        calls.append((span, bucket is not None))
        return get("13.5").run_solution()(q, k, pos_key, pos_query, span, bucket)

    mine = swap_in(model, DisentangledSelfAttention, lambda old: old.with_scores(library_terms_via_hook))
    with torch.no_grad():
        expected = model(ids, attention_mask=mask).last_hidden_state
        got = mine(ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert calls and all(c == (8, True) for c in calls)
    assert not any(getattr(m, "scores_function", None) for m in model.modules()), "the original is untouched"
    wrong = swap_in(model, DisentangledSelfAttention, lambda old: old.with_scores(
        lambda q, k, pk, pq, span, bucket: q @ k.transpose(-1, -2)))
    with torch.no_grad():
        assert not torch.allclose(wrong(ids, attention_mask=mask).last_hidden_state, expected, atol=1e-3)


def test_a_score_function_is_refused_where_it_cannot_apply():
    attention = DisentangledSelfAttention(8, 2, max_relative_positions=4, pos_att_type=("c2p",))
    with pytest.raises(ValueError, match="both position terms"):
        attention.with_scores(lambda *args: None)
    with pytest.raises(TypeError, match="function"):
        DisentangledSelfAttention(8, 2, max_relative_positions=4).with_scores("scores")

"""Masking procedures: statistics on >= 100k tokens, invariants, reproducibility, bad input.

Tolerances: a proportion estimated from N independent draws has standard deviation sqrt(p (1 - p) / N). Every
statistical assertion below allows about 5 standard deviations (stated at each test), so a correct implementation
fails with probability below 1e-6 while a wrong rate (0.10 instead of 0.15, 0.9/0.05/0.05 instead of 0.8/0.1/0.1)
is off by tens of standard deviations. The seeds are fixed, so the tests are deterministic anyway.
"""
import math

import pytest
import torch

from minibert.masking import (IGNORE_INDEX, KEPT, MASKED, NOT_SELECTED, RANDOM, Masker, chinese_word_ids, encode_pair,
                              mask_last_token, nsp_pairs, pack_full_sentences, sop_pairs, span_length_distribution,
                              wordpiece_word_ids)
from minibert.masking.dataset import MaskedLMDataset

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
SPECIAL = {PAD, CLS, SEP, MASK}
VOCAB = 500


def corpus(rows=900, length=160, seed=0):
    """``rows`` sequences ``[CLS] ... [SEP] [PAD]...`` of random ordinary ids with varied lengths, and word ids
    (words of 1-3 pieces). 900 x ~118 = ~106k maskable tokens."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, VOCAB, (rows, length), generator=g)
    lengths = torch.randint(length // 2, length + 1, (rows,), generator=g)
    lengths[0] = length
    positions = torch.arange(length)[None, :]
    ids[:, 0] = CLS
    ids[torch.arange(rows), lengths - 1] = SEP
    ids[positions >= lengths[:, None]] = PAD
    attention = (positions < lengths[:, None]).long()
    sizes = torch.randint(1, 4, (rows, length), generator=g)
    words = torch.full((rows, length), -1)
    for r in range(rows):
        w, t = 0, 1
        while t < lengths[r] - 1:
            end = min(t + int(sizes[r, t]), int(lengths[r]) - 1)
            words[r, t:end] = w
            w, t = w + 1, end
    return ids, attention, words


IDS, ATTENTION, WORDS = corpus()
MASKABLE = (ATTENTION.bool() & ~torch.isin(IDS, torch.tensor(sorted(SPECIAL))))
N_TOKENS = int(MASKABLE.sum())


def make(**options):
    return Masker(MASK, VOCAB, SPECIAL, **options)


def test_corpus_is_big_enough():
    assert N_TOKENS >= 100_000


def test_exact_selection_count_per_sequence():
    batch = make(max_predictions=20)(IDS, 0, attention_mask=ATTENTION)
    n = MASKABLE.sum(1)
    expected = torch.clamp(torch.tensor([max(1, round(0.15 * int(k))) for k in n]), max=20)
    assert torch.equal((batch.labels != IGNORE_INDEX).sum(1), expected)
    batch = make()(IDS, 1, attention_mask=ATTENTION)
    expected = torch.tensor([max(1, round(0.15 * int(k))) for k in n])
    assert torch.equal((batch.labels != IGNORE_INDEX).sum(1), expected)


@pytest.mark.parametrize("split", [(0.8, 0.1, 0.1), (0.5, 0.3, 0.2), (0.0, 0.2, 0.8)])
def test_80_10_10_split_and_what_each_decision_does(split):
    batch = make(split=split)(IDS, 2, attention_mask=ATTENTION)
    selected = batch.labels != IGNORE_INDEX
    n = int(selected.sum())  # ~18k predictions
    for code, p in zip((MASKED, RANDOM, KEPT), split):
        share = float((batch.decisions[selected] == code).double().mean())
        tolerance = 5 * math.sqrt(max(p * (1 - p), 1e-4) / n)  # 5 standard deviations: <= 0.015
        assert abs(share - p) < tolerance, (code, share, p)
    assert (batch.input_ids[batch.decisions == MASKED] == MASK).all()
    assert torch.equal(batch.input_ids[batch.decisions == KEPT], IDS[batch.decisions == KEPT])
    random_ids = batch.input_ids[batch.decisions == RANDOM]
    assert not torch.isin(random_ids, torch.tensor(sorted(SPECIAL))).any()
    if split[1] > 0.2:  # random replacements are spread over the vocabulary, not one token
        assert random_ids.unique().numel() > 0.9 * (VOCAB - len(SPECIAL))
    assert torch.equal(batch.labels[selected], IDS[selected])
    assert torch.equal(batch.decisions != NOT_SELECTED, selected)


def test_bernoulli_rate_on_100k_tokens():
    batch = make(selection="bernoulli")(IDS, 3, attention_mask=ATTENTION)
    rate = float((batch.labels != IGNORE_INDEX).sum()) / N_TOKENS
    assert abs(rate - 0.15) < 5 * math.sqrt(0.15 * 0.85 / N_TOKENS)  # 5 sd = 0.0052
    counts = (batch.labels != IGNORE_INDEX).sum(1)
    assert counts.unique().numel() > 5  # per-sequence counts vary, unlike the exact procedure


@pytest.mark.parametrize("options", [dict(), dict(selection="bernoulli"), dict(unit="word"),
                                     dict(unit="word", selection="bernoulli"), dict(unit="span")])
def test_specials_and_padding_never_touched(options):
    batch = make(**options)(IDS, 4, word_ids=WORDS, attention_mask=ATTENTION)
    assert (batch.decisions[~MASKABLE] == NOT_SELECTED).all()
    assert (batch.labels[~MASKABLE] == IGNORE_INDEX).all()
    assert torch.equal(batch.input_ids[~MASKABLE], IDS[~MASKABLE])


def test_padding_is_never_selected_even_when_pad_is_not_listed_as_special():
    masker = Masker(MASK, VOCAB, {CLS, SEP})  # forgot PAD: the attention mask still protects padding
    batch = masker(IDS, 5, attention_mask=ATTENTION)
    assert (batch.labels[ATTENTION == 0] == IGNORE_INDEX).all()


@pytest.mark.parametrize("unit", ["word", "span"])
def test_whole_words_all_or_nothing(unit):
    batch = make(unit=unit)(IDS, 6, word_ids=WORDS, attention_mask=ATTENTION)
    selected = batch.labels != IGNORE_INDEX
    for r in range(0, IDS.shape[0], 7):
        for w in WORDS[r].unique().tolist():
            if w < 0:
                continue
            states = selected[r][WORDS[r] == w]
            assert states.all() or not states.any(), (r, w)
    budget = torch.tensor([max(1, round(0.15 * int(k))) for k in MASKABLE.sum(1)])
    assert (selected.sum(1) <= budget).all()  # never more than BERT's budget
    assert float(selected.sum()) / float(budget.sum()) > 0.95  # whole words leave at most a token or two unfilled


def test_whole_word_budget_matches_bert_when_words_fit():
    ids = torch.tensor([[CLS] + list(range(10, 30)) + [SEP]])
    words = [None] + [i // 2 for i in range(20)] + [None]  # ten 2-piece words
    batch = make(unit="word", rate=0.2)(ids, 0, word_ids=[words])
    assert int((batch.labels != IGNORE_INDEX).sum()) == 4  # round(0.2 * 20) = 4 = two whole words


def test_span_lengths_follow_truncated_geometric():
    probs = span_length_distribution(0.2, 10)
    mean = float((probs * torch.arange(1, 11)).sum())
    assert abs(mean - 3.797) < 1e-3 and abs(float(probs.sum()) - 1) < 1e-12
    # realised spans on long sequences of one-piece words (spans cut short only by neighbours and the budget)
    length = 2000
    ids = torch.randint(5, VOCAB, (60, length), generator=torch.Generator().manual_seed(7))
    words = torch.arange(length).repeat(60, 1)
    batch = make(unit="span")(ids, 8, word_ids=words)
    lengths = torch.tensor([n for row in batch.spans for _, _, n in row], dtype=torch.float64)
    assert (lengths <= 10).all() and (lengths >= 1).all()
    # ~3000 spans, sd of a length ~2.5 -> standard error ~0.05; truncation by neighbours lowers the mean a little
    assert 3.5 < float(lengths.mean()) < 3.95, float(lengths.mean())
    assert abs(float((batch.labels != IGNORE_INDEX).double().mean()) - 0.15) < 1e-3
    # the empirical distribution of lengths follows the geometric shape: 1 is the most common, then 2, ...
    share = torch.bincount(lengths.long(), minlength=11)[1:].double() / len(lengths)
    assert share[0] > share[1] > share[2] > share[4] > share[8]


def test_span_decision_is_one_per_span():
    batch = make(unit="span")(IDS, 9, word_ids=WORDS, attention_mask=ATTENTION)
    spans = decisions = 0
    for r, row in enumerate(batch.spans):
        for start, end, _ in row:
            codes = batch.decisions[r, start:end].unique()
            assert codes.numel() == 1 and int(codes) != NOT_SELECTED
            spans += 1
            decisions += int(codes) == MASKED
    assert spans > 3000 and abs(decisions / spans - 0.8) < 5 * math.sqrt(0.16 / spans)


def test_same_seed_same_masks_other_seed_other_masks():
    for options in (dict(), dict(unit="word"), dict(unit="span"), dict(selection="bernoulli")):
        masker = make(**options)
        a = masker(IDS[:50], torch.Generator().manual_seed(11), word_ids=WORDS[:50], attention_mask=ATTENTION[:50])
        b = masker(IDS[:50], 11, word_ids=WORDS[:50], attention_mask=ATTENTION[:50])
        c = masker(IDS[:50], 12, word_ids=WORDS[:50], attention_mask=ATTENTION[:50])
        assert torch.equal(a.input_ids, b.input_ids) and torch.equal(a.labels, b.labels)
        assert not torch.equal(a.labels, c.labels)


def test_dynamic_masking_differs_per_epoch_static_does_not():
    blocks = [row[ATTENTION[i].bool()].tolist() for i, row in enumerate(IDS[:40])]
    dynamic = MaskedLMDataset(blocks, make(), PAD, seed=0, dynamic=True)
    static = MaskedLMDataset(blocks, make(), PAD, seed=0, dynamic=False)
    e0, e1 = dynamic.batch(range(40), epoch=0), dynamic.batch(range(40), epoch=1)
    assert not torch.equal(e0["labels"], e1["labels"])
    assert torch.equal(e0["labels"], dynamic.batch(range(40), epoch=0)["labels"])  # reproducible
    same = (e0["labels"] != IGNORE_INDEX) & (e1["labels"] != IGNORE_INDEX)
    assert float(same.sum()) / float((e0["labels"] != IGNORE_INDEX).sum()) < 0.3  # mostly new positions
    assert torch.equal(static.batch(range(40), epoch=0)["labels"], static.batch(range(40), epoch=5)["labels"])
    # a mask depends on the example, not on its batch companions
    assert torch.equal(dynamic.batch([3, 7], epoch=2)["labels"][1], dynamic.batch([7], epoch=2)["labels"][0])


def test_wordpiece_word_ids():
    tokens = ["[CLS]", "token", "##ization", "is", "un", "##believ", "##able", "[SEP]", "##x", "[PAD]"]
    assert wordpiece_word_ids(tokens) == [None, 0, 0, 1, 2, 2, 2, None, 3, None]


def test_chinese_whole_word_masking_example():
    """The seeds' example: 我喜欢吃西瓜，还喜欢跑步 -> jieba words; 西瓜 and 跑步 are masked as wholes."""
    text = "我喜欢吃西瓜，还喜欢跑步"
    tokens = ["[CLS]", *text, "[SEP]"]
    word_ids = chinese_word_ids(tokens)
    words = {}
    for token, w in zip(tokens, word_ids):
        if w is not None:
            words[w] = words.get(w, "") + token
    assert list(words.values()) == ["我", "喜欢", "吃", "西瓜", "，", "还", "喜欢", "跑步"]
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(text))])}
    ids = torch.tensor([vocab[t] for t in tokens])
    masker = Masker(vocab["[MASK]"], len(vocab), SPECIAL, unit="word", rate=0.3)
    for seed in range(30):
        selected = masker(ids, seed, word_ids=word_ids).labels != IGNORE_INDEX
        for w in set(x for x in word_ids if x is not None):
            group = selected[[i for i, x in enumerate(word_ids) if x == w]]
            assert group.all() or not group.any()


def test_custom_segmenter_and_its_errors():
    assert chinese_word_ids(["ab", "c"], segment=lambda s: ["abc"]) == [0, 0]
    with pytest.raises(ValueError, match="changed the text"):
        chinese_word_ids(["a", "b"], segment=lambda s: ["x"])
    with pytest.raises(TypeError, match="list of token strings"):
        chinese_word_ids("西瓜")


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_rate_outside_open_interval(rate):
    with pytest.raises(ValueError, match=r"masking rate must be (in \(0, 1\)|a finite number)"):
        make(rate=rate)


@pytest.mark.parametrize("split", [(0.8, 0.1, 0.2), (0.8, 0.2), (1.1, -0.1, 0.0)])
def test_split_must_sum_to_one(split):
    with pytest.raises(ValueError, match="summing to 1"):
        make(split=split)


def test_clear_errors_on_bad_input():
    with pytest.raises(ValueError, match="no maskable token"):
        make()(torch.tensor([[CLS, SEP, PAD], [CLS, 7, SEP]]), 0)
    with pytest.raises(ValueError, match="word_ids has shape"):
        make(unit="word")(IDS[:2], 0, word_ids=WORDS[:3])
    with pytest.raises(ValueError, match="needs word_ids"):
        make(unit="span")(IDS[:2], 0)
    with pytest.raises(ValueError, match="attention_mask has shape"):
        make()(IDS[:2], 0, attention_mask=ATTENTION[:3])
    with pytest.raises(TypeError, match="integer"):
        make()(IDS[:2].float(), 0)
    with pytest.raises(TypeError, match="Generator"):
        make()(IDS[:2], "seed")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        make()(torch.tensor([CLS, VOCAB + 1, SEP]), 0)
    with pytest.raises(ValueError, match="selection='exact'"):
        make(unit="span", selection="bernoulli")


def test_label_shape_mismatch_is_caught_by_the_model():
    from minibert import BertConfig, BertForMaskedLM

    model = BertForMaskedLM(BertConfig.tiny(vocab_size=VOCAB))
    batch = make()(IDS[:2, :32], 0)
    with pytest.raises(ValueError, match="labels has shape"):
        model(batch.input_ids, labels=batch.labels[:, :-1])


def test_one_dimensional_input_round_trip():
    batch = make()(IDS[0], 0)
    assert batch.input_ids.shape == IDS[0].shape and isinstance(batch.spans, list)


# -- MLM vs LM ----------------------------------------------------------------------------------------------------
def test_masked_last_token_under_causal_mask_is_next_token_prediction():
    from minibert import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig.tiny(vocab_size=VOCAB)).eval()
    ids = torch.randint(5, VOCAB, (3, 12), generator=torch.Generator().manual_seed(1))
    inputs, labels, causal = mask_last_token(ids, MASK)
    assert (labels[:, :-1] == IGNORE_INDEX).all() and torch.equal(labels[:, -1], ids[:, -1])
    with torch.no_grad():
        base = model(inputs, attention_mask=causal).logits[:, -1]
        # the last position's prediction depends only on the prefix: changing the prefix changes it...
        changed = inputs.clone()
        changed[:, 3] = (changed[:, 3] + 1 - 5) % (VOCAB - 5) + 5
        assert (model(changed, attention_mask=causal).logits[:, -1] - base).abs().max() > 1e-4
        # ...and a causal model's prediction at position t ignores everything right of t
        longer = torch.cat([inputs, torch.randint(5, VOCAB, (3, 4))], 1)
        _, _, causal_longer = mask_last_token(longer, MASK)
        prefix = model(longer, attention_mask=causal_longer).logits[:, inputs.shape[1] - 1]
        assert (prefix - base).abs().max() < 1e-5
        # without the causal mask, BERT's prediction at a masked middle position reads the right context
        _, _, bidirectional = mask_last_token(longer, MASK, causal=False)
        other = longer.clone()
        other[:, -1] = (other[:, -1] + 1 - 5) % (VOCAB - 5) + 5
        a = model(longer, attention_mask=bidirectional).logits[:, 5]
        b = model(other, attention_mask=bidirectional).logits[:, 5]
        assert (a - b).abs().max() > 1e-4


# -- sentence pairs and packing -----------------------------------------------------------------------------------
def documents(n_docs=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    docs = []
    for d in range(n_docs):
        n_sentences = int(torch.randint(1, 12, (1,), generator=g))
        # every token of document d is in [10 + 100 d, 10 + 100 d + 100): a token tells its document
        docs.append([(10 + 100 * d + torch.randint(0, 100, (int(torch.randint(3, 25, (1,), generator=g)),),
                                                   generator=g)).tolist() for _ in range(n_sentences)])
    return docs


def doc_of(token):
    return (token - 10) // 100


def test_nsp_pairs_half_random_from_other_documents():
    docs = documents(n_docs=150)
    pairs = nsp_pairs(docs, max_tokens=64, generator=0)
    assert len(pairs) > 100
    random_share = sum(p.label for p in pairs) / len(pairs)
    assert abs(random_share - 0.5) < 5 * math.sqrt(0.25 / len(pairs))
    for p in pairs:
        assert len(p.a) + len(p.b) <= 61 and p.a and p.b
        same = doc_of(p.a[0]) == doc_of(p.b[0])
        assert same == (p.label == 0)
        if p.label == 0:  # B continues A inside the document's token stream
            stream = [t for s in docs[doc_of(p.a[0])] for t in s]
            joined = p.a + p.b
            assert any(stream[i:i + len(joined)] == joined for i in range(len(stream))) or len(joined) >= 60


def test_sop_pairs_swapped_half_the_time_same_document():
    docs = documents(seed=1)
    pairs = sop_pairs(docs, max_tokens=64, generator=1)
    assert abs(sum(p.label for p in pairs) / len(pairs) - 0.5) < 5 * math.sqrt(0.25 / len(pairs))
    for p in pairs:
        assert doc_of(p.a[0]) == doc_of(p.b[-1])
    ids, types = encode_pair(pairs[0].a, pairs[0].b, CLS, SEP)
    assert ids[0] == CLS and ids.count(SEP) == 2 and types == [0] * (len(pairs[0].a) + 2) + [1] * (len(pairs[0].b) + 1)


def test_full_sentences_packing_crosses_documents_and_keeps_every_token():
    docs = documents(seed=2)
    blocks = pack_full_sentences(docs, 40, CLS, SEP)
    assert all(len(b) <= 40 and b[0] == CLS and b[-1] == SEP for b in blocks)
    content = [t for b in blocks for t in b[1:-1] if t != SEP]
    assert content == [t for d in docs for s in d for t in s]  # nothing dropped, order kept
    assert any(len({doc_of(t) for t in b[1:-1] if t != SEP}) > 1 for b in blocks)  # crosses boundaries
    fill = sum(len(b) for b in blocks) / (40 * len(blocks))
    assert fill > 0.7  # sentences of 3-24 tokens in 38-token blocks: on average less than a sentence is left empty


def test_pair_builders_reject_bad_documents():
    with pytest.raises(TypeError, match="tokenize it first"):
        nsp_pairs([["a sentence"]], 64)
    with pytest.raises(ValueError, match="two non-empty documents"):
        nsp_pairs([[[5, 6, 7]]], 64)
    with pytest.raises(ValueError, match="max_tokens"):
        pack_full_sentences([[[5, 6]]], 2, CLS, SEP)


# -- the masking explorer widget ----------------------------------------------------------------------------------
def test_masking_view_and_drawing():
    import matplotlib

    matplotlib.use("Agg")
    from minibert.widgets import draw_masking, masking_explorer, masking_view

    view = masking_view("我喜欢吃西瓜，还喜欢跑步", "whole word", rate=0.3, seed=3)
    assert view["tokens"][0] == "[CLS]" and len(view["tokens"]) == 14
    picked = [t for t, target in enumerate(view["targets"]) if target is not None]
    assert len(picked) == view["budget"] == 4
    groups = {}
    for t, w in enumerate(view["word_ids"]):
        if w is not None:
            groups.setdefault(w, []).append(t in picked)
    assert all(all(g) or not any(g) for g in groups.values())
    text = "Masked language models predict the hidden words of a sentence from both sides of it."
    view = masking_view(text, "token", rate=0.5, split=(0.0, 0.0, 1.0), seed=1)
    assert view["seen"] == view["tokens"]  # everything 'unchanged', yet 8 targets to predict
    assert sum(t is not None for t in view["targets"]) == 8
    fig = draw_masking(masking_view(text, "span", rate=0.3, seed=3))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("[MASK]") >= 1 and "span masking" in fig.axes[0].get_title()
    panel = masking_explorer(text)
    fig = panel.update(strategy="span", rate=0.4, mask_share=1.0, random_share=0.0, seed=5)
    assert panel.view["strategy"] == "span" and panel.view["split"] == (1.0, 0.0, 0.0)
    assert all(s == "[MASK]" for s, target in zip(panel.view["seen"], panel.view["targets"]) if target is not None)
    assert fig is panel.figure
    panel.update(mask_share=0.9, random_share=0.5)  # more than 1 in total: the random share is capped
    assert panel.view["split"] == pytest.approx((0.9, 0.1, 0.0))
    with pytest.raises(ValueError, match="unknown setting"):
        panel.update(colour="red")
    with pytest.raises(ValueError, match="type a sentence"):
        masking_view("   ")

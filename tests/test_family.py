"""The family: T5 span corruption and BART noise (properties), the decoder-only LM (= transformers.BertLMHeadModel
with is_decoder=True, generation included) and XLM's translation LM input (= transformers.XLMModel)."""
import functools
import math
from collections import Counter

import pytest
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st

from minibert import BertConfig
from minibert.models.family.causal_lm import CausalLM
from minibert.models.family.noise import (document_rotation, poisson_span_lengths, sentence_permutation, span_corrupt,
                                          span_uncorrupt, spans_of, t5_noise_mask, t5_span_corruption,
                                          t5_span_length_pmf, text_infilling, token_deletion, token_masking)
from minibert.models.family.xlm import XLMConfig, XLMModel, translation_lm_input

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def randomize(randomize):
    """LayerNorm scales around 1, the other weights N(0, 0.2^2)."""
    return functools.partial(randomize, norms_near_one=True)


TOL = 1e-5
SENTINELS = [f"<extra_id_{k}>" for k in range(100)]
documents = st.lists(st.integers(0, 50), min_size=2, max_size=120)
seeds = st.integers(0, 2**31 - 1)


# -- T5 span corruption ---------------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(documents, seeds, st.floats(0.05, 0.6), st.floats(1.0, 6.0))
def test_t5_corruption_keeps_every_token_recoverable(tokens, seed, density, mean_span):
    inputs, targets = t5_span_corruption(tokens, SENTINELS, density, mean_span, generator=seed)
    assert span_uncorrupt(inputs, targets, SENTINELS) == tokens
    mask = t5_noise_mask(len(tokens), density, mean_span, generator=seed)
    noise = sum(mask)
    assert noise == min(max(round(len(tokens) * density), 1), len(tokens) - 1)
    assert not mask[0], "T5's masks start with a kept span"
    spans = spans_of(mask)
    assert len(spans) == min(max(round(noise / mean_span), 1), len(tokens) - noise)
    assert len(targets) == noise + len(spans) and len(inputs) == len(tokens) - noise + len(spans)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=60), seeds)
def test_any_noise_mask_round_trips(mask, seed):
    tokens = torch.randint(0, 9, (len(mask),), generator=torch.Generator().manual_seed(seed)).tolist()
    inputs, targets = span_corrupt(tokens, mask, SENTINELS)
    assert span_uncorrupt(inputs, targets, SENTINELS) == tokens
    assert inputs.count(SENTINELS[0]) == (1 if any(mask) else 0)


def test_t5_span_lengths_follow_the_random_composition():
    """512 tokens at 15%: 77 noise tokens in 26 spans, every composition equally likely."""
    lengths = Counter()
    for seed in range(400):
        mask = t5_noise_mask(512, generator=seed)
        lengths.update(end - start for start, end in spans_of(mask))
    total = sum(lengths.values())
    pmf = t5_span_length_pmf(77, 26)
    assert abs(sum(pmf.values()) - 1) < 1e-12
    assert abs(sum(l * p for l, p in pmf.items()) - 77 / 26) < 1e-9  # mean span length ~3
    for length in range(1, 9):
        assert abs(lengths[length] / total - pmf[length]) < 0.01, length


def test_t5_paper_example_and_budget():
    tokens = "Thank you for inviting me to your party last week .".split()
    mask = [t in ("for", "inviting", "last") for t in tokens]
    inputs, targets = span_corrupt(tokens, mask, ["<X>", "<Y>", "<Z>"])
    assert " ".join(inputs) == "Thank you <X> me to your party <Y> week ."
    assert " ".join(targets) == "<X> for inviting <Y> last"
    with pytest.raises(ValueError, match="sentinel budget exceeded: 2 noise spans but only 1"):
        span_corrupt(tokens, mask, ["<X>"])
    with pytest.raises(ValueError, match="sentinel budget exceeded"):
        t5_span_corruption(list(range(1000)), SENTINELS[:3])
    with pytest.raises(ValueError, match="already contains sentinel"):
        span_corrupt(["<X>", "a"], [False, True], ["<X>"])
    with pytest.raises(ValueError, match="length must be"):
        t5_noise_mask(1)
    with pytest.raises(ValueError, match="noise_density"):
        t5_noise_mask(10, noise_density=1.5)
    with pytest.raises(ValueError, match="empty"):
        t5_span_corruption([], SENTINELS)
    with pytest.raises(TypeError, match="split"):
        t5_span_corruption("a string", SENTINELS)


# -- BART noise -----------------------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(documents, seeds, st.floats(0.0, 0.9))
def test_bart_noise_targets_are_the_document_and_sources_are_consistent(tokens, seed, ratio):
    tokens = [f"w{t}" for t in tokens]
    masked = token_masking(tokens, ratio, generator=seed)
    assert masked.target == tokens and len(masked.source) == len(tokens)
    assert [i for i, t in enumerate(masked.source) if t == "[MASK]"] == masked.edits["positions"]
    assert len(masked.edits["positions"]) == round(ratio * len(tokens))

    deleted = token_deletion(tokens, ratio, generator=seed)
    gone = set(deleted.edits["positions"])
    assert deleted.target == tokens and deleted.source == [t for i, t in enumerate(tokens) if i not in gone]

    infilled = text_infilling(tokens, ratio, generator=seed)
    assert infilled.target == tokens
    assert sum(l for _, l in infilled.edits["spans"]) == round(ratio * len(tokens))
    assert infilled.source.count("[MASK]") == len(infilled.edits["spans"])
    spans = iter(infilled.edits["spans"])  # fill each [MASK] with its span: the document comes back
    restored = []
    for token in infilled.source:
        if token == "[MASK]":
            start, length = next(spans)
            restored += tokens[start:start + length]
        else:
            restored.append(token)
    assert restored == tokens

    rotated = document_rotation(tokens, generator=seed)
    k = rotated.edits["offset"]
    assert rotated.target == tokens and rotated.source == tokens[k:] + tokens[:k]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=8), min_size=1, max_size=8), seeds)
def test_sentence_permutation_is_a_permutation(sentences, seed):
    noised = sentence_permutation(sentences, generator=seed)
    assert sorted(noised.edits["order"]) == list(range(len(sentences)))
    assert noised.source == [t for k in noised.edits["order"] for t in sentences[k]]
    assert noised.target == [t for s in sentences for t in s]


def test_infilling_span_lengths_are_poisson_3():
    """Every span but the last (cut to fit the budget) is a Poisson(3) draw, zero-length spans included."""
    counts = Counter()
    for seed in range(300):
        lengths = poisson_span_lengths(300, 3.0, generator=seed)
        assert sum(lengths) == 300
        counts.update(lengths[:-1])
    total = sum(counts.values())
    assert abs(sum(l * c for l, c in counts.items()) / total - 3.0) < 0.05
    for k in range(0, 9):
        expected = math.exp(-3) * 3 ** k / math.factorial(k)
        assert abs(counts[k] / total - expected) < 0.01, k
    inserts = text_infilling(list(range(1000)), 0.3, generator=1)
    assert any(length == 0 for _, length in inserts.edits["spans"]), "0-length spans insert a [MASK]"


def test_bart_bad_input():
    with pytest.raises(ValueError, match="ratio"):
        token_masking(["a", "b"], ratio=1.0)
    with pytest.raises(ValueError, match="empty"):
        token_deletion([])
    with pytest.raises(ValueError, match="poisson_lambda"):
        text_infilling(["a", "b"], poisson_lambda=0)
    with pytest.raises(ValueError, match="non-empty list of sentences"):
        sentence_permutation([])
    with pytest.raises(TypeError, match="Generator"):
        document_rotation(["a"], generator="seed")


# -- decoder-only LM ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def causal_pair(randomize, hf_twin, tmp_path_factory):
    config = BertConfig(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=80)
    torch.manual_seed(0)
    ours = CausalLM(config).eval()
    randomize(ours, 1)
    theirs = hf_twin(ours, transformers.BertLMHeadModel, tmp_path_factory.mktemp("causal"))
    assert theirs.config.is_decoder
    return ours, theirs


def test_causal_lm_equals_transformers_with_padding(causal_pair):
    ours, theirs = causal_pair
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 97, (3, 80), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 50:] = 0
    mask[2, 7:] = 0
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        a = ours(ids, mask, labels=labels)
        b = theirs(input_ids=ids, attention_mask=mask, labels=labels)
    real = mask.bool()
    assert (a.logits - b.logits)[real].abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL
    # causality: changing a later token leaves every earlier prediction unchanged
    changed = ids.clone()
    changed[:, 40] = (changed[:, 40] + 1) % 97
    with torch.no_grad():
        c = ours(changed, mask).logits
    assert torch.equal(c[:, :40], a.logits[:, :40]) and not torch.allclose(c[0, 40:], a.logits[0, 40:])


def test_greedy_generation_matches_transformers(causal_pair):
    ours, theirs = causal_pair
    prompt = torch.tensor([[5, 17, 42, 8], [1, 2, 3, 4]])
    mine = ours.generate(prompt, max_new_tokens=12)
    reference = theirs.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12, do_sample=False,
                                pad_token_id=0)
    assert torch.equal(mine, reference)
    assert torch.equal(ours.generate(prompt[0], max_new_tokens=12), mine[0])  # a 1-D prompt works too


def test_sampling_is_seeded_and_respects_top_k(causal_pair):
    ours, _ = causal_pair
    prompt = torch.tensor([5, 17, 42])
    a = ours.generate(prompt, 20, do_sample=True, generator=torch.Generator().manual_seed(0))
    b = ours.generate(prompt, 20, do_sample=True, generator=torch.Generator().manual_seed(0))
    c = ours.generate(prompt, 20, do_sample=True, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, c)
    top1 = ours.generate(prompt, 20, do_sample=True, top_k=1, generator=torch.Generator().manual_seed(3))
    assert torch.equal(top1, ours.generate(prompt, 20)), "top_k=1 sampling is greedy decoding"
    greedy = ours.generate(prompt, 20)
    stop = int(greedy[5])
    stopped = ours.generate(prompt, 20, eos_token_id=stop)
    assert len(stopped) == 6 and int(stopped[-1]) == stop


def test_causal_lm_bad_input(causal_pair):
    ours, _ = causal_pair
    with pytest.raises(ValueError, match="exceeds the model's 80 positions"):
        ours.generate(torch.tensor([1, 2, 3]), 78)
    with pytest.raises(ValueError, match="max_new_tokens"):
        ours.generate(torch.tensor([1, 2, 3]), 0)
    with pytest.raises(ValueError, match="temperature"):
        ours.generate(torch.tensor([1, 2]), 3, do_sample=True, temperature=0)
    with pytest.raises(ValueError, match="top_k"):
        ours.generate(torch.tensor([1, 2]), 3, do_sample=True, top_k=0)
    with pytest.raises(ValueError, match="non-empty"):
        ours.generate(torch.zeros(1, 0, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="at least two real tokens"):
        ours(torch.tensor([[1, 2]]), labels=torch.tensor([[1, -100]]))


def test_a_tiny_causal_lm_learns_to_count():
    torch.manual_seed(0)
    config = BertConfig.tiny(vocab_size=30, num_hidden_layers=1, max_position_embeddings=16,
                             hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = CausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(80):
        ids = torch.randint(0, 15, (16, 1), generator=g) + torch.arange(12)[None]
        loss = model(ids, labels=ids).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert model.generate(torch.tensor([3, 4, 5]), 6).tolist() == list(range(3, 12))


# -- XLM ------------------------------------------------------------------------------------------------------------
def test_translation_lm_input_layout():
    pair = translation_lm_input("the curtains were blue".split(), "les rideaux étaient bleus".split(), 0, 1)
    assert pair.input_ids == ["</s>", "the", "curtains", "were", "blue", "</s>",
                              "</s>", "les", "rideaux", "étaient", "bleus", "</s>"]
    assert pair.position_ids.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]
    assert pair.language_ids.tolist() == [0] * 6 + [1] * 6
    numeric = translation_lm_input([7, 8], [9], 2, 3, separator=1)
    assert numeric.input_ids.tolist() == [1, 7, 8, 1, 1, 9, 1] and len(numeric) == 7
    with pytest.raises(ValueError, match="non-empty"):
        translation_lm_input([], [1], 0, 1)
    with pytest.raises(ValueError, match="language id"):
        translation_lm_input([1], [1], -1, 1)


def test_xlm_equals_transformers(randomize, tmp_path):
    hf_config = transformers.XLMConfig(vocab_size=120, emb_dim=32, n_layers=2, n_heads=4, n_langs=3,
                                       max_position_embeddings=64, pad_index=2, pad_token_id=2)
    torch.manual_seed(0)
    theirs = transformers.XLMModel(hf_config).eval()
    randomize(theirs, 4)
    theirs.save_pretrained(tmp_path)
    ours = XLMModel.from_pretrained(tmp_path)
    assert ours.config.type_vocab_size == 3 and ours.config.intermediate_size == 128
    g = torch.Generator().manual_seed(5)
    batch = [translation_lm_input(torch.randint(5, 120, (n,), generator=g).tolist(),
                                  torch.randint(5, 120, (m,), generator=g).tolist(), a, b, separator=1)
             for n, m, a, b in ((20, 25, 0, 1), (10, 7, 2, 0), (30, 30, 1, 2))]
    width = max(len(x) for x in batch)
    ids = torch.full((3, width), 2)
    positions, languages, mask = torch.zeros_like(ids), torch.zeros_like(ids), torch.zeros_like(ids)
    for row, x in enumerate(batch):
        n = len(x)
        ids[row, :n], positions[row, :n], languages[row, :n], mask[row, :n] = (x.input_ids, x.position_ids,
                                                                              x.language_ids, 1)
    with torch.no_grad():
        a = ours(ids, languages, positions, mask).last_hidden_state
        b = theirs(input_ids=ids, langs=languages, position_ids=positions, attention_mask=mask).last_hidden_state
        restarted = ours(ids, languages, None, mask).last_hidden_state
    real = mask.bool()
    assert (a - b)[real].abs().max() < TOL
    assert (restarted - a)[real].abs().max() > 0.01, "the reset positions must matter"
    ours.save_pretrained(tmp_path / "back")
    again = transformers.XLMModel.from_pretrained(tmp_path / "back").eval()
    with torch.no_grad():
        c = again(input_ids=ids, langs=languages, position_ids=positions, attention_mask=mask).last_hidden_state
    assert (c - b)[real].abs().max() < TOL
    with pytest.raises(ValueError, match="causal"):
        XLMConfig.from_dict({**hf_config.to_dict(), "causal": True})

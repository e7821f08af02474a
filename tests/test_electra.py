"""ELECTRA: discriminator and generator equal transformers' with the same random weights (both directions, with
padding); the pair shares embeddings, samples without gradient, weights RTD by 50, and its discriminator learns."""
import functools
import math

import pytest
import torch
import transformers

from minibert.models.electra import (Electra, ElectraConfig, ElectraDiscriminator, ElectraGenerator, UnigramElectra,
                                     detection_metrics, sample_replacements)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def randomize(randomize):
    """LayerNorm scales around 1, the other weights N(0, 0.2^2)."""
    return functools.partial(randomize, norms_near_one=True)


TOL = 1e-5

CONFIGS = [  # factorised (E < H), E = H, and E > H with another activation and a padding id
    dict(vocab_size=203, embedding_size=16, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
         intermediate_size=80, max_position_embeddings=96),
    dict(vocab_size=150, embedding_size=32, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
         intermediate_size=64, max_position_embeddings=128, type_vocab_size=3),
    dict(vocab_size=120, embedding_size=40, hidden_size=24, num_hidden_layers=1, num_attention_heads=3,
         intermediate_size=30, hidden_act="gelu_new", max_position_embeddings=64, pad_token_id=4, layer_norm_eps=1e-7),
]


@pytest.mark.parametrize("overrides", CONFIGS)
def test_discriminator_equals_transformers(hf_twin, make_batch, randomize, overrides, tmp_path):
    config = ElectraConfig(**overrides)
    ours = ElectraDiscriminator(config).eval()
    randomize(ours, 1)
    assert (ours.bert.embedding_projection is None) == (config.embedding_width == config.hidden_size)
    theirs = hf_twin(ours, transformers.ElectraForPreTraining, tmp_path)
    ids, types, mask = make_batch(config)
    labels = (torch.rand(ids.shape, generator=torch.Generator().manual_seed(2)) < 0.3).long()
    with torch.no_grad():
        a = ours(ids, types, mask, labels=labels)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
    real = mask.bool()
    assert (a.logits - b.logits)[real].abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL
    assert b.logits[real].std() > 0.1  # the comparison is not between two near-constants


@pytest.mark.parametrize("overrides", CONFIGS)
def test_generator_equals_transformers(hf_twin, make_batch, randomize, overrides, tmp_path):
    config = ElectraConfig(**overrides)
    ours = ElectraGenerator(config).eval()
    randomize(ours, 5)
    theirs = hf_twin(ours, transformers.ElectraForMaskedLM, tmp_path)
    assert theirs.generator_lm_head.weight.data_ptr() == theirs.electra.embeddings.word_embeddings.weight.data_ptr()
    ids, types, mask = make_batch(config, seed=6)
    labels = torch.where(mask.bool() & (torch.rand(ids.shape) < 0.2), ids, torch.full_like(ids, -100))
    with torch.no_grad():
        a = ours(ids, types, mask, labels=labels, return_logits=True)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
    assert (a.logits - b.logits)[mask.bool()].abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL
    back = ElectraGenerator.from_pretrained(tmp_path)
    with torch.no_grad():
        assert torch.equal(back(ids, types, mask).logits, ours(ids, types, mask).logits)


def test_generator_config_is_a_quarter_with_the_same_embeddings():
    config = ElectraConfig()  # ELECTRA-small: H=256, 4 heads, FFN 1024, E=128
    small = config.generator_config()
    assert (small.hidden_size, small.num_attention_heads, small.intermediate_size) == (64, 1, 256)
    assert small.embedding_width == 128 and small.num_hidden_layers == config.num_hidden_layers
    with pytest.raises(ValueError, match="fraction"):
        config.generator_config(0)


def masked_batch(config, seed=0, batch=3, length=20, rate=0.3):
    g = torch.Generator().manual_seed(seed)
    original = torch.randint(5, config.vocab_size, (batch, length), generator=g)
    mask = torch.ones(batch, length, dtype=torch.long)
    mask[1, 15:] = 0
    original[1, 15:] = config.pad_token_id
    chosen = (torch.rand(batch, length, generator=g) < rate) & mask.bool()
    chosen[0, 0] = True
    labels = torch.where(chosen, original, torch.full_like(original, -100))
    masked_ids = torch.where(chosen, torch.full_like(original, 1), original)  # id 1 plays [MASK]
    return original, masked_ids, labels, mask


def test_pair_corrupts_only_masked_positions_and_labels_replacements():
    torch.manual_seed(0)
    model = Electra(ElectraConfig.tiny(vocab_size=30))  # tiny vocabulary: samples often hit the original
    original, masked_ids, labels, mask = masked_batch(model.discriminator.config)
    out = model(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(1))
    chosen = labels != -100
    assert torch.equal(out.corrupted_ids[~chosen], original[~chosen])  # untouched elsewhere, no [MASK] left
    assert torch.equal(out.replaced, out.corrupted_ids != original)
    assert not bool(out.replaced[~chosen].any())
    same = chosen & ~out.replaced
    assert bool(same.any()), "a sample equal to the original counts as original"
    assert out.generator_logits.shape == (int(chosen.sum()), 30)
    assert torch.allclose(out.loss, out.mlm_loss + 50 * out.rtd_loss)
    again = model(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again.corrupted_ids, out.corrupted_ids)  # a seeded generator repeats the draw


def test_shared_embeddings_and_no_gradient_through_sampling():
    torch.manual_seed(0)
    model = Electra(ElectraConfig.tiny())
    assert model.generator.bert.embeddings is model.discriminator.bert.embeddings
    assert model.generator.config.hidden_size == 16 and model.generator.bert.embedding_projection is not None
    original, masked_ids, labels, mask = masked_batch(model.discriminator.config)
    out = model(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(2))
    out.rtd_loss.backward()
    generator_only = [p for n, p in model.generator.named_parameters() if not n.startswith("bert.embeddings.")]
    assert all(p.grad is None for p in generator_only), "the discriminator's loss reached the generator"
    assert model.discriminator.bert.embeddings.token.weight.grad.abs().sum() > 0  # but it does train the embeddings
    model.zero_grad(set_to_none=True)
    out = model(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(2))
    out.mlm_loss.backward()
    assert all(p.grad is None for p in model.discriminator.rtd.parameters())
    assert model.generator.bert.encoder.layers[0].attention.query.weight.grad.abs().sum() > 0


def test_sampling_follows_the_generator_distribution():
    logits = torch.tensor([[0.0, 1.0, 2.0]]).log_softmax(-1).repeat(20000, 1)
    draws = sample_replacements(logits, torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=3).double() / len(draws)
    assert torch.allclose(freq, logits[0].exp().double(), atol=0.01)
    cold = sample_replacements(logits[:200], torch.Generator().manual_seed(0), temperature=0.05)
    assert bool((cold == 2).all())
    with pytest.raises(ValueError, match="temperature"):
        sample_replacements(logits, temperature=0)


def test_bad_inputs():
    model = Electra(ElectraConfig.tiny())
    original, masked_ids, labels, mask = masked_batch(model.discriminator.config)
    with pytest.raises(ValueError, match="no masked position"):
        model(masked_ids, attention_mask=mask, labels=torch.full_like(labels, -100))
    with pytest.raises(ValueError, match="needs labels"):
        model(masked_ids, attention_mask=mask)
    with pytest.raises(ValueError, match="label smoothing"):
        model(masked_ids, attention_mask=mask, labels=labels, label_smoothing=0.1)
    with pytest.raises(ValueError, match="labels"):
        model(masked_ids, attention_mask=mask, labels=labels[:, :5])
    with pytest.raises(ValueError, match="0 \\(original\\) or 1"):
        model.discriminator(original, labels=torch.full_like(original, 2))
    with pytest.raises(ValueError, match="share their embeddings"):
        Electra(ElectraConfig.tiny(), ElectraConfig.tiny(embedding_size=16))
    with pytest.raises(ValueError, match="rtd_weight"):
        Electra(ElectraConfig.tiny(), rtd_weight=0)


def test_tiny_run_discriminator_learns():
    """Tokens follow a Zipf law. The young generator proposes rare tokens far too often, and within 40 steps the
    discriminator learns to rank replaced tokens above original ones (AUC from ~0.5 to ~0.75), while the generator
    learns the same statistics and makes its fakes harder (the run in chapter 11 shows both on real text)."""
    torch.manual_seed(0)
    config = ElectraConfig.tiny(vocab_size=200, num_hidden_layers=1, max_position_embeddings=16,
                                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = Electra(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    zipf = 1.0 / torch.arange(1, 196, dtype=torch.float64)

    def step():
        original = 5 + torch.multinomial(zipf, 32 * 16, replacement=True, generator=g).view(32, 16)
        chosen = torch.rand(original.shape, generator=g) < 0.15
        out = model(torch.where(chosen, 1, original), labels=torch.where(chosen, original, -100), generator=g)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        scores, replaced = out.discriminator_logits.detach().flatten(), out.replaced.flatten()
        return float((scores[replaced][:, None] > scores[~replaced][None, :]).double().mean())  # detection AUC

    aucs = [step() for _ in range(40)]
    assert aucs[0] < 0.55 and sum(aucs[-5:]) / 5 > 0.7, aucs


def test_detection_metrics():
    from minibert.models.electra import _auc, detection_metrics

    scores = torch.tensor([0.9, 0.1, 0.8, 0.3, 0.3])
    positive = torch.tensor([True, False, False, True, False])
    pairs = [(a, b) for a in scores[positive] for b in scores[~positive]]
    assert abs(_auc(scores, positive) - sum(float(a > b) + 0.5 * float(a == b) for a, b in pairs) / len(pairs)) < 1e-12
    torch.manual_seed(0)
    model = Electra(ElectraConfig.tiny(vocab_size=30))
    original, masked_ids, labels, mask = masked_batch(model.discriminator.config)
    metrics = detection_metrics(model, masked_ids, mask, labels, torch.Generator().manual_seed(0))
    assert set(metrics) == {"auc", "rtd_loss", "base_rate_loss", "replaced", "mlm_loss", "generator_accuracy"}
    assert 0 <= metrics["auc"] <= 1 and 0 < metrics["replaced"] < 1 and model.training
    # rarity alone: -log frequency of the token the discriminator reads; frequency 0 (special ids) = never replaced
    frequencies = torch.ones(30, dtype=torch.float64)
    frequencies[:5] = 0
    frequencies[20:] = 0.01  # rare ids
    with_rarity = detection_metrics(model, masked_ids, mask, labels, torch.Generator().manual_seed(0), frequencies)
    assert {k: v for k, v in with_rarity.items() if k != "rarity_auc"} == metrics
    model.eval()
    out = model(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(0))
    model.train()
    real = mask.bool()
    rarity = torch.where(frequencies > 0, -frequencies.log(), -math.inf)[out.corrupted_ids]
    assert with_rarity["rarity_auc"] == pytest.approx(_auc(rarity[real], out.replaced[real]))


def test_the_discriminator_reads_the_corrupted_sequence_and_padding_counts_nowhere():
    """The checks behind chapter 11's diagnosis of its tiny run: the discriminator sees the generator's samples
    (not [MASK]); the RTD loss and the metrics average over real tokens only, whatever sits in the padding."""
    torch.manual_seed(0)
    model = Electra(ElectraConfig.tiny(vocab_size=30)).eval()
    original, masked_ids, labels, mask = masked_batch(model.discriminator.config)
    with torch.no_grad():
        out = model(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(3))
        alone = model.discriminator(out.corrupted_ids, attention_mask=mask)
        assert torch.equal(out.discriminator_logits, alone.logits)
        chosen = labels != -100
        assert torch.equal(out.corrupted_ids[~chosen], original[~chosen])  # not the masked input: the samples
        real = mask.bool()
        expected = torch.nn.functional.binary_cross_entropy_with_logits(out.discriminator_logits[real],
                                                                        out.replaced[real].float())
        assert torch.allclose(out.rtd_loss, expected)
        padded = masked_ids.clone()
        padded[~real] = 7  # other ids in the padding: nothing changes
        again = model(padded, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(3))
        assert torch.allclose(again.rtd_loss, out.rtd_loss)
        assert torch.equal(again.discriminator_logits[real], out.discriminator_logits[real])
    a = detection_metrics(model, masked_ids, mask, labels, torch.Generator().manual_seed(3))
    b = detection_metrics(model, padded, mask, labels, torch.Generator().manual_seed(3))
    assert a == pytest.approx(b)


def test_unigram_control_draws_from_the_frequencies_and_trains_only_the_discriminator():
    config = ElectraConfig.tiny(vocab_size=30)
    frequencies = torch.zeros(30)
    frequencies[5:10] = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0])  # any non-negative weights; 0 = never proposed
    torch.manual_seed(0)
    model = UnigramElectra(config, frequencies)
    assert model.generator is None
    assert all(name.startswith("discriminator.") for name, _ in model.named_parameters())
    original, masked_ids, labels, mask = masked_batch(config, batch=64, length=20, rate=0.5)
    labels = torch.where(labels != -100, 5 + labels % 5, labels)  # targets the frequencies cover
    original = torch.where(labels != -100, labels, original)
    out = model(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(0))
    chosen = labels != -100
    drawn = out.corrupted_ids[chosen]
    assert bool(((drawn >= 5) & (drawn < 10)).all())
    share = torch.bincount(drawn - 5, minlength=5).double() / len(drawn)
    assert torch.allclose(share, torch.tensor([5.0, 4, 3, 2, 1], dtype=torch.float64) / 15, atol=0.06)
    p = frequencies / frequencies.sum()
    assert out.mlm_loss.item() == pytest.approx(-p.log()[labels[chosen]].mean().item(), rel=1e-5)
    assert torch.equal(out.replaced, out.corrupted_ids != original)
    out.loss.backward()
    assert model.discriminator.bert.embeddings.token.weight.grad.abs().sum() > 0
    for bad in (torch.zeros(30), torch.ones(29), torch.full((30,), -1.0), torch.full((30,), float("nan"))):
        with pytest.raises(ValueError, match="frequencies"):
            UnigramElectra(config, bad)


def test_sampling_temperature_is_a_setting_of_the_pair():
    """``Electra(..., temperature=T)`` samples every replacement from ``softmax(scores / T)`` (ELECTRA: T = 1), in
    training and in ``detection_metrics`` alike; a ``temperature`` passed to ``forward`` overrides it."""
    torch.manual_seed(0)
    config = ElectraConfig.tiny(vocab_size=30)
    cold = Electra(config, temperature=1e-5).eval()  # untrained scores differ by ~0.01: argmax at this T
    original, masked_ids, labels, mask = masked_batch(config)
    out = cold(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out.corrupted_ids[labels != -100], out.generator_logits.argmax(-1))
    warm = cold(masked_ids, attention_mask=mask, labels=labels, generator=torch.Generator().manual_seed(0),
                temperature=100.0)
    assert not torch.equal(warm.corrupted_ids, out.corrupted_ids)
    assert Electra(config).temperature == 1.0
    for bad in (0, -1.0, float("nan"), True):
        with pytest.raises(ValueError, match="temperature"):
            Electra(config, temperature=bad)

"""Checks behind chapters 00-03 that the chapters no longer print: the tiny ELMo (chapter 03) and its asset."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from minibert.models.elmo import ElmoBiLM, ElmoConfig, ScalarMix

ROOT = Path(__file__).resolve().parent.parent
ASSET = ROOT / "assets" / "elmo"


@pytest.fixture
def elmo():
    torch.manual_seed(0)
    return ElmoBiLM(ElmoConfig(vocab_size=50, embedding_size=8, hidden_size=12, num_layers=2, dropout=0.0)).eval()


def test_layer_states_stack_the_token_layer_and_both_directions(elmo):
    ids = torch.randint(0, 50, (3, 7))
    layers = elmo.layer_states(ids)
    assert layers.shape == (3, 3, 7, 16)
    x = elmo.embedding(ids)
    torch.testing.assert_close(layers[0], torch.cat([x, x], -1))


@pytest.mark.parametrize("k", [0, 3, 6])
def test_forward_half_reads_only_the_left_and_backward_half_only_the_right(elmo, k):
    ids = torch.randint(0, 50, (1, 7))
    changed_right, changed_left = ids.clone(), ids.clone()
    if k < 6:
        changed_right[0, k + 1:] = (changed_right[0, k + 1:] + 1) % 50
    if k > 0:
        changed_left[0, :k] = (changed_left[0, :k] + 1) % 50
    with torch.no_grad():
        base, right, left = (elmo.layer_states(i)[1:, 0, k] for i in (ids, changed_right, changed_left))
    assert (base[:, :8] - right[:, :8]).abs().max() < 1e-6       # forward: t_1..t_k only
    assert (base[:, 8:] - left[:, 8:]).abs().max() < 1e-6        # backward: t_k..t_N only
    if 0 < k < 6:
        assert (base[:, 8:] - right[:, 8:]).abs().max() > 1e-4 and (base[:, :8] - left[:, :8]).abs().max() > 1e-4


def test_scalar_mix_is_equation_one():
    mix = ScalarMix(2)
    layers = torch.randn(3, 2, 5, 4)
    torch.testing.assert_close(mix(layers), layers.mean(0))           # w = 0: s_j = 1/3, gamma = 1
    with torch.no_grad():
        mix.weights.copy_(torch.tensor([0.0, 1.0, 2.0]))
        mix.gamma.fill_(2.0)
    s = torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0)
    torch.testing.assert_close(mix(layers), 2.0 * (s[:, None, None, None] * layers).sum(0))
    with pytest.raises(ValueError, match="expected 3 layers"):
        mix(layers[:2])


def test_losses_are_the_two_directions_next_and_previous_token(elmo):
    ids = torch.randint(0, 50, (2, 6))
    forward_loss, backward_loss = elmo.lm_losses(ids)
    _, forward, backward = elmo.directional_states(ids)
    logits_f = forward[-1] @ elmo.embedding.weight.T + elmo.output_bias
    logits_b = backward[-1] @ elmo.embedding.weight.T + elmo.output_bias
    expected_f = torch.nn.functional.cross_entropy(logits_f[:, :-1].reshape(-1, 50), ids[:, 1:].reshape(-1))
    expected_b = torch.nn.functional.cross_entropy(logits_b[:, 1:].reshape(-1, 50), ids[:, :-1].reshape(-1))
    torch.testing.assert_close(forward_loss, expected_f)
    torch.testing.assert_close(backward_loss, expected_b)


def test_a_few_steps_learn_a_repeated_sequence(elmo):
    ids = torch.arange(10)[None].repeat(4, 1)
    optimizer = torch.optim.Adam(elmo.parameters(), lr=1e-2)
    elmo.train()
    first = sum(elmo.lm_losses(ids)).item()
    for _ in range(60):
        loss = sum(elmo.lm_losses(ids))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 3


def test_save_and_load_round_trip(elmo, tmp_path):
    elmo.save_pretrained(tmp_path)
    again = ElmoBiLM.from_pretrained(tmp_path)
    ids = torch.randint(0, 50, (2, 5))
    with torch.no_grad():
        torch.testing.assert_close(elmo.layer_states(ids), again.layer_states(ids))
    with pytest.raises(FileNotFoundError, match="train_tiny_elmo"):
        ElmoBiLM.from_pretrained(tmp_path / "missing")


def test_bad_input_and_config_are_refused(elmo):
    with pytest.raises(ValueError, match=r"\(batch, seq_len\)"):
        elmo.layer_states(torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        elmo.layer_states(torch.tensor([[1, 99]]))
    with pytest.raises(ValueError, match="hidden_size"):
        ElmoConfig(vocab_size=10, hidden_size=0)


@pytest.mark.skipif(not (ASSET / "training.json").exists(), reason="assets/elmo/ not made yet")
def test_the_shipped_elmo_beats_the_unigram_baseline_in_both_directions():
    record = json.loads((ASSET / "training.json").read_text())
    last = record["curve"][-1]
    assert record["command"].startswith("python scripts/train_tiny_elmo.py")
    assert last["held_out_forward"] < record["unigram_loss"] - 0.5
    assert last["held_out_backward"] < record["unigram_loss"] - 0.5
    assert record["uniform_loss"] == pytest.approx(math.log(ElmoBiLM.from_pretrained(ASSET).config.vocab_size), abs=1e-4)

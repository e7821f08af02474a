"""Checks behind claims that chapters 04-07 make in prose (the chapters print the rest themselves)."""
from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_pretrain_script_writes_to_out_and_leaves_the_asset_alone(tmp_path, monkeypatch):
    """Chapter 06 suggests ``scripts/pretrain_tiny_bert.py --steps 2000 --out runs/...``: the run must land in that
    folder, and the committed ``assets/tiny_bert`` (which chapters 06, 07 and 10 read) must stay as it is."""
    import minibert.training.pretrain

    seen = {}

    def fake_main(argv):  # stands in for the 50-minute run: writes what the real one writes
        out = Path(argv[argv.index("--out") + 1])
        seen["argv"] = argv
        for name in ("config.json", "model.safetensors", "vocab.txt", "history.json", "summary.json"):
            (out / name).write_text("{}")
        return {"evaluation": {"accuracy": 0.5}}

    asset = ROOT / "assets" / "tiny_bert" / "summary.json"
    before = asset.read_bytes()
    monkeypatch.setattr(minibert.training.pretrain, "main", fake_main)
    target = tmp_path / "tiny_bert_2000"
    monkeypatch.setattr(sys, "argv", ["pretrain_tiny_bert.py", "--steps", "2000", "--out", str(target)])
    runpy.run_path(str(ROOT / "scripts" / "pretrain_tiny_bert.py"), run_name="__main__")
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "history.json", "model.safetensors",
                                                        "summary.json", "vocab.txt"]
    assert seen["argv"].count("--out") == 1 and str(target) not in seen["argv"]  # --out is the script's, not main's
    last_steps = len(seen["argv"]) - 1 - seen["argv"][::-1].index("--steps")
    assert seen["argv"][last_steps + 1] == "2000"  # the learner's --steps comes last, so argparse takes it
    assert asset.read_bytes() == before


def test_asset_history_shows_the_overfitting_chapter_06_describes():
    """Chapter 06: the asset's held-out loss is lowest around step 2,000 and rises afterwards, while the training
    loss keeps falling and the held-out accuracy stays where it was."""
    history = json.loads((ROOT / "assets" / "tiny_bert" / "history.json").read_text())
    evaluations = [r for r in history if "eval_loss" in r]
    best = min(evaluations, key=lambda r: r["eval_loss"])
    last = evaluations[-1]
    assert 1500 <= best["step"] <= 2500
    assert last["eval_loss"] > best["eval_loss"] + 0.2 and last["loss"] < best["loss"]
    assert abs(last["eval_accuracy"] - best["eval_accuracy"]) < 0.03


@pytest.mark.parametrize("init_std, low, high", [(0.02, 50, 400), (0.05, 5, 50)])
def test_query_gradients_are_much_smaller_than_value_gradients_at_initialisation(init_std, low, high):
    """Chapter 06's plateau explanation: at BERT's N(0, 0.02) initialisation the gradient of W_V is about a hundred
    times that of W_Q; at N(0, 0.05) the gap is much smaller."""
    import torch

    from minibert.training.pretrain import build_datasets, build_model, load_tokenizer

    torch.manual_seed(0)
    tokenizer = load_tokenizer("course")
    train, _ = build_datasets(tokenizer, max_tokens=64, seed=0, rate=0.4)
    probe = build_model(len(tokenizer), 64, hidden=128, layers=2, heads=4, dropout=0.0, seed=0,
                        initializer_range=init_std)
    batch = train.batch(list(range(16)), epoch=0)
    probe(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss.backward()
    attention = probe.bert.encoder.layers[0].attention
    ratio = float(attention.value.weight.grad.abs().mean() / attention.query.weight.grad.abs().mean())
    assert low < ratio < high

"""Facts that the prose of chapters 11-14 states about the library and the committed assets.

If one of these fails, the library or an asset changed under a chapter: re-read that chapter's prose (and
re-execute it) before changing the test.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from minibert.models.family.noise import t5_span_corruption

ROOT = Path(__file__).resolve().parent.parent
SENTINELS = [f"<extra_id_{k}>" for k in range(100)]


def test_t5_sentinel_budget_boundary():
    """Chapter 14: 2,000 tokens need exactly 100 spans (T5's 100 sentinels all used); 2,100 need 105 and raise."""
    _, targets = t5_span_corruption([f"w{i}" for i in range(2000)], SENTINELS)
    assert sum(t in SENTINELS for t in targets) == 100
    with pytest.raises(ValueError, match="105 noise spans but only 100 sentinels"):
        t5_span_corruption([f"w{i}" for i in range(2100)], SENTINELS)


def test_electra_asset_is_the_failed_run_chapter_11_describes():
    """Chapter 11 says the 600-step run did not learn: the early AUC peak fades to about guessing, the final RTD
    loss is not below the constant guess, and both generator widths end alike. A new asset needs new prose."""
    report = json.loads((ROOT / "assets" / "electra_tiny.json").read_text(encoding="utf-8"))
    finals = []
    for run in report["runs"].values():
        best, last = max(run, key=lambda r: r["auc"]), run[-1]
        assert best["auc"] > 0.8 and best["step"] <= 100
        assert last["auc"] < 0.6
        assert last["rtd_loss"] >= last["base_rate_loss"]
        finals.append(last)
    assert abs(finals[0]["auc"] - finals[1]["auc"]) < 0.02
    assert abs(finals[0]["mlm_loss"] - finals[1]["mlm_loss"]) < 0.05


def test_spanbert_asset_ties_chapter_11_points_at():
    """Chapter 11 reads the tiny SpanBERT as near the unigram floor: the SBO head ahead only on the first span
    token, identical accuracies at several later positions."""
    report = json.loads((ROOT / "assets" / "spanbert_tiny.json").read_text(encoding="utf-8"))
    by_position = report["accuracy_by_position"]
    assert by_position["sbo"][0] > by_position["mlm"][0]
    assert sum(a == b for a, b in zip(by_position["mlm"], by_position["sbo"])) >= 3
    assert report["curve"][-1]["mlm_loss"] > 5.0  # a few tenths of a nat below the unigram loss (about 6.0)

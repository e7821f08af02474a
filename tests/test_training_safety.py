"""Training that stops when it breaks, settings that refuse nonsense, checkpoints that never go backwards, and a
command line that never trains over a finished run."""
import subprocess
import sys

import pytest
import torch

from minibert.core.checkpoints import CheckpointError
from minibert.training import Trainer, TrainingConfig
from minibert.training.loop import TrainingDiverged, apply_gradients, fit
from test_training import CONFIG, ROOT, _pretrain, dataset, model

pytestmark = pytest.mark.usefixtures("one_thread")


class Poisoned(torch.nn.Module):
    """Wraps a model; from step ``at`` on, its loss is NaN (as after an overflow)."""

    def __init__(self, inner, at, value=float("nan")):
        super().__init__()
        self.inner, self.at, self.calls, self.value = inner, at, 0, value

    def forward(self, *args, **kwargs):
        out = self.inner(*args, **kwargs)
        self.calls += 1
        if self.calls >= self.at:
            out.loss = out.loss * self.value
        return out


def test_a_nan_loss_stops_the_trainer_with_the_step_the_checkpoint_and_advice(tmp_path):
    config = TrainingConfig(**{**CONFIG, "micro_batch_size": None, "eval_every": None})
    poisoned = Poisoned(model(), at=4)
    trainer = Trainer(poisoned, dataset(), config, progress=False)
    trainer.train(steps=2)
    trainer.save_checkpoint(tmp_path / "run")
    good = {k: v.clone() for k, v in poisoned.state_dict().items()}
    trainer.train(steps=1)
    with pytest.raises(TrainingDiverged, match=r"training stopped at step 4: the loss became nan at step 4.*"
                                               r"weights are those of step 3.*run \(step 2\).*lower learning rate"):
        trainer.train()
    assert trainer.step == 3
    assert all(torch.isfinite(v).all() for v in poisoned.state_dict().values() if v.is_floating_point())
    assert not all(torch.equal(good[k], v) for k, v in poisoned.state_dict().items()), "step 3 did train"


def test_an_infinite_gradient_changes_no_weight():
    layer = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(layer.parameters(), lr=0.1)
    before = [p.detach().clone() for p in layer.parameters()]
    (layer(torch.ones(1, 3)).sum() * float("inf")).backward()
    for clip in (None, 1.0):
        with pytest.raises(TrainingDiverged, match="gradient norm became"):
            apply_gradients(layer.parameters(), optimizer, max_grad_norm=clip)
        (layer(torch.ones(1, 3)).sum() * float("inf")).backward()
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))


def test_fit_stops_on_an_infinite_loss():
    net = Poisoned(model(), at=2, value=float("inf"))
    ids = torch.randint(5, 100, (2, 8))
    with pytest.raises(TrainingDiverged, match="loss became inf at step 2"):
        fit(net, lambda: {"input_ids": ids, "labels": ids}, steps=5, learning_rate=1e-3)


@pytest.mark.parametrize("field, value, error, words", [
    ("learning_rate", float("inf"), ValueError, "finite"),
    ("learning_rate", float("nan"), ValueError, "finite"),
    ("learning_rate", 0, ValueError, "> 0"),
    ("learning_rate", "1e-3", TypeError, "must be a number"),
    ("weight_decay", -0.01, ValueError, ">= 0"),
    ("weight_decay", True, TypeError, "must be a number"),
    ("adam_eps", 0.0, ValueError, "adam_eps"),
    ("adam_betas", (0.9, 1.0), ValueError, r"\[0, 1\)"),
    ("adam_betas", (0.9,), ValueError, "two numbers"),
    ("steps", 2.5, TypeError, "integer"),
    ("steps", True, TypeError, "integer"),
    ("batch_size", 0, ValueError, "positive integer"),
    ("eval_every", 0, ValueError, "positive integer or None"),
    ("warmup_steps", -1, ValueError, ">= 0"),
    ("seed", 1.0, TypeError, "integer"),
    ("max_grad_norm", float("inf"), ValueError, "finite"),
    ("label_smoothing", 1.0, ValueError, r"\[0, 1\)"),
])
def test_training_settings_refuse_nonsense(field, value, error, words):
    with pytest.raises(error, match=words):
        TrainingConfig(**{field: value})


def test_a_checkpoint_never_replaces_a_later_step_or_something_else(tmp_path):
    config = TrainingConfig(**{**CONFIG, "micro_batch_size": None, "eval_every": None})
    ahead = Trainer(model(), dataset(), config, progress=False)
    ahead.train(steps=3)
    ahead.save_checkpoint(tmp_path / "run")
    behind = Trainer(model(), dataset(), config, progress=False)
    behind.train(steps=1)
    with pytest.raises(CheckpointError, match=r"holds step 3 of a run, later than this step \(1\)"):
        behind.save_checkpoint(tmp_path / "run")
    behind.save_checkpoint(tmp_path / "run", overwrite=True)
    fresh = Trainer(model(), dataset(), config, progress=False)
    fresh.load_checkpoint(tmp_path / "run")
    assert fresh.step == 1
    other = tmp_path / "notes"
    other.mkdir()
    (other / "draft.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="not a training run"):
        behind.save_checkpoint(other)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.json", "model.safetensors", "rng_rank0.pt", "training_state.pt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_command_line_never_trains_over_a_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    args = [sys.executable, "-m", "minibert.training.pretrain", "--out", str(out), "--steps", "2"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "already holds files" in done.stderr and "--resume" in done.stderr
    done = subprocess.run(args + ["--resume", "--overwrite"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "pick one" in done.stderr

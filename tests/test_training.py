"""The pre-training loop: schedules, accumulation, exact resume, evaluation, and the torchrun/DDP command line."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from minibert import BertConfig, BertForMaskedLM
from minibert.core.checkpoints import CheckpointError
from minibert.masking import Masker
from minibert.masking.dataset import MaskedLMDataset, pad_batch
from minibert.training import Trainer, TrainingConfig, evaluate_mlm, unigram_baseline
from minibert.training.schedules import WarmupDecay, warmup_decay_scheduler

ROOT = Path(__file__).resolve().parent.parent
PAD, CLS, SEP, MASK = 0, 1, 2, 3
VOCAB = 120


def dataset(n=48, length=24, seed=0, dynamic=True, repeat=False):
    """Random sequences; with ``repeat`` each one repeats a single random token, so a masked token is given away
    by its context (but not by the unigram frequencies)."""
    g = torch.Generator().manual_seed(seed)
    blocks = []
    for _ in range(n):
        size = int(torch.randint(length // 2, length - 1, (1,), generator=g))
        ids = torch.randint(4, 34 if repeat else VOCAB, (1 if repeat else size,), generator=g).tolist()
        blocks.append([CLS] + (ids * size if repeat else ids) + [SEP])
    return MaskedLMDataset(blocks, Masker(MASK, VOCAB, {PAD, CLS, SEP, MASK}), PAD, seed=seed, dynamic=dynamic,
                           length=length)


def model(seed=0, dropout=0.1):
    torch.manual_seed(seed)
    return BertForMaskedLM(BertConfig.tiny(vocab_size=VOCAB, hidden_size=32, intermediate_size=64,
                                           max_position_embeddings=32, hidden_dropout_prob=dropout,
                                           attention_probs_dropout_prob=dropout))


CONFIG = dict(steps=8, batch_size=8, micro_batch_size=4, learning_rate=3e-3, warmup_steps=2, eval_every=4,
              eval_batch_size=16)


# -- schedules ----------------------------------------------------------------------------------------------------
def test_warmup_then_linear_and_cosine_decay():
    linear, cosine = WarmupDecay(10, 110, "linear"), WarmupDecay(10, 110, "cosine")
    assert [linear(s) for s in (0, 4, 9)] == [0.1, 0.5, 1.0]
    assert linear(10) == 1.0 and abs(linear(60) - 0.5) < 1e-12 and linear(110) == 0.0
    assert abs(cosine(60) - 0.5) < 1e-12 and cosine(110) == 0.0 and cosine(35) > linear(35)
    assert WarmupDecay(0, 10, "constant")(7) == 1.0
    assert WarmupDecay(5, 10, "linear", min_ratio=0.1)(10) == pytest.approx(0.1)
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=2.0)
    scheduler = warmup_decay_scheduler(optimizer, 4, 8)
    rates = []
    for _ in range(8):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.0, 1.5, 1.0, 0.5])


@pytest.mark.parametrize("bad", [dict(warmup_steps=20, total_steps=10), dict(warmup_steps=1, total_steps=0),
                                 dict(warmup_steps=1, total_steps=10, decay="step")])
def test_schedule_errors(bad):
    with pytest.raises(ValueError):
        WarmupDecay(**bad)


# -- the trainer --------------------------------------------------------------------------------------------------
def test_accumulation_equals_one_big_batch():
    """Without dropout, micro-batches of 4 accumulated twice give the step of one batch of 8."""
    losses, weights = [], []
    for micro in (8, 2):
        trainer = Trainer(model(dropout=0.0), dataset(), TrainingConfig(**{**CONFIG, "micro_batch_size": micro,
                                                                             "eval_every": None}), progress=False)
        trainer.train(steps=3)
        losses.append([r["loss"] for r in trainer.history])
        weights.append(trainer.module.bert.embeddings.token.weight.detach().clone())
    for other in losses[1:]:
        assert other == pytest.approx(losses[0], abs=1e-5)
    for other in weights[1:]:
        assert (other - weights[0]).abs().max() < 1e-5


def test_optimization_can_be_plugged_in():
    """``Trainer(..., optimization=fn)`` takes its optimizer and schedule from ``fn(model, config)`` (chapter 06 plugs
    the learner's in): the default groups and schedule written out give the same run, another recipe another run."""
    def written_out(module, config):
        decay = [p for p in module.parameters() if p.dim() >= 2]
        no_decay = [p for p in module.parameters() if p.dim() < 2]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}],
                                      lr=config.learning_rate, betas=config.adam_betas, eps=config.adam_eps)
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupDecay(config.warmup_steps, config.steps))

    def constant(module, config):
        optimizer = torch.optim.AdamW(module.parameters(), lr=config.learning_rate)
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

    runs = []
    for optimization in (None, written_out, constant):
        trainer = Trainer(model(dropout=0.0), dataset(), TrainingConfig(**{**CONFIG, "eval_every": None}),
                          progress=False, optimization=optimization)
        trainer.train(steps=4)
        runs.append(trainer.history)
    assert runs[1] == runs[0]
    assert [r["lr"] for r in runs[0]] == pytest.approx([1.5e-3, 3e-3, 3e-3, 2.5e-3])
    assert [r["lr"] for r in runs[2]] == [3e-3] * 4 and runs[2][-1]["loss"] != runs[0][-1]["loss"]


def test_resume_reproduces_uninterrupted_run_exactly(tmp_path):
    config = TrainingConfig(**CONFIG, label_smoothing=0.1)
    full = Trainer(model(), dataset(), config, eval_data=dataset(16, seed=5, dynamic=False), progress=False)
    torch.manual_seed(123)  # dropout stream
    full.train()
    first = Trainer(model(), dataset(), config, eval_data=dataset(16, seed=5, dynamic=False), progress=False)
    torch.manual_seed(123)
    first.train(steps=5)  # stop in the middle: between evaluations, inside the warm-up/decay schedule
    first.save_checkpoint(tmp_path / "ckpt")
    torch.manual_seed(999)  # whatever happens to the generators in between...
    resumed = Trainer(model(seed=7), dataset(), config, eval_data=dataset(16, seed=5, dynamic=False), progress=False)
    resumed.load_checkpoint(tmp_path / "ckpt")
    assert resumed.step == 5 and resumed.position() == (0, 5)
    resumed.train()
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in full.history]  # bit for bit
    assert resumed.history == full.history
    for a, b in zip(resumed.module.parameters(), full.module.parameters()):
        assert torch.equal(a, b)
    # the checkpoint folder is a Hugging Face checkpoint too
    again = BertForMaskedLM.from_pretrained(tmp_path / "ckpt")
    assert torch.equal(again.bert.embeddings.token.weight, first.module.bert.embeddings.token.weight)


def test_resume_refuses_other_settings(tmp_path):
    trainer = Trainer(model(), dataset(), TrainingConfig(**CONFIG), progress=False)
    trainer.train(steps=1)
    trainer.save_checkpoint(tmp_path)
    other = Trainer(model(), dataset(), TrainingConfig(**{**CONFIG, "learning_rate": 1e-2}), progress=False)
    with pytest.raises(CheckpointError, match="learning_rate"):
        other.load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="training_state.pt"):
        other.load_checkpoint(tmp_path / "nowhere")


def test_training_learns_and_evaluation_reports_accuracy_and_perplexity():
    train, test = dataset(96, repeat=True), dataset(60, seed=9, dynamic=False, repeat=True)
    config = TrainingConfig(steps=60, batch_size=16, learning_rate=1e-2, warmup_steps=4, eval_every=20)
    trainer = Trainer(model(dropout=0.0), train, config, eval_data=test, progress=False)
    before = evaluate_mlm(trainer.module, test)
    trainer.train()
    after = trainer.history[-1]
    assert after["eval_loss"] < before["loss"] - 1.0, (before, after)
    assert after["eval_perplexity"] == pytest.approx(math.exp(after["eval_loss"]))
    baseline = unigram_baseline(train, test)
    assert after["eval_accuracy"] > baseline["accuracy"] + 0.2  # the sequences are predictable from context
    assert 0 <= baseline["accuracy"] < 0.15 and baseline["perplexity"] > 20


def test_evaluation_top5_counts_the_five_best_guesses():
    test = dataset(20, seed=3, dynamic=False)
    lm = model(seed=4, dropout=0.0).eval()
    ranks = []
    with torch.no_grad():
        for batch in test.evaluation_batches(7):
            chosen = batch["labels"] != -100
            logits = lm(batch["input_ids"], attention_mask=batch["attention_mask"], positions=chosen).logits
            target = logits.gather(1, batch["labels"][chosen][:, None])
            ranks.append((logits > target).sum(-1))  # how many tokens score above the right one
    ranks = torch.cat(ranks)
    result = evaluate_mlm(lm, test, batch_size=16)
    assert result["accuracy"] == pytest.approx(float((ranks == 0).double().mean()))
    assert result["top5_accuracy"] == pytest.approx(float((ranks < 5).double().mean()))
    assert 0 < result["accuracy"] < result["top5_accuracy"] < 1 and result["predictions"] == ranks.numel()


def test_unigram_baseline_counts():
    masker = Masker(MASK, 10, {PAD, CLS, SEP, MASK})
    train = MaskedLMDataset([[CLS, 5, 5, 5, 6, SEP], [CLS, 5, 7, SEP]], masker, PAD)
    test = MaskedLMDataset([[CLS, 5, 6, 7, 8, SEP]] * 20, masker, PAD, dynamic=False)
    result = unigram_baseline(train, test)
    assert result["token_id"] == 5
    labels = torch.cat([b["labels"][b["labels"] != -100] for b in test.evaluation_batches(64)])
    assert result["accuracy"] == pytest.approx(float((labels == 5).double().mean()))


def test_unigram_frequencies_are_add_one_smoothed_over_ordinary_tokens():
    from minibert.training.evaluation import unigram_frequencies

    masker = Masker(MASK, 10, {PAD, CLS, SEP, MASK})
    frequencies = unigram_frequencies(MaskedLMDataset([[CLS, 5, 5, 5, 6, SEP], [CLS, 5, 7, SEP]], masker, PAD))
    expected = torch.tensor([0, 0, 0, 0, 1, 5, 2, 2, 1, 1], dtype=torch.float64) / 12  # ids 4-9: count + 1
    assert torch.allclose(frequencies, expected)


def test_trainer_errors():
    with pytest.raises(ValueError, match="multiple"):
        Trainer(model(), dataset(), TrainingConfig(batch_size=8, micro_batch_size=3), progress=False)
    with pytest.raises(ValueError, match="fewer than one batch"):
        Trainer(model(), dataset(4), TrainingConfig(batch_size=8), progress=False)
    with pytest.raises(ValueError, match="warmup_steps"):
        TrainingConfig(steps=5, warmup_steps=6)
    with pytest.raises(ValueError, match="label_smoothing"):
        TrainingConfig(label_smoothing=1.0)
    with pytest.raises(ValueError, match="length"):
        pad_batch([[1, 2, 3]], 0, length=2)


# -- one process vs torchrun --------------------------------------------------------------------------------------
def small_vocab(folder: Path) -> Path:
    """A WordPiece vocab.txt for the corpus: specials, the 400 commonest words, and every character alone and as
    a ``##`` piece (so any word can be spelled)."""
    from collections import Counter

    from minibert.corpus import load_text

    text = load_text().lower()
    words = Counter(w for w in text.split() if w.isalpha())
    chars = sorted({c for c in text if not c.isspace()})
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars),
              *(w for w, _ in words.most_common(400) if len(w) > 1)]
    path = folder / "vocab.txt"
    path.write_text("\n".join(dict.fromkeys(tokens)) + "\n", encoding="utf-8")
    return path


def _pretrain(out: Path, nproc: int) -> dict:
    vocab = small_vocab(out.parent)
    args = ["-m", "minibert.training.pretrain", "--out", str(out), "--tokenizer", str(vocab), "--steps", "4",
            "--batch-size", "8", "--seq-len", "32", "--hidden", "32", "--layers", "1", "--heads", "2",
            "--dropout", "0", "--warmup", "1", "--max-documents", "12", "--no-progress", "--threads", "1",
            "--device", "cpu"]
    launcher = [] if nproc == 1 else ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, *launcher, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "summary.json").read_text()) | {
        "history": json.loads((out / "history.json").read_text())}


def test_torchrun_two_processes_match_one_process(tmp_path):
    """2 processes x 4 sequences = 1 process x 8 sequences: same losses (to float summation order), and the two
    ranks hold identical weights after every all-reduced step."""
    single = _pretrain(tmp_path / "single", 1)
    double = _pretrain(tmp_path / "ddp", 2)
    assert double["world_size"] == 2 and single["world_size"] == 1
    assert double["max_weight_difference_between_ranks"] == 0.0
    a = [r["loss"] for r in single["history"]]
    b = [r["loss"] for r in double["history"]]
    assert len(a) == len(b) == 4
    assert b == pytest.approx(a, abs=1e-4)
    assert double["evaluation"]["loss"] == pytest.approx(single["evaluation"]["loss"], abs=1e-4)
    ours = BertForMaskedLM.from_pretrained(tmp_path / "single")
    theirs = BertForMaskedLM.from_pretrained(tmp_path / "ddp")
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert (p - q).abs().max() < 1e-4


def test_mask_accuracy_scores_only_the_positions_that_show_mask():
    """A model that copies its input is right on every kept position and wrong on every [MASK]: `accuracy` counts
    the copies, `mask_accuracy` must not."""
    test = dataset(20, seed=3, dynamic=False)

    class Copier(torch.nn.Module):
        def __init__(self, vocab_size):
            super().__init__()
            self.vocab_size, self.weight = vocab_size, torch.nn.Parameter(torch.zeros(1))

        def forward(self, input_ids, attention_mask=None, positions=None):
            logits = torch.nn.functional.one_hot(input_ids[positions], self.vocab_size).float()
            return type("Out", (), {"logits": logits})()

    result = evaluate_mlm(Copier(test.masker.vocab_size), test)
    kept = sum(int(((b["input_ids"] == b["labels"]) & (b["labels"] != -100)).sum()) for b in test.evaluation_batches(8))
    assert kept > 0 and result["accuracy"] == pytest.approx(kept / result["predictions"])
    assert result["mask_accuracy"] == 0.0

"""Task-specific distillation (chapter 10, section 7): the task loss and its gradient against NumPy, the
TaskDistiller, the teacher's confidence, the transfer-set helpers of minibert.training.tasks, and the experiment
script's smoke run."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from minibert import BertConfig, BertForSequenceClassification
from minibert.core.inputs import IGNORE_INDEX
from minibert.models.distilbert.distillation import (TaskDistiller, confidence, distillation_loss, soft_target_loss,
                                                     task_distillation_loss)
from minibert.models.distilbert.model import DistilBertConfig
from minibert.reference.distillation import kl_divergence, softmax_at
from minibert.training import tasks

ROOT = Path(__file__).resolve().parent.parent


def numpy_task_loss(student, teacher, labels, temperature, alpha):
    """The loss and its gradient w.r.t. the student's logits, written from the formulas:
    L = T^2 mean_n KL(p_t^T || p_s^T) + alpha mean_{labelled n} -log p_s[y_n];
    dL/dz_s = T (p_s^T - p_t^T) / N + alpha (p_s - onehot(y)) / N_labelled on the labelled rows."""
    rows = student.shape[0]
    p_s, p_t = softmax_at(student, temperature), softmax_at(teacher, temperature)
    soft = temperature ** 2 * kl_divergence(p_t, p_s).mean()
    gradient = temperature * (p_s - p_t) / rows
    labelled = labels != IGNORE_INDEX
    p = softmax_at(student, 1.0)
    hard = -np.log(p[labelled, labels[labelled]]).mean()
    onehot = np.zeros_like(p)
    onehot[np.arange(rows)[labelled], labels[labelled]] = 1.0
    gradient += alpha * ((p - onehot) * labelled[:, None]) / labelled.sum()
    return soft + alpha * hard, soft, hard, gradient


def random_task(seed, rows=23, classes=3, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    student = torch.randn(rows, classes, generator=g, dtype=torch.float64) * scale
    teacher = torch.randn(rows, classes, generator=g, dtype=torch.float64) * scale
    labels = torch.randint(0, classes, (rows,), generator=g)
    labels[torch.rand(rows, generator=g) < 0.6] = IGNORE_INDEX  # a transfer set: most rows have no label
    labels[0] = 1
    return student, teacher, labels


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_task_loss_and_gradient_equal_numpy(temperature, alpha, seed):
    student, teacher, labels = random_task(seed)
    student.requires_grad_()
    terms = task_distillation_loss(student, teacher, labels, temperature=temperature, alpha=alpha)
    loss, soft, hard, gradient = numpy_task_loss(student.detach().numpy(), teacher.numpy(), labels.numpy(),
                                                 temperature, alpha)
    assert abs(float(terms.loss) - loss) < 1e-10 and abs(float(terms.soft) - soft) < 1e-10
    if alpha > 0:
        assert abs(float(terms.hard) - hard) < 1e-10
    else:
        assert terms.hard is None
    terms.loss.backward()
    np.testing.assert_allclose(student.grad.numpy(), gradient, atol=1e-12)


def test_soft_term_is_distilberts_and_the_teacher_gets_no_gradient():
    student, teacher, _ = random_task(2)
    student.requires_grad_()
    teacher.requires_grad_()
    ours = soft_target_loss(student, teacher, 2.0)
    triple = distillation_loss(student, teacher, temperature=2.0, alpha_ce=1, alpha_mlm=0, alpha_cos=0)
    assert torch.equal(ours, triple.ce)
    ours.backward()
    assert teacher.grad is None


def test_terms_switch_on_and_off():
    student, teacher, labels = random_task(3)
    hard_only = task_distillation_loss(student, None, labels)
    labelled = labels != IGNORE_INDEX
    assert hard_only.soft is None
    assert torch.allclose(hard_only.loss, F.cross_entropy(student[labelled], labels[labelled]))
    unlabelled = torch.full_like(labels, IGNORE_INDEX)
    soft_only = task_distillation_loss(student, teacher, unlabelled, temperature=3.0)
    assert soft_only.hard is None and torch.equal(soft_only.loss, soft_only.soft)
    assert set(soft_only.as_dict()) == {"loss", "soft"}


def test_bad_task_inputs_are_explained():
    student, teacher, labels = random_task(4)
    with pytest.raises(ValueError, match="nothing to learn from"):
        task_distillation_loss(student, None, torch.full_like(labels, IGNORE_INDEX))
    with pytest.raises(ValueError, match="nothing to learn from"):
        task_distillation_loss(student)
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        task_distillation_loss(student, teacher, labels, alpha=-1)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        task_distillation_loss(student, teacher, labels, temperature=0)
    with pytest.raises(ValueError, match="labels must be a"):
        task_distillation_loss(student, teacher, labels[:3])
    with pytest.raises(ValueError, match="student logits .* and teacher logits .* differ"):
        task_distillation_loss(student, teacher[:, :2], labels)
    with pytest.raises(ValueError, match="non-empty"):
        task_distillation_loss(student[0], teacher, labels)


def test_confidence_of_sure_and_uniform_teachers():
    sure = torch.tensor([[10.0, -10.0], [-10.0, 10.0]])
    assert confidence(sure)["mean_max_probability"] > 0.999
    assert confidence(sure)["mean_entropy_nats"] < 1e-6
    flat = confidence(torch.zeros(3, 4))
    assert abs(flat["mean_max_probability"] - 0.25) < 1e-7
    assert abs(flat["mean_entropy_nats"] - math.log(4)) < 1e-6 and flat["max_entropy_nats"] == math.log(4)
    # a higher temperature can only lower the top probability and raise the entropy
    logits = torch.randn(50, 2, generator=torch.Generator().manual_seed(0)) * 3
    at = [confidence(logits, t) for t in (1.0, 2.0, 4.0)]
    assert at[0]["mean_max_probability"] > at[1]["mean_max_probability"] > at[2]["mean_max_probability"] > 0.5
    assert at[0]["mean_entropy_nats"] < at[1]["mean_entropy_nats"] < at[2]["mean_entropy_nats"] < math.log(2)


def tiny_examples(n=12, classes=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    examples = []
    for i in range(n):
        length = 4 + i % 5
        ids = [2, *torch.randint(5, 60, (length,), generator=g).tolist(), 3]
        examples.append(tasks.Example(ids, [0] * len(ids), label=i % classes))
    return examples


def test_relabelled_examples_collate_into_soft_targets():
    examples = tiny_examples()
    logits = torch.randn(len(examples), 2)
    hidden = [IGNORE_INDEX] * len(examples)
    relabelled = tasks.relabelled(examples, labels=hidden, teacher_logits=logits)
    assert [e.label for e in examples] == [i % 2 for i in range(len(examples))]  # the originals are untouched
    batch = tasks.collate(relabelled, pad_id=0)
    assert torch.equal(batch["labels"], torch.full((len(examples),), IGNORE_INDEX))
    assert torch.allclose(batch["teacher_logits"], logits)
    assert "teacher_logits" not in tasks.collate(examples, pad_id=0)
    argmax = tasks.relabelled(examples, labels=logits.argmax(-1))
    assert [e.label for e in argmax] == logits.argmax(-1).tolist() and argmax[0].teacher_logits is None
    with pytest.raises(ValueError, match="3 labels for 12 examples"):
        tasks.relabelled(examples, labels=[0, 1, 0])


@pytest.mark.parametrize("config_class", [BertConfig, DistilBertConfig])
def test_task_distiller_trains_only_the_student_and_is_the_classifier_without_targets(config_class):
    config = config_class(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=24, max_position_embeddings=32)
    examples = tiny_examples()
    logits = torch.randn(len(examples), 2, generator=torch.Generator().manual_seed(1)) * 4
    torch.manual_seed(0)
    distiller = TaskDistiller(BertForSequenceClassification(config, 2), temperature=2.0, alpha=0.5)
    before = [p.detach().clone() for p in distiller.parameters()]
    data = tasks.relabelled(examples[:3], teacher_logits=logits[:3]) + tasks.relabelled(
        examples[3:], labels=[IGNORE_INDEX] * 9, teacher_logits=logits[3:])
    losses = tasks.fit(distiller, data, pad_id=0, steps=4, batch_size=6, learning_rate=1e-2)
    assert len(losses) == len(distiller.history) == 4 and all(math.isfinite(x) for x in losses)
    assert all("soft" in r for r in distiller.history)
    changed = [not torch.equal(a, b) for a, b in zip(before, distiller.parameters())]
    assert sum(changed) > len(changed) // 2
    out = tasks.predict(distiller, examples, pad_id=0)  # eval mode, no targets: the classifier's logits
    assert out.logits.shape == (len(examples), 2)
    assert 0.0 <= tasks.accuracy(distiller, examples, pad_id=0) <= 1.0
    assert len(distiller.history) == 4  # evaluation records nothing


def test_task_distiller_refuses_segments_it_does_not_have():
    config = DistilBertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=24, max_position_embeddings=32)
    distiller = TaskDistiller(BertForSequenceClassification(config, 2))
    ids = torch.tensor([[2, 7, 8, 3]])
    with pytest.raises(ValueError, match="no segment embeddings"):
        distiller(ids, token_type_ids=torch.tensor([[0, 0, 1, 1]]))
    with pytest.raises(ValueError, match="temperature"):
        TaskDistiller(BertForSequenceClassification(config, 2), temperature=-2)


def test_the_script_smoke_run_writes_its_record(tmp_path):
    out = tmp_path / "task.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "distil_task.py"), "--quick",
                    "--temperatures", "2", "--per-class", "40", "--out", str(out)], check=True, cwd=ROOT,
                   capture_output=True, timeout=600)  # generous: CI runs two test processes on two cores
    record = json.loads(out.read_text())
    assert {"command", "hardware", "wall_seconds", "settings", "teacher", "results", "majority_baseline"} <= set(record)
    assert record["settings"]["seeds"] == [0, 1]
    soft = record["results"]["+ transfer, soft targets T=2"]
    assert {"minus_baseline", "minus_control", "soft_term_share_of_loss"} <= set(soft)
    assert set(record["teacher"]["confidence_on_transfer_set"]) == {"1", "2"}

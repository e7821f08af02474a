"""scripts/distil_tiny_bert.py (chapter 10's experiment): the course recipe with the script's overrides, fine-tuning a
student that has no segment embeddings, the timing record, and the saved models against the saved numbers."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from minibert import BertConfig, BertForMaskedLM, count_parameters
from minibert.models.distilbert.model import DistilBertForMaskedLM, student_from_teacher
from minibert.tokenizers import course_tokenizer
from minibert.training import evaluate_mlm
from minibert.training.pretrain import _parser as pretrain_parser
from minibert.training.pretrain import build_datasets

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets" / "distillation"


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = load_script("distil_tiny_bert")


def recipe(argv):
    args = script.parse(argv)
    return args, pretrain_parser().parse_args(["--out", "unused", *script.recipe_arguments(args)])


def test_the_teacher_follows_the_course_recipe_with_the_scripts_overrides():
    course = pretrain_parser().parse_args(["--out", "unused", *load_script("pretrain_tiny_bert").ARGS])
    args, teacher = recipe(["--teacher-layers", "4", "--seq-len", "64", "--teacher-steps", "300"])
    assert (teacher.layers, teacher.seq_len, teacher.steps, teacher.threads) == (4, 64, 300, 1)
    for name in ("tokenizer", "hidden", "heads", "decay", "masking", "dropout", "label_smoothing",
                 "mask_rate", "init_range", "adam_eps", "max_grad_norm"):
        assert getattr(teacher, name) == getattr(course, name), name
    assert (teacher.batch_size, teacher.warmup) == (16, 100)  # the CPU-sized batch the committed results used
    assert teacher.lr == 1e-3 and recipe(["--lr", "5e-4"])[1].lr == 5e-4
    assert recipe(["--lr", "0"])[1].lr == course.lr  # 0: the recipe's own


def test_a_student_without_segment_embeddings_is_fine_tuned_on_chapter_07s_task():
    tokenizer = course_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer.vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    torch.manual_seed(0)
    student = student_from_teacher(BertForMaskedLM(config))
    assert student.config.type_vocab_size == 0
    from minibert.training import tasks

    train, test = tasks.document_kind_task(tokenizer, per_class=24, max_tokens=64)
    args = script.parse(["--finetune-seeds", "2", "--finetune-steps", "2"])
    with pytest.raises(ValueError, match="no segment embeddings"):  # what WithoutSegments is for
        tasks.fit(script.BertForSequenceClassification(student.config, num_labels=2), train, 0, steps=1)
    accuracies = script.document_kind_accuracy(student, train, test, tokenizer.pad_token_id, args)
    assert len(accuracies) == 2 and all(0 <= a <= 1 for a in accuracies)


def test_timing_records_every_round_for_both_models():
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16)
    teacher = BertForMaskedLM(config)
    student = student_from_teacher(teacher)
    ids, mask = torch.randint(5, 50, (1, 16)), torch.ones(1, 16, dtype=torch.long)
    result = script.timing({"teacher": teacher.bert, "student": student.bert}, {"batch_1": (ids, mask)}, rounds=3,
                           calls=2)["batch_1"]
    assert [len(result["cpu_seconds_per_call"][n]) for n in ("teacher", "student")] == [3, 3]
    assert result["min_speedup"] <= result["median_speedup"] <= result["max_speedup"]


@pytest.mark.skipif(not (ASSETS / "results.json").exists(), reason="run scripts/distil_tiny_bert.py first")
def test_the_saved_models_are_the_ones_measured():
    results = json.loads((ASSETS / "results.json").read_text())
    teacher = BertForMaskedLM.from_pretrained(ASSETS / "teacher")
    student = DistilBertForMaskedLM.from_pretrained(ASSETS / "student")
    settings = results["settings"]
    assert teacher.config.num_hidden_layers == settings["teacher_layers"]
    assert student.config.num_hidden_layers == results["models"]["distilled"]["layers"]
    _, test = build_datasets(course_tokenizer(), settings["seq_len"], seed=settings["seed"])
    for name, model in (("teacher", teacher), ("distilled", student)):
        saved = results["models"][name]
        assert count_parameters(model) == saved["parameters"]
        assert evaluate_mlm(model, test)["accuracy"] == pytest.approx(saved["masked_accuracy"], abs=1e-9), name
    assert results["parameter_ratio"] == pytest.approx(count_parameters(student) / count_parameters(teacher))

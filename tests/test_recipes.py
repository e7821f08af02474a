"""RoBERTa's recipe switches and the Distiller on the course's training loop.

These need the masked-LM machinery (``minibert.training``, ``minibert.masking``, ``minibert.masking.dataset``,
``minibert.training.pretrain``) and the course tokenizer; they are skipped where those are not installed yet.
"""
import pytest
import torch

pytest.importorskip("minibert.training")
pytest.importorskip("minibert.tokenizers")

from minibert.models.distilbert.distillation import SANH_RECIPE, Distiller  # noqa: E402
from minibert.models.distilbert.model import student_from_teacher  # noqa: E402
from minibert.training import Trainer, TrainingConfig  # noqa: E402
from minibert.training.pretrain import build_model, load_tokenizer  # noqa: E402
from minibert.training.recipes import (BERT_RECIPE, ROBERTA_RECIPE, Recipe, SegmentPairDataset, pretrain,  # noqa: E402
                                       pretraining_data)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("course")


def test_recipe_switches_are_validated():
    assert ROBERTA_RECIPE.masking == "dynamic" and BERT_RECIPE.inputs == "segment-pairs"
    assert Recipe(batch_size=8, steps=10, warmup_steps=1).sequences == 80
    with pytest.raises(ValueError, match="masking must be one of"):
        Recipe(masking="sometimes")
    with pytest.raises(ValueError, match="inputs must be one of"):
        Recipe(inputs="sentences")
    with pytest.raises(ValueError, match="batch_size"):
        Recipe(batch_size=0)


def test_static_masks_repeat_and_dynamic_masks_change(tokenizer):
    for masking, same in (("static", True), ("dynamic", False)):
        train, _ = pretraining_data(ROBERTA_RECIPE.replace(masking=masking), tokenizer, max_tokens=64, seed=0)
        changed = [not torch.equal(train.example(i, 0).labels, train.example(i, 1).labels) for i in range(20)]
        assert (not any(changed)) if same else sum(changed) >= 18, masking


def test_segment_pairs_carry_token_types_and_nsp_labels(tokenizer):
    train, test = pretraining_data(BERT_RECIPE, tokenizer, max_tokens=64, seed=0)
    assert isinstance(train, SegmentPairDataset) and not isinstance(test, SegmentPairDataset)
    batch = train.batch(list(range(64)))
    ids, types, labels = batch["input_ids"], batch["token_type_ids"], batch["labels"]
    assert set(batch["next_sentence_label"].tolist()) == {0, 1}
    for row in range(64):
        real = batch["attention_mask"][row].bool()
        seps = (ids[row] == tokenizer.sep_token_id).nonzero().flatten().tolist()
        assert ids[row, 0] == tokenizer.cls_token_id and len(seps) == 2 and seps[-1] == int(real.sum()) - 1
        assert types[row, :seps[0] + 1].eq(0).all() and types[row, seps[0] + 1:seps[1] + 1].eq(1).all()
        assert labels[row, [0, *seps]].eq(-100).all()  # specials are never predicted


@pytest.mark.parametrize("recipe", [ROBERTA_RECIPE, BERT_RECIPE, ROBERTA_RECIPE.replace(batch_size=32,
                                                                                        micro_batch_size=8)])
def test_every_recipe_trains_and_is_scored_on_the_same_test_set(recipe, tokenizer):
    result = pretrain(recipe.replace(steps=2, warmup_steps=1), tokenizer, seed=0, hidden=32, layers=1, heads=2)
    assert len(result["history"]) == 2 and all(torch.isfinite(torch.tensor(r["loss"])) for r in result["history"])
    assert 0 <= result["masked_accuracy"] <= 1 and result["perplexity"] > 1


def test_the_trainer_trains_a_distiller_and_only_the_student_moves(tokenizer):
    train, _ = pretraining_data(ROBERTA_RECIPE, tokenizer, max_tokens=64, seed=0)
    teacher = build_model(len(tokenizer.vocab), 64, 32, 2, 2, seed=0, pad_token_id=tokenizer.pad_token_id)
    student = student_from_teacher(teacher)
    teacher_before = [p.detach().clone() for p in teacher.parameters()]
    student_before = [p.detach().clone() for p in student.parameters()]
    trainer = Trainer(Distiller(student, teacher, **SANH_RECIPE), train,
                      TrainingConfig(steps=2, batch_size=8, warmup_steps=1), progress=False)
    history = trainer.train()
    assert len(history) == 2 and all(torch.isfinite(torch.tensor(r["loss"])) for r in history)
    assert all(torch.equal(a, b) for a, b in zip(teacher_before, teacher.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(student_before, student.parameters()))
    assert not teacher.training

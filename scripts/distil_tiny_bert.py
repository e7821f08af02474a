"""DistilBERT's claim in miniature (chapter 10): distil a 4-layer tiny BERT into a 2-layer student (the picture of
12 -> 6) and measure what the student keeps, next to the same student trained without distillation.

    python scripts/distil_tiny_bert.py --threads 1     # 10-13 minutes on one core of a shared 2-core machine
    python scripts/distil_tiny_bert.py --quick         # a smoke run: few steps, nothing meaningful, saved to /tmp
    python scripts/distil_tiny_bert.py --teacher assets/distillation/teacher   # reuse the saved teacher

Steps (each seeded; the same run prints the same numbers):

1. **teacher**: the course's pre-training recipe (the arguments of ``scripts/pretrain_tiny_bert.py``, run through
   ``python -m minibert.training.pretrain``) with 4 layers instead of 2, ``--seq-len 64`` and ``--teacher-steps`` steps
   to fit the CPU budget, and a peak learning rate of 1e-3: with 2e-3 (and the recipe of that day: 15% masking, N(0,
   0.02) init) the 4-layer teacher was still at the unigram guess after 1,200 steps (held-out masked accuracy 0.059, the
   unigram's 0.059). When the recipe changes, rerunning this script picks it up (``--lr 0`` keeps the recipe's learning
   rate). The students train with the recipe's masking rate and optimizer settings. Its weights are rounded to float16
   (the saved checkpoint) before anything else uses them, so every number below is the saved model's.
2. **students** of half its depth, as wide, trained for ``--student-steps`` on the same data with the same
   optimizer settings:
   - *distilled*: initialised from teacher layers 0 and 3 (``student_from_teacher``), DistilBERT's triple loss
     (``SANH_RECIPE``: T = 2, 5 x soft targets + 2 x masked LM + 1 x cosine);
   - *MLM only*: the same initialisation, masked LM alone (the same student trained without distillation);
   - *MLM only, random init*: the same architecture from scratch (DistilBERT's initialisation ablation).
3. **quality**: held-out masked-token accuracy (the pre-training test set, fixed masks) and chapter 07's
   *document kind* task (``minibert.training.tasks.document_kind_task``, ``tasks.fit``: 50 steps, batch 32, lr 1e-3, as
   in chapter 07) fine-tuned with ``--finetune-seeds`` seeds (mean and spread).
4. **size and speed**: parameters (meta-device counter) and the encoders' forward time, teacher vs distilled
   student, interleaved rounds, at batch size 1 (the paper's setting) and 32, measured as the calling thread's CPU
   time (on a shared machine wall time mostly measures the wait for a core).

Writes ``assets/distillation/results.json`` (numbers, settings and thinned curves) and the teacher and distilled
student checkpoints (float16 safetensors) that chapter 10 loads.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent

from minibert.core.parameter_count import count_parameters
from minibert.models.bert.heads import BertForMaskedLM, BertForSequenceClassification
from minibert.models.distilbert.distillation import SANH_RECIPE, Distiller
from minibert.models.distilbert.model import spread_layers, student_from_teacher
from minibert.training import tasks
from minibert.training import Trainer, TrainingConfig, evaluate_mlm, unigram_baseline
from minibert.training.finetuning import with_encoder
from minibert.training.pretrain import _parser as pretrain_parser
from minibert.training.pretrain import build_datasets, load_tokenizer
from minibert.core.files import atomic_write_json
from minibert.training.pretrain import main as pretrain_main

OUT = ROOT / "assets" / "distillation"


def course_recipe() -> list[str]:
    """The arguments ``scripts/pretrain_tiny_bert.py`` pre-trains the course's tiny BERT with."""
    spec = importlib.util.spec_from_file_location("pretrain_tiny_bert", ROOT / "scripts" / "pretrain_tiny_bert.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.ARGS)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--teacher-layers", type=int, default=4)
    p.add_argument("--student-layers", type=int, default=None, help="default: half the teacher's")
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--teacher-steps", type=int, default=1500)
    p.add_argument("--student-steps", type=int, default=500)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of teacher and students; 0 keeps the "
                   "recipe's (its 2e-3 left a 4-layer teacher at the unigram guess)")
    p.add_argument("--teacher", type=Path, default=None, help="a saved teacher folder to reuse (skips pre-training)")
    p.add_argument("--no-random-init", action="store_true", help="skip the randomly initialised student")
    p.add_argument("--finetune-seeds", type=int, default=3)
    p.add_argument("--finetune-steps", type=int, default=50)
    p.add_argument("--timing-rounds", type=int, default=7)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is best on a shared machine)")
    p.add_argument("--out", type=Path, default=None, help=f"default: {OUT.relative_to(ROOT)} (--quick: a temporary folder)")
    p.add_argument("--quick", action="store_true", help="a smoke run with few steps")
    args = p.parse_args(argv)
    if args.quick:
        args.teacher_steps, args.student_steps, args.finetune_steps = 12, 8, 4
        args.finetune_seeds, args.timing_rounds = 1, 2
    if args.out is None:
        args.out = Path(tempfile.mkdtemp(prefix="distil_quick_")) if args.quick else OUT
    return args


def recipe_arguments(args) -> list[str]:
    """The course recipe with this script's overrides (later arguments win in argparse)."""
    # Batch 16 with 100 warm-up steps: the CPU-sized version of the recipe (assets/tiny_bert/ was made on a GPU
    # with batch 64); assets/distillation/ was made with these.
    return [*course_recipe(), "--layers", str(args.teacher_layers), "--seq-len", str(args.seq_len), "--steps",
            str(args.teacher_steps), "--batch-size", "16", "--warmup", "100", "--threads",
            str(args.threads), "--seed", str(args.seed), "--eval-every", str(max(1, args.teacher_steps // 6)),
            "--device", "cpu", "--no-progress", *(["--lr", str(args.lr)] if args.lr else [])]


def round_to_float16(model: nn.Module) -> nn.Module:
    """The weights as the float16 checkpoint stores them (so the saved model is the one measured)."""
    return model.half().float()


def pretrain_teacher(args, recipe):
    if args.teacher is not None:
        history = json.loads((args.teacher / "history.json").read_text()) if (args.teacher / "history.json").exists() else []
        return BertForMaskedLM.from_pretrained(args.teacher), history
    with tempfile.TemporaryDirectory() as scratch:
        pretrain_main(["--out", scratch, *recipe])
        teacher = BertForMaskedLM.from_pretrained(scratch)
        history = json.loads((Path(scratch) / "history.json").read_text())
    return teacher, history


def train_student(model, train, test, recipe, args, callback=None):
    config = TrainingConfig(steps=args.student_steps, batch_size=recipe.batch_size, learning_rate=recipe.lr,
                            warmup_steps=max(1, args.student_steps // 10), decay=recipe.decay,
                            weight_decay=recipe.weight_decay, adam_betas=(0.9, recipe.adam_beta2),
                            adam_eps=recipe.adam_eps, max_grad_norm=recipe.max_grad_norm or None,
                            eval_every=max(1, args.student_steps // 5), seed=args.seed + 1)
    torch.manual_seed(args.seed + 1)
    trainer = Trainer(model, train, config, eval_data=test, device="cpu", progress=False)
    trainer.train(callback=callback)
    return trainer.history


class WithoutSegments(nn.Module):
    """Drops ``token_type_ids`` (all 0 in a single-sentence task): DistilBERT has no segment embeddings."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, token_type_ids=None, **inputs):
        return self.model(**inputs)


def document_kind_accuracy(source, task_train, task_test, pad_id, args) -> list[float]:
    """Chapter 07's document-kind task fine-tuned from ``source``'s encoder, once per seed: test accuracies."""
    accuracies = []
    for seed in range(args.finetune_seeds):
        torch.manual_seed(seed)
        classifier = with_encoder(BertForSequenceClassification(source.config, num_labels=2), source)
        model = WithoutSegments(classifier)
        tasks.fit(model, task_train, pad_id, steps=args.finetune_steps, batch_size=32, learning_rate=1e-3, seed=seed)
        batch = tasks.collate(task_test, pad_id)
        with torch.no_grad():
            logits = classifier(batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        accuracies.append(float((logits.argmax(-1) == batch["labels"]).double().mean()))
    return accuracies


@torch.inference_mode()
def timing(models: dict, batches: dict, rounds: int, calls: int = 10) -> dict:
    """Forward time of each encoder on each batch, interleaved: every round runs every model ``calls`` times.

    On a shared machine a call's wall time includes the time the process waited for a core, so the measure is the
    CPU time of the calling thread (with one torch thread the work runs on it), per call; the best wall time of
    the round is kept too. The speed-up is the median over rounds of teacher / student."""
    result = {}
    for batch_name, (ids, mask) in batches.items():
        cpu = {name: [] for name in models}
        wall = {name: [] for name in models}
        for model in models.values():
            model.eval()(ids, attention_mask=mask)  # warm-up
        for _ in range(rounds):
            for name, model in models.items():
                best, cpu_start = float("inf"), time.thread_time()
                for _ in range(calls):
                    start = time.perf_counter()
                    model(ids, attention_mask=mask)
                    best = min(best, time.perf_counter() - start)
                cpu[name].append((time.thread_time() - cpu_start) / calls)
                wall[name].append(best)
        ratios = [t / s for t, s in zip(cpu["teacher"], cpu["student"])]
        result[batch_name] = {"cpu_seconds_per_call": cpu, "best_wall_seconds": wall,
                              "median_speedup": statistics.median(ratios), "min_speedup": min(ratios),
                              "max_speedup": max(ratios),
                              "best_wall_speedup": min(wall["teacher"]) / min(wall["student"])}
    return result


def thin(history: list[dict], every: int) -> list[dict]:
    """Every ``every``-th record, plus every record with an evaluation, plus the last."""
    return [r for i, r in enumerate(history) if i % every == 0 or "eval_accuracy" in r or i == len(history) - 1]


def main(argv=None) -> dict:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    recipe_args = recipe_arguments(args)
    recipe = pretrain_parser().parse_args(["--out", "unused", *recipe_args])
    tokenizer = load_tokenizer(recipe.tokenizer)
    train, test = build_datasets(tokenizer, args.seq_len, seed=args.seed, dynamic=recipe.masking == "dynamic",
                                 rate=recipe.mask_rate)  # the held-out set is always masked at 15%

    teacher, teacher_history = pretrain_teacher(args, recipe_args)
    teacher = round_to_float16(teacher).eval()
    print(f"teacher ({time.perf_counter() - started:.0f} s): {evaluate_mlm(teacher, test)}", flush=True)

    students, histories = {}, {}
    distilled = student_from_teacher(teacher, args.student_layers, seed=args.seed)
    kept = spread_layers(teacher.config.num_hidden_layers, distilled.config.num_hidden_layers)
    distiller = Distiller(distilled, teacher, **SANH_RECIPE)
    terms = []

    def keep_terms(trainer, record):  # the three terms of the step's first micro-batch, every 10 steps
        if trainer.step % 10 == 0 or trainer.step == 1:
            batch = trainer.micro_batches(trainer.step - 1)[0]
            with torch.no_grad():
                terms.append({"step": trainer.step, **distiller(batch["input_ids"], batch["attention_mask"],
                                                                 batch["labels"]).as_dict()})

    histories["distilled"] = train_student(distiller, train, test, recipe, args, callback=keep_terms)
    students["distilled"] = round_to_float16(distilled)
    print(f"distilled ({time.perf_counter() - started:.0f} s)", flush=True)
    mlm_only = student_from_teacher(teacher, args.student_layers, seed=args.seed)
    histories["mlm_only"] = train_student(mlm_only, train, test, recipe, args)
    students["mlm_only"] = mlm_only
    print(f"MLM only ({time.perf_counter() - started:.0f} s)", flush=True)
    if not args.no_random_init:
        torch.manual_seed(args.seed + 2)
        random_init = type(distilled)(distilled.config)
        histories["random_init"] = train_student(random_init, train, test, recipe, args)
        students["random_init"] = random_init
        print(f"random init ({time.perf_counter() - started:.0f} s)", flush=True)

    task_train, task_test = tasks.document_kind_task(tokenizer, max_tokens=args.seq_len, seed=args.seed)
    results = {
        "made_by": "python scripts/distil_tiny_bert.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "teacher_recipe": recipe_args,
        "student_training": {"steps": args.student_steps, "batch_size": recipe.batch_size,
                             "learning_rate": recipe.lr, "decay": recipe.decay, "mask_rate": recipe.mask_rate}, "student_layers_from_teacher": kept, "distillation_weights": SANH_RECIPE,
        "masked_lm_test": {"predictions": evaluate_mlm(teacher, test)["predictions"],
                           "unigram_baseline_accuracy": unigram_baseline(train, test)["accuracy"]},
        "task": {"name": "document kind (chapter 07)", "train_examples": len(task_train),
                 "test_examples": len(task_test), "finetune_steps": args.finetune_steps,
                 "seeds": args.finetune_seeds,
                 "majority_baseline": max(sum(e.label for e in task_test),
                                          sum(1 - e.label for e in task_test)) / len(task_test)},
        "models": {}}
    for name, model in {"teacher": teacher, **students}.items():
        evaluation = evaluate_mlm(model.eval(), test)
        accuracies = document_kind_accuracy(model, task_train, task_test, tokenizer.pad_token_id, args)
        results["models"][name] = {
            "layers": model.config.num_hidden_layers, "parameters": count_parameters(model),
            "encoder_parameters": count_parameters(model.bert), "masked_accuracy": evaluation["accuracy"],
            "perplexity": evaluation["perplexity"], "task_accuracy": statistics.mean(accuracies),
            "task_accuracies": accuracies}
        print(name, {k: v for k, v in results["models"][name].items() if k != "task_accuracies"}, flush=True)
    teacher_scores = results["models"]["teacher"]
    for scores in results["models"].values():
        scores["masked_accuracy_retained"] = scores["masked_accuracy"] / teacher_scores["masked_accuracy"]
        scores["task_accuracy_retained"] = scores["task_accuracy"] / teacher_scores["task_accuracy"]

    one = test.batch([0])
    many = test.batch(list(range(min(32, len(test)))))
    results["inference"] = timing({"teacher": teacher.bert, "student": distilled.bert},
                                  {"batch_1": (one["input_ids"], one["attention_mask"]),
                                   "batch_32": (many["input_ids"], many["attention_mask"])}, args.timing_rounds)
    results["inference"]["threads"] = args.threads
    results["parameter_ratio"] = results["models"]["distilled"]["parameters"] / teacher_scores["parameters"]
    results["encoder_parameter_ratio"] = (results["models"]["distilled"]["encoder_parameters"]
                                          / teacher_scores["encoder_parameters"])
    results["curves"] = {"teacher": thin(teacher_history, 25),
                         **{name: thin(history, 25) for name, history in histories.items()},
                         "distillation_terms": terms}
    results["wall_seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out / "results.json", results)
    for name, model in (("teacher", teacher), ("student", distilled)):
        model.half().save_pretrained(args.out / name)
        model.float()
    atomic_write_json(args.out / "teacher" / "history.json", thin(teacher_history, 25), indent=None)
    print(f"parameters {results['parameter_ratio']:.2f}, speed-up batch 1 "
          f"{results['inference']['batch_1']['median_speedup']:.2f}x, batch 32 "
          f"{results['inference']['batch_32']['median_speedup']:.2f}x; saved {args.out} in "
          f"{results['wall_seconds']:.0f} s", flush=True)
    return results


if __name__ == "__main__":
    main()

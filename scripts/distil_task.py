"""Task-specific distillation with a confident teacher (chapter 10, section 7): does a fine-tuned teacher's soft
output teach a small student more than its hard labels do?

    python scripts/distil_task.py            # the defaults below (one thread; see the JSON for the time taken)
    python scripts/distil_task.py --quick    # a smoke run: few steps, two seeds, written to a temporary file

Design (Hinton et al., 2015, section 3: soft targets let a student learn from little labelled data; Sanh et al.,
2019, section 4.2: DistilBERT fine-tuned with a fine-tuned teacher's soft targets on SQuAD). Every choice is made
before any test score is seen; nothing is tuned on the test set.

- task: chapter 07's *document kind* (``tasks.document_kind_task``, ``--per-class`` sentences per class from the
  training documents, the test set from held-out documents, as in chapter 07). The training sentences are shuffled
  (seed 0) and cut in two disjoint halves: the **teacher's labelled set** and the **transfer set**, whose labels
  no student ever sees. The student's **small labelled set** is the first ``--labelled`` sentences of the
  teacher's set (a labelled set that is small, as in Hinton et al.'s 3% experiment).
- teacher: the 4-layer teacher of ``assets/distillation/teacher`` with a classification head, fine-tuned on its
  whole labelled set for ``--teacher-steps`` steps (``tasks.fit``: batch 32, AdamW, lr 1e-3, 10% warm-up): long
  enough to be confident. It labels the transfer set once (eval mode, logits kept).
- students: the 2-layer distilled student of ``assets/distillation/student`` (chapter 10's general-purpose
  DistilBERT in miniature) with a new head (``tasks.seeded_model``: for one seed every setting gets the same head
  and the same batch order), ``--student-steps`` steps of ``tasks.fit`` (batch 32, lr 1e-3) in each setting:
  - *small labelled set, hard labels*: the baseline, the student without a teacher;
  - *+ transfer set, teacher's hard labels*: the same plus the transfer set labelled with the teacher's argmax,
    cross-entropy: "more data" without soft targets (the control);
  - *+ transfer set, soft targets at T*: the same sentences, loss :math:`T^2\\,\\mathrm{KL}(p_t^T\\|p_s^T)` on every
    row plus :math:`\\alpha\\,\\mathrm{CE}` on the small labelled set's rows (``TaskDistiller``), for each ``--temperatures``;
  - *+ transfer set, true labels*: the transfer set with its real labels, a reference no student could have.
- measured: held-out accuracy of every run (``tasks.accuracy``) over ``--seeds``; mean, sample sd, and each setting
  minus the baseline, and the soft settings minus the hard-teacher-label control, paired by seed with 95%
  t-intervals (as ``scripts/finetune_seeds.py``); the majority baseline; the teacher's accuracy and its confidence
  on the transfer set at each T (mean largest probability, entropy in nats against ln 2); the soft term's share of
  the training loss (mean over steps).

Writes ``assets/distillation/task_distillation.json`` (atomically) with the command, the hardware, the time taken,
the seeds and every setting.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from finetune_seeds import paired_gap, spread  # noqa: E402  (the same statistics as chapter 07's experiment)
from minibert import BertForMaskedLM, BertForSequenceClassification  # noqa: E402
from minibert.core.files import atomic_write_json  # noqa: E402
from minibert.core.inputs import IGNORE_INDEX  # noqa: E402
from minibert.environment import cpu_model  # noqa: E402
from minibert.models.distilbert.distillation import TaskDistiller, confidence  # noqa: E402
from minibert.models.distilbert.model import DistilBertForMaskedLM  # noqa: E402
from minibert.tokenizers import course_tokenizer  # noqa: E402
from minibert.training import tasks  # noqa: E402

ASSETS = ROOT / "assets" / "distillation"
OUT = ASSETS / "task_distillation.json"
BASELINE, CONTROL, ORACLE = "hard labels, small set", "+ transfer, teacher's hard labels", "+ transfer, true labels"


def soft_name(temperature: float) -> str:
    return f"+ transfer, soft targets T={temperature:g}"


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-class", type=int, default=1000, help="training sentences per class (both halves)")
    p.add_argument("--labelled", type=int, default=40, help="the student's small labelled set")
    p.add_argument("--teacher-steps", type=int, default=300)
    p.add_argument("--student-steps", type=int, default=150)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 2.0, 4.0])
    p.add_argument("--alpha", type=float, default=1.0, help="weight of the hard term in the soft settings")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.teacher_steps, args.student_steps, args.seeds, args.per_class = 4, 3, [0, 1], 120
    if args.out is None:
        args.out = Path(tempfile.mkdtemp(prefix="distil_task_")) / "task_distillation.json" if args.quick else OUT
    return args


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    torch.set_num_threads(args.threads)
    started, cpu_started, load_before = time.perf_counter(), time.process_time(), os.getloadavg()
    tokenizer = course_tokenizer()
    pad = tokenizer.pad_token_id
    train, test = tasks.document_kind_task(tokenizer, per_class=args.per_class, max_tokens=64, seed=0)
    order = list(range(len(train)))
    random.Random(0).shuffle(order)
    half = len(order) // 2
    teacher_set, transfer = [train[i] for i in order[:half]], [train[i] for i in order[half:]]
    labelled = teacher_set[:args.labelled]

    def log(message):
        print(f"{message} ({time.perf_counter() - started:.0f} s)", flush=True)

    mlm_teacher = BertForMaskedLM.from_pretrained(ASSETS / "teacher")
    teacher = tasks.seeded_model(lambda: BertForSequenceClassification(mlm_teacher.config, 2), 0, mlm_teacher)
    tasks.fit(teacher, teacher_set, pad, steps=args.teacher_steps, batch_size=args.batch_size,
              learning_rate=args.lr, seed=0)
    teacher_accuracy = tasks.accuracy(teacher, test, pad)
    transfer_logits = tasks.predict(teacher, transfer, pad).logits
    labelled_logits = tasks.predict(teacher, labelled, pad).logits
    true_transfer = torch.tensor([e.label for e in transfer])
    log(f"teacher: test accuracy {teacher_accuracy:.3f}, transfer-set agreement "
        f"{float((transfer_logits.argmax(-1) == true_transfer).double().mean()):.3f}")

    hidden = [IGNORE_INDEX] * len(transfer)
    data = {BASELINE: (labelled, 1.0),
            CONTROL: (labelled + tasks.relabelled(transfer, labels=transfer_logits.argmax(-1)), 1.0),
            ORACLE: (labelled + transfer, 1.0)}
    for temperature in args.temperatures:
        data[soft_name(temperature)] = (
            tasks.relabelled(labelled, teacher_logits=labelled_logits)
            + tasks.relabelled(transfer, labels=hidden, teacher_logits=transfer_logits), temperature)

    mlm_student = DistilBertForMaskedLM.from_pretrained(ASSETS / "student")
    make = lambda: BertForSequenceClassification(mlm_student.config, 2)  # noqa: E731
    settings = {name: {"test": [], "soft_share": []} for name in data}
    for seed in args.seeds:
        for name, (examples, temperature) in data.items():
            student = TaskDistiller(tasks.seeded_model(make, seed, mlm_student), temperature, args.alpha)
            tasks.fit(student, examples, pad, steps=args.student_steps, batch_size=args.batch_size,
                      learning_rate=args.lr, seed=seed)
            settings[name]["test"].append(tasks.accuracy(student, test, pad))
            soft = [r["soft"] / r["loss"] for r in student.history if "soft" in r]
            if soft:
                settings[name]["soft_share"].append(statistics.fmean(soft))
            log(f"seed {seed} {name}: test {settings[name]['test'][-1]:.3f}")

    base, control = settings[BASELINE]["test"], settings[CONTROL]["test"]
    results = {}
    for name, s in settings.items():
        results[name] = {"test": spread(s["test"]), "examples": len(data[name][0]),
                         "temperature": data[name][1] if name.startswith("+ transfer, soft") else None}
        if name != BASELINE:
            results[name]["minus_baseline"] = paired_gap(s["test"], base)
        if name.startswith("+ transfer, soft"):
            results[name]["minus_control"] = paired_gap(s["test"], control)
            results[name]["soft_term_share_of_loss"] = round(statistics.fmean(s["soft_share"]), 4)
    output = {"script": "scripts/distil_task.py", "command": " ".join(["python scripts/distil_task.py", *argv]),
              "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "out"},
              "data": {"task": "document kind (chapter 07)", "teacher_labelled": len(teacher_set),
                       "transfer": len(transfer), "student_labelled": len(labelled), "test": len(test),
                       "split_seed": 0},
              "majority_baseline": round(tasks.majority_accuracy(labelled, test), 4),
              "teacher": {"layers": mlm_teacher.config.num_hidden_layers, "test_accuracy": round(teacher_accuracy, 4),
                          "transfer_agreement_with_true_labels":
                              round(float((transfer_logits.argmax(-1) == true_transfer).double().mean()), 4),
                          "confidence_on_transfer_set": {f"{t:g}": {k: round(v, 4) for k, v in
                                                                    confidence(transfer_logits, t).items()}
                                                         for t in sorted({1.0, *args.temperatures})}},
              "student_layers": mlm_student.config.num_hidden_layers, "results": results,
              "hardware": {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                           "load_average_at_start": [round(x, 2) for x in load_before]},
              "torch": torch.__version__, "python": platform.python_version()}
    output["wall_seconds"] = round(time.perf_counter() - started)
    output["cpu_seconds"] = round(time.process_time() - cpu_started)
    output["hardware"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out, output)  # never a half-written asset
    print(f"wrote {args.out} in {output['wall_seconds']} s ({output['cpu_seconds']} CPU s)")
    return output


if __name__ == "__main__":
    main()

"""Pre-trained vs from scratch on chapter 07's two classification tasks, over seeds, each start with its own
learning rate chosen on a validation split.

    python scripts/finetune_seeds.py           # the defaults below: 32 fine-tuning runs
    python scripts/finetune_seeds.py --quick   # a smoke run (2 steps, 2 seeds, 2 learning rates; a temporary file)

Settings (the defaults; every one is also written to the JSON):

- tasks: ``minibert.training.tasks.document_kind_task`` (50 steps) and ``duplicate_task`` (60 steps), built with
  ``assets/tiny_bert``'s tokenizer exactly as in chapter 07 (test set: 25% of the documents held out); batch 32,
  AdamW with 10% warm-up then linear decay, gradients clipped at 1 (``tasks.fit``), as in the chapter's live run;
- the two starts: ``BertForSequenceClassification`` with the encoder of ``assets/tiny_bert`` copied in
  (``finetuning.with_encoder``), and the same network from random weights; for one seed both get the same head
  initialisation and the same batches (``tasks.seeded_model``, ``tasks.fit(seed=...)``);
- validation: 20% of the training examples, set aside by ``tasks.validation_split(seed=0)``; every run trains on
  the other 80%. The test set is never used for a choice;
- learning-rate grid, the same for both starts: 3e-4, 1e-3, 3e-3, 1e-2 (chapter 07's live run uses 1e-3 and 2e-3;
  a first run with 3e-3 as the largest saw the from-scratch start choose 3e-3 for the document kind). For
  each task and start, the learning rate with the best validation accuracy on the selection seed (0) is chosen
  (ties: the smaller; with several selection seeds, the best mean);
- seeds 0 to 4 at the chosen learning rate are scored on the test set (seed 0 reuses its selection run).
  Reported: test accuracy per seed, mean, sample standard deviation, min and max; the pre-trained minus
  from-scratch gap paired by seed with its 95% t-interval (n - 1 degrees of freedom); and the majority-class
  baseline (always answer the most frequent training label).

The cost is 2 tasks x 2 starts x (4 learning rates x 1 selection seed + 4 more seeds) = 32 runs. One run took
about 30 s (document kind) to 50 s (duplicates) of wall time on one thread of a shared 2-core machine: that is why
the grid has four values and the learning rate is chosen on one seed, not five. ``--lrs`` and ``--selection-seeds``
widen both. The JSON records the command, the CPU, the thread count, the torch version, the wall
time and the CPU time. Writes ``assets/finetune_seeds.json``, which chapter 07 (section 4) reads.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from minibert.core.files import atomic_write_json
from minibert import BertForMaskedLM, BertForSequenceClassification
from minibert.environment import cpu_model
from minibert.training import tasks
from minibert.training.pretrain import load_tokenizer
from minibert.training.statistics import t_quantile

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "finetune_seeds.json"
ASSET = ROOT / "assets" / "tiny_bert"
TASKS = {"document kind": (tasks.document_kind_task, 50), "duplicates": (tasks.duplicate_task, 60)}
STARTS = ("pre-trained", "from scratch")
def spread(values: list[float]) -> dict:
    return {"mean": round(statistics.fmean(values), 4),
            "sd": round(statistics.stdev(values), 4) if len(values) > 1 else None,
            "min": round(min(values), 4), "max": round(max(values), 4), "by_seed": [round(v, 4) for v in values]}


def paired_gap(a: list[float], b: list[float]) -> dict:
    """``a - b`` paired by seed: mean, sd and the 95% t-interval of the mean difference."""
    d = [x - y for x, y in zip(a, b)]
    out = spread(d)
    if len(d) > 1:
        half = t_quantile(0.975, len(d) - 1) * statistics.stdev(d) / len(d) ** 0.5
        out["ci95"] = [round(statistics.fmean(d) - half, 4), round(statistics.fmean(d) + half, 4)]
        out["resolved"] = out["ci95"][0] > 0 or out["ci95"][1] < 0
    return out



def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--selection-seeds", type=int, nargs="+", default=[0])
    p.add_argument("--lrs", type=float, nargs="+", default=[3e-4, 1e-3, 3e-3, 1e-2])
    p.add_argument("--validation", type=float, default=0.2, help="share of the training examples set aside")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=None, help="default: the asset (a temporary file with --quick)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 steps, seeds 0 1, two learning rates")
    args = p.parse_args(argv)
    steps_of = {name: steps for name, (_, steps) in TASKS.items()}
    if args.quick:
        steps_of = {name: 2 for name in TASKS}
        args.seeds, args.selection_seeds, args.lrs = [0, 1], [0], args.lrs[:2]
    if args.out is None:  # a smoke run never overwrites the asset
        args.out = Path(tempfile.mkdtemp(prefix="smoke_")) / OUT.name if args.quick else OUT
    if not set(args.selection_seeds) <= set(args.seeds):
        p.error("--selection-seeds must be among --seeds")
    torch.set_num_threads(args.threads)
    started, cpu_started = time.perf_counter(), time.process_time()
    load_before = os.getloadavg()
    pretrained = BertForMaskedLM.from_pretrained(ASSET)
    tokenizer = load_tokenizer(str(ASSET / "vocab.txt"))
    pad = tokenizer.pad_token_id
    make = lambda: BertForSequenceClassification(pretrained.config, 2)  # noqa: E731
    output = {"script": "scripts/finetune_seeds.py", "command": " ".join(["python scripts/finetune_seeds.py", *argv]),
              "settings": {"steps": steps_of, "batch_size": args.batch_size, "learning_rates": args.lrs,
                           "seeds": args.seeds, "selection_seeds": args.selection_seeds,
                           "validation_fraction": args.validation, "validation_split_seed": 0,
                           "encoder": "assets/tiny_bert", "selection": "best mean validation accuracy over the "
                           "selection seeds; ties: the smaller learning rate"},
              "hardware": {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                           "load_average_at_start": [round(x, 2) for x in load_before]},
              "torch": torch.__version__, "python": platform.python_version(), "tasks": {}}
    runs = 0
    for name, (build, _) in TASKS.items():
        steps = steps_of[name]
        train, test = build(tokenizer)
        fit_set, validation = tasks.validation_split(train, args.validation, seed=0)
        task = {"train": len(fit_set), "validation": len(validation), "test": len(test), "steps": steps,
                "majority_baseline": round(tasks.majority_accuracy(fit_set, test), 4), "starts": {}}

        def trained(start: str, lr: float, seed: int):
            nonlocal runs
            model = tasks.seeded_model(make, seed, pretrained if start == "pre-trained" else None)
            tasks.fit(model, fit_set, pad, steps=steps, batch_size=args.batch_size, learning_rate=lr, seed=seed)
            runs += 1
            return model

        for start in STARTS:
            grid, kept = {}, {}
            for lr in args.lrs:
                scores = []
                for seed in args.selection_seeds:
                    kept[lr, seed] = trained(start, lr, seed)
                    scores.append(tasks.accuracy(kept[lr, seed], validation, pad))
                    print(f"{name:>13} {start:>12} lr {lr:.0e} seed {seed}: validation {scores[-1]:.3f} "
                          f"({time.perf_counter() - started:.0f} s)", flush=True)
                grid[f"{lr:g}"] = round(statistics.fmean(scores), 4)
            chosen = max(args.lrs, key=lambda lr: (grid[f"{lr:g}"], -lr))
            test_scores = []
            for seed in args.seeds:
                model = kept[chosen, seed] if (chosen, seed) in kept else trained(start, chosen, seed)
                test_scores.append(tasks.accuracy(model, test, pad))
                print(f"{name:>13} {start:>12} lr {chosen:.0e} seed {seed}: test {test_scores[-1]:.3f} "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
            task["starts"][start] = {"validation_by_learning_rate": grid, "chosen_learning_rate": chosen,
                                     "test": spread(test_scores)}
        task["gap"] = paired_gap(task["starts"]["pre-trained"]["test"]["by_seed"],
                                 task["starts"]["from scratch"]["test"]["by_seed"])
        output["tasks"][name] = task
        print(f"{name}: gap {task['gap']['mean']:+.3f}, 95% CI {task['gap'].get('ci95')}", flush=True)
    output["runs"] = runs
    output["wall_seconds"] = round(time.perf_counter() - started)
    output["cpu_seconds"] = round(time.process_time() - cpu_started)
    output["hardware"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out, output)  # never a half-written asset
    print(f"wrote {args.out}: {runs} runs in {output['wall_seconds']} s ({output['cpu_seconds']} CPU s)")
    return output


if __name__ == "__main__":
    main()

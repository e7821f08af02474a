"""RoBERTa's ablations in miniature (chapter 08): static vs dynamic masking, SEGMENT-PAIR + NSP vs FULL-SENTENCES,
small vs large batches at the same number of sequences, each with several seeds, on the course's tiny BERT.

    python scripts/roberta_ablations.py --seeds 0 1 2 3 4    # 25 runs; about 30-40 minutes on 2 CPU cores
    python scripts/roberta_ablations.py --seeds 3 4 --append # add seeds to the saved runs (same settings)
    python scripts/roberta_ablations.py --quick              # a smoke run, written to a temporary file

Every run trains the same tiny BERT (``minibert.training.pretrain.build_model``: 2 layers, H = 128, 64-token inputs, the
course tokenizer) from the same initialisation per seed and evaluates held-out masked-token accuracy and perplexity
on one fixed FULL-SENTENCES test set (whole documents held out, fixed masks). Writes
``assets/roberta_ablations.json``, which chapter 08 loads and plots.
"""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent

from minibert.core.files import atomic_write_json
from minibert.training.pretrain import load_tokenizer
from minibert.training.recipes import ROBERTA_RECIPE, Recipe, pretrain

OUT = ROOT / "assets" / "roberta_ablations.json"


def experiments(steps: int) -> dict[str, Recipe]:
    """The runs: one reference recipe (RoBERTa's choices) and one change at a time."""
    base = ROBERTA_RECIPE.replace(steps=steps, warmup_steps=steps // 10, batch_size=32, learning_rate=1e-3)
    return {
        "dynamic, full-sentences, batch 32": base,
        "static masking": base.replace(masking="static"),
        "segment pairs + NSP": base.replace(inputs="segment-pairs"),
        # the same number of sequences in 4x more, 4x smaller steps, or 4x fewer, 4x larger ones (accumulated)
        "batch 8": base.replace(batch_size=8, steps=4 * steps, warmup_steps=4 * steps // 10, learning_rate=5e-4),
        "batch 128 (4 x 32 accumulated)": base.replace(batch_size=128, micro_batch_size=32, steps=steps // 4,
                                                        warmup_steps=max(1, steps // 40), learning_rate=2e-3),
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300, help="optimizer steps of the batch-32 runs")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=None, help="default: the asset (a temporary file with --quick)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--append", action="store_true",
                   help="keep the saved runs of other seeds (their steps must match) and add these seeds")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.seeds = 8, [0]
    if args.out is None:  # a smoke run never overwrites the asset
        args.out = Path(tempfile.mkdtemp(prefix="smoke_")) / OUT.name if args.quick else OUT
    kept = []
    if args.append and args.out.exists():
        saved = json.loads(args.out.read_text(encoding="utf-8"))
        if saved["settings"]["steps"] != args.steps:
            raise ValueError(f"--append: {args.out} was made with --steps {saved['settings']['steps']}, not "
                             f"{args.steps}; run every seed again instead")
        kept = [run for run in saved["runs"] if run["seed"] not in args.seeds]
    torch.set_num_threads(args.threads)
    tokenizer = load_tokenizer("course")
    runs = []
    started = time.perf_counter()
    for name, recipe in experiments(args.steps).items():
        for seed in args.seeds:
            result = pretrain(recipe, tokenizer, seed=seed)
            result["name"] = name
            result["threads"] = args.threads
            result["hardware"] = platform.machine()
            result["history"] = [round(r["loss"], 4) for r in result["history"]]
            runs.append(result)
            print(f"{name:34s} seed {seed}: masked accuracy {result['masked_accuracy']:.4f}, "
                  f"perplexity {result['perplexity']:.1f} ({time.perf_counter() - started:.0f} s)", flush=True)
    names = list(experiments(args.steps))
    runs = sorted(kept + runs, key=lambda run: (names.index(run["name"]), run["seed"]))
    output = {"script": "scripts/roberta_ablations.py",
              "settings": {"steps": args.steps, "seeds": sorted({run["seed"] for run in runs})},
              "torch": torch.__version__, "runs": runs}
    atomic_write_json(args.out, output)
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return output


if __name__ == "__main__":
    main()

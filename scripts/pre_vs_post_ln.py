"""Post-LN vs pre-LN, with and without learning-rate warm-up (Xiong et al. 2020), in miniature: chapter 03's experiment.

    python scripts/pre_vs_post_ln.py            # 12 runs (2 orders x 2 schedules x 3 seeds); about 16 minutes, 1 thread
    python scripts/pre_vs_post_ln.py --quick    # a smoke run

Every run trains the same masked-LM BERT (6 layers, H = 64, 4 heads, 32-token inputs, batches of 16, the course tokenizer and corpus;
``minibert.training.pretrain``) from the same initialisation per seed, with AdamW at one peak learning rate, no gradient
clipping (clipping would hide the large early gradients the paper is about), and either a linear warm-up over the first
``--warmup`` steps or none (then the rate starts at its peak); both schedules decay linearly to 0. The only difference
between the two orders is ``BertConfig(norm_position=...)``. Recorded per run: the training loss of every step, the
held-out masked-LM loss at the end. Writes ``assets/pre_post_ln.json`` (the command, the settings, the time taken),
which chapter 03 reads and plots.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minibert.core.files import atomic_write_json
from minibert import BertConfig, BertForMaskedLM  # noqa: E402
from minibert.training.config import TrainingConfig  # noqa: E402
from minibert.training.evaluation import evaluate_mlm  # noqa: E402
from minibert.training.loop import TrainingDiverged  # noqa: E402
from minibert.training.pretrain import build_datasets, load_tokenizer  # noqa: E402
from minibert.training.trainer import Trainer  # noqa: E402

OUT = ROOT / "assets" / "pre_post_ln.json"


def run(norm_position: str, warmup: int, seed: int, args, tokenizer, data) -> dict:
    train, test = data
    config = BertConfig(vocab_size=len(tokenizer.vocab), hidden_size=args.hidden, num_hidden_layers=args.layers,
                        num_attention_heads=4, intermediate_size=4 * args.hidden, max_position_embeddings=args.seq_len,
                        pad_token_id=tokenizer.pad_token_id, norm_position=norm_position,
                        initializer_range=args.init_range)
    torch.manual_seed(seed)
    model = BertForMaskedLM(config)
    settings = TrainingConfig(steps=args.steps, batch_size=args.batch_size, learning_rate=args.lr, warmup_steps=warmup,
                              max_grad_norm=None, seed=seed)
    torch.manual_seed(seed)
    trainer = Trainer(model, train, settings, progress=False)
    diverged = None
    try:
        trainer.train()
    except TrainingDiverged as err:
        diverged = err.reason
    losses = [record["loss"] for record in trainer.history]
    held_out = None if diverged else evaluate_mlm(model, test)["loss"]
    return {"norm_position": norm_position, "warmup_steps": warmup, "seed": seed, "train_loss": losses,
            "final_train_loss": statistics.fmean(losses[-args.tail:]) if len(losses) >= args.tail else None,
            "held_out_loss": held_out, "diverged": diverged}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--warmup", type=int, default=30, help="warm-up steps of the runs with warm-up")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--init-range", type=float, default=0.02, help="std of the initial weights (BERT: 0.02)")
    p.add_argument("--tail", type=int, default=20, help="final training loss = mean over the last TAIL steps")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.warmup, args.seeds, args.tail = 6, 2, [0], 2
    torch.set_num_threads(args.threads)
    tokenizer = load_tokenizer("course")
    started = time.perf_counter()
    runs = []
    for seed in args.seeds:
        data = build_datasets(tokenizer, args.seq_len, seed=seed)
        for norm_position in ("post", "pre"):
            for warmup in (0, args.warmup):
                result = run(norm_position, warmup, seed, args, tokenizer, data)
                runs.append(result)
                print(f"{norm_position}-LN warm-up {warmup:3d} seed {seed}: final train loss "
                      f"{result['final_train_loss']}, held-out {result['held_out_loss']}, "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
    summary = {}
    for norm_position in ("post", "pre"):
        for warmup in (0, args.warmup):
            finals = [r["held_out_loss"] for r in runs if (r["norm_position"], r["warmup_steps"]) == (norm_position, warmup)
                      and r["held_out_loss"] is not None]
            summary[f"{norm_position}, warm-up {warmup}"] = {
                "held_out_loss_mean": statistics.fmean(finals) if finals else None,
                "held_out_loss_min": min(finals) if finals else None,
                "held_out_loss_max": max(finals) if finals else None, "runs": len(finals)}
    result = {"made_by": "scripts/pre_vs_post_ln.py",
              "command": "python scripts/pre_vs_post_ln.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "torch": torch.__version__, "seconds": round(time.perf_counter() - started),
              "summary": summary, "runs": runs}
    if not args.quick or args.out != OUT:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(args.out, result)  # never a half-written asset
    return result


if __name__ == "__main__":
    main()

"""Train tiny ELECTRAs on the course corpus for longer than chapter 11 can, and save their learning curves.

    python scripts/train_tiny_electra.py                      # writes assets/electra_tiny.json
    python scripts/train_tiny_electra.py --steps 100 --seeds 0 --out /tmp/electra.json   # a quick check
    python scripts/train_tiny_electra.py --init-from assets/tiny_bert --generators 0.25 1.0 --steps 200 \
        --every 50 --lr 5e-4 --out assets/electra_warm.json    # the discriminator starts from chapter 06's asset

Runs with the same discriminator (defaults: 2 layers, H=64, E=32, BERT's initialisation, AdamW at 1e-3 with 10%
warm-up, batch 32, 600 steps; course tokenizer, 64-token blocks, 15% masking with 80/10/10, lambda = 50,
replacements sampled at ELECTRA's temperature 1; the chapter 06 trainer), one per generator: a generator a quarter of the discriminator's
width (ELECTRA's choice), one as wide as the discriminator, and a control whose "generator" is the training text's
unigram model (replacements drawn from token frequencies, whatever the context: ``UnigramElectra``). Every
``--every`` steps the discriminator is measured on the same held-out batch with the same sampling seed
(``minibert.models.electra.detection_metrics``): AUC of replaced vs original tokens, RTD loss against the base-rate
loss, the generator's MLM loss and accuracy, the AUC of token rarity alone on the same replacements, and
``auc_unigram_fakes``: the same discriminator's AUC against the control's replacements (frequency-matched, so only
the context gives them away). Each run uses one torch thread; the report records the command, the CPU, the
wall and CPU time and, per generator and seed, the curve; ``final`` summarises the last point over the seeds.
``--init-from`` starts the discriminator's encoder from a masked-LM checkpoint (its config replaces the size flags)
and the generator from scratch: it separates "can replaced-token detection train an encoder that reads context?"
from "can a 2-layer model learn to read context in a few hundred steps?" (chapter 06: it cannot).
``--temperature`` above 1 keeps the replacements rarer than text: a discriminator then spots them from token
identity alone (``rarity_auc`` shows how far that goes).
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

from minibert.core.files import atomic_write_json
from minibert.models.bert.heads import BertForMaskedLM
from minibert.models.electra import Electra, ElectraConfig, UnigramElectra, detection_metrics
from minibert.environment import cpu_model
from minibert.training import Trainer, TrainingConfig
from minibert.training.evaluation import unigram_frequencies
from minibert.training.pretrain import build_datasets, load_tokenizer

ROOT = Path(__file__).resolve().parent.parent

OUT = ROOT / "assets" / "electra_tiny.json"
FINAL_KEYS = ("auc", "rtd_loss", "base_rate_loss", "mlm_loss", "generator_accuracy", "rarity_auc",
              "auc_unigram_fakes")


def run_name(generator: str) -> str:
    return "unigram generator (control)" if generator == "unigram" else f"generator x{float(generator)}"


def make_model(generator: str, vocab_size: int, frequencies: torch.Tensor, args) -> Electra:
    if args.init_from is not None:  # the discriminator starts from a masked LM's encoder; the generator from scratch
        start = BertForMaskedLM.from_pretrained(args.init_from)
        if start.config.vocab_size != vocab_size:
            raise SystemExit(f"--init-from {args.init_from}: its vocabulary has {start.config.vocab_size} ids, the "
                             f"course tokenizer {vocab_size}")
        config = ElectraConfig(**{**start.config.to_dict(), "embedding_size": start.config.hidden_size})
        model = (UnigramElectra(config, frequencies) if generator == "unigram" else
                 Electra(config, config.generator_config(float(generator)), temperature=args.temperature))
        model.discriminator.bert.load_state_dict(start.bert.state_dict())
        return model.train()
    config = ElectraConfig.tiny(vocab_size=vocab_size, embedding_size=args.embedding, hidden_size=args.hidden,
                                intermediate_size=4 * args.hidden, num_hidden_layers=args.layers,
                                num_attention_heads=args.heads, max_position_embeddings=64,
                                initializer_range=args.init)
    if generator == "unigram":
        return UnigramElectra(config, frequencies)
    return Electra(config, config.generator_config(float(generator)), temperature=args.temperature)


def run(generator: str, seed: int, train, heldout, frequencies: torch.Tensor, vocab_size: int, args) -> dict:
    torch.manual_seed(seed)
    model = make_model(generator, vocab_size, frequencies, args)
    control = UnigramElectra(model.discriminator.config, frequencies)
    control.discriminator = model.discriminator  # the same discriminator, shown frequency-matched replacements
    trainer = Trainer(model, train, TrainingConfig(steps=args.steps, batch_size=args.batch, learning_rate=args.lr,
                                                   warmup_steps=max(1, args.steps // 10), seed=seed),
                      progress=False)
    curve, start, cpu = [], time.perf_counter(), time.process_time()
    batch = (heldout["input_ids"], heldout["attention_mask"], heldout["labels"])

    def measure(step: int) -> None:
        metrics = detection_metrics(model, *batch, torch.Generator().manual_seed(0), frequencies=frequencies)
        metrics["auc_unigram_fakes"] = detection_metrics(control, *batch, torch.Generator().manual_seed(0))["auc"]
        curve.append({"step": step, **{k: round(v, 4) for k, v in metrics.items()}})
        print(f"{run_name(generator)}, seed {seed}: step {step:5d}  AUC {metrics['auc']:.3f} (rarity alone "
              f"{metrics['rarity_auc']:.3f}, vs unigram fakes {metrics['auc_unigram_fakes']:.3f})  RTD "
              f"{metrics['rtd_loss']:.3f} (base rate {metrics['base_rate_loss']:.3f})  MLM {metrics['mlm_loss']:.2f}"
              f"  ({time.perf_counter() - start:.0f} s)", flush=True)

    measure(0)
    trainer.train(callback=lambda t, record: measure(record["step"]) if record["step"] % args.every == 0 else None)
    if curve[-1]["step"] != args.steps:
        measure(args.steps)
    return {"seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
            "curve": curve}


def summarise(results: dict[int, dict]) -> dict:
    """Mean, standard deviation (over seeds), min and max of the last point's metrics."""
    out = {}
    for key in FINAL_KEYS:
        values = [r["curve"][-1][key] for r in results.values()]
        out[key] = {"mean": round(statistics.fmean(values), 4),
                    "sd": round(statistics.stdev(values), 4) if len(values) > 1 else None,
                    "min": min(values), "max": max(values), "by_seed": values}
    out["learned"] = all(r["curve"][-1]["auc"] >= 0.8 and r["curve"][-1]["rtd_loss"] < r["curve"][-1]["base_rate_loss"]
                         for r in results.values())
    out["seconds_per_run"] = round(statistics.fmean(r["seconds"] for r in results.values()), 1)
    out["cpu_seconds_per_run"] = round(statistics.fmean(r["cpu_seconds"] for r in results.values()), 1)
    return out



def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", nargs="+", default=["0.25", "1.0", "unigram"],
                        help="generator width fractions, and/or 'unigram' for the control")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="sampling temperature of the generator's replacements (ELECTRA: 1)")
    parser.add_argument("--hidden", type=int, default=64, help="the discriminator's width H")
    parser.add_argument("--embedding", type=int, default=32, help="the shared embedding width E")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--init", type=float, default=0.02, help="std of the initial weights (BERT: 0.02)")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="start the discriminator from this masked-LM checkpoint (e.g. assets/tiny_bert: an "
                             "encoder that already reads context); its config replaces --hidden/--embedding/--layers/"
                             "--heads/--init")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for g in args.generators:
        if g != "unigram" and not 0 < float(g) <= 1:
            raise SystemExit(f"--generators takes fractions in (0, 1] or 'unigram', got {g!r}")
    torch.set_num_threads(args.threads)
    tokenizer = load_tokenizer("course")
    train, test = build_datasets(tokenizer, max_tokens=64, seed=0)
    heldout = test.batch(list(range(64)))
    frequencies = unigram_frequencies(train)
    started, cpu_started = time.perf_counter(), time.process_time()
    seeds = {run_name(g): {seed: run(g, seed, train, heldout, frequencies, len(tokenizer.vocab), args)
                           for seed in args.seeds} for g in args.generators}
    argv = sys.argv[1:] if argv is None else argv
    report = {
        "made_by": "scripts/train_tiny_electra.py",
        "command": shlex.join(["python", "scripts/train_tiny_electra.py", *argv]),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "out"},
        "hardware": {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                     "torch": torch.__version__, "python": platform.python_version()},
        "wall_time_s": round(time.perf_counter() - started, 1),
        "cpu_time_s": round(time.process_time() - cpu_started, 1),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "final": {name: summarise(results) for name, results in seeds.items()},
        # the first seed's curves (what chapter 11 plots), then every seed's
        "runs": {name: results[args.seeds[0]]["curve"] for name, results in seeds.items()},
        "seeds": {name: {str(seed): r for seed, r in results.items()} for name, results in seeds.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out, report)  # never a half-written asset
    for name, final in report["final"].items():
        print(f"{name}: AUC {final['auc']['mean']:.3f} (min {final['auc']['min']:.3f}), RTD "
              f"{final['rtd_loss']['mean']:.3f} vs base rate {final['base_rate_loss']['mean']:.3f}, learned: "
              f"{final['learned']}")
    print(f"saved {args.out} ({report['wall_time_s']:.0f} s)")


if __name__ == "__main__":
    main()

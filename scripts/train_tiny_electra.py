"""Train tiny ELECTRAs on the course corpus for longer than chapter 11 can, and save their learning curves.

    python scripts/train_tiny_electra.py                 # writes assets/electra_tiny.json (minutes on 2 CPU cores)
    python scripts/train_tiny_electra.py --steps 100     # a quick check

Two runs with the same discriminator (2 layers, H=64, E=32, course tokenizer, 64-token blocks, 15% masking with
80/10/10, lambda = 50, the chapter 06 trainer): a generator a quarter of the discriminator's width (ELECTRA's
choice) and one as wide as the discriminator. Every ``--every`` steps the discriminator is measured on the same
held-out batch with the same sampling seed (``minibert.models.electra.detection_metrics``): AUC of replaced vs original
tokens, RTD loss against the base-rate loss, the generator's MLM loss and accuracy.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minibert.models.electra import Electra, ElectraConfig, detection_metrics  # noqa: E402
from minibert.training import Trainer, TrainingConfig  # noqa: E402
from minibert.training.pretrain import build_datasets, load_tokenizer  # noqa: E402

OUT = ROOT / "assets" / "electra_tiny.json"


def run(train, heldout, vocab_size: int, generator_fraction: float, args) -> list[dict]:
    torch.manual_seed(args.seed)
    config = ElectraConfig.tiny(vocab_size=vocab_size, embedding_size=32, hidden_size=64, max_position_embeddings=64)
    model = Electra(config, config.generator_config(generator_fraction))
    trainer = Trainer(model, train, TrainingConfig(steps=args.steps, batch_size=32, learning_rate=args.lr,
                                                   warmup_steps=max(1, args.steps // 10), seed=args.seed),
                      progress=False)
    curve, start = [], time.perf_counter()

    def measure(step: int) -> None:
        metrics = detection_metrics(model, heldout["input_ids"], heldout["attention_mask"], heldout["labels"],
                                    torch.Generator().manual_seed(0))
        curve.append({"step": step, **{k: round(v, 4) for k, v in metrics.items()}})
        print(f"generator x{generator_fraction}: step {step:5d}  AUC {metrics['auc']:.3f}  RTD {metrics['rtd_loss']:.3f} "
              f"(base rate {metrics['base_rate_loss']:.3f})  MLM {metrics['mlm_loss']:.2f}  "
              f"({time.perf_counter() - start:.0f} s)", flush=True)

    measure(0)
    trainer.train(callback=lambda t, record: measure(record["step"]) if record["step"] % args.every == 0 else None)
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    tokenizer = load_tokenizer("course")
    train, test = build_datasets(tokenizer, max_tokens=64, seed=args.seed)
    heldout = test.batch(list(range(64)))
    runs = {f"generator x{fraction}": run(train, heldout, len(tokenizer.vocab), fraction, args)
            for fraction in (0.25, 1.0)}
    report = {"made_by": "scripts/train_tiny_electra.py", "settings": {k: v for k, v in vars(args).items() if k != "out"},
              "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()

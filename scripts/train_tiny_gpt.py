"""Train the character-level decoder-only LM that chapter 14 generates with (too long for the notebook's budget).

    python scripts/train_tiny_gpt.py                  # writes assets/tiny_gpt/ (about 3 minutes on 2 CPU cores)
    python scripts/train_tiny_gpt.py --steps 200      # a quick check

The model is :class:`minibert.models.family.causal_lm.CausalLM` (BERT's blocks under a causal mask), 2 layers, 64 wide,
reading 64-character windows of the course corpus (CPython's documentation, lower-cased). Characters seen fewer than 200
times become [UNK]. Held-out documents (10%) give the evaluation loss. Output folder:

- ``config.json`` + ``model.safetensors``: a ``transformers.BertLMHeadModel`` checkpoint (``CausalLM.from_pretrained``);
- ``vocab.json``: the symbols, index = token id;
- ``training.json``: the settings and the train / held-out loss curve (nats per character).
"""
from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent

from minibert import BertConfig
from minibert.corpus import load_documents, random_windows, split_documents
from minibert.models.family.causal_lm import CausalLM
from minibert.core.files import atomic_write_json
from minibert.training.loop import fit

OUT = ROOT / "assets" / "tiny_gpt"
WINDOW = 64


def char_vocabulary(text: str, min_count: int = 200) -> list[str]:
    counts = Counter(text)
    return ["[PAD]", "[UNK]"] + sorted(c for c, n in counts.items() if n >= min_count)


def encode(text: str, vocab: list[str]) -> torch.Tensor:
    index = {c: i for i, c in enumerate(vocab)}
    return torch.tensor([index.get(c, 1) for c in text])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train_docs, test_docs = split_documents(load_documents(), held_out=0.1, seed=0)
    as_text = lambda docs: " ".join(" ".join(d) for d in docs).lower()  # noqa: E731
    train_text, test_text = as_text(train_docs), as_text(test_docs)
    vocab = char_vocabulary(train_text)
    train, test = encode(train_text, vocab), encode(test_text, vocab)
    config = BertConfig(vocab_size=len(vocab), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=256, max_position_embeddings=WINDOW, type_vocab_size=0,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = CausalLM(config)
    generator = torch.Generator().manual_seed(args.seed)
    test_batch = random_windows(test, WINDOW, 256, torch.Generator().manual_seed(1))
    curve, start = [], time.perf_counter()

    def next_batch() -> dict:
        batch = random_windows(train, WINDOW, args.batch, generator)
        return {"input_ids": batch, "labels": batch}

    def measure(step: int, output) -> None:
        if step % 50 == 0 or step == 1:
            model.eval()
            with torch.no_grad():
                held_out = float(model(test_batch, labels=test_batch).loss)
            model.train()
            train_loss = float(output.loss.detach())
            curve.append({"step": step, "train": round(train_loss, 4), "held_out": round(held_out, 4)})
            print(f"step {step:5d}  train {train_loss:.3f}  held-out {held_out:.3f}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)

    # AdamW (weight decay 0.01), 5% warm-up then linear decay, gradients clipped at norm 1
    fit(model, next_batch, args.steps, args.lr, warmup_steps=max(1, args.steps // 20), max_grad_norm=1.0,
        on_step=measure)
    args.out.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(args.out)
    atomic_write_json(args.out / "vocab.json", vocab, indent=None, ensure_ascii=False)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "out"}
    report = {"made_by": "scripts/train_tiny_gpt.py", "settings": {**settings, "window": WINDOW},
              "parameters": sum(p.numel() for p in model.parameters()),
              "uniform_loss": round(math.log(len(vocab)), 4), "curve": curve}
    atomic_write_json(args.out / "training.json", report)
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()

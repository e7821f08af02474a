"""Train the tiny ELMo that chapter 03 reads contextual vectors from (too long for the notebook's budget).

    python scripts/train_tiny_elmo.py                  # writes assets/elmo/ (about 30 minutes on 2 CPU cores shared with other work)
    python scripts/train_tiny_elmo.py --steps 100      # a quick check

The model is :class:`minibert.models.elmo.ElmoBiLM`: a forward and a backward 2-layer LSTM language model (128 units,
projections to 64) over shared word-piece vectors and a tied softmax, as in Peters et al. (2018, sections 3.1 and
3.4) but tiny, reading 32-token windows of the course corpus (CPython's documentation) encoded with the course's
4,096-piece WordPiece vocabulary. Held-out documents (10%) give the evaluation loss. Output folder:

- ``config.json`` + ``model.safetensors``: the biLM (``ElmoBiLM.from_pretrained``);
- ``training.json``: the command, settings, wall time, the forward / backward loss curves (nats per token) and two
  baselines on the same held-out windows: a uniform guess and the unigram (word-piece frequency) model.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import torch

ROOT = Path(__file__).resolve().parent.parent

from minibert.corpus import load_documents, random_windows, split_documents
from minibert.models.elmo import ElmoBiLM, ElmoConfig
from minibert.core.files import atomic_write_json
from minibert.tokenizers import course_tokenizer
from minibert.training.loop import fit

OUT = ROOT / "assets" / "elmo"
WINDOW = 32


class BothDirections(torch.nn.Module):
    """What ``fit`` trains: a module whose output has a ``loss``, here the mean of the two language models' losses."""

    def __init__(self, bilm: ElmoBiLM):
        super().__init__()
        self.bilm = bilm

    def forward(self, input_ids: torch.Tensor) -> SimpleNamespace:
        forward_loss, backward_loss = self.bilm.lm_losses(input_ids)
        return SimpleNamespace(loss=(forward_loss + backward_loss) / 2)


def encode(documents: list, tokenizer) -> torch.Tensor:
    vocab = tokenizer.vocab
    ids = [vocab[t] for doc in documents for sentence in doc for t in tokenizer.tokenize(sentence)]
    return torch.tensor(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    tokenizer = course_tokenizer()
    train_docs, test_docs = split_documents(load_documents(), held_out=0.1, seed=0)
    train, test = encode(train_docs, tokenizer), encode(test_docs, tokenizer)
    config = ElmoConfig(vocab_size=len(tokenizer.vocab))
    model = ElmoBiLM(config)
    generator = torch.Generator().manual_seed(args.seed)
    test_batch = random_windows(test, WINDOW, 64, torch.Generator().manual_seed(1))

    counts = Counter(train.tolist())
    total = sum(counts.values())
    unigram = -sum(math.log((counts.get(t, 0) + 1) / (total + len(tokenizer.vocab))) for t in test_batch[:, 1:].flatten().tolist())
    unigram /= test_batch[:, 1:].numel()

    curve, start = [], time.perf_counter()

    def measure(step: int, output) -> None:
        if step % 50 == 0 or step == 1:
            model.eval()
            with torch.no_grad():
                held_forward, held_backward = (float(x) for x in model.lm_losses(test_batch))
            model.train()
            train_loss = float(output.loss.detach())
            curve.append({"step": step, "train": round(train_loss, 4), "held_out_forward": round(held_forward, 4),
                          "held_out_backward": round(held_backward, 4)})
            print(f"step {step:5d}  train {train_loss:.3f}  held-out forward {held_forward:.3f}  backward "
                  f"{held_backward:.3f}  ({time.perf_counter() - start:.0f} s)", flush=True)

    # AdamW (weight decay 0.01), 5% warm-up then linear decay, gradients clipped at norm 1
    fit(BothDirections(model), lambda: {"input_ids": random_windows(train, WINDOW, args.batch, generator)}, args.steps,
        args.lr, warmup_steps=max(1, args.steps // 20), max_grad_norm=1.0, on_step=measure)
    seconds = time.perf_counter() - start
    model.eval().save_pretrained(args.out, overwrite=True)  # the asset is regenerated on purpose
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "out"}
    report = {"made_by": "scripts/train_tiny_elmo.py", "command": "python " + " ".join(["scripts/train_tiny_elmo.py", *sys.argv[1:]]),
              "settings": {**settings, "window": WINDOW, "tokenizer": "course_tokenizer() (4,096 word pieces)"},
              "wall_seconds": round(seconds), "device": "CPU, 2 threads",
              "train_tokens": len(train), "held_out_tokens": len(test),
              "parameters": sum(p.numel() for p in model.parameters()),
              "uniform_loss": round(math.log(len(tokenizer.vocab)), 4), "unigram_loss": round(unigram, 4),
              "curve": curve}
    atomic_write_json(args.out / "training.json", report)
    print(f"saved to {args.out} after {seconds:.0f} s")


if __name__ == "__main__":
    main()

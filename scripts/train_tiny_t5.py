"""Train the tiny character-level T5 that chapter 14 decodes sentinel spans with (too long for the notebook).

    python scripts/train_tiny_t5.py                    # writes assets/tiny_t5/ (three seeds, one thread)
    python scripts/train_tiny_t5.py --steps 100 --seeds 0 --out /tmp/t5   # a quick check

The model is :class:`minibert.models.t5.T5ForConditionalGeneration` in T5 v1.1's form (GeGLU, untied head, no
dropout), 2 + 2 layers, 64 wide, trained on span corruption (:mod:`minibert.models.t5.span_data`) of 64-character
windows of the course corpus (CPython's documentation, lower-cased); 10% of the documents are held out. Every seed
is evaluated on the same 512 held-out windows, corrupted the same way: the loss per target token, and greedy
decoding of the sentinel spans (exact spans, characters at their place), against the baseline that writes the most
frequent noise character of the training set at every position. Output folder:

- ``config.json`` + ``model.safetensors`` (float16): seed 0's model, a ``transformers.T5ForConditionalGeneration``
  checkpoint (``T5ForConditionalGeneration.from_pretrained``);
- ``vocab.json``: the symbols, index = token id;
- ``training.json``: command, hardware, settings, time, and per seed the loss curve and the held-out scores.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minibert.core.files import atomic_write_json  # noqa: E402
from minibert.corpus import load_documents, random_windows, split_documents  # noqa: E402
from minibert.environment import cpu_model  # noqa: E402
from minibert.models.t5 import T5Config, T5ForConditionalGeneration  # noqa: E402
from minibert.models.t5.span_data import CharSpanCorruption, span_scores  # noqa: E402
from minibert.training.loop import fit

OUT = ROOT / "assets" / "tiny_t5"
HELD_OUT_WINDOWS, HELD_OUT_SEED = 512, 1234


def model_config(vocab_size: int) -> T5Config:
    return T5Config(vocab_size=vocab_size, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4,
                    relative_attention_num_buckets=16, relative_attention_max_distance=64,
                    feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0)


def held_out_set(data: CharSpanCorruption, test: torch.Tensor, window: int):
    """The fixed evaluation batch: the same windows and the same corruption for every seed and in the chapter."""
    generator = torch.Generator().manual_seed(HELD_OUT_SEED)
    return data.batch(random_windows(test, window, HELD_OUT_WINDOWS, generator), generator)


@torch.no_grad()
def evaluate(model, data: CharSpanCorruption, batch, baseline: dict) -> dict:
    """Held-out scores: the loss per target token and, at the spans' characters with the true prefix given
    (teacher forcing), how often the most likely character is right; then greedy decoding of whole spans."""
    ids, mask, labels = batch
    out = model(ids, mask, labels=labels)
    characters = labels >= data.first_character_id
    predicted = model.generate(ids, mask, max_new_tokens=labels.shape[1])
    guesses = [data.spans(row[1:]) for row in predicted]
    truths = [data.spans(row) for row in labels]
    written = [[baseline["character"] * len(span) for span in spans] for spans in truths]
    unigram = baseline["unigram"][labels[labels != -100]]
    return {"loss": round(float(out.loss), 4),
            "characters_teacher_forced": round(float((out.logits.argmax(-1) == labels)[characters].float().mean()), 4),
            "spans": {k: round(v, 4) for k, v in span_scores(guesses, truths).items()},
            "baseline": {"loss": round(float(-unigram.log().mean()), 4),
                         "characters_teacher_forced": round(float((labels[characters] == data.symbols.index(
                             baseline["character"])).float().mean()), 4),
                         **{k: round(v, 4) for k, v in span_scores(written, truths).items()}}}


def train(seed: int, args, data, train_ids, held_out, baseline) -> tuple[T5ForConditionalGeneration, dict]:
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(model_config(len(data.symbols)))
    if args.head_std is not None:  # transformers' N(0, 1) head starts with logits in the tens at this width
        torch.nn.init.normal_(model.lm_head.weight, std=args.head_std)
    generator = torch.Generator().manual_seed(seed)
    small = tuple(t[:128] for t in held_out)
    curve, start = [], time.perf_counter()

    def next_batch() -> dict:
        ids, mask, labels = data.batch(random_windows(train_ids, args.window, args.batch, generator), generator)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    def measure(step: int, output) -> None:
        if step % 100 == 0 or step == 1:
            model.eval()
            with torch.no_grad():
                held = float(model(*small[:2], labels=small[2]).loss)
            model.train()
            train_loss = float(output.loss.detach())
            curve.append({"step": step, "train": round(train_loss, 4), "held_out": round(held, 4)})
            print(f"seed {seed} step {step:5d}  train {train_loss:.3f}  held-out {held:.3f}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)

    # AdamW (weight decay 0.01), 5% warm-up then linear decay, gradients clipped at norm 1
    fit(model, next_batch, args.steps, args.lr, warmup_steps=max(1, args.steps // 20), max_grad_norm=1.0,
        on_step=measure)
    model.eval()
    result = {"seed": seed, "seconds": round(time.perf_counter() - start), "curve": curve,
              "held_out": evaluate(model, data, held_out, baseline)}
    print(f"seed {seed}: {result['held_out']}", flush=True)
    return model, result


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--head-std", type=float, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started, load_before = time.perf_counter(), os.getloadavg()
    train_docs, test_docs = split_documents(load_documents(), held_out=0.1, seed=0)
    as_text = lambda docs: " ".join(" ".join(d) for d in docs).lower()  # noqa: E731
    train_text, test_text = as_text(train_docs), as_text(test_docs)
    data = CharSpanCorruption.from_text(train_text)
    train_ids, test_ids = torch.tensor(data.encode(train_text)), torch.tensor(data.encode(test_text))
    # the baselines know the training targets' statistics and nothing else: a unigram over target tokens (its
    # loss) and the most frequent character inside the spans, written at every position
    counts, noise = torch.ones(len(data.symbols)), Counter()
    generator = torch.Generator().manual_seed(99)
    for row in data.batch(random_windows(train_ids, args.window, 2000, generator), generator)[2]:
        noise.update("".join(data.spans(row)))
        counts += torch.bincount(row[row != -100], minlength=len(data.symbols))
    baseline = {"character": noise.most_common(1)[0][0], "unigram": counts / counts.sum()}
    held_out = held_out_set(data, test_ids, args.window)
    runs = []
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:  # the record is rewritten after each seed, so a long run can be followed
        model, result = train(seed, args, data, train_ids, held_out, baseline)
        runs.append(result)
        if seed == args.seeds[0]:
            parameters = sum(p.numel() for p in model.parameters())
            model.half().save_pretrained(args.out, overwrite=True)
            atomic_write_json(args.out / "vocab.json", data.symbols, indent=None, ensure_ascii=False)
        settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "out"}
        report = {"made_by": "scripts/train_tiny_t5.py",
                  "command": " ".join(["python scripts/train_tiny_t5.py", *argv]),
                  "settings": {**settings, "noise_density": data.noise_density,
                               "mean_span_length": data.mean_span_length, "held_out_windows": HELD_OUT_WINDOWS,
                               "held_out_seed": HELD_OUT_SEED, "checkpoint": f"seed {args.seeds[0]}"},
                  "hardware": {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                               "load_average_at_start": [round(x, 2) for x in load_before],
                               "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
                  "torch": torch.__version__, "python": platform.python_version(),
                  "wall_seconds": round(time.perf_counter() - started), "parameters": parameters,
                  "uniform_loss": round(math.log(len(data.symbols)), 4), "baseline_character": baseline["character"],
                  "runs": runs}
        atomic_write_json(args.out / "training.json", report, ensure_ascii=False)
    print(f"saved to {args.out} in {report['wall_seconds']} s")
    return report


if __name__ == "__main__":
    main()

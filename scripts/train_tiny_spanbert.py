"""Does the span boundary objective make an encoder's span boundaries hold the span? Chapter 11's experiment.

    python scripts/train_tiny_spanbert.py                  # writes assets/spanbert_tiny.json (about an hour, 1 thread)
    python scripts/train_tiny_spanbert.py --steps 20 --probe-steps 10 --seeds 0 --out /tmp/spanbert.json  # a check
    # seeds in two processes side by side, then one asset:
    python scripts/train_tiny_spanbert.py --seeds 0 1 2 --out /tmp/a.json & python scripts/train_tiny_spanbert.py \
        --seeds 3 4 --out /tmp/b.json; wait; python scripts/train_tiny_spanbert.py --merge /tmp/a.json /tmp/b.json

For every seed, two tiny SpanBERTs start from the same weights and see the same span masks (2 layers, H=64, the
course tokenizer, single 64-token sequences, span masking as in chapter 05, 15% of the tokens):

- **MLM + SBO**: SpanBERT's loss, ``mlm_loss + sbo_loss``;
- **MLM only**: the same model with ``sbo_weight=0`` (its SBO head learns nothing; the encoder learns from the
  masked LM alone).

SpanBERT's claim is about the *encoder*: SBO forces the two tokens outside a span to summarise it. So each
trained encoder is then frozen and a fresh SBO head (``BoundaryProbe``, the same initialisation for both) is
trained on it for ``--probe-steps``; the probe is also trained on the untrained encoder of the same seed (what a
head learns from boundaries that hold nothing but their own token and position). Everything is scored on the
held-out documents under ``--draws`` different span masks. Also recorded: held-out MLM loss and accuracy of both
models, the MLM and SBO heads' accuracy by position inside the span (MLM + SBO model), and the unigram baseline
(training-text token frequencies) on the same span tokens.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent

from minibert import BertConfig
from minibert.corpus import load_documents, split_documents
from minibert.core.files import atomic_write_json
from minibert.masking import Masker, pack_full_sentences
from minibert.masking.dataset import encode_documents
from minibert.models.spanbert import (BoundaryProbe, SpanBertForPreTraining, accuracy_by_span_position,
                                      span_masked_batch, train_spanbert)
from minibert.training.pretrain import load_tokenizer

OUT = ROOT / "assets" / "spanbert_tiny.json"
LONGEST = 8  # positions inside a span reported one by one


def pooled_by_position(results: list[dict]) -> dict[str, list]:
    """Accuracy by span position over several mask draws, each position weighted by its count."""
    counts = [sum(r["count"][k] for r in results) for k in range(LONGEST)]
    pooled = {"count": counts}
    for name in ("mlm", "sbo"):
        pooled[name] = [sum(r[name][k] * r["count"][k] for r in results if r["count"][k]) / counts[k]
                        if counts[k] else None for k in range(LONGEST)]
    return pooled


@torch.no_grad()
def scores(model, draws: list[dict]) -> dict:
    """Held-out loss and top-1 accuracy of the model's (or the probe's) SBO head and of the MLM head on every span
    token of every draw, plus accuracy by position inside the span."""
    model.eval()
    totals = {"mlm_loss": 0.0, "mlm_hits": 0, "sbo_loss": 0.0, "sbo_hits": 0, "tokens": 0}
    for batch in draws:
        hidden = model.bert(batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        out = model(batch["input_ids"], batch["attention_mask"], labels=batch["labels"], spans=batch["spans"])
        rows, positions = out.targets[:, 0], out.targets[:, 1]
        truth = batch["labels"][rows, positions]
        mlm_logits = model.mlm(hidden[rows, positions], model.bert.embeddings.token.weight)
        for name, logits in (("mlm", mlm_logits), ("sbo", out.sbo_logits)):
            totals[f"{name}_loss"] += F.cross_entropy(logits, truth, reduction="sum").item()
            totals[f"{name}_hits"] += int((logits.argmax(-1) == truth).sum())
        totals["tokens"] += len(truth)
    n = totals["tokens"]
    return {"mlm_loss": round(totals["mlm_loss"] / n, 4), "mlm_accuracy": round(totals["mlm_hits"] / n, 4),
            "sbo_loss": round(totals["sbo_loss"] / n, 4), "sbo_accuracy": round(totals["sbo_hits"] / n, 4),
            "span_tokens": n,
            "by_position": pooled_by_position([accuracy_by_span_position(model, b, LONGEST) for b in draws])}


def merge(paths: list[Path], out: Path) -> dict:
    """One report from several made with the same settings on different seeds (e.g. in parallel processes)."""
    reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]

    def comparable(report: dict) -> tuple:
        settings = {k: v for k, v in report["settings"].items() if k != "seeds"}
        return settings, report["unigram_baseline"], report["span_tokens_scored"], report["position_counts"]

    first = reports[0]
    for path, report in zip(paths[1:], reports[1:]):
        if comparable(report) != comparable(first):
            raise ValueError(f"{path} was made with other settings than {paths[0]}; only runs of the same settings merge")
    runs = sorted((run for report in reports for run in report["runs"]), key=lambda run: run["seed"])
    seeds = [run["seed"] for run in runs if run["variant"] == "untrained"]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a seed is in more than one report: {sorted(seeds)}")
    settings = {k: v for k, v in first["settings"].items() if k != "merge"}
    merged = dict(first, runs=runs, settings=dict(settings, seeds=seeds),
                  minutes=round(sum(r["minutes"] for r in reports), 1),
                  processes=[{"seeds": r["settings"]["seeds"], "minutes": r["minutes"]} for r in reports])
    atomic_write_json(out, merged)
    print(f"saved {out}: seeds {seeds} from {len(reports)} reports")
    return merged


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--probe-steps", type=int, default=600)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--draws", type=int, default=8, help="held-out span masks to score on")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--merge", type=Path, nargs="+", help="join the runs of these reports (same settings but the "
                        "seeds) into --out, and train nothing")
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.out)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    tokenizer = load_tokenizer("course")
    train_docs, test_docs = split_documents(load_documents(), held_out=0.1, seed=0)
    ids = dict(max_tokens=64, cls_id=tokenizer.cls_token_id, sep_id=tokenizer.sep_token_id)
    train_blocks = pack_full_sentences(encode_documents(train_docs, tokenizer), **ids)
    test_blocks = pack_full_sentences(encode_documents(test_docs, tokenizer), **ids)
    masker = Masker.from_tokenizer(tokenizer, unit="span")
    draws = [span_masked_batch(test_blocks, masker, tokenizer, torch.Generator().manual_seed(draw), 64)
             for draw in range(1, args.draws + 1)]
    config = BertConfig.tiny(vocab_size=len(tokenizer.vocab), hidden_size=64, num_hidden_layers=2,
                             max_position_embeddings=64)

    counts = torch.bincount(torch.tensor([t for b in train_blocks for t in b]), minlength=len(tokenizer.vocab))
    counts = counts.double()
    counts[[tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id]] = 0
    unigram = (counts + 1) / (counts + 1).sum()
    span_tokens = torch.cat([d["labels"][d["labels"] != -100] for d in draws])
    baseline = {"loss": round(-unigram.log()[span_tokens].mean().item(), 4),
                "accuracy": round((span_tokens == unigram.argmax()).double().mean().item(), 4)}

    runs = []
    for seed in args.seeds:
        for variant, weight in (("MLM + SBO", 1.0), ("MLM only", 0.0), ("untrained", None)):
            torch.manual_seed(seed)
            model = SpanBertForPreTraining(config, max_span_length=30, sbo_weight=weight or 0.0)
            curve = []

            def measure(step: int, record=None) -> None:
                if step % args.every == 0:
                    result = scores(model, draws[:1])
                    model.train()
                    curve.append({"step": step, "mlm_loss": result["mlm_loss"], "sbo_loss": result["sbo_loss"]})

            if weight is not None:
                measure(0)
                train_spanbert(model, train_blocks, masker, tokenizer, args.steps, learning_rate=args.lr,
                               warmup_steps=max(1, args.steps // 10), seed=seed, length=64, callback=measure)
            trained = scores(model, draws)
            torch.manual_seed(1000 + seed)  # the same fresh head for every encoder of this seed
            probe = BoundaryProbe(model, max_span_length=30)
            train_spanbert(probe, train_blocks, masker, tokenizer, args.probe_steps, learning_rate=args.lr,
                           warmup_steps=max(1, args.probe_steps // 10), seed=2000 + seed, length=64)
            probed = scores(probe, draws)
            run = {"seed": seed, "variant": variant, "curve": curve,
                   "mlm": {"loss": trained["mlm_loss"], "accuracy": trained["mlm_accuracy"]},
                   "probe": {"loss": probed["sbo_loss"], "accuracy": probed["sbo_accuracy"],
                             "by_position": probed["by_position"]["sbo"]}}
            if weight:
                run["own_heads_by_position"] = trained["by_position"]
            runs.append(run)
            print(f"seed {seed} {variant:10s} MLM {trained['mlm_loss']:.3f} / {trained['mlm_accuracy']:.3f}   "
                  f"boundary probe {probed['sbo_loss']:.3f} / {probed['sbo_accuracy']:.3f}   "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)

    report = {"made_by": "scripts/train_tiny_spanbert.py",
              "settings": {k: v for k, v in vars(args).items() if k not in ("out", "merge")},
              "hardware": f"{platform.machine()}, {args.threads} thread(s), torch {torch.__version__}",
              "minutes": round((time.perf_counter() - started) / 60, 1),
              "span_tokens_scored": int(len(span_tokens)), "position_counts": pooled_by_position(
                  [accuracy_by_span_position(model, d, LONGEST) for d in draws])["count"],
              "unigram_baseline": baseline, "runs": runs}
    atomic_write_json(args.out, report)
    print(f"saved {args.out} ({report['minutes']} min)")
    return report


if __name__ == "__main__":
    main()

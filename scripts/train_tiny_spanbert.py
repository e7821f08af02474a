"""Train a tiny SpanBERT (MLM + span boundary objective) on the course corpus for longer than chapter 11 can.

    python scripts/train_tiny_spanbert.py                 # writes assets/spanbert_tiny.json (minutes on 2 CPU cores)
    python scripts/train_tiny_spanbert.py --steps 100     # a quick check

2 layers, H=64, the course tokenizer, single 64-token sequences (FULL-SENTENCES packing, no second segment, no
NSP), span masking (Geo(0.2) clipped at 10 words, 15% of the tokens, 80/10/10 per span). Every ``--every`` steps the
MLM and SBO losses on the held-out documents (one fixed span mask) are recorded; at the end, the top-1 accuracy of
both heads by position inside the span (``minibert.models.spanbert.accuracy_by_span_position``) on the same text.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent

from minibert import BertConfig
from minibert.corpus import load_documents, split_documents
from minibert.masking import Masker, pack_full_sentences
from minibert.masking.dataset import encode_documents
from minibert.models.spanbert import (SpanBertForPreTraining, accuracy_by_span_position, span_masked_batch,
                                      train_spanbert)
from minibert.training.pretrain import load_tokenizer

OUT = ROOT / "assets" / "spanbert_tiny.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    tokenizer = load_tokenizer("course")
    train_docs, test_docs = split_documents(load_documents(), held_out=0.1, seed=0)
    ids = dict(max_tokens=64, cls_id=tokenizer.cls_token_id, sep_id=tokenizer.sep_token_id)
    train_blocks = pack_full_sentences(encode_documents(train_docs, tokenizer), **ids)
    test_blocks = pack_full_sentences(encode_documents(test_docs, tokenizer), **ids)
    masker = Masker.from_tokenizer(tokenizer, unit="span")
    heldout = span_masked_batch(test_blocks, masker, tokenizer, torch.Generator().manual_seed(1), 64)
    torch.manual_seed(args.seed)
    config = BertConfig.tiny(vocab_size=len(tokenizer.vocab), hidden_size=64, num_hidden_layers=2,
                             max_position_embeddings=64)
    model = SpanBertForPreTraining(config, max_span_length=30)
    curve, start = [], time.perf_counter()

    def measure(step: int, record=None) -> None:
        if step % args.every:
            return
        model.eval()
        with torch.no_grad():
            out = model(heldout["input_ids"], heldout["attention_mask"], labels=heldout["labels"],
                        spans=heldout["spans"])
        model.train()
        curve.append({"step": step, "mlm_loss": round(out.mlm_loss.item(), 4), "sbo_loss": round(out.sbo_loss.item(), 4)})
        print(f"step {step:5d}  held-out MLM {out.mlm_loss.item():.3f}  SBO {out.sbo_loss.item():.3f}  "
              f"({time.perf_counter() - start:.0f} s)", flush=True)

    measure(0)
    train_spanbert(model, train_blocks, masker, tokenizer, args.steps, learning_rate=args.lr,
                   warmup_steps=max(1, args.steps // 10), seed=args.seed, length=64, callback=measure)
    by_position = accuracy_by_span_position(model, heldout, longest=8)
    report = {"made_by": "scripts/train_tiny_spanbert.py", "settings": {k: v for k, v in vars(args).items() if k != "out"},
              "curve": curve, "accuracy_by_position": by_position}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()

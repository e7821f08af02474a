"""Pre-train the tiny BERT that chapter 07 fine-tunes (and chapter 10 distils), and save it to assets/tiny_bert/.

    python scripts/pretrain_tiny_bert.py            # about 10 minutes on 2 quiet CPU cores

It is chapter 06's recipe (the course tokenizer, FULL-SENTENCES inputs of up to 128 tokens, dynamic masking with
80-10-10, AdamW with warm-up and linear decay), run for longer than a notebook may take, through the command line
``python -m minibert.pretrain``. Two departures from BERT's defaults, both measured in chapter 06 (400-step runs):
40% of the tokens are masked instead of 15% (Wettig et al., 2023, "Should You Mask 15% in Masked Language
Modeling?": more predictions per sequence, a stronger signal per step for a small model on little text) and the
weights start from N(0, 0.05) instead of N(0, 0.02) (attention scores start further from uniform, so the model
leaves the "predict the frequent tokens" plateau sooner). The held-out set is always masked at 15%.
Only what chapter 07 needs is kept: config.json, model.safetensors, vocab.txt, history.json and summary.json
(the optimizer state for resuming stays in the temporary folder).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minibert.pretrain import main  # noqa: E402

ARGS = ["--tokenizer", "course", "--steps", "1500", "--batch-size", "16", "--seq-len", "128", "--hidden", "128",
        "--layers", "2", "--heads", "4", "--lr", "2e-3", "--warmup", "100", "--decay", "linear",
        "--mask-rate", "0.4", "--init-range", "0.05", "--seed", "0", "--eval-every", "500", "--threads", "2",
        "--no-progress"]

if __name__ == "__main__":
    extra = sys.argv[1:]  # e.g. --tokenizer path/to/vocab.txt, --threads 1
    target = ROOT / "assets" / "tiny_bert"
    with tempfile.TemporaryDirectory() as scratch:
        summary = main(["--out", scratch, *ARGS, *extra])
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "model.safetensors", "vocab.txt", "history.json", "summary.json"):
            shutil.copy(Path(scratch) / name, target / name)
    print(f"saved to {target}: held-out masked accuracy {summary['evaluation']['accuracy']:.3f}")

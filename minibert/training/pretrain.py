"""Pre-train a small BERT with masked LM on the course corpus, from the command line.

    python -m minibert.training.pretrain --out runs/tiny --steps 300
    torchrun --nproc_per_node=2 -m minibert.training.pretrain --out runs/tiny-ddp --steps 300  # same run, 2 processes
    python -m minibert.training.pretrain --out runs/tiny --steps 600 --resume                   # continue a run

The same code runs on one process or, unchanged, under ``torchrun`` with DistributedDataParallel (gloo on CPU,
nccl on GPU): the global batch, the masks and therefore the losses are the same (see :mod:`minibert.training`).
The output folder is a Hugging Face checkpoint (``config.json``, ``model.safetensors``, ``vocab.txt``) that
``BertForMaskedLM.from_pretrained`` and ``transformers.BertForMaskedLM.from_pretrained`` both load, plus
``training_state.pt`` / ``rng_rank*.pt`` to resume, ``history.json`` (one record per step) and ``summary.json``.
Chapter 06 builds its data and model with :func:`build_datasets` and :func:`build_model` from this module.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from minibert.core.files import atomic_write_text
from minibert.core.config import BertConfig
from minibert.corpus import load_documents, split_documents
from minibert.masking import Masker
from minibert.masking.dataset import MaskedLMDataset, encode_documents
from minibert.models.bert.heads import BertForMaskedLM
from .trainer import Trainer, TrainingConfig, distributed_context, unigram_baseline

__all__ = ["load_tokenizer", "build_datasets", "build_model", "main"]


def load_tokenizer(name: str = "course"):
    """``course``: the WordPiece tokenizer chapter 04 trains on the corpus; ``minilm``: bert-base-uncased's
    vocabulary (shipped with all-MiniLM-L6-v2); or a path to a ``vocab.txt``."""
    if name == "course":
        try:
            from minibert.tokenizers import course_tokenizer
        except ImportError:
            raise ValueError("the course tokenizer (minibert.tokenizers.course_tokenizer, chapter 04) is not "
                             "available in this version; use --tokenizer minilm or a vocab.txt path") from None
        return course_tokenizer()
    if name == "minilm":
        from minibert.core.checkpoints import resolve_checkpoint

        name = str(resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2") / "vocab.txt")
    path = Path(name)
    if not path.is_file():
        raise ValueError(f"unknown tokenizer {name!r}: use 'course', 'minilm' or the path of a vocab.txt")
    try:
        from minibert.tokenizers import WordPieceTokenizer

        return WordPieceTokenizer.from_pretrained(path)
    except ImportError:
        from transformers import BertTokenizer

        return BertTokenizer(str(path), do_lower_case=True)


def _vocab_size(tokenizer) -> int:
    vocab = getattr(tokenizer, "vocab", None)
    return len(vocab) if vocab is not None else len(tokenizer)


def build_datasets(tokenizer, max_tokens: int = 64, held_out: float = 0.1, seed: int = 0, dynamic: bool = True,
                   max_documents: int | None = None, **masking) -> tuple[MaskedLMDataset, MaskedLMDataset]:
    """Train and held-out :class:`MaskedLMDataset` from the course corpus: whole documents held out, sentences
    packed FULL-SENTENCES style into ``max_tokens``. Training inputs are masked 15% / 80-10-10 unless ``masking``
    says otherwise (e.g. ``rate=0.4``); the held-out set is always BERT's 15% / 80-10-10 with fixed masks (a test
    set must not change between evaluations, nor between recipes that we compare)."""
    documents = load_documents()[:max_documents]
    train_docs, test_docs = split_documents(documents, held_out=held_out, seed=seed)
    ids = dict(cls_id=tokenizer.cls_token_id, sep_id=tokenizer.sep_token_id, pad_id=tokenizer.pad_token_id,
               max_tokens=max_tokens)
    train = MaskedLMDataset.from_documents(encode_documents(train_docs, tokenizer),
                                           Masker.from_tokenizer(tokenizer, **masking), seed=seed,
                                           dynamic=dynamic, **ids)
    test = MaskedLMDataset.from_documents(encode_documents(test_docs, tokenizer), Masker.from_tokenizer(tokenizer),
                                          seed=seed + 1, dynamic=False, **ids)
    return train, test


def build_model(vocab_size: int, max_tokens: int = 64, hidden: int = 128, layers: int = 2, heads: int = 4,
                dropout: float = 0.1, seed: int = 0, pad_token_id: int = 0,
                initializer_range: float = 0.02) -> BertForMaskedLM:
    """A small BERT with the masked-LM head, initialised from ``seed`` (the same on every process) with weights
    drawn from N(0, ``initializer_range``)."""
    config = BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=4 * hidden, max_position_embeddings=max_tokens,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, pad_token_id=pad_token_id,
                        initializer_range=initializer_range)
    torch.manual_seed(seed)
    return BertForMaskedLM(config)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m minibert.training.pretrain", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="output folder (checkpoint, history.json, summary.json)")
    p.add_argument("--tokenizer", default="course", help="course | minilm | path/to/vocab.txt (default: course)")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=32, help="sequences per optimizer step, all processes together")
    p.add_argument("--micro-batch-size", type=int, default=None, help="sequences per forward pass on one process")
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--init-range", type=float, default=0.02, help="std of the initial weights (BERT: 0.02)")
    p.add_argument("--mask-rate", type=float, default=0.15, help="share of tokens to predict (BERT: 0.15)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=30, help="warm-up steps")
    p.add_argument("--decay", default="linear", choices=["linear", "cosine", "constant"])
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--adam-beta2", type=float, default=0.999)
    p.add_argument("--adam-eps", type=float, default=1e-6)
    p.add_argument("--max-grad-norm", type=float, default=1.0, help="gradient clipping; 0 turns it off")
    p.add_argument("--masking", default="dynamic", choices=["dynamic", "static"])
    p.add_argument("--eval-every", type=int, default=None)
    p.add_argument("--checkpoint-every", type=int, default=None)
    p.add_argument("--max-documents", type=int, default=None, help="use only the first N documents (quick tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads per process")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if --out holds a run (it is replaced)")
    p.add_argument("--no-progress", action="store_true")
    return p


def _init_distributed(device_arg: str) -> torch.device:
    use_cuda = torch.cuda.is_available() if device_arg == "auto" else device_arg.startswith("cuda")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if int(os.environ.get("WORLD_SIZE", 1)) > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if use_cuda else "gloo")
    return device


def main(argv: list[str] | None = None) -> dict:
    args = _parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = _init_distributed(args.device)
    rank, world = distributed_context()
    out = Path(args.out)
    if args.resume and args.overwrite:
        raise SystemExit("pretrain: --resume continues the run in --out and --overwrite replaces it; pick one")
    if not args.resume and not args.overwrite and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SystemExit(f"pretrain: {out} already holds files (a run?); nothing was trained. Pass --resume to "
                         "continue it, --overwrite to replace it, or choose another --out")
    # settings first: a typo fails in a second, before the corpus is tokenized
    config = TrainingConfig(steps=args.steps, batch_size=args.batch_size, micro_batch_size=args.micro_batch_size,
                            learning_rate=args.lr, warmup_steps=min(args.warmup, args.steps), decay=args.decay,
                            label_smoothing=args.label_smoothing, weight_decay=args.weight_decay,
                            adam_betas=(0.9, args.adam_beta2), adam_eps=args.adam_eps,
                            max_grad_norm=args.max_grad_norm or None, eval_every=args.eval_every, seed=args.seed)
    tokenizer = load_tokenizer(args.tokenizer)
    train, test = build_datasets(tokenizer, args.seq_len, seed=args.seed, dynamic=args.masking == "dynamic",
                                 max_documents=args.max_documents, rate=args.mask_rate)  # held out: 15%
    model = build_model(_vocab_size(tokenizer), args.seq_len, args.hidden, args.layers, args.heads, args.dropout,
                        args.seed, tokenizer.pad_token_id, args.init_range)
    trainer = Trainer(model, train, config, eval_data=test, device=device, progress=not args.no_progress)
    if args.resume:
        trainer.load_checkpoint(out)  # weights, optimizer, schedule, step and every process's generator states
    else:
        torch.manual_seed(args.seed * 1000 + rank)  # dropout: a different random stream on each process
    while trainer.step < config.steps:
        chunk = args.checkpoint_every or config.steps
        trainer.train(steps=chunk - trainer.step % chunk)
        trainer.save_checkpoint(out, overwrite=args.overwrite)
    summary = {"steps": trainer.step, "world_size": world, "device": str(device), "training": asdict(config),
               "final": {k: v for k, v in trainer.history[-1].items()}, "evaluation": trainer.evaluate(),
               "unigram_baseline": unigram_baseline(train, test), "max_weight_difference_between_ranks":
               trainer.ranks_in_sync(), "train_sequences": len(train), "test_sequences": len(test)}
    if rank == 0:
        vocab = getattr(tokenizer, "vocab", None) or tokenizer.get_vocab()
        for name, text in (("vocab.txt", "".join(t + "\n" for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]))),
                           ("history.json", json.dumps(trainer.history, indent=1) + "\n"),
                           ("summary.json", json.dumps(summary, indent=2) + "\n")):
            atomic_write_text(out / name, text)
        ev, base = summary["evaluation"], summary["unigram_baseline"]
        print(f"step {trainer.step}: held-out masked accuracy {ev['accuracy']:.3f} (unigram guess "
              f"{base['accuracy']:.3f}), perplexity {ev['perplexity']:.1f} (unigram {base['perplexity']:.1f}); "
              f"{world} process(es); saved to {out}", file=sys.stderr)
    if world > 1:
        torch.distributed.destroy_process_group()
    return summary


if __name__ == "__main__":
    main()

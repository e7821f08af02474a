"""RoBERTa, ALBERT and DistilBERT encoders: minibert vs transformers, same weights, same process, interleaved.

Config: L=4, H=256, A=4, I=1024 (ALBERT: E=128, all layers shared; DistilBERT: the same width), vocab 30522
(RoBERTa 50265), sequence 128, batch 16, float32, eval mode, ``no_grad``, a padded batch.

    python bench/bench_offspring.py [--rounds 20] [--threads 2]

Prints tokens per second for each library and the ratio (> 1: minibert is faster), the median over rounds of
calls that alternate between the libraries (see ``bench_bert.py``). Numbers from a shared machine are noisy: repeat
on a quiet one before quoting them.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # this checkout's minibert, and the helpers of bench_bert.py
from bench_bert import interleaved  # noqa: E402


def pairs():
    import transformers

    from minibert.models.albert.model import AlbertConfig, AlbertModel
    from minibert.models.distilbert.model import DistilBertConfig, DistilBertModel
    from minibert.models.roberta import RobertaConfig, RobertaModel

    sizes = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)
    yield "RoBERTa", RobertaModel(RobertaConfig(**sizes)), transformers.RobertaModel
    yield "ALBERT (shared)", AlbertModel(AlbertConfig(embedding_size=128, **sizes)), transformers.AlbertModel
    yield "DistilBERT", DistilBertModel(DistilBertConfig(**sizes)), transformers.DistilBertModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batch, length = 16, 128
    print(f"{'model':18s} {'minibert tok/s':>15s} {'transformers tok/s':>19s} {'ratio':>6s}")
    for name, ours, hf_class in pairs():
        ours.eval()
        with tempfile.TemporaryDirectory() as folder:
            ours.save_pretrained(folder)
            theirs = hf_class.from_pretrained(folder, attn_implementation="sdpa").eval()
        config = ours.config
        ids = torch.randint(5, config.vocab_size, (batch, length))
        mask = torch.ones_like(ids)
        mask[batch // 2:, length // 2:] = 0
        ids[mask == 0] = config.pad_token_id
        with torch.no_grad():
            a, b = interleaved(lambda: ours(ids, attention_mask=mask), lambda: theirs(input_ids=ids, attention_mask=mask),
                               args.rounds)
        tokens = batch * length
        print(f"{name:18s} {tokens / a:>15,.0f} {tokens / b:>19,.0f} {b / a:>6.2f}")


if __name__ == "__main__":
    main()

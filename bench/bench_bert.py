"""minibert vs transformers on the CPU: same weights, same process, calls interleaved one by one.

Config (issue #2): L=4, H=256, A=4, I=1024, vocab 30522, sequence 128, batch 16, float32, 2 threads.

    python bench/bench_bert.py [--rounds 20] [--threads 2]

Rows (tokens per second; ratio > 1 means minibert is faster):

* ``train step``: BertForMaskedLM forward + backward + AdamW step, dropout on, 15% of positions labelled. minibert
  scores only the labelled positions against the vocabulary (as the original BERT code does with
  ``masked_lm_positions``); transformers scores all positions and then ignores 85% of them.
* ``inference, all logits``: eval mode, ``no_grad``, the full ``(B, T, V)`` logits on both sides. Same arithmetic;
  three quarters of it is one ``(2048 x 256) @ (256 x 30522)`` matrix product in the same BLAS, so expect ~1x.
* ``fill-mask inference``: the MLM used as it is used, 15% of positions are ``[MASK]`` and we want their top-5
  predictions. minibert's ``fill_mask`` scores only the masked rows; transformers computes all logits and we select.
* ``encoder only``: ``BertModel`` (no head) in eval mode: the feature-extraction use of BERT.

Each call is timed on its own and the two libraries alternate, so a change in machine load hits both; the figure
is the median over rounds. Numbers from a shared machine are noisy: repeat on a quiet one before quoting them.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch


def build(seed: int = 0):
    import transformers

    from minibert import BertConfig, BertForMaskedLM

    config = BertConfig(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)
    torch.manual_seed(seed)
    ours = BertForMaskedLM(config)
    with tempfile.TemporaryDirectory() as folder:
        ours.save_pretrained(folder)
        theirs = transformers.BertForMaskedLM.from_pretrained(folder, attn_implementation="sdpa")
    return config, ours, theirs


def make_batch(config, batch: int, length: int, mask_id: int = 103, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, config.vocab_size, (batch, length), generator=g)
    chosen = torch.rand(batch, length, generator=g) < 0.15
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    masked = ids.masked_fill(chosen, mask_id)
    return ids, torch.ones_like(ids), labels, masked


def interleaved(ours_fn, theirs_fn, rounds: int) -> tuple[float, float]:
    ours_fn(), theirs_fn()  # warm-up (allocator, kernels)
    a, b = [], []
    for _ in range(rounds):
        start = time.perf_counter(); ours_fn(); a.append(time.perf_counter() - start)
        start = time.perf_counter(); theirs_fn(); b.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import transformers

    config, ours, theirs = build()
    ids, mask, labels, masked = make_batch(config, args.batch, args.length)
    tokens = ids.numel()
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-4)
    opt_theirs = torch.optim.AdamW(theirs.parameters(), lr=1e-4)

    def train_ours():
        opt_ours.zero_grad(set_to_none=True)
        ours(ids, attention_mask=mask, labels=labels).loss.backward()
        opt_ours.step()

    def train_theirs():
        opt_theirs.zero_grad(set_to_none=True)
        theirs(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        opt_theirs.step()

    @torch.no_grad()
    def logits_ours():
        return ours(ids, attention_mask=mask).logits

    @torch.no_grad()
    def logits_theirs():
        return theirs(input_ids=ids, attention_mask=mask).logits

    def fill_ours():
        return ours.fill_mask(masked, mask_token_id=103, attention_mask=mask)

    @torch.no_grad()
    def fill_theirs():
        logits = theirs(input_ids=masked, attention_mask=mask).logits
        return logits[masked == 103].softmax(-1).topk(5, dim=-1)

    @torch.no_grad()
    def encode_ours():
        return ours.bert(ids, attention_mask=mask).last_hidden_state

    @torch.no_grad()
    def encode_theirs():
        return theirs.bert(input_ids=ids, attention_mask=mask).last_hidden_state

    # the two sides must compute the same thing before we time them
    ours.eval(); theirs.eval()
    assert (logits_ours() - logits_theirs()).abs().max() < 1e-4
    p_ours, i_ours = fill_ours()
    p_theirs, i_theirs = fill_theirs()
    assert (p_ours - p_theirs).abs().max() < 1e-5

    rows = []
    ours.train(); theirs.train()
    rows.append(("train step", *interleaved(train_ours, train_theirs, max(5, args.rounds // 2))))
    ours.eval(); theirs.eval()
    rows.append(("inference, all logits", *interleaved(logits_ours, logits_theirs, args.rounds)))
    rows.append(("fill-mask inference", *interleaved(fill_ours, fill_theirs, args.rounds)))
    rows.append(("encoder only", *interleaved(encode_ours, encode_theirs, args.rounds)))

    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.get_num_threads()} threads, "
          f"batch {args.batch} x {args.length} tokens, median of {args.rounds} interleaved calls")
    print(f"{'':24}{'minibert tok/s':>16}{'transformers tok/s':>20}{'ratio':>8}")
    for name, t_ours, t_theirs in rows:
        print(f"{name:24}{tokens / t_ours:16,.0f}{tokens / t_theirs:20,.0f}{t_theirs / t_ours:8.2f}x")


if __name__ == "__main__":
    main()

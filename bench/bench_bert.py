"""minibert vs transformers BertForMaskedLM on the CPU, same weights, same process, interleaved.

Config (issue #2): L=4, H=256, A=4, I=1024, vocab 30522, sequence 128, batch 16. Measures tokens per second of
a training step (forward + backward + AdamW step, 15% of positions labelled, dropout on) and of inference
(eval mode, no_grad, full (B, T, V) logits on both sides), and prints the ratio minibert / transformers.

    python bench/bench_bert.py [--repeats 5] [--steps 5] [--threads 2]

Rounds alternate between the two libraries so drift in machine load hits both alike; the figure reported is the
median over rounds.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch


def build_pair(seed: int = 0):
    import transformers

    from minibert import BertConfig, BertForMaskedLM

    config = BertConfig(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)
    torch.manual_seed(seed)
    ours = BertForMaskedLM(config)
    with tempfile.TemporaryDirectory() as folder:
        ours.save_pretrained(folder)
        theirs = transformers.BertForMaskedLM.from_pretrained(folder, attn_implementation="sdpa")
    return config, ours, theirs


def make_batch(config, batch: int, length: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, config.vocab_size, (batch, length), generator=g)
    labels = torch.full_like(ids, -100)
    chosen = torch.rand(batch, length, generator=g) < 0.15
    labels[chosen] = ids[chosen]
    return ids, torch.ones_like(ids), labels


def time_it(fn, steps: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import transformers

    config, ours, theirs = build_pair()
    ids, mask, labels = make_batch(config, args.batch, args.length)
    tokens = ids.numel()

    def train_step(model, optimizer, is_ours):
        def step():
            optimizer.zero_grad(set_to_none=True)
            if is_ours:
                loss = model(ids, attention_mask=mask, labels=labels).loss
            else:
                loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
        return step

    def infer(model, is_ours):
        def run():
            with torch.no_grad():
                out = model(ids, attention_mask=mask) if is_ours else model(input_ids=ids, attention_mask=mask)
            return out.logits
        return run

    results = {"train": {"minibert": [], "transformers": []}, "inference": {"minibert": [], "transformers": []}}
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-4)
    opt_theirs = torch.optim.AdamW(theirs.parameters(), lr=1e-4)
    for _ in range(args.repeats):
        ours.train(); theirs.train()
        results["train"]["minibert"].append(time_it(train_step(ours, opt_ours, True), args.steps))
        results["train"]["transformers"].append(time_it(train_step(theirs, opt_theirs, False), args.steps))
        ours.eval(); theirs.eval()
        results["inference"]["minibert"].append(time_it(infer(ours, True), args.steps))
        results["inference"]["transformers"].append(time_it(infer(theirs, False), args.steps))

    print(f"torch {torch.__version__}, transformers {transformers.__version__}, threads {torch.get_num_threads()}, "
          f"batch {args.batch} x {args.length} tokens, {args.repeats} rounds x {args.steps} steps (median)")
    print(f"{'':12}{'minibert tok/s':>16}{'transformers tok/s':>20}{'ratio':>8}")
    for phase, times in results.items():
        ours_tps = tokens / statistics.median(times["minibert"])
        theirs_tps = tokens / statistics.median(times["transformers"])
        print(f"{phase:12}{ours_tps:16,.0f}{theirs_tps:20,.0f}{ours_tps / theirs_tps:8.2f}x")


if __name__ == "__main__":
    main()

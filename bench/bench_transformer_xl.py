"""Transformer-XL evaluation: cached memory vs recomputing the context, same weights, same process, interleaved.

Evaluating a language model over a long text with a context of L tokens, a vanilla Transformer slides its window one
token at a time and recomputes all L positions for every new token (Dai et al., 2019, figure 1c). Transformer-XL
keeps the hidden states it computed as memory (L of them per layer) and processes the text a segment at a time,
each new token attending to the memory. Every token then has at least L tokens of context. The memory holds hidden
states, not keys and values, so each step re-projects them: stepping one token at a time would redo that work for
every token, which is why evaluation moves by segments (``--segment``). With one layer and single-token steps the two
give exactly the same numbers, which the script checks first. The paper reports "up to 1,874 times faster" at
L = 3,800 on a GPU.

    python bench/bench_transformer_xl.py [--contexts 64 128 256 512] [--tokens 64] [--segment 32] [--save PATH]
    python bench/bench_transformer_xl.py --device cuda --threads 16      # on a GPU, for comparison

``--save`` writes the figures as JSON (chapter 02 displays assets/transformer_xl_speed.json).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from minibert.models.transformer_xl import TransformerXL, TransformerXLConfig

ROOT = Path(__file__).resolve().parent.parent


def build(context: int, layers: int, hidden: int, device: str = "cpu", seed: int = 0, memory: int | None = None):
    """Two models with the same weights: one keeping ``memory`` (default ``context - 1``) states, one keeping none."""
    torch.manual_seed(seed)
    memory = context - 1 if memory is None else memory
    sizes = dict(hidden_size=hidden, num_heads=max(1, hidden // 64), intermediate_size=4 * hidden, num_layers=layers)
    cached = TransformerXL(TransformerXLConfig(**sizes, memory_length=memory)).eval()
    recompute = TransformerXL(TransformerXLConfig(**sizes, memory_length=0)).eval()
    recompute.load_state_dict(cached.state_dict())
    return cached.to(device), recompute.to(device)


@torch.no_grad()
def evaluate_recompute(model, x, context: int) -> torch.Tensor:
    """For each position t >= context, one full pass over the window ending at t; keep the last output."""
    return torch.stack([model(x[:, t - context + 1:t + 1]).last_hidden_state[:, -1]
                        for t in range(context, x.shape[1])], 1)


@torch.no_grad()
def evaluate_cached(model, x, context: int, segment: int = 1) -> torch.Tensor:
    """Warm the memory on the first ``context`` positions, then feed ``segment`` tokens at a time."""
    out = model(x[:, :context])
    memory, outputs = out.memory, []
    for t in range(context, x.shape[1], segment):
        out = model(x[:, t:t + segment], memory)
        memory = out.memory
        outputs.append(out.last_hidden_state)
    return torch.cat(outputs, 1)


def seconds(fn, device: str) -> tuple[float, float]:
    """(wall, CPU) seconds. On a shared machine the process's CPU time is the steadier of the two."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--tokens", type=int, default=64, help="tokens evaluated (timed) after the context")
    parser.add_argument("--segment", type=int, default=32, help="tokens per Transformer-XL step")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--save", nargs="?", const=str(ROOT / "assets" / "transformer_xl_speed.json"),
                        help="write the figures as JSON (default path: assets/transformer_xl_speed.json)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    # correctness first: with one layer both evaluate every token from the same context, to float precision
    one_cached, one_recompute = build(32, 1, 64, args.device)
    x = torch.randn(1, 48, 64, generator=torch.Generator().manual_seed(1)).to(args.device)
    gap = (evaluate_cached(one_cached, x, 32) - evaluate_recompute(one_recompute, x, 32)).abs().max().item()
    print(f"one layer, context 32: cached vs recompute max |diff| = {gap:.1e}")

    rows = []
    print(f"{args.layers} layers, hidden {args.hidden}, {args.tokens} tokens evaluated, Transformer-XL segments of "
          f"{args.segment}, {args.threads} threads, device {args.device}")
    clock = "wall" if args.device.startswith("cuda") else "CPU"  # CPU time: robust to other jobs on the machine
    print(f"{'context':>8} {'recompute s':>12} {'cached s':>10} {'ratio':>7}   ({clock} seconds, median)")
    for context in args.contexts:
        cached, recompute = build(context, args.layers, args.hidden, args.device, memory=context)
        x = torch.randn(1, context + args.tokens, args.hidden, generator=torch.Generator().manual_seed(context))
        x = x.to(args.device)
        evaluate_cached(cached, x[:, :context + 2 * args.segment], context, args.segment)  # warm-up
        evaluate_recompute(recompute, x[:, :context + 2], context)
        slow, fast = [], []
        for _ in range(args.repeats):  # interleaved, so drift in machine load hits both alike
            slow.append(seconds(lambda: evaluate_recompute(recompute, x, context), args.device))
            fast.append(seconds(lambda: evaluate_cached(cached, x, context, args.segment), args.device))
        pick = 0 if clock == "wall" else 1
        row = dict(context=context, recompute_s=statistics.median(t[pick] for t in slow),
                   cached_s=statistics.median(t[pick] for t in fast),
                   wall_recompute_s=statistics.median(t[0] for t in slow), wall_cached_s=statistics.median(t[0] for t in fast))
        row["ratio"] = row["recompute_s"] / row["cached_s"]
        rows.append(row)
        print(f"{context:>8} {row['recompute_s']:>12.3f} {row['cached_s']:>10.3f} {row['ratio']:>6.1f}x")

    if args.save:
        device = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.machine() + " CPU"
        result = dict(script="bench/bench_transformer_xl.py", layers=args.layers, hidden=args.hidden,
                      tokens=args.tokens, segment=args.segment, threads=args.threads, repeats=args.repeats, torch=torch.__version__,
                      device=device, clock=clock, rows=rows)
        path = Path(args.save)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"saved {path}")


if __name__ == "__main__":
    main()

"""ModernBERT vs BERT of the same width and depth on the CPU: forward tokens per second at 512, 1,024, 2,048 and
4,096 tokens, minibert and transformers, one process, every call interleaved with the other three.

Shapes: L=6, H=256, A=4 on both sides. BERT's feed-forward is 4H = 1024 wide; ModernBERT's GeGLU inner width is
1.5H = 384 (ModernBERT-base's 1152 / 768), local window 128, global every third layer (Warner et al. 2024, Table 4).
The parameter counts are printed beside the speeds. float32, eval mode, ``no_grad``, batch 1 with no padding;
transformers runs its ``sdpa`` attention (its fastest on a CPU; flash attention needs a GPU).

    python bench/bench_modernbert.py [--rounds 5] [--threads 1] [--out assets/modernbert_speed.json]

One more row, minibert only: a batch of four sequences of L, 3L/4, L/2 and L/4 real tokens padded to L, run padded
and unpadded (``unpad=True``), to show what removing the padding buys.

Each call is timed on its own and the models take turns, so a change in machine load hits all of them; the figure is
the median over rounds. The ratios (ModernBERT / BERT within each library) are what transfers to another machine.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LENGTHS = (512, 1024, 2048, 4096)


def build(seed: int = 0):
    import transformers

    from minibert import BertConfig, BertModel, ModernBertConfig, ModernBertModel

    bert_config = BertConfig(hidden_size=256, num_hidden_layers=6, num_attention_heads=4, intermediate_size=1024,
                             max_position_embeddings=max(LENGTHS), vocab_size=30522)
    modern_config = ModernBertConfig(hidden_size=256, num_hidden_layers=6, num_attention_heads=4, eos_token_id=None,
                                     bos_token_id=None, cls_token_id=None, sep_token_id=None,
                                     intermediate_size=384, vocab_size=30522, pad_token_id=0)
    torch.manual_seed(seed)
    models = {}
    for name, ours, hf_class in (("BERT", BertModel(bert_config), transformers.BertModel),
                                 ("ModernBERT", ModernBertModel(modern_config), transformers.ModernBertModel)):
        with tempfile.TemporaryDirectory() as folder:
            ours.save_pretrained(folder)
            theirs = hf_class.from_pretrained(folder, attn_implementation="sdpa")
        models[f"minibert {name}"], models[f"transformers {name}"] = ours.eval(), theirs.eval()
    return models


def interleaved(calls: dict, rounds: int) -> dict[str, float]:
    """Median seconds per call; each round calls every function once, in turn."""
    for fn in calls.values():
        fn()  # warm-up
    times = {name: [] for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import transformers

    from minibert import count_parameters
    from minibert.core.files import atomic_write_text
    from minibert.environment import cpu_model

    started = time.perf_counter()
    models = build()
    g = torch.Generator().manual_seed(1)
    rows = []
    for length in LENGTHS:
        ids = torch.randint(1000, 30522, (1, length), generator=g)
        with torch.no_grad():  # the two libraries must compute the same thing before we time them
            for family in ("BERT", "ModernBERT"):
                ours, theirs = models[f"minibert {family}"](ids), models[f"transformers {family}"](input_ids=ids)
                assert (ours.last_hidden_state - theirs.last_hidden_state).abs().max() < 1e-4, family
            calls = {name: (lambda m=model, hf=name.startswith("transformers"):
                            m(input_ids=ids) if hf else m(ids)) for name, model in models.items()}
            seconds = interleaved(calls, args.rounds)
        rows.append({"tokens": length, "tokens_per_second": {k: round(length / s) for k, s in seconds.items()}})

    # unpadding: four sequences of L, 3L/4, L/2, L/4 real tokens in one padded batch (minibert ModernBERT)
    length = max(LENGTHS) // 2
    ids = torch.randint(1000, 30522, (4, length), generator=g)
    mask = (torch.arange(length)[None, :] < torch.tensor([length, 3 * length // 4, length // 2, length // 4])[:, None])
    modern = models["minibert ModernBERT"]
    with torch.no_grad():
        seconds = interleaved({"padded": lambda: modern(ids, mask.long()),
                               "unpadded": lambda: modern(ids, mask.long(), unpad=True)}, args.rounds)
    real = int(mask.sum())
    unpadding = {"batch": 4, "padded_length": length, "real_tokens": real,
                 "real_tokens_per_second": {k: round(real / s) for k, s in seconds.items()}}

    params = {name: count_parameters(models[f"minibert {name}"]) for name in ("BERT", "ModernBERT")}
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.get_num_threads()} thread(s), "
          f"batch 1, median of {args.rounds} interleaved calls; parameters: BERT {params['BERT']:,}, "
          f"ModernBERT {params['ModernBERT']:,} (L=6, H=256, A=4)")
    names = list(models)
    print(f"{'tokens':>7}" + "".join(f"{n:>26}" for n in names)
          + f"{'ModernBERT/BERT mb':>20}{'ModernBERT/BERT hf':>20}")
    for row in rows:
        tps = row["tokens_per_second"]
        row["ratio_minibert"] = round(tps["minibert ModernBERT"] / tps["minibert BERT"], 2)
        row["ratio_transformers"] = round(tps["transformers ModernBERT"] / tps["transformers BERT"], 2)
        print(f"{row['tokens']:>7}" + "".join(f"{tps[n]:>26,}" for n in names)
              + f"{row['ratio_minibert']:>19.2f}x{row['ratio_transformers']:>19.2f}x")
    speed = unpadding["real_tokens_per_second"]
    unpadding["ratio"] = round(speed["unpadded"] / speed["padded"], 2)
    print(f"minibert ModernBERT, batch 4 x {length} with {real} real tokens: padded {speed['padded']:,} real tok/s, "
          f"unpadded {speed['unpadded']:,} real tok/s ({unpadding['ratio']:.2f}x)")
    result = {"script": "bench/bench_modernbert.py",
              "command": " ".join(["python bench/bench_modernbert.py", *(argv if argv is not None else sys.argv[1:])]),
              "hardware": {"cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                           "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
              "seeds": {"weights": 0, "inputs": 1}, "rounds": args.rounds, "parameters": params,
              "rows": rows, "unpadding": unpadding, "wall_seconds": round(time.perf_counter() - started)}
    if args.out is not None:
        atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()

"""minibert's tokenizers vs Hugging Face tokenizers/transformers, same process, interleaved, repeated (issue #3).

    RAYON_NUM_THREADS=1 python bench/bench_tokenizers.py [--repeats 5] [--only bpe,byte,naive,encode,unigram]

1. BPE training on about 1 MB of real English text, vocab 8000: minibert.tokenizers.train_bpe vs tokenizers' BpeTrainer
   (WhitespaceSplit pre-tokenizer, min_frequency 2; the merges are checked to be identical). Target: <= 3x.
2. Byte-level BPE at vocab 512 on the same text: ByteLevelBPETokenizer.train vs tokenizers (target <= 1 s), and
   the naive trainer that recounts every pair after every merge, to show what incremental counts buy.
3. WordPiece encoding throughput on the real bert-base-uncased vocabulary (30522): WordPieceTokenizer.encode per
   text (a fresh tokenizer each round, so its word cache starts empty) vs transformers.BertTokenizer called on the
   whole batch (its fastest path; Rust, one thread). The ids are checked to be identical. Target: >= 1x.
4. Unigram LM training at vocab 2000 on the course corpus (600 KB; Metaspace words, pieces of at most 16 characters,
   shrinking factor 0.75, two EM steps per round): minibert.tokenizers.train_unigram vs tokenizers' UnigramTrainer
   vs SentencePiece (identity normalisation, no script or number splitting, one thread), rounds rotating the
   three; ratios to tokenizers. No identical-output target: the three differ in seeding and pruning details
   (scripts/unigram_comparison.py measures vocabulary overlap and tokens per word). Not in the default --only.

The English text is the course corpus (minibert/data/python_docs.txt, 600 KB) plus prose from the docstrings of
the installed transformers package (read with ast, never imported), in file order, up to 1 MB. Rounds alternate
between the two libraries so load on a shared machine hits both alike; the figure reported is the median round.
"""
from __future__ import annotations

import argparse
import ast
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent


def english_megabyte(size: int = 1_000_000) -> list[str]:
    """About ``size`` bytes of English sentences: the course corpus, then transformers' docstring prose."""
    import importlib.util

    import transformers

    from minibert.corpus import load_text

    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "scripts" / "make_corpus.py")
    make_corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_corpus)
    lines = load_text().splitlines()
    total, seen = sum(len(line.encode()) + 1 for line in lines), set(lines)
    for path in sorted(Path(transformers.__file__).parent.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                for paragraph in make_corpus.prose_paragraphs(ast.get_docstring(node) or ""):
                    for sentence in make_corpus.sentences(paragraph):
                        if sentence not in seen:
                            seen.add(sentence)
                            lines.append(sentence)
                            total += len(sentence.encode()) + 1
                            if total >= size:
                                return lines
    return lines


CLOCK = time.perf_counter


def timed(fn):
    start = CLOCK()
    result = fn()
    return CLOCK() - start, result


def interleaved(ours, theirs, repeats: int):
    """Median seconds of each side over ``repeats`` alternating rounds, and the last results."""
    ours_s, theirs_s = [], []
    for round_ in range(repeats):
        order = [(ours, ours_s), (theirs, theirs_s)]
        for fn, times in (order if round_ % 2 == 0 else order[::-1]):
            seconds, result = timed(fn)
            times.append(seconds)
            if fn is ours:
                ours_result = result
            else:
                theirs_result = result
    return statistics.median(ours_s), statistics.median(theirs_s), ours_result, theirs_result


def hf_bpe(lines, vocab_size, byte_level=False):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    if byte_level:
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False)
    tokenizer.train_from_iterator(lines, trainer)
    return tokenizer


def rotated(functions: dict, repeats: int) -> dict:
    """Median seconds of each function over ``repeats`` rounds, the order rotating each round."""
    names, times = list(functions), {name: [] for name in functions}
    for round_ in range(repeats):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            times[name].append(timed(functions[name])[0])
    return {name: statistics.median(values) for name, values in times.items()}


def merges_of(tokenizer):
    import json

    return [tuple(m) for m in json.loads(tokenizer.to_str())["model"]["merges"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="bpe,byte,naive,encode")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with process CPU time instead of wall time (steadier on a shared machine; both "
                             "sides run on one thread)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.cpu_time else time.perf_counter
    parts = set(args.only.split(","))
    from minibert.tokenizers import ByteLevelBPETokenizer, WordPieceTokenizer, train_bpe

    lines = english_megabyte()
    size = sum(len(line.encode()) + 1 for line in lines)
    print(f"text: {size / 1e6:.2f} MB, {len(lines):,} sentences; RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}, "
          f"median of {args.repeats} interleaved rounds, {'CPU' if args.cpu_time else 'wall'} time")
    print(f"{'task':48}{'minibert':>10}{'reference':>11}{'ratio':>8}  target")
    if "bpe" in parts:
        ours_s, theirs_s, ours, theirs = interleaved(lambda: train_bpe(lines, 8000, min_frequency=2),
                                                     lambda: hf_bpe(lines, 8000), args.repeats)
        assert ours.merges == merges_of(theirs), "merges differ from tokenizers'"
        print(f"{'BPE training, vocab 8000 (identical merges)':48}{ours_s:9.2f}s{theirs_s:10.2f}s"
              f"{ours_s / theirs_s:7.2f}x  <= 3x slower")
    if "byte" in parts:
        ours_s, theirs_s, ours, theirs = interleaved(lambda: ByteLevelBPETokenizer.train(lines, 512),
                                                     lambda: hf_bpe(lines, 512, byte_level=True), args.repeats)
        assert ours.merges == merges_of(theirs), "byte-level merges differ from tokenizers'"
        print(f"{'byte-level BPE training, vocab 512':48}{ours_s:9.2f}s{theirs_s:10.2f}s"
              f"{ours_s / theirs_s:7.2f}x  <= 1 s")
    if "naive" in parts:
        from minibert.reference.tokenizer_trainers import naive_train_bpe
        from minibert.tokenizers.bpe import count_words
        from minibert.tokenizers.byte_level import byte_level_pre_tokenize, bytes_to_unicode

        counts = dict(count_words(lines, byte_level_pre_tokenize))
        alphabet = tuple(bytes_to_unicode().values())
        incremental_s, model = timed(lambda: train_bpe(counts, 512, 2, initial_alphabet=alphabet))
        naive_s, naive = timed(lambda: naive_train_bpe(counts, 512, 2, initial_alphabet=alphabet))
        assert [(m.left, m.right) for m in model.history] == [(a, b) for a, b, _, _ in naive]
        print(f"{'byte-level merges, vocab 512: naive trainer':48}{incremental_s:9.2f}s{naive_s:10.2f}s"
              f"{naive_s / incremental_s:7.1f}x  (reference column: reference_trainers.naive_train_bpe, "
              "which recounts every pair after every merge; one run each)")
    if "encode" in parts:
        import shutil

        import transformers

        from minibert.core.checkpoints import resolve_checkpoint

        folder = resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2", local_files_only=True)
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(folder / "vocab.txt", Path(tmp) / "vocab.txt")
            hf = transformers.BertTokenizer.from_pretrained(tmp)
        ours_s, theirs_s, ours, theirs = interleaved(
            lambda: [t.input_ids for t in map(WordPieceTokenizer.from_pretrained(folder).encode, lines)],
            lambda: hf(lines)["input_ids"], args.repeats)
        assert ours == theirs, "ids differ from transformers'"
        print(f"{'WordPiece encoding, 30522 vocab (identical ids)':48}{ours_s:9.2f}s{theirs_s:10.2f}s"
              f"{ours_s / theirs_s:7.2f}x  <= 1x (time), i.e. >= 1x throughput")
        print(f"{'':48}{size / ours_s / 1e6:8.2f}MB/s{size / theirs_s / 1e6:8.2f}MB/s")
    if "unigram" in parts:
        import importlib.util

        from minibert.corpus import load_text
        from minibert.tokenizers import train_unigram

        spec = importlib.util.spec_from_file_location("unigram_comparison", ROOT / "scripts" / "unigram_comparison.py")
        comparison = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(comparison)
        corpus = load_text().splitlines()
        seconds = rotated({"minibert": lambda: train_unigram(corpus, 2000),
                           "tokenizers": lambda: comparison.train_tokenizers(corpus, 2000),
                           "sentencepiece": lambda: comparison.train_sentencepiece(corpus, 2000)},
                          max(1, args.repeats // 2))
        for name in ("minibert", "sentencepiece"):
            print(f"{'Unigram training, vocab 2000: ' + name:48}{seconds[name]:9.2f}s{seconds['tokenizers']:10.2f}s"
                  f"{seconds[name] / seconds['tokenizers']:7.2f}x  (reference column: tokenizers' UnigramTrainer)")


if __name__ == "__main__":
    main()

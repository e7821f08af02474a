"""Unigram LM trainers side by side on the course corpus: minibert's ``train_unigram``, ``tokenizers``' UnigramTrainer
and SentencePiece (Kudo and Richardson, 2018), at the same vocabulary size and with the same pre-tokenization.

    OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 python scripts/unigram_comparison.py [--vocab-size 2000]

Fair terms: the 90% of the corpus documents that chapter 04 trains on (``split_documents(..., held_out=0.1,
seed=0)``), raw text with no normalisation, words cut at spaces with "▁" in front (Metaspace; SentencePiece with
identity normalisation, no extra-whitespace removal, no script or number splitting), pieces of at most 16
characters, shrinking factor 0.75, two EM steps per round, one thread. Measures: vocabulary overlap (shared pieces /
pieces, special tokens left out), tokens per held-out word (each tokenizer with its own encoder; words are the
space-separated words of the held-out 10%), and training time (a single run on a shared machine: indicative only;
``bench/bench_tokenizers.py`` times them properly). Writes ``assets/unigram_comparison.json`` and minibert's trained
tokenizer as ``assets/unigram_2000/tokenizer.json``; chapter 04 reads both.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minibert.core.files import atomic_write_json  # noqa: E402
from minibert.environment import cpu_model, versions  # noqa: E402

OUT = ROOT / "assets" / "unigram_comparison.json"


def train_tokenizers(lines, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, unk_token="<unk>", special_tokens=["<unk>"],
                                      shrinking_factor=0.75, n_sub_iterations=2, max_piece_length=16,
                                      show_progress=False)
    tokenizer.train_from_iterator(lines, trainer)
    return tokenizer


def train_sentencepiece(lines, vocab_size):
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, normalization_rule_name="identity", remove_extra_whitespaces=False,
        split_by_unicode_script=False, split_by_number=False, split_digits=False, max_sentencepiece_length=16,
        shrinking_factor=0.75, num_sub_iterations=2, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, num_threads=1,
        hard_vocab_limit=False, minloglevel=2)
    return sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab-size", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--tokenizer-out", type=Path, default=ROOT / "assets" / "unigram_2000")
    args = parser.parse_args(argv)
    from minibert.corpus import load_documents, split_documents
    from minibert.tokenizers.train_unigram import train_unigram

    train_docs, held_docs = split_documents(load_documents(), held_out=0.1, seed=0)
    train_lines = [s for doc in train_docs for s in doc]
    held_lines = [s for doc in held_docs for s in doc]
    held_words = sum(len(line.split()) for line in held_lines)
    started = time.perf_counter()
    results, vocabularies, seconds = {}, {}, {}

    begin = time.perf_counter()
    ours = train_unigram(train_lines, args.vocab_size)
    seconds["minibert"] = time.perf_counter() - begin
    vocabularies["minibert"] = {p for p in ours.ids_to_tokens if p != "<unk>"}
    results["minibert"] = sum(len(ours.tokenize(line)) for line in held_lines)
    ours.save(args.tokenizer_out)

    begin = time.perf_counter()
    hf = train_tokenizers(train_lines, args.vocab_size)
    seconds["tokenizers"] = time.perf_counter() - begin
    vocabularies["tokenizers"] = {p for p in hf.get_vocab() if p != "<unk>"}
    results["tokenizers"] = sum(len(hf.encode(line).tokens) for line in held_lines)

    begin = time.perf_counter()
    sp = train_sentencepiece(train_lines, args.vocab_size)
    seconds["sentencepiece"] = time.perf_counter() - begin
    vocabularies["sentencepiece"] = {sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not sp.is_unknown(i)}
    results["sentencepiece"] = sum(len(sp.encode(line, out_type=str)) for line in held_lines)

    names = list(vocabularies)
    overlap = {f"{a} & {b}": len(vocabularies[a] & vocabularies[b]) for i, a in enumerate(names) for b in names[i + 1:]}
    output = {
        "script": "scripts/unigram_comparison.py",
        "command": " ".join(["python scripts/unigram_comparison.py", *(argv if argv is not None else sys.argv[1:])]),
        "hardware": {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": 1,
                     "load_average_at_end": None},
        "versions": {k: v for k, v in versions().items() if k in ("python", "tokenizers", "numpy")}
        | {"sentencepiece": __import__("sentencepiece").__version__},
        "seeds": "none needed: all three trainers are deterministic",
        "vocab_size": args.vocab_size,
        "train": {"documents": len(train_docs), "sentences": len(train_lines)},
        "held_out": {"documents": len(held_docs), "sentences": len(held_lines), "words": held_words},
        "trainers": {name: {"pieces": len(vocabularies[name]), "held_out_tokens": results[name],
                            "tokens_per_word": round(results[name] / held_words, 4),
                            "train_seconds_indicative": round(seconds[name], 1)} for name in names},
        "shared_pieces": overlap,
        "tokenizer_file": "assets/unigram_2000/tokenizer.json (minibert's, written by this script)",
    }
    output["hardware"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    output["wall_seconds"] = round(time.perf_counter() - started)
    atomic_write_json(args.out, output, ensure_ascii=False)
    print(json.dumps(output, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Unigram LM tokenization (Kudo, 2018): Viterbi = tokenizers' Unigram model with the same pieces and scores on long
mixed text, tokenizer.json both ways, Viterbi = brute force, sampling follows P(x)^alpha, EM never lowers the
likelihood, pruning reaches the size and keeps every character, and bad inputs get clear errors."""
from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest

from minibert.tokenizers import UnigramTokenizer, train_unigram
from minibert.tokenizers.train_unigram import digamma, em_step, seed_pieces
from minibert.tokenizers.unigram import metaspace_pre_tokenize, segmentations, viterbi_segment

tokenizers = pytest.importorskip("tokenizers")

MIXED = ("Hello  world, naïve café 123 4567!! Мама мыла раму. 我们在学习自然语言处理。 ёжик\tтаб\nновая  строка   "
         "✓✓ 🙂👍🏽 x<unk>y <pad> the end 3.14159 __getattribute__ Ελληνικά ‘quotes’ — dash ")


def _random_pieces(text: str, seed: int, drop: str = "✓🙂\t") -> list[tuple[str, float]]:
    """Pieces cut at random from the words of ``text`` (characters in ``drop`` left out, so they are unknown)."""
    rng = random.Random(seed)
    pieces = set()
    for word in metaspace_pre_tokenize(text):
        for _ in range(4):
            i = rng.randrange(len(word))
            pieces.add(word[i:min(len(word), i + rng.randint(1, 6))])
    pieces = sorted(p for p in pieces if not set(p) & set(drop) and p not in ("<unk>", "<pad>"))
    return [("<unk>", 0.0), ("<pad>", 0.0)] + [(p, -rng.uniform(1.0, 14.0)) for p in pieces]


def _hf(tokenizer: UnigramTokenizer, folder):
    return tokenizers.Tokenizer.from_file(str(tokenizer.save(folder)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_viterbi_equals_tokenizers_on_long_mixed_text(tmp_path, seed):
    text = MIXED * 40
    ours = UnigramTokenizer(_random_pieces(MIXED, seed), unk_id=0, special_tokens=["<unk>", "<pad>"])
    theirs = _hf(ours, tmp_path).encode(text)
    assert ours.tokenize(text) == theirs.tokens
    assert ours.encode(text).input_ids == theirs.ids
    assert any(t == "✓✓" for t in theirs.tokens)  # unknown characters fused into one <unk>, as tokenizers does
    for line in MIXED.split(" "):  # short texts too: one word, leading spaces, nothing but spaces
        for variant in (line, " " + line, line + "  ", "   "):
            assert ours.encode(variant).input_ids == _hf(ours, tmp_path).encode(variant).ids, variant


def test_tokenizer_json_both_ways(tmp_path):
    hf = tokenizers.Tokenizer(tokenizers.models.Unigram(_random_pieces(MIXED, 3), unk_id=0, byte_fallback=False))
    hf.pre_tokenizer = tokenizers.pre_tokenizers.Metaspace()
    hf.decoder = tokenizers.decoders.Metaspace()
    hf.save(str(tmp_path / "tokenizer.json"))
    ours = UnigramTokenizer.from_file(tmp_path)  # tokenizers -> ours
    assert ours.tokenize(MIXED) == hf.encode(MIXED).tokens
    assert ours.decode(ours.encode(MIXED).input_ids) == hf.decode(hf.encode(MIXED).ids)
    again = UnigramTokenizer.from_file(ours.save(tmp_path / "ours"))  # ours -> file -> ours
    assert again.pieces == ours.pieces and again.unk_id == 0
    reloaded = tokenizers.Tokenizer.from_file(str(tmp_path / "ours" / "tokenizer.json"))  # ours -> tokenizers
    assert reloaded.encode(MIXED).ids == hf.encode(MIXED).ids


def test_metaspace_like_tokenizers():
    hf = tokenizers.pre_tokenizers.Metaspace()
    for text in ["Hello  world", " a", "a\tb\nc  ", "   ", "▁x", "x ▁ y"]:
        assert metaspace_pre_tokenize(text) == [w for w, _ in hf.pre_tokenize_str(text)], text


def test_viterbi_equals_brute_force():
    rng = random.Random(0)
    for trial in range(300):
        alphabet = "abcdé"[:rng.randint(2, 5)]
        pieces = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(2, 12))}
        scores = {p: -rng.uniform(0.1, 8.0) for p in pieces}
        word = "".join(rng.choice(alphabet + "z") for _ in range(rng.randint(1, 8)))  # z: never a piece
        unknown = min(scores.values()) - 10
        best = max(score for _, score in segmentations(word, scores, unknown))
        got = viterbi_segment(word, scores, unknown)
        assert "".join(got) == word
        total = sum(scores.get(p, unknown) for p in got)
        assert all(p in scores or len(p) == 1 for p in got)
        assert math.isclose(total, best, abs_tol=1e-9), (trial, word, got)


def test_toy_worked_example():
    """tokenizers' own doc example: with these scores 'abcdacdxx' is 'abcd a cd xx' (x unknown, fused)."""
    pieces = [("<unk>", 0.0), ("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0), ("cd", 1.0), ("ab", 2.0),
              ("abc", 5.0), ("abcd", 10.0)]
    tok = UnigramTokenizer(pieces, unk_id=0, prepend_scheme="never")
    assert tok.segment("abcdacdxx") == ["abcd", "a", "cd", "xx"]
    assert tok.encode("abcdacdxx").input_ids == [8, 1, 5, 0]


def test_sampling_large_alpha_is_viterbi():
    tok = UnigramTokenizer(_random_pieces(MIXED, 4), unk_id=0)
    text = "Hello world, naïve café 123"
    rng = np.random.default_rng(0)
    assert all(tok.sample(text, alpha=200.0, generator=rng) == tok.tokenize(text) for _ in range(20))
    assert tok.sample(text, 0.3, 7) == tok.sample(text, 0.3, 7)  # seeded
    assert len({tuple(tok.sample(text, 0.0, rng)) for _ in range(30)}) > 1


def test_sampling_follows_p_to_the_alpha():
    scores = {"a": -1.0, "b": -1.5, "ab": -2.0, "ba": -2.2, "aba": -2.9, "c": -4.0}
    tok = UnigramTokenizer([("<unk>", 0.0)] + list(scores.items()), unk_id=0, prepend_scheme="never")
    word, alpha, n = "abac", 0.5, 4000
    options = {tuple(x): s for x, s in segmentations(word, tok.scores, tok.unknown_score)}
    weights = {x: math.exp(alpha * s) for x, s in options.items()}
    z = sum(weights.values())
    rng = np.random.default_rng(1)
    counts = Counter(tuple(tok.sample(word, alpha, rng)) for _ in range(n))
    assert set(counts) <= set(options)
    for x, w in weights.items():
        p = w / z
        assert abs(counts[x] / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-3, (x, counts[x] / n, p)


def _corpus():
    from minibert.corpus import load_text

    return load_text().splitlines()[:120]


def test_em_never_lowers_the_likelihood():
    counts = Counter(w for line in _corpus()[:60] for w in metaspace_pre_tokenize(line))
    scores = seed_pieces(counts, 3000)
    previous = -math.inf
    for _ in range(5):
        scores, likelihood = em_step(counts, scores, bayesian=False, keep=set(scores))
        assert likelihood >= previous - 1e-6
        previous = likelihood
    assert math.isclose(sum(math.exp(s) for s in scores.values()), 1.0, rel_tol=1e-9)


def test_training_reaches_the_size_and_keeps_every_character():
    lines = _corpus()
    tok = train_unigram(lines, 300)
    assert len(tok) == 300 and tok.ids_to_tokens[0] == "<unk>"
    characters = {c for line in lines for w in metaspace_pre_tokenize(line) for c in w}
    assert characters <= set(tok.vocab)
    sizes = [size for size, _ in tok.history]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 299
    scores = [s for _, s in tok.pieces[1:]]
    assert scores == sorted(scores, reverse=True)
    assert "<unk>" not in tok.tokenize(" ".join(lines[:20]))
    assert train_unigram(lines, 300).pieces == tok.pieces  # deterministic


def test_digamma():
    assert math.isclose(digamma(1.0), -0.5772156649015329, abs_tol=1e-12)
    assert math.isclose(digamma(0.5), -1.9635100260214235, abs_tol=1e-12)
    assert math.isclose(digamma(10.0) - digamma(9.0), 1 / 9, abs_tol=1e-12)


def test_bad_inputs(tmp_path):
    with pytest.raises(TypeError, match="pair"):
        UnigramTokenizer(["a", "b"])
    with pytest.raises(ValueError, match="unk_id"):
        UnigramTokenizer([("a", -1.0)], unk_id=3)
    with pytest.raises(ValueError, match="score"):
        UnigramTokenizer([("a", float("nan"))])
    with pytest.raises(ValueError, match="repeat"):
        UnigramTokenizer([("a", -1.0), ("a", -2.0)])
    no_unk = UnigramTokenizer([("▁", -1.0), ("a", -1.0)], unk_id=None)
    with pytest.raises(ValueError, match="no unknown token"):
        no_unk.tokenize("ab")
    tok = UnigramTokenizer([("<unk>", 0.0), ("a", -1.0)])
    with pytest.raises(ValueError, match="alpha"):
        tok.sample("a", alpha=-1)
    with pytest.raises(TypeError, match="generator"):
        tok.sample("a", generator="seed")
    with pytest.raises(TypeError):
        tok.tokenize(b"bytes")
    with pytest.raises(ValueError, match="at least"):
        train_unigram(["abcdef ghij"], 5)
    with pytest.raises(TypeError, match="list of texts"):
        train_unigram("a text", 50)
    with pytest.raises(ValueError, match="shrinking_factor"):
        train_unigram(["a b"], 50, shrinking_factor=1.5)
    (tmp_path / "tokenizer.json").write_text('{"model": {"type": "BPE"}}')
    with pytest.raises(ValueError, match="not Unigram"):
        UnigramTokenizer.from_file(tmp_path)
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        UnigramTokenizer.from_file(tmp_path / "missing")


def test_trained_tokenizer_segments_like_tokenizers(tmp_path):
    lines = _corpus()
    ours = train_unigram(lines[:60], 200)
    reference = _hf(ours, tmp_path)
    texts = lines + [MIXED]
    assert [ours.encode(t).input_ids for t in texts] == [e.ids for e in reference.encode_batch(texts)]


def test_committed_comparison_asset_matches_the_committed_tokenizer():
    """assets/unigram_comparison.json and assets/unigram_2000/ (scripts/unigram_comparison.py) agree: the saved
    tokenizer gives the recorded tokens per held-out word."""
    import json
    from pathlib import Path

    from minibert.corpus import load_documents, split_documents

    assets = Path(__file__).resolve().parent.parent / "assets"
    comparison = json.loads((assets / "unigram_comparison.json").read_text(encoding="utf-8"))
    tok = UnigramTokenizer.from_file(assets / "unigram_2000")
    assert len(tok) == comparison["vocab_size"]
    _, held_docs = split_documents(load_documents(), held_out=0.1, seed=0)
    held = [s for doc in held_docs for s in doc]
    assert sum(len(tok.tokenize(line)) for line in held) == comparison["trainers"]["minibert"]["held_out_tokens"]
    assert sum(len(line.split()) for line in held) == comparison["held_out"]["words"]


def test_same_pieces_as_sentencepiece_segment_the_same():
    """A SentencePiece unigram model's pieces and scores in UnigramTokenizer: the same pieces as SentencePiece."""
    sentencepiece = pytest.importorskip("sentencepiece")
    import io

    lines = _corpus()
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=300, model_type="unigram",
        character_coverage=1.0, normalization_rule_name="identity", remove_extra_whitespaces=False,
        split_by_unicode_script=False, split_by_number=False, bos_id=-1, eos_id=-1, unk_id=0, num_threads=1,
        minloglevel=2)
    sp = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    ours = UnigramTokenizer(pieces, unk_id=0)
    assert [ours.tokenize(line) for line in lines] == [sp.encode(line, out_type=str) for line in lines]

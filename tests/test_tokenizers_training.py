"""The trainers: published worked examples reproduced exactly, BPE merges identical to tokenizers' BpeTrainer
(real text and random corpora), incremental trainers identical to the recount-everything references, the course
vocabulary equal to what its script makes, and the merge trace the widget draws."""
import json
import random
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from minibert.corpus import load_text
from minibert.reference.tokenizer_trainers import naive_train_bpe, naive_train_wordpiece
from minibert.tokenizers import BasicTokenizer, train_bpe, train_wordpiece
from minibert.tokenizers.bpe import count_words
from minibert.tokenizers.course import COURSE_VOCAB_PATH, course_tokenizer
from minibert.tokenizers.trace import trace_merges

ROOT = Path(__file__).resolve().parent.parent
LINES = load_text().splitlines()

HF_COURSE_CORPUS = ["This is the Hugging Face Course.", "This chapter is about tokenization.",
                    "This section shows several tokenizer algorithms.",
                    "Hopefully, you will be able to understand how they are trained and generate tokens."]
# The vocabulary the Hugging Face course's WordPiece implementation prints (chapter 6, section 6, vocab_size=70).
HF_COURSE_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "##a", "##b", "##c", "##d", "##e", "##f", "##g", "##h", "##i",
    "##k", "##l", "##m", "##n", "##o", "##p", "##r", "##s", "##t", "##u", "##v", "##w", "##y", "##z", ",", ".", "C",
    "F", "H", "T", "a", "b", "c", "g", "h", "i", "s", "t", "u", "w", "y", "ab", "##fu", "Fa", "Fac", "##ct", "##ful",
    "##full", "##fully", "Th", "ch", "##hm", "cha", "chap", "chapt", "##thm", "Hu", "Hug", "Hugg", "sh", "th", "is",
    "##thms", "##za", "##zat", "##ut"]


def reference_bpe(texts, vocab_size, min_frequency, pre_tokenizer, **options):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                  **options)
    tokenizer.train_from_iterator(texts, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    return model["vocab"], [tuple(m) for m in model["merges"]]


# ------------------------------------------------------------------ WordPiece by likelihood score
def test_hf_course_toy_example():
    toy = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}
    tok = train_wordpiece(toy, 5 + 7 + 3, min_frequency=1)
    steps = [(m.left, m.right, m.token, m.score) for m in tok.history]
    # ##u is everywhere, so the only pair without it wins (1/20); then every pair ties at 1/36 and the first one
    # met is merged; then (hu, ##gs) scores 5 / (15 * 5) = 1/15 > (hu, ##g) = 10 / (15 * 15)
    assert steps == [("##g", "##s", "##gs", 1 / 20), ("h", "##u", "hu", 1 / 36), ("hu", "##gs", "hugs", 1 / 15)]
    assert tok.tokenize("hugs bugs mug bum") == ["hugs", "b", "##u", "##gs", "[UNK]", "[UNK]"]


def test_hf_course_implementation_example():
    tok = train_wordpiece(HF_COURSE_CORPUS, 70, min_frequency=1, lowercase=False)
    assert tok.ids_to_tokens == HF_COURSE_VOCAB
    assert (tok.history[0].left, tok.history[0].right, tok.history[0].score) == ("a", "##b", 0.2)
    assert tok.tokenize("This is the Hugging Face course!") == [
        "Th", "##i", "##s", "is", "th", "##e", "Hugg", "##i", "##n", "##g", "Fac", "##e", "c", "##o", "##u", "##r",
        "##s", "##e", "[UNK]"]


def test_seed_corpus_merges_the_pair_whose_parts_never_appear_apart():
    corpus = ["мама мыла раму, маму мыла рама"]
    wordpiece = train_wordpiece(corpus, 14, min_frequency=1)
    first = wordpiece.history[0]
    assert (first.left, first.right, first.score, first.count) == ("##ы", "##л", 0.5, 2)
    bpe = train_bpe(corpus, 12, min_frequency=1)
    # frequency picks the commonest pair: "ам" and "ма" both occur 4 times and "а" has the smaller id
    assert [(m.token, m.count) for m in bpe.history[:3]] == [("ам", 4), ("ла", 2), ("мы", 2)]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text("abcd", min_size=1, max_size=9), st.integers(1, 5), min_size=1, max_size=25),
       st.integers(0, 40), st.integers(1, 3))
def test_incremental_wordpiece_equals_rescoring_every_step(words, extra, min_frequency):
    base = 5 + len({w[0] for w in words} | {"##" + c for w in words for c in w[1:]})
    tok = train_wordpiece(words, base + extra, min_frequency=min_frequency)
    expected = naive_train_wordpiece(words, base + extra, min_frequency=min_frequency)
    assert [(m.left, m.right, m.token, m.score) for m in tok.history] == expected


def test_incremental_wordpiece_equals_rescoring_on_real_text():
    counts = dict(count_words(LINES[:400], BasicTokenizer().pre_tokenize))
    tok = train_wordpiece(counts, 300, min_frequency=2)
    assert [(m.left, m.right, m.token, m.score) for m in tok.history] == naive_train_wordpiece(counts, 300, 2)


def test_wordpiece_training_is_deterministic():
    first = train_wordpiece(LINES[:3000], 800, min_frequency=3)
    again = train_wordpiece(list(LINES[:3000]), 800, min_frequency=3)
    assert first.ids_to_tokens == again.ids_to_tokens and len(first) == 800


# ------------------------------------------------------------------ BPE by frequency
@pytest.mark.parametrize("vocab_size,min_frequency", [(1200, 2), (3000, 0)])
def test_bpe_merges_equal_tokenizers_on_real_text(vocab_size, min_frequency):
    specials = ["[UNK]", "[PAD]"]
    vocab, merges = reference_bpe(LINES, vocab_size, min_frequency, pre_tokenizers.WhitespaceSplit(),
                                  special_tokens=specials)
    ours = train_bpe(LINES, vocab_size, min_frequency=min_frequency, special_tokens=specials)
    assert ours.merges == merges
    assert ours.vocab == vocab


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text("aab c", min_size=1, max_size=30), min_size=1, max_size=12), st.integers(0, 60),
       st.integers(0, 3))
def test_bpe_merges_equal_tokenizers_on_random_corpora(texts, extra, min_frequency):
    assume(any(t.split() for t in texts))
    vocab_size = len(set("".join(texts).replace(" ", ""))) + extra
    vocab, merges = reference_bpe(texts, vocab_size, min_frequency, pre_tokenizers.WhitespaceSplit())
    ours = train_bpe(texts, vocab_size, min_frequency=min_frequency)
    assert (ours.vocab, ours.merges) == (vocab, merges)


def test_incremental_bpe_equals_recounting_every_step():
    counts = dict(count_words(LINES[:400]))
    ours = train_bpe(counts, 300, min_frequency=2)
    assert [(m.left, m.right, m.token, m.count) for m in ours.history] == naive_train_bpe(counts, 300, 2)


def test_sennrich_toy_example():
    counts = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
    ours = train_bpe(counts, 100, min_frequency=1, end_of_word_suffix="</w>")
    assert [(m.left, m.right) for m in ours.history][:10] == [
        ("e", "s"), ("es", "t</w>"), ("l", "o"), ("e", "w"), ("n", "ew"), ("new", "est</w>"), ("lo", "w</w>"),
        ("d", "est</w>"), ("i", "dest</w>"), ("w", "idest</w>")]
    _, merges = reference_bpe([" ".join(w for w, n in counts.items() for _ in range(n))], 100, 1,
                              pre_tokenizers.WhitespaceSplit(), end_of_word_suffix="</w>")
    assert ours.merges == merges
    assert ours.encode_word("lowest") == ["lo", "w", "est</w>"]  # never seen, yet only three pieces
    assert ours.encode_word("newest", merges=2) == ["n", "e", "w", "est</w>"]


# ------------------------------------------------------------------ the course tokenizer
def test_course_vocabulary_is_what_its_script_makes(tmp_path, monkeypatch):
    # run the script's own main() with its output redirected to a scratch file
    import importlib.util

    from minibert.tokenizers import course

    spec = importlib.util.spec_from_file_location("make_course_vocab", ROOT / "scripts" / "make_course_vocab.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "COURSE_VOCAB_PATH", tmp_path / "course_vocab.txt")
    assert script.main() == 0
    assert (tmp_path / "course_vocab.txt").read_bytes() == COURSE_VOCAB_PATH.read_bytes()
    assert course.COURSE_VOCAB_PATH == COURSE_VOCAB_PATH  # the package itself was left alone
    tok = course_tokenizer()
    assert len(tok) == 4096 and tok.ids_to_tokens[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert tok.tokenize("The function returns an object.") == ["the", "function", "returns", "an", "object", "."]


def test_course_tokenizer_of_another_size_is_trained_deterministically():
    small = course_tokenizer(600)
    assert len(small) == 600 and small.ids_to_tokens[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert course_tokenizer(600) is small


# ------------------------------------------------------------------ the merge trace (what the widget draws)
def test_trace_replays_training_exactly():
    corpus = LINES[:400]
    tok = train_wordpiece(corpus, 400, min_frequency=2)
    trace = trace_merges(tok, corpus, max_words=8)
    assert len(trace.splits) == len(tok.history) + 1 == len(trace.vocab_sizes) == len(trace.pieces_per_word)
    assert trace.vocab_sizes[-1] == len(tok) and trace.vocab_sizes[0] == len(tok) - len(tok.history)
    assert all(a >= b for a, b in zip(trace.pieces_per_word, trace.pieces_per_word[1:]))  # merging never adds
    for word, pieces in zip(trace.words, trace.splits[0]):
        assert "".join(p.removeprefix("##") for p in pieces) == word and len(pieces) == len(word)
    # after the last merge each followed word is split as the trainer left it; the real encoder (greedy longest
    # match on the final vocabulary) never needs more pieces than that
    for word, pieces in zip(trace.words, trace.splits[-1]):
        assert len(tok.word_pieces(word)) <= len(pieces)
    bpe = train_bpe(corpus, 500)
    bpe_trace = trace_merges(bpe, corpus, words=["the", "function"])
    assert bpe_trace.score_name == "frequency"
    assert list(bpe_trace.splits[-1][1]) == bpe.encode_word("function")
    rng = random.Random(0)
    for k in rng.sample(range(len(bpe.history)), 20):
        assert list(bpe_trace.splits[k][1]) == bpe.encode_word("function", merges=k)

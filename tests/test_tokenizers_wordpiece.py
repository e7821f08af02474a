"""BERT's tokenizer (minibert.tokenizers.WordPieceTokenizer) against transformers.BertTokenizer (the Rust one) and
tokenizers' BertNormalizer/BertPreTokenizer: identical words, ids, token types, word ids, truncation, batches and
decoding; files both ways; properties of greedy longest match."""
import json
import random
import shutil

import pytest
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

from minibert.core.checkpoints import resolve_checkpoint
from minibert.tokenizers import BasicTokenizer, WordPieceTokenizer, greedy_longest_match
from minibert.tokenizers.course import course_tokenizer
from tokenizer_texts import ENGLISH
from tokenizer_texts import mixed_lines as make_mixed_lines

MINILM = resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2", local_files_only=True)


@pytest.fixture(scope="module")
def ours():
    return WordPieceTokenizer.from_pretrained(MINILM)


@pytest.fixture(scope="module")
def theirs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bert_vocab")
    shutil.copy(MINILM / "vocab.txt", folder / "vocab.txt")  # vocab only: the folder's tokenizer.json truncates at 128
    return transformers.BertTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def mixed_lines():
    return make_mixed_lines()


def test_mixed_text_of_one_megabyte_encodes_to_identical_ids(ours, theirs, mixed_lines):
    assert sum(len(line.encode()) for line in mixed_lines) >= 1_000_000
    expected = theirs(mixed_lines, add_special_tokens=True, return_special_tokens_mask=True)
    for i, line in enumerate(mixed_lines):
        got = ours.encode(line)
        assert got.input_ids == expected["input_ids"][i], f"line {i}: {line[:80]!r}"
        assert got.word_ids == expected.word_ids(i), f"line {i}"
        assert got.special_tokens_mask == expected["special_tokens_mask"][i], f"line {i}"


def test_mixed_text_pairs_encode_to_identical_ids_types_and_words(ours, theirs, mixed_lines):
    firsts, seconds = mixed_lines[0:2000:2], mixed_lines[1:2000:2]
    expected = theirs(firsts, seconds)
    for i, (a, b) in enumerate(zip(firsts, seconds)):
        got = ours.encode(a, b)
        assert got.input_ids == expected["input_ids"][i]
        assert got.token_type_ids == expected["token_type_ids"][i]
        assert got.word_ids == expected.word_ids(i)


def test_every_bmp_code_point_and_a_sample_of_the_rest_split_like_the_reference():
    # each character gets its own word context ("x " after it), so NFD reordering cannot mix neighbours
    code_points = [c for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF] + list(range(0x10000, 0x110000, 29))
    text = "".join(chr(c) + "x " for c in code_points)
    for lowercase in (True, False):
        normalizer = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                    lowercase=lowercase)
        expected = [w for w, _ in BertPreTokenizer().pre_tokenize_str(normalizer.normalize_str(text))]
        assert BasicTokenizer(lowercase=lowercase).pre_tokenize(text) == expected


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_step_by_step_pipeline_equals_the_fast_one(text):
    basic = BasicTokenizer()
    steps = basic.steps(text)
    assert [name for name, _ in steps][-1] == "split off punctuation"
    assert steps[-1][1] == basic.pre_tokenize(text)


@pytest.mark.parametrize("max_length", [5, 8, 13, 21, 64])
def test_truncation_of_pairs_follows_longest_first(ours, theirs, mixed_lines, max_length):
    rng = random.Random(max_length)
    for _ in range(40):
        # (non-empty: transformers treats an empty second text as "no pair"; we keep it a pair, as tokenizers does)
        a = " ".join(rng.choice(ENGLISH) for _ in range(rng.randint(1, 30)))
        b = " ".join(rng.choice(ENGLISH) for _ in range(rng.randint(1, 30)))
        expected = theirs(a, b, truncation=True, max_length=max_length)
        got = ours.encode(a, b, truncation=True, max_length=max_length)
        assert got.input_ids == expected["input_ids"], (a, b)
        assert got.token_type_ids == expected["token_type_ids"]
        assert got.word_ids == expected.word_ids()
        single = ours.encode(a, truncation=True, max_length=max_length)
        assert single.input_ids == theirs(a, truncation=True, max_length=max_length)["input_ids"]


def test_batches_pad_like_transformers(ours, theirs, mixed_lines):
    texts, pairs = mixed_lines[:16], mixed_lines[16:32]
    got = ours(texts, pairs, truncation=True, max_length=96)
    expected = theirs(texts, pairs, truncation=True, max_length=96, padding=True, return_tensors="pt")
    for key in ("input_ids", "token_type_ids", "attention_mask"):
        assert got[key].dtype == torch.long
        assert torch.equal(got[key], expected[key]), key
    fixed = ours(texts[:3], padding="max_length", max_length=128, truncation=True)
    assert fixed["input_ids"].shape == (3, 128)


def test_decoding_matches_transformers(ours, theirs, mixed_lines):
    for line in mixed_lines[:300]:
        ids = theirs(line)["input_ids"]
        assert ours.decode(ids) == theirs.decode(ids, skip_special_tokens=True)
        assert ours.decode(ids, skip_special_tokens=False) == theirs.decode(ids)


def test_special_tokens_written_in_the_text_stay_whole(ours):
    enc = ours.encode("the [MASK] sat on x[SEP]y, not [mask]")
    assert enc.tokens == ["[CLS]", "the", "[MASK]", "sat", "on", "x", "[SEP]", "y", ",", "not", "[", "mask", "]",
                          "[SEP]"]
    assert enc.word_ids[2] == 1 and enc.special_tokens_mask[2] == 0


def test_attributes_other_chapters_rely_on(ours):
    assert len(ours) == 30522 and ours.lowercase
    assert (ours.pad_token_id, ours.unk_token_id, ours.cls_token_id, ours.sep_token_id, ours.mask_token_id) == \
        (0, 100, 101, 102, 103)
    assert ours.special_ids == {0, 100, 101, 102, 103}
    assert ours.ids_to_tokens[ours.vocab["hello"]] == "hello"
    assert ours.tokenize("Unaffable tokenization!") == ["una", "##ffa", "##ble", "token", "##ization", "!"]


def test_greedy_longest_match_on_known_cases():
    vocab = {"un", "##aff", "##able", "##a", "[UNK]", "a", "##ff", "##ble", "##b"}
    assert greedy_longest_match("unaffable", vocab) == ["un", "##aff", "##able"]
    assert greedy_longest_match("unaffablex", vocab) == ["[UNK]"]  # one unmatched position: the whole word
    assert greedy_longest_match("a" * 100, vocab) == ["a"] + ["##a"] * 99
    assert greedy_longest_match("a" * 101, vocab) == ["[UNK]"]  # over max_input_chars_per_word


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_pieces_rebuild_the_normalised_word_and_ids_are_in_range(ours, text):
    tok = ours
    for word in tok.basic.pre_tokenize(text):
        pieces = tok.word_pieces(word)
        if pieces != ["[UNK]"]:
            assert pieces[0] + "".join(p[2:] for p in pieces[1:]) == word
            assert all(p.startswith("##") for p in pieces[1:])
    enc = tok.encode(text, text)
    assert all(0 <= i < len(tok) for i in enc.input_ids)
    assert len(enc.input_ids) == len(enc.token_type_ids) == len(enc.word_ids) == len(enc.tokens)


def test_saved_folder_loads_in_transformers_and_tokenizers_and_back(tmp_path, mixed_lines):
    tok = course_tokenizer()
    tok.save_pretrained(tmp_path / "course")
    assert {p.name for p in (tmp_path / "course").iterdir()} >= {"vocab.txt", "tokenizer_config.json",
                                                                 "tokenizer.json"}
    hf = transformers.BertTokenizer.from_pretrained(tmp_path / "course")
    rust = Tokenizer.from_file(str(tmp_path / "course" / "tokenizer.json"))
    only_vocab = tmp_path / "only_vocab"
    only_vocab.mkdir()
    shutil.copy(tmp_path / "course" / "vocab.txt", only_vocab / "vocab.txt")
    hf_from_vocab = transformers.BertTokenizer.from_pretrained(only_vocab)
    again = WordPieceTokenizer.from_pretrained(tmp_path / "course")
    from_json = WordPieceTokenizer.from_pretrained(tmp_path / "course" / "tokenizer.json")
    for a, b in zip(mixed_lines[:200], mixed_lines[200:400]):
        expected = tok.encode(a, b).input_ids
        assert hf(a, b)["input_ids"] == expected
        assert hf_from_vocab(a, b)["input_ids"] == expected
        assert rust.encode(a, b).ids == expected
        assert again.encode(a, b).input_ids == expected
        assert from_json.encode(a, b).input_ids == expected


def test_cased_settings_survive_a_round_trip(tmp_path):
    tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hello", "hello", "é", "e", "##llo"],
                             lowercase=False)
    tok.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["do_lower_case"] is False
    assert WordPieceTokenizer.from_pretrained(tmp_path).tokenize("Hello é") == ["Hello", "é"]
    assert transformers.BertTokenizer.from_pretrained(tmp_path).tokenize("Hello é") == ["Hello", "é"]


def test_the_real_folder_settings_are_read(ours):
    assert ours.model_max_length == 512  # from the MiniLM folder's tokenizer_config.json

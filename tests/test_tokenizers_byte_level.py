"""Byte-level BPE: GPT-2's byte table, training identical to tokenizers (ByteLevel pre-tokenizer, all 256 bytes as
initial alphabet), encoding identical to tokenizers and transformers.RobertaTokenizer, exact round trips for any
string and any bytes, files both ways."""
import json
import os

import pytest
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from minibert.corpus import load_text
from minibert.tokenizers import ByteLevelBPETokenizer, bytes_to_unicode
from minibert.tokenizers.byte_level import byte_level_pre_tokenize
from tokenizer_texts import mixed_lines

LINES = load_text().splitlines()
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
TEXTS = [line.replace("[MASK]", "") for line in mixed_lines(seed=7, size=200_000)] + LINES[:300]


def reference(vocab_size, add_prefix_space=False, specials=ROBERTA_SPECIALS):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(LINES, trainer)
    return tokenizer


@pytest.fixture(scope="module")
def pair():
    return ByteLevelBPETokenizer.train(LINES, 700, 2, ROBERTA_SPECIALS), reference(700)


def test_byte_table_is_gpt2s():
    table = bytes_to_unicode()
    assert len(table) == 256 and len(set(table.values())) == 256
    assert set(table.values()) == set(pre_tokenizers.ByteLevel.alphabet())
    assert (table[ord(" ")], table[ord("\n")], table[ord("A")], table[0xFF]) == ("Ġ", "Ċ", "A", "ÿ")
    assert all(c.isprintable() and not c.isspace() for c in table.values())
    assert byte_level_pre_tokenize("Hello  world's 2024!!") == ["Hello", "Ġ", "Ġworld", "'s", "Ġ2024", "!!"]


@pytest.mark.parametrize("vocab_size,add_prefix_space", [(512, False), (1500, True)])
def test_training_equals_tokenizers(vocab_size, add_prefix_space):
    ours = ByteLevelBPETokenizer.train(LINES, vocab_size, 2, ROBERTA_SPECIALS, add_prefix_space=add_prefix_space)
    model = json.loads(reference(vocab_size, add_prefix_space).to_str())["model"]
    assert ours.merges == [tuple(m) for m in model["merges"]]
    assert ours.vocab == model["vocab"]


def test_encoding_equals_tokenizers_on_mixed_text(pair):
    ours, theirs = pair
    expected = theirs.encode_batch(TEXTS, add_special_tokens=False)
    for text, enc in zip(TEXTS, expected):
        got = ours.encode(text, add_special_tokens=False)
        assert got.input_ids == enc.ids, text[:60]
        assert got.word_ids == enc.word_ids


def test_special_tokens_in_the_text_and_roberta_frames(tmp_path, pair):
    ours, _ = pair
    ours.save_pretrained(tmp_path)
    rust = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    for a, b in zip(TEXTS[:100], TEXTS[100:200]):
        a = a + " <s>x</s>"
        got = ours.encode(a, b)
        assert got.input_ids == rust.encode(a, b).ids
        assert got.token_type_ids == [0] * len(got)
        assert got.tokens[:1] == ["<s>"] and got.tokens[-1] == "</s>"


def test_saved_files_load_in_transformers_and_back(tmp_path, pair):
    ours, _ = pair
    ours.save_pretrained(tmp_path / "full")
    files_only = tmp_path / "files_only"
    files_only.mkdir()
    for name in ("vocab.json", "merges.txt"):
        (files_only / name).write_bytes((tmp_path / "full" / name).read_bytes())
    roberta = transformers.RobertaTokenizer.from_pretrained(files_only)
    from_files = ByteLevelBPETokenizer.from_pretrained(files_only)
    json_only = tmp_path / "json_only"
    json_only.mkdir()
    (json_only / "tokenizer.json").write_bytes((tmp_path / "full" / "tokenizer.json").read_bytes())
    from_json = ByteLevelBPETokenizer.from_pretrained(json_only)
    for a, b in zip(TEXTS[:150], TEXTS[150:300]):
        expected = ours.encode(a, b).input_ids
        assert roberta(a, b)["input_ids"] == expected
        assert from_files.encode(a, b).input_ids == expected
        assert from_json.encode(a, b).input_ids == expected
        assert roberta.decode(expected, skip_special_tokens=True) == ours.decode(expected)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_decode_of_encode_is_the_identity_for_any_string(pair, text):
    ours, _ = pair
    ids = ours.encode(text, add_special_tokens=False).input_ids
    assert all(0 <= i < len(ours) for i in ids)
    if any(token in text for token in ours.special_tokens):
        # "<s>" written in the text is the special token, as in tokenizers; decode drops specials by default
        assert ours.decode(ids, skip_special_tokens=False) == text
        return
    assert ours.decode(ids) == text
    assert ours.encode_bytes(text.encode("utf-8")) == ids


def test_a_special_token_written_in_the_text_is_the_special_token(pair):
    ours, reference = pair
    text = "a<s>b</s>"
    ids = ours.encode(text, add_special_tokens=False).input_ids
    assert ids == reference.encode(text, add_special_tokens=False).ids
    assert ours.decode(ids, skip_special_tokens=False) == text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_any_bytes_round_trip_even_invalid_utf8(pair, data):
    ours, _ = pair
    assert ours.decode_bytes(ours.encode_bytes(data)) == data


def test_a_slice_that_cuts_a_character_decodes_to_the_replacement_character(pair):
    ours, theirs = pair
    ids = ours.encode("✨", add_special_tokens=False).input_ids  # one character, three bytes
    assert len(ids) >= 2
    assert ours.decode(ids[:1]) == theirs.decode(ids[:1]) == "\ufffd"
    assert ours.decode_bytes(ids[:1]) == "✨".encode()[:len(ours.decode_bytes(ids[:1]))]


def test_invalid_bytes_from_a_file(tmp_path, pair):
    ours, _ = pair
    damaged = "naïve café".encode("utf-8")[:3] + b"\xff\xfe" + "déjà vu".encode("latin-1")
    ids = ours.encode_bytes(damaged)
    assert ours.decode_bytes(ids) == damaged
    assert ours.decode(ids) == damaged.decode("utf-8", errors="replace")
    with pytest.raises(ValueError, match="lone surrogate"):
        ours.encode(damaged.decode("utf-8", errors="surrogateescape"))

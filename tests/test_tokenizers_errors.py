"""Bad input gets a clear error that says what to do: empty corpus, vocabulary smaller than the alphabet, non-string
input, missing or damaged files, a vocabulary without [UNK], sequences too long, ids out of range."""
import json

import pytest

from minibert.tokenizers import ByteLevelBPETokenizer, WordPieceTokenizer, train_bpe, train_wordpiece
from minibert.tokenizers.files import read_bpe_files, read_utf8

SMALL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "##s", "."]


@pytest.fixture(scope="module")
def tok():
    return WordPieceTokenizer(SMALL)


@pytest.mark.parametrize("corpus", [[], [""], ["   \n\t "]])
def test_empty_corpus(corpus):
    for train in (lambda: train_bpe(corpus, 100), lambda: train_wordpiece(corpus, 100)):
        with pytest.raises(ValueError, match="corpus is empty"):
            train()
    if "".join(corpus) == "":  # (for byte-level BPE whitespace is text like any other)
        with pytest.raises(ValueError, match="corpus is empty"):
            ByteLevelBPETokenizer.train(corpus, 300)


def test_vocab_size_smaller_than_alphabet_plus_specials():
    with pytest.raises(ValueError, match=r"ask for at least 11"):  # 5 specials + a ##b ##c b ##a ##d
        train_wordpiece(["abc bad"], 10)
    with pytest.raises(ValueError, match=r"at least 4"):
        train_bpe(["abc"], 3, special_tokens=["<unk>"])
    with pytest.raises(ValueError, match=r"at least 256"):
        ByteLevelBPETokenizer.train(["abc"], 200)
    with pytest.raises(ValueError, match="min_frequency"):
        train_wordpiece(["abc"], 100, min_frequency=0)
    with pytest.raises(ValueError, match=r"\[UNK\]"):
        train_wordpiece(["abc"], 100, special_tokens=["[PAD]"])


def test_non_string_input(tok):
    with pytest.raises(TypeError, match="must be a str"):
        tok.encode(123)
    with pytest.raises(TypeError, match="decode bytes first"):
        tok.tokenize(b"the cat")
    with pytest.raises(TypeError, match="must be a str"):
        tok.encode("the", pair=["cat"])
    with pytest.raises(TypeError, match="corpus item 1"):
        train_bpe(["fine", 3], 100)
    with pytest.raises(TypeError, match="list of texts"):
        train_wordpiece("a whole text as one str", 100)
    with pytest.raises(TypeError, match="str or a non-empty list"):
        tok([])
    with pytest.raises(TypeError, match="encode_bytes takes bytes"):
        ByteLevelBPETokenizer.train(["abc abc"], 260).encode_bytes("abc")


def test_lone_surrogates_are_refused_with_their_position(tok):
    with pytest.raises(ValueError, match=r"U\+DCFF at index 3"):
        tok.encode("the\udcff")


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no vocabulary at"):
        WordPieceTokenizer.from_pretrained(tmp_path / "nowhere" / "vocab.txt")
    with pytest.raises(FileNotFoundError, match="neither vocab.txt nor tokenizer.json"):
        WordPieceTokenizer.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="vocab.json"):
        ByteLevelBPETokenizer.from_pretrained(tmp_path)


def test_vocab_without_unk(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\n[CLS]\n[SEP]\nthe\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no unknown token '\[UNK\]'.*Add"):
        WordPieceTokenizer.from_pretrained(tmp_path)


def test_broken_vocabularies(tmp_path):
    with pytest.raises(ValueError, match="repeats tokens"):
        WordPieceTokenizer(["[UNK]", "a", "b", "a"])
    with pytest.raises(ValueError, match="0, 1, ..., n-1"):
        WordPieceTokenizer({"[UNK]": 0, "a": 2})
    (tmp_path / "vocab.txt").write_text("[UNK]\nthe\n\ncat\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3"):
        WordPieceTokenizer.from_pretrained(tmp_path)
    bpe = tmp_path / "bpe"
    bpe.mkdir()
    (bpe / "vocab.json").write_text(json.dumps({"a": 0}), encoding="utf-8")
    (bpe / "merges.txt").write_text("#version: 0.2\na b\nab c d\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3"):
        read_bpe_files(bpe)
    with pytest.raises(ValueError, match="lacks .* byte symbols"):
        ByteLevelBPETokenizer({"a": 0, "b": 1}, [])


def test_file_that_is_not_utf8_names_the_file_and_the_byte(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("[UNK]\nthe\ncaf".encode() + b"\xe9\n")  # latin-1 "é"
    with pytest.raises(ValueError, match=r"vocab.txt is not valid UTF-8: byte 13 is b'\\xe9'"):
        WordPieceTokenizer.from_pretrained(path)
    with pytest.raises(ValueError, match="byte 13"):
        read_utf8(path)


def test_too_long_without_truncation(tok):
    long_text = "the cat " * 300
    with pytest.raises(ValueError, match="more than max_length=8: pass truncation=True"):
        tok.encode(long_text, max_length=8)
    with pytest.raises(ValueError, match="text 1 of the batch.*max_length=512"):
        tok(["the cat", long_text])
    assert tok(["the cat", long_text], truncation=True)["input_ids"].shape == (2, 512)
    assert len(tok.encode(long_text)) == 602  # encode() alone has no limit unless you give one
    with pytest.raises(ValueError, match=r"max_length must be an integer >= 4 \(the 3 special tokens"):
        tok.encode("the", "cat", max_length=3, truncation=True)
    with pytest.raises(ValueError, match="padding must be"):
        tok(["the"], padding="sideways")
    with pytest.raises(ValueError, match="different lengths"):
        tok(["the", "the cat"], padding=False)


def test_bad_ids(tok):
    with pytest.raises(ValueError, match="out of range for a vocabulary of 10"):
        tok.decode([1, 10])
    with pytest.raises(TypeError, match="must be an integer"):
        tok.decode([1, 2.0])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.convert_tokens_to_ids(["dog"])


def test_special_tokens_needed_but_missing():
    bare = WordPieceTokenizer(["[UNK]", "the"])
    with pytest.raises(ValueError, match="add_special_tokens=False"):
        bare.encode("the")
    assert bare.encode("the", add_special_tokens=False).input_ids == [1]

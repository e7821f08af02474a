"""Tokenizer files in the formats the ecosystem reads.

* ``vocab.txt`` (BERT, WordPiece): one token per line, the line number is the id.
* ``vocab.json`` + ``merges.txt`` (GPT-2, RoBERTa, BPE): token -> id, and the merges in the order they were learned,
  one ``left right`` pair per line after a ``#version`` header.
* ``tokenizer.json`` (Hugging Face ``tokenizers``): the whole pipeline (normaliser, pre-tokeniser, model, special
  tokens, post-processor, decoder) in one JSON document.
* ``tokenizer_config.json`` / ``special_tokens_map.json``: the settings ``transformers`` adds on top.

Every file is read as strict UTF-8: a file that is not gets a ValueError naming the file and the byte offset.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from minibert.core.files import atomic_write_text

__all__ = ["decode_utf8", "read_utf8", "read_vocab_txt", "write_vocab_txt", "read_bpe_files", "write_bpe_files",
           "load_wordpiece", "save_wordpiece", "wordpiece_tokenizer_json", "bpe_tokenizer_json", "load_unigram",
           "save_unigram", "unigram_tokenizer_json"]


def decode_utf8(data: bytes, source: str = "the data") -> str:
    """Strict UTF-8 decoding whose error names ``source`` and the offset of the first bad byte; a leading byte-order
    mark is dropped (otherwise it would glue itself to the first token of a vocab.txt)."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark is not text (Windows editors add one)
    except UnicodeDecodeError as err:
        raise ValueError(f"{source} is not valid UTF-8: byte {err.start} is {data[err.start:err.start + 1]!r} "
                         f"({err.reason}). Re-save it as UTF-8, or read the bytes yourself and decode with "
                         "errors='replace'.") from None


def read_utf8(path: str | os.PathLike, what: str = "file") -> str:
    """The text of ``path``; a clear error if it is missing or not UTF-8 (with the offset of the first bad byte)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no {what} at {path}") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, expected a {what}") from None
    return decode_utf8(data, f"{what} {path}")


def read_vocab_txt(path: str | os.PathLike) -> list[str]:
    """Tokens of a BERT ``vocab.txt`` in id order."""
    lines = read_utf8(path, "vocabulary file").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tokens = [line.rstrip("\r") for line in lines]
    if not tokens:
        raise ValueError(f"{path} is empty: a vocabulary file lists one token per line")
    for number, token in enumerate(tokens, start=1):
        if not token or token != token.strip():
            raise ValueError(f"{path}, line {number}: {token!r} is not a token (empty or with surrounding spaces)")
    return tokens


def write_vocab_txt(path: str | os.PathLike, tokens: list[str]) -> Path:
    return atomic_write_text(path, "".join(token + "\n" for token in tokens))


def _write_json(path: Path, value) -> None:
    atomic_write_text(path, json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _read_json(path: Path, what: str):
    try:
        return json.loads(read_utf8(path, what))
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} {path} is not valid JSON: {err}") from None


# ---------------------------------------------------------------- WordPiece (BERT)
def load_wordpiece(path: Path) -> tuple[list[str], dict]:
    """Tokens and settings from a folder (``vocab.txt`` or ``tokenizer.json``, plus ``tokenizer_config.json``),
    a ``vocab.txt`` or a ``tokenizer.json``."""
    settings: dict = {}
    if path.is_dir():
        folder = path
        vocab_file = folder / "vocab.txt" if (folder / "vocab.txt").exists() else folder / "tokenizer.json"
        if not vocab_file.exists():
            raise FileNotFoundError(f"{folder} holds neither vocab.txt nor tokenizer.json: is it a BERT tokenizer "
                                    "folder? (save one with WordPieceTokenizer.save_pretrained)")
    elif path.exists():
        folder, vocab_file = path.parent, path
    else:
        raise FileNotFoundError(f"no vocabulary at {path}: pass a folder with vocab.txt, a vocab.txt or a "
                                "tokenizer.json")
    if vocab_file.suffix == ".json":
        document = _read_json(vocab_file, "tokenizer file")
        model = document.get("model") or {}
        if model.get("type") != "WordPiece":
            raise ValueError(f"{vocab_file} describes a {model.get('type')!r} model, not WordPiece")
        tokens = sorted(model["vocab"], key=model["vocab"].get)
        normalizer = document.get("normalizer") or {}
        if normalizer.get("type") == "BertNormalizer":
            settings.update(lowercase=normalizer.get("lowercase", True), strip_accents=normalizer.get("strip_accents"),
                            tokenize_chinese_chars=normalizer.get("handle_chinese_chars", True))
        settings.update(unk_token=model.get("unk_token", "[UNK]"),
                        prefix=model.get("continuing_subword_prefix", "##"),
                        max_input_chars_per_word=model.get("max_input_chars_per_word", 100))
    else:
        tokens = read_vocab_txt(vocab_file)
    config_file = folder / "tokenizer_config.json"
    if config_file.exists():
        config = _read_json(config_file, "tokenizer config")
        for ours, theirs in [("lowercase", "do_lower_case"), ("strip_accents", "strip_accents"),
                             ("tokenize_chinese_chars", "tokenize_chinese_chars"), ("unk_token", "unk_token"),
                             ("pad_token", "pad_token"), ("cls_token", "cls_token"), ("sep_token", "sep_token"),
                             ("mask_token", "mask_token")]:
            value = config.get(theirs)
            if isinstance(value, dict):  # serialised AddedToken
                value = value.get("content")
            if value is not None or theirs == "strip_accents" and theirs in config:
                settings[ours] = value
        if isinstance(config.get("model_max_length"), int) and config["model_max_length"] < 1_000_000:
            settings["model_max_length"] = config["model_max_length"]
    return tokens, settings


def wordpiece_tokenizer_json(tok) -> dict:
    """The ``tokenizer.json`` document of a :class:`WordPieceTokenizer`."""
    added = [{"id": tok.vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in sorted(tok.special_tokens, key=tok.vocab.get)]
    document = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
                "normalizer": {"type": "BertNormalizer", "clean_text": True,
                               "handle_chinese_chars": tok.basic.tokenize_chinese_chars,
                               "strip_accents": tok.basic.strip_accents, "lowercase": tok.basic.lowercase},
                "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": None,
                "decoder": {"type": "WordPiece", "prefix": tok.prefix, "cleanup": True},
                "model": {"type": "WordPiece", "unk_token": tok.unk_token, "continuing_subword_prefix": tok.prefix,
                          "max_input_chars_per_word": tok.max_input_chars_per_word, "vocab": dict(tok.vocab)}}
    if tok.cls_token_id is not None and tok.sep_token_id is not None:
        cls, sep = tok.cls_token, tok.sep_token

        def special(token, type_id):
            return {"SpecialToken": {"id": token, "type_id": type_id}}

        def sequence(name, type_id):
            return {"Sequence": {"id": name, "type_id": type_id}}

        document["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [special(cls, 0), sequence("A", 0), special(sep, 0)],
            "pair": [special(cls, 0), sequence("A", 0), special(sep, 0), sequence("B", 1), special(sep, 1)],
            "special_tokens": {t: {"id": t, "ids": [tok.vocab[t]], "tokens": [t]} for t in (cls, sep)}}
    return document


def save_wordpiece(tok, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_vocab_txt(folder / "vocab.txt", tok.ids_to_tokens)
    names = {"unk_token": tok.unk_token, "sep_token": tok.sep_token, "pad_token": tok.pad_token,
             "cls_token": tok.cls_token, "mask_token": tok.mask_token}
    names = {key: value for key, value in names.items() if value in tok.vocab}
    _write_json(folder / "tokenizer_config.json",
                {"tokenizer_class": "BertTokenizer", "do_lower_case": tok.basic.lowercase,
                 "strip_accents": tok.basic.strip_accents, "tokenize_chinese_chars": tok.basic.tokenize_chinese_chars,
                 "model_max_length": tok.model_max_length, "clean_up_tokenization_spaces": False, **names})
    _write_json(folder / "special_tokens_map.json", names)
    _write_json(folder / "tokenizer.json", wordpiece_tokenizer_json(tok))
    return folder


# ---------------------------------------------------------------- BPE (GPT-2, RoBERTa)
def read_bpe_files(folder: Path) -> tuple[dict[str, int], list[tuple[str, str]], dict]:
    """Vocabulary, merges and extra settings from ``vocab.json`` + ``merges.txt``, or from ``tokenizer.json``."""
    if (folder / "vocab.json").exists() or not (folder / "tokenizer.json").exists():
        vocab = _read_json(folder / "vocab.json", "vocabulary file")
        lines = read_utf8(folder / "merges.txt", "merges file").split("\n")
        merges = []
        for number, line in enumerate(lines, start=1):
            if not line.strip() or (number == 1 and line.startswith("#version")):
                continue
            parts = line.split(" ")
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"{folder / 'merges.txt'}, line {number}: expected 'left right', got {line!r}")
            merges.append((parts[0], parts[1]))
        return vocab, merges, {}
    document = _read_json(folder / "tokenizer.json", "tokenizer file")
    model = document.get("model") or {}
    if model.get("type") != "BPE":
        raise ValueError(f"{folder / 'tokenizer.json'} describes a {model.get('type')!r} model, not BPE")
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    pre = document.get("pre_tokenizer") or {}
    extra = {"add_prefix_space": bool(pre.get("add_prefix_space", False))} if pre.get("type") == "ByteLevel" else {}
    return dict(model["vocab"]), merges, extra


def write_bpe_files(folder: Path, vocab: dict[str, int], merges: list[tuple[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "vocab.json", vocab)
    atomic_write_text(folder / "merges.txt", "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))


def bpe_tokenizer_json(vocab: dict[str, int], merges: list[tuple[str, str]], special_tokens: list[str],
                       add_prefix_space: bool, post_processor: dict | None) -> dict:
    """The ``tokenizer.json`` document of a byte-level BPE tokenizer (GPT-2 / RoBERTa style)."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True,
                  "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True} for t in special_tokens],
            "normalizer": None, "pre_tokenizer": byte_level, "post_processor": post_processor,
            "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": [[a, b] for a, b in merges]}}


# ---------------------------------------------------------------- Unigram (SentencePiece, ALBERT, T5, XLNet)
def load_unigram(path: Path) -> dict:
    """The settings of a :class:`UnigramTokenizer` from a ``tokenizer.json`` (or a folder holding one)."""
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.exists():
        raise FileNotFoundError(f"no tokenizer.json at {path}: save one with UnigramTokenizer.save or "
                                "tokenizers.Tokenizer.save")
    document = _read_json(file, "tokenizer file")
    model = document.get("model") or {}
    if model.get("type") != "Unigram":
        raise ValueError(f"{file} describes a {model.get('type')!r} model, not Unigram")
    if model.get("byte_fallback"):
        raise ValueError(f"{file} uses byte fallback (unknown characters as <0x..> byte pieces), which "
                         "UnigramTokenizer does not implement")
    if document.get("normalizer") is not None:
        raise ValueError(f"{file} has a normalizer ({document['normalizer'].get('type')}): UnigramTokenizer reads "
                         "only tokenizers without one (SentencePiece's precompiled normalisation is not "
                         "implemented); set it to null to use the pieces with raw text")
    pre = document.get("pre_tokenizer") or {}
    if pre.get("type") != "Metaspace":
        raise ValueError(f"{file} pre-tokenizes with {pre.get('type')!r}; UnigramTokenizer implements Metaspace")
    specials = [t["content"] for t in document.get("added_tokens") or [] if t.get("special")]
    return {"pieces": [(piece, float(score)) for piece, score in model["vocab"]], "unk_id": model.get("unk_id"),
            "replacement": pre.get("replacement", "\u2581"), "prepend_scheme": pre.get("prepend_scheme", "always"),
            "split": pre.get("split", True), "special_tokens": specials}


def unigram_tokenizer_json(tok) -> dict:
    """The ``tokenizer.json`` document of a :class:`UnigramTokenizer` (no normaliser, Metaspace both ways)."""
    metaspace = {"type": "Metaspace", "replacement": tok.replacement, "prepend_scheme": tok.prepend_scheme,
                 "split": tok.split}
    added = [{"id": tok.vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in sorted(tok.special_tokens, key=tok.vocab.get)]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
            "pre_tokenizer": metaspace, "post_processor": None, "decoder": dict(metaspace),
            "model": {"type": "Unigram", "unk_id": tok.unk_id, "vocab": [[p, s] for p, s in tok.pieces],
                      "byte_fallback": False}}


def save_unigram(tok, path: Path) -> Path:
    """Write ``tokenizer.json`` into the folder ``path`` (or to ``path`` itself if it ends in .json)."""
    if path.suffix != ".json":
        path.mkdir(parents=True, exist_ok=True)
        path = path / "tokenizer.json"
    _write_json(path, unigram_tokenizer_json(tok))
    return path

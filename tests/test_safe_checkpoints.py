"""Saves that cannot lose anything and loads that check what they load (model folders)."""
import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest
import torch

from minibert.core.checkpoints import CheckpointError
from minibert.core.config import BertConfig
from minibert.models.bert.model import BertModel
from minibert.models.roberta import RobertaConfig, RobertaModel

SIZES = dict(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
             max_position_embeddings=24)


def bert(seed=0):
    torch.manual_seed(seed)
    return BertModel(BertConfig(**SIZES)).eval()


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_save_replaces_its_own_kind_keeps_a_tokenizer_and_drops_a_stale_weight_file(tmp_path):
    folder = tmp_path / "model"
    bert(0).save_pretrained(folder)
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    torch.save({"stale": torch.zeros(1)}, folder / "pytorch_model.bin")
    second = bert(1)
    second.save_pretrained(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", "vocab.txt"]
    assert same_weights(BertModel.from_pretrained(folder), second)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder is left behind"


def test_files_are_readable_by_everyone(tmp_path):
    folder = bert().save_pretrained(tmp_path / "m")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("config.json", "model.safetensors"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask


def test_another_kind_of_artefact_is_not_replaced_without_overwrite(tmp_path):
    folder = tmp_path / "m"
    torch.manual_seed(0)
    RobertaModel(RobertaConfig(**{**SIZES, "pad_token_id": 1, "max_position_embeddings": 26})).save_pretrained(folder)
    with pytest.raises(CheckpointError, match=r"already holds a roberta checkpoint.*overwrite=True"):
        bert().save_pretrained(folder)
    assert json.loads((folder / "config.json").read_text())["model_type"] == "roberta"
    bert().save_pretrained(folder, overwrite=True)
    assert json.loads((folder / "config.json").read_text())["model_type"] == "bert"
    run = tmp_path / "run"
    run.mkdir()
    (run / "training_state.pt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="a training run"):
        bert().save_pretrained(run)


def test_a_checkpoint_of_another_model_type_is_refused_naming_both(tmp_path):
    folder = tmp_path / "m"
    torch.manual_seed(0)
    RobertaModel(RobertaConfig(**{**SIZES, "pad_token_id": 1, "max_position_embeddings": 26})).save_pretrained(folder)
    with pytest.raises(CheckpointError, match=r"holds a 'roberta' checkpoint but BertModel is a 'bert' model"):
        BertModel.from_pretrained(folder)
    bert().save_pretrained(tmp_path / "b")
    with pytest.raises(CheckpointError, match=r"'bert' checkpoint but RobertaModel"):
        RobertaModel.from_pretrained(tmp_path / "b")


def test_damaged_files_are_named(tmp_path):
    folder = bert().save_pretrained(tmp_path / "m")
    (folder / "model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(CheckpointError, match=r"model\.safetensors cannot be read as safetensors"):
        BertModel.from_pretrained(folder)
    folder = bert().save_pretrained(tmp_path / "n")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"config\.json is not valid JSON"):
        BertModel.from_pretrained(folder)
    (folder / "config.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="not an object of settings"):
        BertModel.from_pretrained(folder)


def test_a_byte_order_mark_in_config_json_is_read(tmp_path):
    folder = bert().save_pretrained(tmp_path / "m")
    text = (folder / "config.json").read_text()
    (folder / "config.json").write_text("\ufeff" + text, encoding="utf-8")
    BertModel.from_pretrained(folder)


def test_non_finite_weights_are_refused_on_save_and_on_load(tmp_path):
    model = bert()
    with torch.no_grad():
        model.embeddings.token.weight[3, 0] = float("nan")
    with pytest.raises(CheckpointError, match="refusing to save weights with NaN"):
        model.save_pretrained(tmp_path / "m")
    assert not (tmp_path / "m").exists()
    folder = bert().save_pretrained(tmp_path / "ok")
    from safetensors.torch import load_file, save_file
    state = load_file(str(folder / "model.safetensors"))
    key = next(iter(state))
    state[key][0] = float("inf")
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"NaN or infinite values in 1 tensor\(s\).*diverged"):
        BertModel.from_pretrained(folder)


def test_a_process_killed_while_saving_leaves_the_previous_checkpoint_loadable(tmp_path):
    folder = tmp_path / "m"
    first = bert(0)
    first.save_pretrained(folder)
    script = textwrap.dedent(f"""
        import os, signal, torch, safetensors.torch as st
        from minibert.core.config import BertConfig
        from minibert.models.bert.model import BertModel
        real = st.save_file
        def dying(tensors, path, metadata=None):
            with open(path, "wb") as f:
                f.write(b"half a file")
            os.kill(os.getpid(), signal.SIGKILL)
        st.save_file = dying
        torch.manual_seed(1)
        BertModel(BertConfig(**{SIZES!r})).save_pretrained({str(folder)!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    assert same_weights(BertModel.from_pretrained(folder), first)


def test_a_vocab_txt_with_a_byte_order_mark_keeps_its_special_tokens(tmp_path):
    from minibert.tokenizers.wordpiece import WordPieceTokenizer

    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s"]
    plain, marked = tmp_path / "plain.txt", tmp_path / "marked.txt"
    plain.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    a, b = WordPieceTokenizer.from_pretrained(plain), WordPieceTokenizer.from_pretrained(marked)
    assert a.encode("hello worlds").input_ids == b.encode("hello worlds").input_ids
    assert b.pad_token_id == 0


def test_tokenizer_files_are_written_whole_and_readable(tmp_path):
    from minibert.tokenizers.wordpiece import WordPieceTokenizer

    vocab = tmp_path / "v.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhi\n", encoding="utf-8")
    folder = WordPieceTokenizer.from_pretrained(vocab).save_pretrained(tmp_path / "tok")
    umask = os.umask(0)
    os.umask(umask)
    for item in folder.iterdir():
        assert stat.S_IMODE(item.stat().st_mode) == 0o666 & ~umask, item
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]

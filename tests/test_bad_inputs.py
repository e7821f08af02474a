"""Bad input across every public entry point: one table, one clear error each.

Every row calls the library with one mistake a learner makes (a fractional attention mask, a vocabulary file that is
not UTF-8, a learning rate of NaN, a hint level that does not exist ...) and asserts the exact error type (a
``ValueError`` or ``TypeError``, or the library's own subclass such as ``CheckpointError``) and that its message
names the problem, often with what to do. Nothing may pass silently, return a NaN, or fail deep inside torch or
json with an ``IndexError``/``RuntimeError``/``KeyError``.

Rows are grouped by area; a row's id is ``area-what-is-wrong`` (``models-bert-fractional-mask``). The models are
tiny and built once per module (:func:`build`), so the whole table runs in a few seconds on one core.
``test_table_covers_every_area`` keeps the table's coverage from shrinking; ``python tests/test_bad_inputs.py``
prints the count by area.
"""
from __future__ import annotations

import collections
import functools
import json
import re
import tempfile
from pathlib import Path

import pytest
import torch

from minibert import (AlbertConfig, AlbertForPreTraining, AlbertModel, BertConfig, BertForMaskedLM,
                      BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification,
                      BertForTokenClassification, BertModel, CausalLM, DebertaV2Config, DebertaV2Model,
                      DistilBertConfig, DistilBertModel, Electra, ElectraConfig, ElectraDiscriminator, RobertaConfig,
                      RobertaModel, SpanBertForPreTraining, TransformerXL, TransformerXLConfig, XLMConfig, XLMModel,
                      XLNetConfig, XLNetLMHeadModel, mean_pool)
from minibert.core import attention, positions
from minibert.core.checkpoints import CheckpointError, resolve_checkpoint
from minibert.core.relative_attention import T5RelativeBias
from minibert.exercises import check, get, hint, solution
from minibert.masking import dataset as mlm_data
from minibert.masking import pairs as mlm_pairs
from minibert.masking.causal import mask_last_token
from minibert.masking.mlm import Masker, span_length_distribution
from minibert.masking.words import wordpiece_word_ids
from minibert.models.elmo import ElmoBiLM, ElmoConfig, ScalarMix
from minibert.models.family.xlm import translation_lm_input
from minibert.models.xlnet.permutation import check_order
from minibert.tokenizers import ByteLevelBPETokenizer, WordPieceTokenizer, course_tokenizer, train_bpe, train_wordpiece
from minibert.tokenizers.files import read_bpe_files
from minibert.training import pretrain
from minibert.training.config import TrainingConfig
from minibert.training.loop import fit
from minibert.training.schedules import warmup_decay_scheduler
from minibert.training.trainer import Trainer
from minibert import widgets

pytestmark = pytest.mark.usefixtures("one_thread")

AREAS = {"models": 45, "configs": 25, "checkpoints": 15, "tokenizers": 25, "masking": 15, "training": 10, "cli": 3,
         "positions": 8, "widgets": 5, "exercises": 4}

IDS = torch.tensor([[2, 5, 6, 7], [2, 8, 9, 0]])  # (batch 2, T 4), ids of a 1000-token vocabulary
ONES = torch.ones(2, 4, dtype=torch.long)
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "##s", "."]


# -- what the rows call: tiny models built once, fresh folders ------------------------------------------------------
@functools.cache
def build(name: str):
    torch.manual_seed(0)
    tiny = BertConfig.tiny(max_position_embeddings=16)
    models = {
        "bert": lambda: BertModel(tiny),
        "mlm": lambda: BertForMaskedLM(tiny),
        "pretraining": lambda: BertForPreTraining(tiny),
        "classifier": lambda: BertForSequenceClassification(tiny, num_labels=3),
        "tagger": lambda: BertForTokenClassification(tiny, num_labels=3),
        "qa": lambda: BertForQuestionAnswering(tiny),
        "roberta": lambda: RobertaModel(RobertaConfig.tiny(max_position_embeddings=18)),
        "albert": lambda: AlbertModel(AlbertConfig.tiny(num_hidden_layers=2)),
        "albert-pretraining": lambda: AlbertForPreTraining(AlbertConfig.tiny(num_hidden_layers=2)),
        "distilbert": lambda: DistilBertModel(DistilBertConfig.tiny(num_hidden_layers=2)),
        "deberta": lambda: DebertaV2Model(DebertaV2Config.tiny(max_position_embeddings=16)),
        "electra": lambda: Electra(ElectraConfig.tiny()),
        "discriminator": lambda: ElectraDiscriminator(ElectraConfig.tiny()),
        "xlnet": lambda: XLNetLMHeadModel(XLNetConfig.tiny()),
        "causal": lambda: CausalLM(tiny),
        "xlm": lambda: XLMModel(XLMConfig.tiny(intermediate_size=256, max_position_embeddings=16)),
        "elmo": lambda: ElmoBiLM(ElmoConfig(vocab_size=50, embedding_size=8, hidden_size=8, num_layers=1)),
        "transformer-xl": lambda: TransformerXL(TransformerXLConfig(16, 2, 32, 1, memory_length=4)),
        "spanbert": lambda: SpanBertForPreTraining(tiny),
    }
    return models[name]().eval()


_BASE: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _folders(tmp_path_factory):
    _BASE.append(tmp_path_factory.mktemp("bad_inputs"))
    yield
    _BASE.pop()


def fresh() -> Path:
    """A new empty folder for one row."""
    return Path(tempfile.mkdtemp(dir=_BASE[-1]))


@functools.cache
def saved(name: str) -> Path:
    """A checkpoint folder of a tiny model (``bert``, ``roberta``, ``elmo``), saved once; rows copy or read it."""
    folder = Path(tempfile.mkdtemp(dir=_BASE[-1])) / name
    build(name).save_pretrained(folder)
    return folder


def copy_of(name: str) -> Path:
    import shutil

    return Path(shutil.copytree(saved(name), fresh() / name))


def damaged(name: str, file: str, data: bytes) -> Path:
    folder = copy_of(name)
    (folder / file).write_bytes(data)
    return folder


def with_config(name: str, **changes) -> Path:
    folder = copy_of(name)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **changes}))
    return folder


def nan_weights(model):
    clone = type(model)(model.config)
    with torch.no_grad():
        next(clone.parameters())[0] = float("nan")
    return clone


def nan_safetensors() -> Path:
    from safetensors.torch import load_file, save_file

    folder = copy_of("bert")
    state = load_file(str(folder / "model.safetensors"))
    key = next(k for k in state if k.endswith("LayerNorm.weight"))
    state[key][0] = float("inf")
    save_file(state, str(folder / "model.safetensors"))
    return folder


def holding(*files: str) -> Path:
    folder = fresh()
    for name in files:
        (folder / name).write_bytes(b"x")
    return folder


def vocab_file(data: bytes | str, name: str = "vocab.txt") -> Path:
    path = fresh() / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def bpe_folder(vocab, merges: str = "#version: 0.2\n") -> Path:
    folder = fresh()
    (folder / "vocab.json").write_text(vocab if isinstance(vocab, str) else json.dumps(vocab))
    (folder / "merges.txt").write_text(merges)
    return folder


@functools.cache
def tok() -> WordPieceTokenizer:
    return WordPieceTokenizer(VOCAB)


@functools.cache
def byte_level() -> ByteLevelBPETokenizer:
    return ByteLevelBPETokenizer.train(["the cat sat", "the cats sat"], 260)


def masker(**options) -> Masker:
    return Masker(4, 10, {0, 1, 2, 3}, **options)


def tiny_dataset(blocks: int = 3):
    return mlm_data.MaskedLMDataset([[2, 5, 6, 7, 3]] * blocks, masker(), pad_id=0)


def run_cli(*argv: str):
    return pretrain.main(["--no-progress", *argv])


def optimizer():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def attention_weights():
    return torch.full((2, 2, 3, 3), 1 / 3)  # (layers, heads, T, T)


def logits(*values):
    return torch.tensor(values, dtype=torch.float64)


NAN = float("nan")
INF = float("inf")

# -- the table -------------------------------------------------------------------------------------------------------
TABLE: list = []


def row(case_id: str, make, error: type[BaseException], pattern: str) -> None:
    assert case_id.split("-")[0] in AREAS, case_id
    TABLE.append(pytest.param(make, error, pattern, id=case_id))


# models: BERT's boundary (minibert.core.inputs), shared by every encoder
row("models-bert-list-ids", lambda: build("bert")([[2, 5, 6]]), TypeError, r"torch\.Tensor.*torch\.tensor")
row("models-bert-float-ids", lambda: build("bert")(IDS.float()), TypeError, r"integers.*\.long\(\)")
row("models-bert-bool-ids", lambda: build("bert")(IDS.bool()), TypeError, r"integers.*torch\.bool")
row("models-bert-1d-ids", lambda: build("bert")(IDS[0]), ValueError, r"\(batch, seq_len\).*unsqueeze\(0\)")
row("models-bert-3d-ids", lambda: build("bert")(IDS[None]), ValueError, r"must have shape \(batch, seq_len\)")
row("models-bert-empty", lambda: build("bert")(IDS[:, :0]), ValueError, r"empty.*at least one token")
row("models-bert-too-long", lambda: build("bert")(torch.ones(1, 17, dtype=torch.long)), ValueError,
    r"length 17 exceeds.*16 tokens.*truncate")
row("models-bert-id-out-of-range", lambda: build("bert")(IDS + 995), ValueError,
    r"id 1004, outside the vocabulary \[0, 1000\).*tokenizer")
row("models-bert-negative-id", lambda: build("bert")(IDS - 3), ValueError, r"id -3, outside the vocabulary")
row("models-bert-mask-wrong-shape", lambda: build("bert")(IDS, attention_mask=torch.ones(2, 5)), ValueError,
    r"attention_mask has shape \(2, 5\); expected \(2, 4\)")
row("models-bert-fractional-mask", lambda: build("bert")(IDS, attention_mask=torch.full((2, 4), 0.5)), ValueError,
    r"only 0 and 1.*fractional")
row("models-bert-additive-mask", lambda: build("bert")(IDS, attention_mask=torch.tensor([[0.0] * 4, [0, 0, 0, -1e4]])),
    ValueError, r"only 0 and 1.*-10000")
row("models-bert-nan-mask", lambda: build("bert")(IDS, attention_mask=torch.tensor([[1.0] * 4, [1, 1, 1, NAN]])),
    ValueError, r"attention_mask contains inf/NaN")
row("models-bert-list-mask", lambda: build("bert")(IDS, attention_mask=[[1] * 4] * 2), TypeError,
    r"attention_mask must be a torch\.Tensor")
row("models-bert-token-types-out-of-range", lambda: build("bert")(IDS, token_type_ids=ONES * 2), ValueError,
    r"token_type_ids must be in \[0, 2\)")
row("models-bert-token-types-wrong-shape", lambda: build("bert")(IDS, token_type_ids=ONES[:, :3]), ValueError,
    r"token_type_ids has shape \(2, 3\).*must match")
row("models-bert-token-types-float", lambda: build("bert")(IDS, token_type_ids=ONES.float()), TypeError,
    r"token_type_ids must hold integers")
row("models-bert-position-ids-out-of-range", lambda: build("bert")(IDS, position_ids=torch.arange(4) + 13),
    ValueError, r"position_ids must be in \[0, 16\)")
# models: heads
row("models-mlm-labels-wrong-shape", lambda: build("mlm")(IDS, labels=IDS[:, :3]), ValueError,
    r"labels has shape \(2, 3\) but input_ids has \(2, 4\)")
row("models-mlm-labels-out-of-range", lambda: build("mlm")(IDS, labels=IDS + 1000), ValueError,
    r"labels must be token ids in \[0, 1000\) or -100")
row("models-mlm-labels-float", lambda: build("mlm")(IDS, labels=IDS.float()), TypeError,
    r"labels must be an integer torch\.Tensor")
row("models-mlm-labels-all-ignored", lambda: build("mlm")(IDS, labels=torch.full_like(IDS, -100)), ValueError,
    r"no position to predict \(all -100\)")
row("models-mlm-positions-not-bool", lambda: build("mlm")(IDS, positions=ONES), ValueError,
    r"positions must be a boolean tensor shaped like input_ids")
row("models-mlm-label-smoothing-above-one", lambda: build("mlm")(IDS, labels=IDS, label_smoothing=1.5), ValueError,
    r"label_smoothing must be .*\[0, 1\)")
row("models-mlm-fill-mask-without-mask", lambda: build("mlm").fill_mask(IDS, mask_token_id=4), ValueError,
    r"no mask token \(id 4\)")
row("models-mlm-fill-mask-top-k-zero", lambda: build("mlm").fill_mask(IDS, mask_token_id=5, top_k=0), ValueError,
    r"top_k must be an integer in \[1, 1000\]")
row("models-mlm-fill-mask-top-k-above-vocabulary",
    lambda: build("mlm").fill_mask(IDS, mask_token_id=5, top_k=1001), ValueError, r"top_k must be an integer in \[1, 1000\]")
row("models-pretraining-nsp-label-out-of-range",
    lambda: build("pretraining")(IDS, next_sentence_label=torch.tensor([0, 2])), ValueError,
    r"next_sentence_label must be class ids in \[0, 2\) \(0 or 1\), got values \[0, 2\]")
row("models-pretraining-nsp-label-wrong-shape",
    lambda: build("pretraining")(IDS, next_sentence_label=torch.tensor([0, 1, 1])), ValueError,
    r"next_sentence_label has shape \(3,\): give one label per sequence \(2\)")
row("models-albert-sop-label-float",
    lambda: build("albert-pretraining")(IDS, sentence_order_label=torch.tensor([0.0, 1.0])), TypeError,
    r"next_sentence_label must be an integer tensor of class ids")
row("models-classifier-labels-out-of-range", lambda: build("classifier")(IDS, labels=torch.tensor([0, 3])),
    ValueError, r"labels must be class ids in \[0, 3\), got values \[0, 3\]")
row("models-classifier-labels-wrong-shape", lambda: build("classifier")(IDS, labels=torch.tensor([0, 1, 2])),
    ValueError, r"labels has shape \(3,\): give one label per sequence \(2\)")
row("models-classifier-labels-float", lambda: build("classifier")(IDS, labels=torch.tensor([0.0, 1.0])), TypeError,
    r"labels must be an integer tensor of class ids, one per sequence")
row("models-classifier-no-labels", lambda: BertForSequenceClassification(BertConfig.tiny(), num_labels=0),
    ValueError, r"num_labels must be a positive integer")
row("models-regression-nan-labels",
    lambda: BertForSequenceClassification(BertConfig.tiny(), num_labels=1)(IDS, labels=torch.tensor([0.5, NAN])),
    ValueError, r"labels contain NaN or inf; regression needs finite scores")
row("models-mean-pool-mask-wrong-shape", lambda: mean_pool(torch.zeros(2, 4, 8), ONES[:, :3]), ValueError,
    r"attention_mask has shape \(2, 3\); expected \(2, 4\)")
row("models-tagger-labels-wrong-shape", lambda: build("tagger")(IDS, labels=torch.tensor([0, 1])), ValueError,
    r"labels has shape \(2,\).*one label per token")
row("models-tagger-labels-out-of-range", lambda: build("tagger")(IDS, labels=ONES * 3), ValueError,
    r"labels must be in \[0, 3\) or -100")
row("models-qa-only-start", lambda: build("qa")(IDS, start_positions=torch.tensor([1, 2])), ValueError,
    r"give both start_positions and end_positions")
row("models-qa-float-positions",
    lambda: build("qa")(IDS, start_positions=torch.tensor([1.0, 2.0]), end_positions=torch.tensor([2.0, 3.0])),
    TypeError, r"start_positions must hold integers \(torch\.long\)")
# models: the offspring
row("models-roberta-segment-b", lambda: build("roberta")(IDS + 2, token_type_ids=ONES), ValueError,
    r"token_type_ids must be in \[0, 1\)")
row("models-roberta-too-long", lambda: build("roberta")(torch.full((1, 17), 5)), ValueError,
    r"length 17 exceeds the model's limit of 16 tokens")
row("models-roberta-from-bert-config", lambda: RobertaModel(BertConfig.tiny()), TypeError,
    r"RobertaModel is built from its own config class, RobertaConfig")
row("models-albert-id-out-of-range", lambda: build("albert")(IDS + 999), ValueError, r"outside the vocabulary")
row("models-distilbert-token-types", lambda: build("distilbert")(IDS, token_type_ids=ONES * 0), ValueError,
    r"no segment embeddings.*drop token_type_ids")
row("models-distilbert-fractional-mask", lambda: build("distilbert")(IDS, attention_mask=torch.full((2, 4), 0.9)),
    ValueError, r"only 0 and 1")
row("models-deberta-3d-mask", lambda: build("deberta")(IDS, attention_mask=torch.ones(2, 4, 4)), ValueError,
    r"DeBERTa takes a \(batch, T\) attention_mask")
row("models-deberta-too-long", lambda: build("deberta")(torch.ones(1, 20, dtype=torch.long)), ValueError,
    r"exceeds the model's limit of 16")
row("models-deberta-additive-mask", lambda: build("deberta")(IDS, attention_mask=torch.full((2, 4), -1e4)),
    ValueError, r"only 0 and 1")
row("models-electra-no-labels", lambda: build("electra")(IDS), ValueError, r"ELECTRA needs labels")
row("models-electra-label-smoothing", lambda: build("electra")(IDS, labels=IDS, label_smoothing=0.1), ValueError,
    r"label smoothing is not part of ELECTRA")
row("models-electra-temperature-zero", lambda: build("electra")(IDS, labels=IDS, temperature=0.0), ValueError,
    r"temperature must be > 0")
row("models-electra-generator-other-vocabulary",
    lambda: Electra(ElectraConfig.tiny(), ElectraConfig.tiny(vocab_size=500)), ValueError,
    r"share their embeddings.*vocab_size must agree")
row("models-discriminator-labels-not-binary", lambda: build("discriminator")(IDS, labels=ONES * 2), ValueError,
    r"replaced-token labels must be 0 \(original\) or 1 \(replaced\)")
row("models-discriminator-labels-wrong-shape", lambda: build("discriminator")(IDS, labels=ONES[0]), ValueError,
    r"labels must be a 0/1 tensor shaped like input_ids")
row("models-xlnet-float-ids", lambda: build("xlnet")(IDS.double()), TypeError, r"input_ids must hold integers")
row("models-xlnet-perm-mask-wrong-shape", lambda: build("xlnet")(IDS, perm_mask=torch.zeros(2, 4)), ValueError,
    r"perm_mask has shape \(2, 4\); expected \(2, 4, 4\)")
row("models-xlnet-fractional-mask", lambda: build("xlnet")(IDS, attention_mask=torch.full((2, 4), 0.5)), ValueError,
    r"attention_mask must contain only 0 and 1")
row("models-xlnet-target-mapping-not-one-hot",
    lambda: build("xlnet")(IDS, target_mapping=torch.ones(2, 1, 4)), ValueError, r"target_mapping must be one-hot")
row("models-xlnet-target-mapping-list", lambda: build("xlnet")(IDS, target_mapping=[[[0, 0, 0, 1]]] * 2),
    TypeError, r"target_mapping must be a torch\.Tensor")
row("models-xlnet-memory-wrong-count", lambda: build("xlnet")(IDS, memory=[torch.zeros(2, 3, 64)]), ValueError,
    r"memory must hold one tensor per layer \(2\), got 1")
row("models-xlnet-memory-wrong-width", lambda: build("xlnet")(IDS, memory=[torch.zeros(2, 3, 32)] * 2), ValueError,
    r"memory must hold per layer a float tensor \(batch=2, memory_length, d_model=64\).*got \(2, 3, 32\)")
row("models-xlnet-memory-of-ids", lambda: build("xlnet")(IDS, memory=[torch.zeros(2, 3, 64).long()] * 2), ValueError,
    r"memory must hold per layer a float tensor")
row("models-xlnet-labels-wrong-shape", lambda: build("xlnet")(IDS, labels=IDS[:, :2]), ValueError,
    r"labels must be shaped like the predictions \(2, 4\)")
row("models-xlnet-labels-out-of-range", lambda: build("xlnet")(IDS, labels=IDS + 1000), ValueError,
    r"labels must be token ids in \[0, 1000\) or -100")
row("models-xlnet-labels-all-ignored", lambda: build("xlnet")(IDS, labels=torch.full_like(IDS, -100)), ValueError,
    r"no position to predict \(all -100\)")
row("models-causal-lm-labels-out-of-range", lambda: build("causal")(IDS, labels=IDS + 1000), ValueError,
    r"labels must be token ids in \[0, 1000\) or -100")
row("models-causal-lm-labels-float", lambda: build("causal")(IDS, labels=IDS.float()), TypeError,
    r"labels must be an integer torch\.Tensor")
row("models-causal-lm-labels-wrong-shape", lambda: build("causal")(IDS, labels=IDS[:, 1:]), ValueError,
    r"labels must be shaped like input_ids \(2, 4\) \(the model shifts them\)")
row("models-causal-lm-one-token", lambda: build("causal")(IDS[:, :1], labels=IDS[:, :1]), ValueError,
    r"no next token to predict")
row("models-causal-lm-generate-no-tokens", lambda: build("causal").generate(IDS, 0), ValueError,
    r"max_new_tokens must be a positive integer")
row("models-causal-lm-generate-past-positions", lambda: build("causal").generate(IDS, 13), ValueError,
    r"prompt \(4\) \+ max_new_tokens \(13\) exceeds the model's 16 positions")
row("models-causal-lm-generate-float-prompt", lambda: build("causal").generate(IDS.float(), 2), TypeError,
    r"prompt must hold integers")
row("models-causal-lm-generate-empty-prompt", lambda: build("causal").generate(IDS[0, :0], 2), ValueError,
    r"prompt must be a non-empty \(T,\) or \(batch, T\) tensor")
row("models-causal-lm-generate-3d-prompt", lambda: build("causal").generate(IDS[None], 2), ValueError,
    r"prompt must be a non-empty \(T,\) or \(batch, T\)")
row("models-causal-lm-generate-temperature-zero",
    lambda: build("causal").generate(IDS, 2, do_sample=True, temperature=0), ValueError, r"temperature must be > 0")
row("models-causal-lm-generate-top-k-zero", lambda: build("causal").generate(IDS, 2, do_sample=True, top_k=0),
    ValueError, r"top_k must be an integer in \[1, 1000\] or None")
row("models-causal-lm-generate-eos-out-of-range", lambda: build("causal").generate(IDS, 2, eos_token_id=1000),
    ValueError, r"eos_token_id must be a token id in \[0, 1000\)")
row("models-xlm-language-out-of-range", lambda: build("xlm")(IDS, language_ids=ONES * 2), ValueError,
    r"token_type_ids must be in \[0, 2\)")
row("models-xlm-positions-out-of-range", lambda: build("xlm")(IDS, position_ids=torch.tensor([0, 1, 2, 16])),
    ValueError, r"position_ids must be in \[0, 16\)")
row("models-xlm-translation-of-a-string", lambda: translation_lm_input("the cat", ["le", "chat"], 0, 1), ValueError,
    r"source must be a non-empty list of tokens \(split the text first\)")
row("models-xlm-translation-negative-language", lambda: translation_lm_input(["a"], ["b"], 0, -1), ValueError,
    r"target_language must be a language id")
row("models-elmo-float-ids", lambda: build("elmo").layer_states(IDS.float()), TypeError, r"input_ids must hold integers")
row("models-elmo-1d-ids", lambda: build("elmo").layer_states(IDS[0]), ValueError, r"unsqueeze\(0\)")
row("models-elmo-id-out-of-range", lambda: build("elmo").lm_losses(IDS + 50), ValueError,
    r"outside the vocabulary \[0, 50\)")
row("models-elmo-one-token-language-model", lambda: build("elmo").lm_losses(IDS[:, :1]), ValueError,
    r"at least two tokens")
row("models-elmo-scalar-mix-wrong-layers", lambda: ScalarMix(2)(torch.zeros(2, 1, 4, 16)), ValueError,
    r"expected 3 layers .* got 2")
row("models-transformer-xl-ids-not-vectors", lambda: build("transformer-xl")(IDS), ValueError,
    r"x must be a \(batch, T, 16\) float tensor")
row("models-transformer-xl-integer-vectors",
    lambda: build("transformer-xl")(torch.ones(1, 3, 16, dtype=torch.long)), TypeError,
    r"x must be a floating-point tensor")
row("models-transformer-xl-memory-wrong-width",
    lambda: build("transformer-xl")(torch.zeros(1, 3, 16), memory=[torch.zeros(1, 2, 8)]), ValueError,
    r"memory of shape \(1, 2, 8\) does not fit")
row("models-spanbert-no-spans", lambda: build("spanbert")(IDS, labels=IDS), ValueError,
    r"needs the masked spans")
row("models-spanbert-span-covers-cls", lambda: build("spanbert")(IDS, labels=IDS, spans=[[(0, 2)], [(1, 2)]]),
    ValueError, r"span \(0, 2\) of sequence 0 needs a token on each side")

# configs
row("configs-bert-heads-do-not-divide", lambda: BertConfig(hidden_size=100, num_attention_heads=12), ValueError,
    r"hidden_size \(100\) must be divisible by num_attention_heads \(12\).*Try num_attention_heads in")
row("configs-bert-no-layers", lambda: BertConfig.tiny(num_hidden_layers=0), ValueError,
    r"num_hidden_layers must be a positive integer, got 0")
row("configs-bert-negative-vocabulary", lambda: BertConfig.tiny(vocab_size=-5), ValueError,
    r"vocab_size must be a positive integer")
row("configs-bert-float-size", lambda: BertConfig.tiny(hidden_size=64.0), TypeError,
    r"hidden_size must be a positive integer, got 64\.0")
row("configs-bert-bool-size", lambda: BertConfig.tiny(num_hidden_layers=True), TypeError,
    r"num_hidden_layers must be a positive integer, got True")
row("configs-bert-negative-positions", lambda: BertConfig.tiny(max_position_embeddings=-1), ValueError,
    r"max_position_embeddings must be a positive integer")
row("configs-bert-negative-segments", lambda: BertConfig.tiny(type_vocab_size=-1), ValueError,
    r"type_vocab_size must be an integer >= 0")
row("configs-bert-zero-embedding-size", lambda: BertConfig.tiny(embedding_size=0), ValueError,
    r"embedding_size must be a positive integer or None")
row("configs-bert-dropout-one", lambda: BertConfig.tiny(hidden_dropout_prob=1.0), ValueError,
    r"hidden_dropout_prob must be in \[0, 1\)")
row("configs-bert-dropout-nan", lambda: BertConfig.tiny(attention_probs_dropout_prob=NAN), ValueError,
    r"attention_probs_dropout_prob must be a finite number, got nan")
row("configs-bert-dropout-bool", lambda: BertConfig.tiny(hidden_dropout_prob=True), TypeError,
    r"hidden_dropout_prob must be a number, got True")
row("configs-bert-dropout-text", lambda: BertConfig.tiny(hidden_dropout_prob="0.1"), TypeError,
    r"hidden_dropout_prob must be a number, got '0\.1'")
row("configs-bert-unknown-activation", lambda: BertConfig.tiny(hidden_act="swish"), ValueError,
    r"hidden_act must be one of .*'gelu'.*got 'swish'")
row("configs-bert-layer-norm-eps-zero", lambda: BertConfig.tiny(layer_norm_eps=0), ValueError,
    r"layer_norm_eps must be > 0, got 0")
row("configs-bert-layer-norm-eps-inf", lambda: BertConfig.tiny(layer_norm_eps=INF), ValueError,
    r"layer_norm_eps must be a finite number, got inf")
row("configs-bert-initializer-range-nan", lambda: BertConfig.tiny(initializer_range=NAN), ValueError,
    r"initializer_range must be a finite number, got nan")
row("configs-bert-initializer-range-negative", lambda: BertConfig.tiny(initializer_range=-0.02), ValueError,
    r"initializer_range must be >= 0, got -0\.02")
row("configs-bert-pad-outside-vocabulary", lambda: BertConfig.tiny(pad_token_id=1000), ValueError,
    r"pad_token_id 1000 is outside the vocabulary \[0, 1000\)")
row("configs-bert-fractional-pad", lambda: BertConfig.tiny(pad_token_id=1.5), TypeError,
    r"pad_token_id must be an integer")
row("configs-bert-from-a-list", lambda: BertConfig.from_dict([("hidden_size", 64)]), TypeError,
    r"BertConfig\.from_dict expects a dict, got list")
row("configs-bert-from-dict-text-size", lambda: BertConfig.from_dict({"hidden_size": "768"}), TypeError,
    r"hidden_size must be a positive integer, got '768'")
row("configs-bert-from-dict-bool-heads", lambda: BertConfig.from_dict({"num_attention_heads": True}), TypeError,
    r"num_attention_heads must be a positive integer, got True")
row("configs-bert-from-dict-relative-positions",
    lambda: BertConfig.from_dict({"position_embedding_type": "relative_key"}), ValueError,
    r"position_embedding_type='relative_key' is not supported")
row("configs-bert-from-dict-extra-not-a-dict", lambda: BertConfig.from_dict({"extra": [1, 2]}), TypeError,
    r"extra must be a dict")
row("configs-bert-from-json-file-damaged", lambda: BertConfig.from_json_file(vocab_file("{'a': 1", "config.json")),
    ValueError, r"config\.json is not valid JSON")
row("configs-roberta-without-pad", lambda: RobertaConfig.tiny(pad_token_id=None), ValueError,
    r"RoBERTa needs a pad_token_id")
row("configs-roberta-positions-below-padding", lambda: RobertaConfig.tiny(max_position_embeddings=2), ValueError,
    r"max_position_embeddings \(2\) must exceed pad_token_id \+ 1")
row("configs-albert-unknown-sharing", lambda: AlbertConfig.tiny(cross_layer_sharing="some"), ValueError,
    r"cross_layer_sharing must be one of")
row("configs-albert-unknown-size", lambda: AlbertConfig.of_size("huge"), ValueError,
    r"unknown ALBERT size 'huge'; choose one of")
row("configs-albert-inner-groups", lambda: AlbertConfig.from_dict({"inner_group_num": 2}), ValueError,
    r"inner_group_num=2.*one layer per group")
row("configs-albert-three-groups", lambda: AlbertConfig.from_dict({"num_hidden_groups": 3}), ValueError,
    r"num_hidden_groups=3: minibert shares all 12 layers \(1 group\) or none")
row("configs-albert-unfactorised-to-transformers", lambda: AlbertConfig.tiny(embedding_size=64).to_hf_dict(),
    ValueError, r"always projects E -> H.*Use embedding_size < hidden_size")
row("configs-distilbert-segments", lambda: DistilBertConfig.tiny(type_vocab_size=2), ValueError,
    r"DistilBERT has no segment embeddings: type_vocab_size must be 0")
row("configs-distilbert-sinusoidal", lambda: DistilBertConfig.from_dict({"sinusoidal_pos_embds": True}), ValueError,
    r"sinusoidal_pos_embds=True .* is not supported")
row("configs-distilbert-layer-norm-eps", lambda: DistilBertConfig.tiny(layer_norm_eps=1e-5), ValueError,
    r"epsilon is fixed at 1e-12")
row("configs-deberta-unknown-position-term", lambda: DebertaV2Config.tiny(pos_att_type=["c2c"]), ValueError,
    r"pos_att_type may contain .*got \['c2c'\]")
row("configs-deberta-position-terms-not-a-list", lambda: DebertaV2Config.tiny(pos_att_type=5), TypeError,
    r"pos_att_type must be a list .* or a string like 'p2c\|c2p'")
row("configs-deberta-unknown-norm", lambda: DebertaV2Config.tiny(norm_rel_ebd="batch_norm"), ValueError,
    r"norm_rel_ebd must be 'none' or 'layer_norm'")
row("configs-deberta-even-kernel", lambda: DebertaV2Config.tiny(conv_kernel_size=2), ValueError,
    r"conv_kernel_size must be 0 \(no convolution\) or odd")
row("configs-deberta-too-many-buckets", lambda: DebertaV2Config.tiny(position_buckets=256), ValueError,
    r"max_position \(128\) must exceed bucket_size / 2 \+ 1 = 129")
row("configs-electra-generator-fraction-zero", lambda: ElectraConfig.tiny().generator_config(0), ValueError,
    r"generator fraction must be in \(0, 1\]")
row("configs-xlm-feed-forward", lambda: XLMConfig.tiny(intermediate_size=100), ValueError,
    r"XLM's feed-forward is 4 x hidden_size = 256 wide, got intermediate_size=")
row("configs-xlm-causal-checkpoint", lambda: XLMConfig.from_dict({"emb_dim": 64, "causal": True}), ValueError,
    r"causal=True are not supported")
row("configs-xlm-activation", lambda: XLMConfig.tiny(intermediate_size=256, hidden_act="gelu_new"), ValueError,
    r"XLM uses exact 'gelu' or 'relu'")
row("configs-xlnet-heads-do-not-divide", lambda: XLNetConfig.tiny(d_model=66), ValueError,
    r"d_model \(66\) must be divisible by n_head \(4\)")
row("configs-xlnet-bool-layers", lambda: XLNetConfig.tiny(n_layer=True), TypeError,
    r"n_layer must be a positive integer, got True")
row("configs-xlnet-unknown-activation", lambda: XLNetConfig.tiny(ff_activation="swish"), ValueError,
    r"ff_activation must be one of \('gelu', 'relu', 'gelu_new'\), got 'swish'")
row("configs-xlnet-negative-memory", lambda: XLNetConfig.tiny(mem_len=-1), ValueError,
    r"mem_len must be an integer >= 0 or None")
row("configs-xlnet-dropout-inf", lambda: XLNetConfig.tiny(dropout=INF), ValueError, r"dropout must be a finite number")
row("configs-xlnet-layer-norm-eps-negative", lambda: XLNetConfig.tiny(layer_norm_eps=-1e-12), ValueError,
    r"layer_norm_eps must be > 0")
row("configs-xlnet-pad-outside-vocabulary", lambda: XLNetConfig.tiny(pad_token_id=1000), ValueError,
    r"pad_token_id 1000 is outside the vocabulary \[0, 1000\)")
row("configs-xlnet-unidirectional", lambda: XLNetConfig.from_dict({"attn_type": "uni"}), ValueError,
    r"attn_type='uni' is not supported.*only 'bi'")
row("configs-xlnet-head-width", lambda: XLNetConfig.from_dict({"d_model": 64, "n_head": 4, "d_head": 8}),
    ValueError, r"d_head must equal d_model / n_head")
row("configs-xlnet-from-a-string", lambda: XLNetConfig.from_dict("config.json"), TypeError,
    r"XLNetConfig\.from_dict expects a dict, got str")
row("configs-elmo-empty-vocabulary", lambda: ElmoConfig(vocab_size=0), ValueError,
    r"vocab_size must be a positive integer, got 0")
row("configs-elmo-float-layers", lambda: ElmoConfig(vocab_size=10, num_layers=2.0), TypeError,
    r"num_layers must be a positive integer, got 2\.0")
row("configs-elmo-dropout-one", lambda: ElmoConfig(vocab_size=10, dropout=1), ValueError, r"dropout must be in \[0, 1\)")
row("configs-elmo-dropout-text", lambda: ElmoConfig(vocab_size=10, dropout="0.1"), TypeError,
    r"dropout must be a number, got '0\.1'")

# checkpoints
row("checkpoints-missing-folder", lambda: BertModel.from_pretrained(fresh() / "nowhere", local_files_only=True),
    CheckpointError, r"no local folder named .*nowhere.*Hugging Face cache")
row("checkpoints-a-file-not-a-folder", lambda: BertModel.from_pretrained(saved("bert") / "config.json"),
    CheckpointError, r"config\.json is a file; pass the folder that contains config\.json")
row("checkpoints-no-config", lambda: BertModel.from_pretrained(holding("model.safetensors")), CheckpointError,
    r"has no config\.json")
row("checkpoints-no-weights", lambda: BertModel.from_pretrained(holding("config.json")), CheckpointError,
    r"has no weights; expected one of model\.safetensors, pytorch_model\.bin")
row("checkpoints-damaged-config", lambda: BertModel.from_pretrained(damaged("bert", "config.json", b'{"vocab_')),
    CheckpointError, r"config\.json is not valid JSON .* save the model again")
row("checkpoints-config-not-an-object", lambda: BertModel.from_pretrained(damaged("bert", "config.json", b"[1, 2]")),
    CheckpointError, r"config\.json holds a JSON list, not an object")
row("checkpoints-config-not-utf8", lambda: BertModel.from_pretrained(damaged("bert", "config.json", b'{"\xff": 1}')),
    CheckpointError, r"config\.json is not valid JSON")
row("checkpoints-config-bad-value", lambda: BertModel.from_pretrained(with_config("bert", hidden_size=-64)),
    CheckpointError, r"config\.json: BertConfig\.hidden_size must be a positive integer")
row("checkpoints-damaged-safetensors",
    lambda: BertModel.from_pretrained(damaged("bert", "model.safetensors", b"\x00" * 40)), CheckpointError,
    r"model\.safetensors cannot be read as safetensors.*damaged or incomplete")
row("checkpoints-pytorch-bin-not-tensors", lambda: BertModel.from_pretrained(
    _torch_save({"step": 3}, copy_of("bert"))), CheckpointError, r"pytorch_model\.bin does not hold a dict of tensors")
row("checkpoints-other-model-type", lambda: BertModel.from_pretrained(saved("roberta")), CheckpointError,
    r"holds a 'roberta' checkpoint but BertModel is a 'bert' model.*ignore_model_type=True")
row("checkpoints-missing-keys", lambda: BertModel.from_pretrained(saved("bert"), num_hidden_layers=3), CheckpointError,
    r"missing from the checkpoint.*encoder\.layer\.2\..*right model class")
row("checkpoints-nan-weights-on-load", lambda: BertModel.from_pretrained(nan_safetensors()), CheckpointError,
    r"NaN or infinite values in 1 tensor.*load an earlier checkpoint")
row("checkpoints-nan-weights-on-save", lambda: nan_weights(build("bert")).save_pretrained(fresh()), CheckpointError,
    r"refusing to save weights with NaN or infinite values")
row("checkpoints-save-over-a-training-run", lambda: build("bert").save_pretrained(holding("training_state.pt")),
    CheckpointError, r"already holds a training run.*overwrite=True")
row("checkpoints-save-over-another-model-type", lambda: build("bert").save_pretrained(copy_of("roberta")),
    CheckpointError, r"already holds a roberta checkpoint; saving a bert checkpoint there would replace it")
row("checkpoints-save-onto-a-file", lambda: build("bert").save_pretrained(holding("x") / "x"), CheckpointError,
    r"exists and is not a folder")
row("checkpoints-interrupted-save", lambda: BertModel.from_pretrained(_interrupted()), CheckpointError,
    r"a save into it was interrupted.*rename it")
row("checkpoints-name-not-a-path", lambda: resolve_checkpoint(3), TypeError,
    r"expected a folder path or a model name, got int")
row("checkpoints-elmo-from-a-bert-folder", lambda: ElmoBiLM.from_pretrained(saved("bert")), CheckpointError,
    r"is not an ELMo checkpoint \(model_type 'bert'\)")
row("checkpoints-elmo-config-unknown-field", lambda: ElmoBiLM.from_pretrained(with_config("elmo", layers=3)),
    CheckpointError, r"does not describe an ELMo model")
row("checkpoints-elmo-config-bad-value", lambda: ElmoBiLM.from_pretrained(with_config("elmo", num_layers=0)),
    CheckpointError, r"config\.json: ElmoConfig\.num_layers must be a positive integer")
row("checkpoints-elmo-weights-do-not-fit", lambda: ElmoBiLM.from_pretrained(with_config("elmo", hidden_size=16)),
    CheckpointError, r"weights in .* do not fit the model its config\.json describes")
row("checkpoints-trainer-resume-from-a-model", lambda: _trainer().load_checkpoint(saved("bert")), CheckpointError,
    r"has no training_state\.pt; is it a folder written by Trainer\.save_checkpoint")

# tokenizers and their files
row("tokenizers-empty-vocabulary", lambda: WordPieceTokenizer([]), ValueError, r"the vocabulary is empty")
row("tokenizers-repeated-token", lambda: WordPieceTokenizer(["[UNK]", "a", "b", "a"]), ValueError,
    r"the vocabulary repeats tokens \['a'\]")
row("tokenizers-ids-with-gaps", lambda: WordPieceTokenizer({"[UNK]": 0, "a": 2}), ValueError,
    r"vocabulary ids must be 0, 1, \.\.\., n-1")
row("tokenizers-vocabulary-a-string", lambda: WordPieceTokenizer("[UNK] a b"), TypeError,
    r"vocab must be a list of tokens or a dict token -> id, got str")
row("tokenizers-token-with-spaces", lambda: WordPieceTokenizer(["[UNK]", " the"]), ValueError,
    r"non-empty strings without surrounding whitespace")
row("tokenizers-no-unknown-token", lambda: WordPieceTokenizer(["the", "cat"]), ValueError,
    r"no unknown token '\[UNK\]'")
row("tokenizers-vocab-file-not-utf8", lambda: WordPieceTokenizer.from_pretrained(vocab_file(b"[UNK]\ncaf\xe9\n")),
    ValueError, r"vocab\.txt is not valid UTF-8: byte 9")
row("tokenizers-vocab-file-empty", lambda: WordPieceTokenizer.from_pretrained(vocab_file("")), ValueError,
    r"vocab\.txt is empty: a vocabulary file lists one token per line")
row("tokenizers-vocab-file-blank-line", lambda: WordPieceTokenizer.from_pretrained(vocab_file("[UNK]\n\nthe\n")),
    ValueError, r"vocab\.txt, line 2: '' is not a token")
row("tokenizers-vocab-file-duplicates", lambda: WordPieceTokenizer.from_pretrained(vocab_file("[UNK]\nthe\nthe\n")),
    ValueError, r"repeats tokens \['the'\]")
row("tokenizers-tokenizer-json-of-bpe",
    lambda: WordPieceTokenizer.from_pretrained(vocab_file(json.dumps({"model": {"type": "BPE"}}), "tokenizer.json")),
    ValueError, r"describes a 'BPE' model, not WordPiece")
row("tokenizers-encode-a-number", lambda: tok().encode(123), TypeError, r"text must be a str, got int")
row("tokenizers-encode-bytes", lambda: tok().encode(b"the cat"), TypeError, r"decode bytes first")
row("tokenizers-encode-none", lambda: tok().encode(None), TypeError, r"text must be a str, got NoneType")
row("tokenizers-encode-pair-a-list", lambda: tok().encode("the", pair=["cat"]), TypeError, r"pair must be a str")
row("tokenizers-encode-lone-surrogate", lambda: tok().encode("the\udcff"), ValueError, r"U\+DCFF at index 3")
row("tokenizers-max-length-zero", lambda: tok().encode("the", max_length=0), ValueError,
    r"max_length must be an integer >= 3 \(the 2 special tokens and at least one more\), got 0")
row("tokenizers-max-length-text", lambda: tok().encode("the", max_length="8"), TypeError,
    r"max_length must be an integer .* got '8'")
row("tokenizers-max-length-bool", lambda: tok().encode("the", max_length=True), TypeError,
    r"max_length must be an integer .* got True")
row("tokenizers-too-long-without-truncation", lambda: tok().encode("the cat " * 10, max_length=8), ValueError,
    r"more than max_length=8: pass truncation=True")
row("tokenizers-truncation-a-number", lambda: tok().encode("the cat", max_length=8, truncation=2), TypeError,
    r"truncation must be True or False")
row("tokenizers-batch-empty", lambda: tok()([]), TypeError, r"texts must be a str or a non-empty list of str")
row("tokenizers-batch-item-not-text", lambda: tok()(["the", 7]), TypeError, r"text 1 of the batch: text must be a str")
row("tokenizers-batch-unknown-padding", lambda: tok()(["the"], padding="sideways"), ValueError,
    r"padding must be True/'longest', 'max_length' or False")
row("tokenizers-batch-numpy-tensors", lambda: tok()(["the"], return_tensors="np"), ValueError,
    r"return_tensors must be 'pt' or None")
row("tokenizers-batch-pad-to-nothing", lambda: tok()(["the"], padding="max_length"), ValueError,
    r"padding='max_length' needs max_length")
row("tokenizers-batch-pairs-length", lambda: tok()(["the", "cat"], pairs=["sat"]), ValueError,
    r"pairs must be a list as long as texts \(2\), got 1")
row("tokenizers-decode-out-of-range", lambda: tok().decode([1, 10]), ValueError,
    r"token id 10 is out of range for a vocabulary of 10")
row("tokenizers-decode-floats", lambda: tok().decode([1, 2.0]), TypeError, r"a token id must be an integer, got 2\.0")
row("tokenizers-unknown-token-to-id", lambda: tok().convert_tokens_to_ids(["dog"]), ValueError,
    r"tokens not in the vocabulary: \['dog'\]")
row("tokenizers-byte-level-missing-bytes", lambda: ByteLevelBPETokenizer({"a": 0, "b": 1}, []), ValueError,
    r"lacks 254 of the 256 byte symbols")
row("tokenizers-byte-level-encode-bytes-of-text", lambda: byte_level().encode_bytes("the"), TypeError,
    r"encode_bytes takes bytes, got str")
row("tokenizers-byte-level-missing-folder", lambda: ByteLevelBPETokenizer.from_pretrained(fresh() / "nowhere"),
    FileNotFoundError, r"is not a folder: pass the folder holding vocab\.json and merges\.txt")
row("tokenizers-byte-level-damaged-vocab-json", lambda: ByteLevelBPETokenizer.from_pretrained(bpe_folder('{"a": ')),
    ValueError, r"vocab\.json is not valid JSON")
row("tokenizers-merges-line-of-three", lambda: read_bpe_files(bpe_folder({"a": 0}, "#version: 0.2\na b c\n")),
    ValueError, r"merges\.txt, line 2: expected 'left right'")
row("tokenizers-train-bpe-vocabulary-too-small", lambda: train_bpe(["abc"], 3, special_tokens=["<unk>"]), ValueError,
    r"vocab_size=3 is smaller than .*ask for at least 4")
row("tokenizers-train-bpe-item-not-text", lambda: train_bpe(["fine", 3], 100), TypeError,
    r"corpus item 1 is a int, expected str")
row("tokenizers-train-bpe-negative-min-frequency", lambda: train_bpe(["abc"], 100, min_frequency=-1), ValueError,
    r"min_frequency must be an integer >= 0, got -1")
row("tokenizers-train-byte-level-vocabulary-too-small", lambda: ByteLevelBPETokenizer.train(["abc"], 200),
    ValueError, r"ask for at least 256")
row("tokenizers-train-byte-level-empty-corpus", lambda: ByteLevelBPETokenizer.train([], 300), ValueError,
    r"the corpus is empty")
row("tokenizers-train-wordpiece-one-string", lambda: train_wordpiece("a whole text", 100), TypeError,
    r"pass the corpus as a list of texts")
row("tokenizers-train-wordpiece-vocabulary-too-small", lambda: train_wordpiece(["abc bad"], 10), ValueError,
    r"vocab_size=10 is smaller than the alphabet.*ask for at least 11")
row("tokenizers-train-wordpiece-without-unk", lambda: train_wordpiece(["abc"], 100, special_tokens=["[PAD]"]),
    ValueError, r"special_tokens must include '\[UNK\]'")
row("tokenizers-train-wordpiece-min-frequency-zero", lambda: train_wordpiece(["abc"], 100, min_frequency=0),
    ValueError, r"min_frequency must be a positive integer")
row("tokenizers-train-wordpiece-whitespace-corpus", lambda: train_wordpiece(["  \n "], 100), ValueError,
    r"the corpus is empty")
row("tokenizers-course-vocabulary-size-text", lambda: course_tokenizer("4096"), TypeError,
    r"vocab_size must be an integer, got '4096'")

# masking
row("masking-rate-zero", lambda: masker(rate=0.0), ValueError,
    r"masking rate must be in \(0, 1\) \(the fraction of tokens to predict")
row("masking-rate-above-one", lambda: masker(rate=15), ValueError, r"masking rate .*BERT uses 0\.15\), got 15")
row("masking-rate-text", lambda: masker(rate="0.15"), TypeError, r"masking rate must be a number .* got '0\.15'")
row("masking-split-two-parts", lambda: masker(split=(0.9, 0.1)), ValueError,
    r"split must be three non-negative fractions .* summing to 1")
row("masking-split-sum", lambda: masker(split=(0.8, 0.1, 0.2)), ValueError, r"split must be three .*sum 1\.1")
row("masking-split-negative", lambda: masker(split=(1.2, -0.1, -0.1)), ValueError, r"split must be three non-negative")
row("masking-unknown-unit", lambda: masker(unit="sentence"), ValueError, r"unit must be one of \('token', 'word', 'span'\)")
row("masking-span-with-bernoulli", lambda: masker(unit="span", selection="bernoulli"), ValueError,
    r"span masking fills a budget .*use selection='exact'")
row("masking-zero-predictions", lambda: masker(max_predictions=0), ValueError,
    r"max_predictions must be a positive integer or None")
row("masking-mask-id-outside-vocabulary", lambda: Masker(10, 10, {0}), ValueError,
    r"mask_token_id 10 is outside the vocabulary \[0, 10\)")
row("masking-vocabulary-of-one", lambda: Masker(0, 1, {0}), ValueError, r"vocab_size must be an integer >= 2")
row("masking-everything-special", lambda: Masker(1, 3, {0, 2}), ValueError,
    r"every id is special: there is no ordinary token")
row("masking-special-tokens-as-text", lambda: Masker(4, 10, {"[CLS]", "[SEP]"}), TypeError,
    r"special_ids must be token ids \(integers\), got '\[(CLS|SEP)\]'")
row("masking-span-probability-zero", lambda: span_length_distribution(p=0.0), ValueError,
    r"span probability p must be in \(0, 1\]")
row("masking-float-ids", lambda: masker()(IDS.float()), TypeError, r"input_ids must be an integer torch\.Tensor")
row("masking-empty-batch", lambda: masker()(IDS[:0]), ValueError, r"input_ids must be a non-empty \(batch, T\) or \(T,\)")
row("masking-ids-outside-vocabulary", lambda: masker()(IDS + 10), ValueError, r"ids outside the vocabulary \[0, 10\)")
row("masking-only-special-tokens", lambda: masker()(torch.tensor([[2, 3, 0]])), ValueError,
    r"sequence 0 has no maskable token .*drop empty sequences")
row("masking-whole-words-without-word-ids", lambda: masker(unit="word")(IDS), ValueError,
    r"unit='word' needs word_ids .*wordpiece_word_ids")
row("masking-word-ids-wrong-shape", lambda: masker(unit="word")(IDS, word_ids=[[0, 1, 2]] * 2), ValueError,
    r"word_ids has shape \(2, 3\) but input_ids has \(2, 4\)")
row("masking-attention-mask-wrong-shape", lambda: masker()(IDS, attention_mask=ONES[:, :3]), ValueError,
    r"attention_mask has shape \(2, 3\) but input_ids has \(2, 4\)")
row("masking-seed-a-string", lambda: masker()(IDS, generator="0"), TypeError, r"pass a torch\.Generator")
row("masking-word-ids-of-a-string", lambda: wordpiece_word_ids("the cat"), TypeError, r"tokens must be a list of token strings")
row("masking-dataset-empty", lambda: mlm_data.MaskedLMDataset([], masker(), pad_id=0), ValueError,
    r"the dataset is empty")
row("masking-dataset-batch-size-zero", lambda: tiny_dataset().global_batches(0, epoch=0), ValueError,
    r"batch_size must be a positive integer")
row("masking-pad-nothing", lambda: mlm_data.pad_batch([], 0), ValueError, r"pad_batch needs at least one sequence")
row("masking-pad-too-long", lambda: mlm_data.pad_batch([[1, 2, 3]], 0, length=2), ValueError,
    r"a sequence has 3 tokens, more than length=2")
row("masking-nsp-one-document", lambda: mlm_pairs.nsp_pairs([[[5, 6], [7, 8]]]), ValueError,
    r"NSP needs at least two non-empty documents")
row("masking-pairs-too-short", lambda: mlm_pairs.sop_pairs([[[5, 6], [7, 8]]], max_tokens=4), ValueError,
    r"max_tokens must be an integer >= 5")
row("masking-documents-of-text", lambda: mlm_pairs.check_documents([["the cat sat", "on the mat"]]), TypeError,
    r"document 0 holds text; tokenize it first")
row("masking-pack-too-short", lambda: mlm_pairs.pack_full_sentences([[[5, 6]]], 2, 2, 3), ValueError,
    r"max_tokens must be an integer >= 3")
row("masking-last-token-1d", lambda: mask_last_token(IDS[0], 4), ValueError, r"input_ids must be \(batch, T\)")
row("masking-last-token-empty-row", lambda: mask_last_token(IDS, 4, attention_mask=torch.tensor([[1] * 4, [0] * 4])),
    ValueError, r"every row needs at least one real token")

# schedules and training
row("training-schedule-warmup-past-the-end", lambda: warmup_decay_scheduler(optimizer(), 20, 10), ValueError,
    r"warmup_steps must be an integer in \[0, total_steps=10\], got 20")
row("training-schedule-no-steps", lambda: warmup_decay_scheduler(optimizer(), 0, 0), ValueError,
    r"total_steps must be a positive integer")
row("training-schedule-unknown-decay", lambda: warmup_decay_scheduler(optimizer(), 1, 10, decay="exponential"),
    ValueError, r"decay must be one of \('linear', 'cosine', 'constant'\)")
row("training-schedule-min-ratio", lambda: warmup_decay_scheduler(optimizer(), 1, 10, min_ratio=2.0), ValueError,
    r"min_ratio must be in \[0, 1\]")
row("training-schedule-nan-min-ratio", lambda: warmup_decay_scheduler(optimizer(), 1, 10, min_ratio=NAN), ValueError,
    r"min_ratio must be in \[0, 1\]")
row("training-config-no-steps", lambda: TrainingConfig(steps=0), ValueError,
    r"TrainingConfig\.steps must be a positive integer, got 0")
row("training-config-bool-steps", lambda: TrainingConfig(steps=True), TypeError,
    r"TrainingConfig\.steps must be a positive integer, got True")
row("training-config-fractional-batch", lambda: TrainingConfig(batch_size=2.5), TypeError,
    r"TrainingConfig\.batch_size must be a positive integer, got 2\.5")
row("training-config-nan-learning-rate", lambda: TrainingConfig(learning_rate=NAN), ValueError,
    r"TrainingConfig\.learning_rate must be a finite number")
row("training-config-negative-learning-rate", lambda: TrainingConfig(learning_rate=-1e-3), ValueError,
    r"learning_rate must be > 0")
row("training-config-negative-weight-decay", lambda: TrainingConfig(weight_decay=-0.01), ValueError,
    r"weight_decay must be >= 0")
row("training-config-beta-one", lambda: TrainingConfig(adam_betas=(0.9, 1.0)), ValueError,
    r"adam_betas must be in \[0, 1\), got 1\.0")
row("training-config-warmup-past-the-end", lambda: TrainingConfig(steps=10, warmup_steps=11), ValueError,
    r"warmup_steps must be in \[0, steps=10\]")
row("training-config-label-smoothing-one", lambda: TrainingConfig(label_smoothing=1.0), ValueError,
    r"label_smoothing must be in \[0, 1\)")
row("training-config-clip-zero", lambda: TrainingConfig(max_grad_norm=0), ValueError, r"max_grad_norm must be > 0, got 0")
row("training-trainer-too-little-data", lambda: _trainer(blocks=3, batch_size=4), ValueError,
    r"has 3 sequences, fewer than one batch of 4; lower batch_size or add text")
row("training-trainer-micro-batch-does-not-divide", lambda: _trainer(batch_size=4, micro_batch_size=3), ValueError,
    r"batch_size=4 must be a multiple of processes \(1\) x micro_batch_size \(3\)")
row("training-trainer-evaluate-without-data", lambda: _trainer().evaluate(), ValueError, r"no eval_data was given")
row("training-fit-no-steps", lambda: fit(build("mlm"), lambda: {}, steps=0, learning_rate=1e-3), ValueError,
    r"steps must be a positive integer, got 0")
row("training-fit-nan-learning-rate", lambda: fit(build("mlm"), lambda: {}, steps=1, learning_rate=NAN), ValueError,
    r"learning_rate must be a finite number > 0")
row("training-fit-batch-not-a-dict", lambda: fit(build("mlm"), lambda: IDS, steps=1, learning_rate=1e-3), TypeError,
    r"next_batch\(\) must return a dict of the model's keyword arguments")

# the pre-training command line
row("cli-resume-and-overwrite", lambda: run_cli("--out", str(fresh()), "--resume", "--overwrite"), SystemExit,
    r"--resume continues the run in --out and --overwrite replaces it; pick one")
row("cli-out-over-a-run", lambda: run_cli("--out", str(holding("summary.json"))), SystemExit,
    r"already holds files \(a run\?\); nothing was trained. Pass --resume")
row("cli-out-is-a-file", lambda: run_cli("--out", str(holding("x") / "x")), SystemExit, r"already holds files")
row("cli-no-steps", lambda: run_cli("--out", str(fresh() / "run"), "--steps", "0"), ValueError,
    r"TrainingConfig\.steps must be a positive integer, got 0")
row("cli-nan-learning-rate", lambda: run_cli("--out", str(fresh() / "run"), "--lr", "nan"), ValueError,
    r"learning_rate must be a finite number")

# positions and attention helpers
row("positions-sinusoids-of-no-positions", lambda: positions.sinusoidal_encoding(0, 8), ValueError,
    r"positions must be a positive integer, got 0")
row("positions-sinusoids-odd-width", lambda: positions.sinusoidal_encoding(4, 7), ValueError,
    r"dim must be even, got 7")
row("positions-sinusoids-2d-positions", lambda: positions.sinusoidal_encoding(torch.zeros(2, 2), 8), ValueError,
    r"positions must be 1-D")
row("positions-sinusoidal-module-too-long", lambda: positions.SinusoidalPositions(8, max_length=4)(5), ValueError,
    r"length 5 exceeds max_length=4")
row("positions-learned-past-the-table", lambda: positions.LearnedPositions(4, 8)(5), ValueError,
    r"length 5 exceeds the 4 learned positions.*truncate")
row("positions-negative-length", lambda: positions.relative_distances(-1), ValueError,
    r"query_length must be a positive integer, got -1")
row("positions-clip-zero", lambda: positions.clipped_distance_index(positions.relative_distances(3), 0), ValueError,
    r"clip distance k must be a positive integer")
row("positions-t5-odd-buckets", lambda: positions.t5_buckets(torch.arange(3), num_buckets=31), ValueError,
    r"num_buckets must be even")
row("positions-t5-two-bidirectional-buckets", lambda: positions.t5_buckets(torch.arange(3), num_buckets=2), ValueError,
    r"use num_buckets >= 4")
row("positions-t5-short-max-distance", lambda: T5RelativeBias(2, num_buckets=32, max_distance=8), ValueError,
    r"max_distance \(8\) must exceed the 8 exactly represented distances")
row("positions-deberta-odd-buckets", lambda: positions.deberta_log_buckets(torch.arange(3), 7, 64), ValueError,
    r"bucket_size must be even")
row("positions-causal-mask-empty", lambda: attention.causal_mask(0), ValueError,
    r"causal_mask needs a length of at least 1, got 0")
row("positions-causal-mask-fractional", lambda: attention.causal_mask(2.5), TypeError,
    r"causal_mask needs an integer length, got 2\.5")
row("positions-attention-bias-of-floats", lambda: attention.attention_bias(torch.ones(2, 2)), TypeError,
    r"attention_bias expects a boolean mask")
row("positions-attention-heads-do-not-divide", lambda: attention.MultiHeadSelfAttention(64, 5), ValueError,
    r"hidden_size \(64\) must be divisible by num_heads \(5\)")
row("positions-attention-no-heads", lambda: attention.MultiHeadSelfAttention(64, 0), ValueError,
    r"num_heads must be a positive integer, got 0")
row("positions-attention-query-key-widths",
    lambda: attention.scaled_dot_product_attention(torch.zeros(1, 3, 4), torch.zeros(1, 3, 5), torch.zeros(1, 3, 4)),
    ValueError, r"q and k must have the same last dimension")
row("positions-attention-nan-bias",
    lambda: attention.scaled_dot_product_attention(torch.zeros(1, 3, 4), torch.zeros(1, 3, 4), torch.zeros(1, 3, 4),
                                                   torch.full((3, 3), NAN)), ValueError, r"mask contains NaN")

# widgets
row("widgets-attention-layer-out-of-range", lambda: widgets.draw_attention(attention_weights(), "abc", 2, 0, 0),
    ValueError, r"layer must be in \[0, 2\), got 2")
row("widgets-attention-unknown-head", lambda: widgets.draw_attention(attention_weights(), "abc", 0, "max", 0),
    ValueError, r"head must be in \[0, 2\) or 'mean', got 'max'")
row("widgets-attention-query-out-of-range", lambda: widgets.draw_attention(attention_weights(), "abc", 0, 0, -1),
    ValueError, r"query must be in \[0, 3\), got -1")
row("widgets-attention-stack-without-weights", lambda: widgets.attention_stack([]), ValueError,
    r"no attention tensors: run the model with output_attentions=True")
row("widgets-attention-stack-tokens", lambda: widgets.attention_stack(list(attention_weights()), tokens=["a"]),
    ValueError, r"1 tokens but the attention covers 3 positions")
row("widgets-masking-empty-text", lambda: widgets.masking_view("  "), ValueError, r"type a sentence to mask")
row("widgets-masking-unknown-strategy", lambda: widgets.masking_view("the cat", strategy="random"), ValueError,
    r"strategy must be one of")
row("widgets-temperature-nan-logits", lambda: widgets.temperature_view(logits(1, NAN), logits(1, 2), 2.0), ValueError,
    r"teacher_logits contains inf or NaN")
row("widgets-temperature-sizes-differ", lambda: widgets.temperature_view(logits(1, 2), logits(1, 2, 3), 2.0),
    ValueError, r"teacher and student logits differ in size \(2 vs 3\)")
row("widgets-temperature-zero", lambda: widgets.temperature_view(logits(1, 2), logits(1, 2), 0.0), ValueError,
    r"temperature must be a finite number > 0")
row("widgets-permutation-not-an-order", lambda: widgets.prediction_table(["a", "b", "c"], [0, 0, 1]), ValueError,
    r"order must be a permutation of 0\.\.2.*missing \[2\]; repeated \[0\]")
row("widgets-permutation-float-order", lambda: check_order(torch.tensor([0.0, 1.0])), TypeError,
    r"an order holds integer positions")
row("widgets-relative-positions-unknown-scheme", lambda: widgets.relative_position_matrix("sinusoid", 4), ValueError,
    r"scheme must be one of")
row("widgets-relative-positions-no-window", lambda: widgets.relative_position_profile("t5", window=0), ValueError,
    r"window must be a positive integer")

# exercises
row("exercises-key-without-number", lambda: get("01"), ValueError, r"exercise keys look like '01\.2'")
row("exercises-key-a-number", lambda: get(1.1), ValueError, r"exercise keys look like '01\.2'")
row("exercises-unknown-chapter", lambda: get("99.1"), ValueError, r"no exercises for chapter '99'")
row("exercises-unknown-exercise", lambda: check("01.99", lambda: None), ValueError,
    r"no exercise '01\.99'; chapter 01 has 01\.1")
row("exercises-hint-level-four", lambda: hint("01.1", 4), ValueError, r"hint levels are 1 .* 2 .* and 3 .*got 4")
row("exercises-hint-level-zero", lambda: hint("01.1", 0), ValueError, r"hint levels are 1")
row("exercises-solution-of-nothing", lambda: solution(""), ValueError, r"exercise keys look like")


def _torch_save(obj, folder: Path) -> Path:
    (folder / "model.safetensors").unlink()
    torch.save(obj, folder / "pytorch_model.bin")
    return folder


def _interrupted() -> Path:
    import shutil

    parent = fresh()
    shutil.copytree(saved("bert"), parent / ".model.previous")
    return parent / "model"


def _trainer(blocks: int = 4, batch_size: int = 2, micro_batch_size=None):
    config = TrainingConfig(steps=2, batch_size=batch_size, micro_batch_size=micro_batch_size, warmup_steps=0)
    return Trainer(build("mlm"), tiny_dataset(blocks), config, progress=False)


# -- the tests -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, pattern", TABLE)
def test_bad_input_gets_a_clear_error(make, error, pattern):
    with pytest.raises(BaseException) as info:
        make()
    err = info.value
    assert type(err) is error, f"expected {error.__name__}, got {type(err).__name__}: {err}"
    message = str(err) if not isinstance(err, SystemExit) else str(err.code)
    assert re.search(pattern, message, flags=re.S), f"message does not match {pattern!r}:\n{message}"


def area_counts() -> dict[str, int]:
    return dict(collections.Counter(param.id.split("-")[0] for param in TABLE))


def test_table_covers_every_area():
    counts = area_counts()
    print("\nbad inputs by area: " + ", ".join(f"{area} {counts.get(area, 0)}" for area in AREAS)
          + f"; total {len(TABLE)}")
    short = {area: (counts.get(area, 0), least) for area, least in AREAS.items() if counts.get(area, 0) < least}
    assert not short, f"areas below their minimum (have, need): {short}"
    assert len(TABLE) >= 150
    ids = [param.id for param in TABLE]
    assert len(ids) == len(set(ids)), "two rows share an id"


if __name__ == "__main__":
    counts = area_counts()
    for area in AREAS:
        print(f"{area:12} {counts.get(area, 0):4}")
    print(f"{'total':12} {len(TABLE):4}")

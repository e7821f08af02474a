"""swap_in: a copy of a model with one kind of part replaced by the learner's, carrying the trained weights."""
import pytest
import torch
from torch import nn

from minibert.core.attention import MultiHeadSelfAttention
from minibert.core.config import BertConfig
from minibert.core.swap import swap_in
from minibert.core.transformer import EncoderLayer, FeedForward
from minibert.models.albert.model import AlbertConfig
from minibert.models.bert.model import BertModel

pytestmark = pytest.mark.usefixtures("one_thread")


class WrittenOut(nn.Module):
    """Multi-head self-attention as a learner writes it: same parameter names, own arithmetic."""

    def __init__(self, hidden_size, num_heads):
        super().__init__()
        self.heads = num_heads
        self.query, self.key, self.value, self.output = (nn.Linear(hidden_size, hidden_size) for _ in range(4))

    def forward(self, x, mask=None, need_weights=False):
        b, t, h = x.shape
        split = lambda y: y.view(b, t, self.heads, h // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / (h // self.heads) ** 0.5
        if mask is not None:
            scores = scores + mask
        weights = scores.softmax(-1)
        out = (weights @ v).transpose(1, 2).reshape(b, t, h)
        return self.output(out), (weights if need_weights else None)


def _model(sharing="none"):
    torch.manual_seed(0)
    sizes = dict(vocab_size=50, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
                 max_position_embeddings=40)
    config = BertConfig(**sizes) if sharing == "none" else AlbertConfig(**sizes, embedding_size=32,
                                                                         cross_layer_sharing=sharing)
    return BertModel(config).eval()


def _build(old):
    return WrittenOut(old.num_heads * old.head_size, old.num_heads)


def test_a_faithful_rewrite_gives_the_same_outputs_with_padding(randomize, make_batch):
    model = randomize(_model(), 1, norms_near_one=True)
    ids, types, mask = make_batch(model.config, batch=3, seed=2)
    batch = dict(input_ids=ids, token_type_ids=types, attention_mask=mask)
    mine = swap_in(model, MultiHeadSelfAttention, _build)
    assert sum(isinstance(m, WrittenOut) for m in mine.modules()) == 3
    assert not any(isinstance(m, WrittenOut) for m in model.modules()), "the original is left untouched"
    with torch.no_grad():
        expected, got = model(**batch, output_attentions=True), mine(**batch, output_attentions=True)
    torch.testing.assert_close(got.last_hidden_state, expected.last_hidden_state, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got.attentions[2], expected.attentions[2], atol=1e-6, rtol=1e-5)


def test_a_wrong_rewrite_shows_up_as_a_difference(randomize, make_batch):
    class Unscaled(WrittenOut):
        def forward(self, x, mask=None, need_weights=False):
            self.heads_scale = 1
            return super().forward(x * 3, mask, need_weights)

    model = randomize(_model(), 1, norms_near_one=True)
    ids, types, mask = make_batch(model.config, batch=2, seed=3)
    batch = dict(input_ids=ids, token_type_ids=types, attention_mask=mask)
    mine = swap_in(model, MultiHeadSelfAttention, lambda old: Unscaled(32, 4))
    with torch.no_grad():
        assert not torch.allclose(mine(**batch).last_hidden_state, model(**batch).last_hidden_state, atol=1e-3)


def test_shared_layers_stay_shared():
    model = _model("all")
    mine = swap_in(model, EncoderLayer, lambda old: old.__class__(32, 4, 64))
    assert mine.encoder.layer(0) is mine.encoder.layer(2)
    mine = swap_in(_model("ffn"), FeedForward, lambda old: FeedForward(32, 64))
    assert mine.encoder.layers[0].ffn is mine.encoder.layers[1].ffn


def test_mismatched_parts_are_refused_with_what_to_do():
    model = _model()
    with pytest.raises(ValueError, match=r"missing output\.bias \(32,\), output\.weight \(32, 32\)\. Name and shape"):
        swap_in(model, MultiHeadSelfAttention, lambda old: nn.ModuleDict(
            {n: nn.Linear(32, 32) for n in ("query", "key", "value")}))
    with pytest.raises(ValueError, match=r"shape of query\.bias: \(16,\) instead of \(32,\), query\.weight"):
        swap_in(model, MultiHeadSelfAttention, lambda old: nn.ModuleDict(
            {n: nn.Linear(32, 16 if n == "query" else 32) for n in ("query", "key", "value", "output")}))
    with pytest.raises(ValueError, match="has no Conv1d"):
        swap_in(model, nn.Conv1d, _build)
    with pytest.raises(TypeError, match="must return a torch.nn.Module"):
        swap_in(model, MultiHeadSelfAttention, lambda old: 3)
    with pytest.raises(TypeError, match="module class"):
        swap_in(model, "attention", _build)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        swap_in(object(), MultiHeadSelfAttention, _build)

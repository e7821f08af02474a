"""SpanBERT: the span boundary objective computes the paper's equation, reads only the boundaries and the relative
position, scores against the tied embeddings, and trains together with the MLM on single sequences."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from minibert import BertConfig
from minibert.models.spanbert import SpanBertForPreTraining, SpanBoundaryHead, span_targets

pytestmark = pytest.mark.usefixtures("one_thread")

CONFIG = BertConfig.tiny(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=24)


def test_head_is_the_papers_equation():
    torch.manual_seed(0)
    head = SpanBoundaryHead(CONFIG, max_span_length=6).eval()
    hidden = torch.randn(2, 12, 32)
    embeddings = torch.randn(50, 32)
    spans = [[(2, 5)], [(1, 2), (7, 11)]]
    targets = span_targets(spans, 2, 12, 6)
    assert targets.tolist()[:3] == [[0, 2, 1, 5], [0, 3, 1, 5], [0, 4, 1, 5]]
    logits = head(hidden, targets, embeddings)
    for k, (row, i, left, right) in enumerate(targets.tolist()):
        h0 = torch.cat([hidden[row, left], hidden[row, right], head.position.weight[i - left - 1]])
        h1 = F.layer_norm(F.gelu(head.layer1(h0)), (32,), head.norm1.weight, head.norm1.bias, CONFIG.layer_norm_eps)
        y = F.layer_norm(F.gelu(head.layer2(h1)), (32,), head.norm2.weight, head.norm2.bias, CONFIG.layer_norm_eps)
        assert torch.allclose(logits[k], embeddings @ y + head.bias, atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_sbo_sees_only_the_boundaries(start, span_length, seed):
    """Change every hidden state except the two boundaries: the SBO predictions do not move."""
    length = 18
    end = min(start + span_length, length - 1)
    g = torch.Generator().manual_seed(seed)
    head = SpanBoundaryHead(CONFIG, max_span_length=6).eval()
    hidden = torch.randn(1, length, 32, generator=g)
    embeddings = torch.randn(50, 32, generator=g)
    targets = span_targets([[(start, end)]], 1, length, 6)
    noisy = torch.randn(1, length, 32, generator=g)
    noisy[0, start - 1], noisy[0, end] = hidden[0, start - 1], hidden[0, end]
    with torch.no_grad():
        assert torch.equal(head(hidden, targets, embeddings), head(noisy, targets, embeddings))
        moved = hidden.clone()
        moved[0, start - 1] += 1.0
        assert not torch.allclose(head(moved, targets, embeddings), head(hidden, targets, embeddings))


def test_pretraining_loss_and_tied_decoder():
    torch.manual_seed(0)
    model = SpanBertForPreTraining(CONFIG, max_span_length=8).eval()
    assert "sbo.decoder.weight" not in dict(model.named_parameters())  # scores use the embeddings themselves
    ids = torch.randint(5, 50, (2, 16))
    spans = [[(3, 6)], [(2, 4), (9, 12)]]
    labels = torch.full_like(ids, -100)
    for row, row_spans in enumerate(spans):
        for start, end in row_spans:
            labels[row, start:end] = ids[row, start:end]
    masked = ids.masked_fill(labels != -100, 3)
    out = model(masked, labels=labels, spans=spans)
    assert out.sbo_logits.shape == (8, 50) and out.mlm_logits.shape == (8, 50)
    assert torch.allclose(out.loss, out.mlm_loss + out.sbo_loss)
    assert torch.allclose(out.sbo_loss, F.cross_entropy(out.sbo_logits, ids[out.targets[:, 0], out.targets[:, 1]]))
    # a masker's spans carry a word count as a third field: accepted
    again = model(masked, labels=labels, spans=[[(3, 6, 2)], [(2, 4, 1), (9, 12, 3)]])
    assert torch.equal(again.sbo_logits, out.sbo_logits)
    out.loss.backward()
    assert model.bert.embeddings.token.weight.grad is not None and model.sbo.position.weight.grad is not None


@pytest.mark.parametrize("spans, message", [
    ([[(0, 2)]], "a token on each side"),
    ([[(14, 16)]], "a token on each side"),
    ([[(2, 13)]], "max_span_length=8"),
    ([[]], "no span"),
    ([[(2, 4)], [(2, 4)]], "one list"),
])
def test_bad_spans(spans, message):
    model = SpanBertForPreTraining(CONFIG, max_span_length=8)
    with pytest.raises(ValueError, match=message):
        model(torch.randint(5, 50, (1, 16)), spans=spans)


def test_span_tokens_need_labels():
    model = SpanBertForPreTraining(CONFIG, max_span_length=8)
    ids = torch.randint(5, 50, (1, 16))
    labels = torch.full_like(ids, -100)
    labels[0, 3] = ids[0, 3]
    with pytest.raises(ValueError, match="every span token must have a label"):
        model(ids, labels=labels, spans=[[(3, 5)]])
    with pytest.raises(ValueError, match="needs the masked spans"):
        model(ids, labels=labels)
    with pytest.raises(ValueError, match="max_span_length"):
        SpanBoundaryHead(CONFIG, max_span_length=0)


def test_mlm_and_sbo_learn_arithmetic_spans():
    """Sequences count upwards, so a masked span is determined by its left boundary and the offset: the SBO head
    alone, reading only the boundaries, learns to fill spans far above chance."""
    torch.manual_seed(0)
    config = CONFIG.replace(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, max_position_embeddings=16)
    model = SpanBertForPreTraining(config, max_span_length=4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)

    def batch():
        ids = torch.randint(5, 30, (32, 1), generator=g) + torch.arange(16)[None]
        starts = torch.randint(1, 11, (32,), generator=g).tolist()
        lengths = torch.randint(1, 5, (32,), generator=g).tolist()
        spans = [[(s, s + l)] for s, l in zip(starts, lengths)]
        labels = torch.full_like(ids, -100)
        for row, ((s, e),) in enumerate(spans):
            labels[row, s:e] = ids[row, s:e]
        return ids.masked_fill(labels != -100, 3), labels, spans

    losses = []
    for _ in range(100):
        masked, labels, spans = batch()
        out = model(masked, labels=labels, spans=spans)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        losses.append((out.mlm_loss.item(), out.sbo_loss.item()))
    masked, labels, spans = batch()
    model.eval()
    with torch.no_grad():
        out = model(masked, labels=labels, spans=spans)
    accuracy = (out.sbo_logits.argmax(-1) == labels[out.targets[:, 0], out.targets[:, 1]]).float().mean().item()
    assert losses[-1][1] < losses[0][1] - 1.5 and accuracy > 0.5, (losses[0], losses[-1], accuracy)


def test_accuracy_by_position_agrees_with_the_model():
    from minibert.models.spanbert import accuracy_by_span_position

    torch.manual_seed(0)
    model = SpanBertForPreTraining(CONFIG, max_span_length=8).eval()
    ids = torch.randint(5, 50, (2, 16))
    spans = [[(3, 6)], [(2, 4), (9, 12)]]
    labels = torch.full_like(ids, -100)
    for row, row_spans in enumerate(spans):
        for start, end in row_spans:
            labels[row, start:end] = ids[row, start:end]
    batch = {"input_ids": ids.masked_fill(labels != -100, 3), "attention_mask": torch.ones_like(ids),
             "labels": labels, "spans": spans}
    result = accuracy_by_span_position(model, batch, longest=4)
    assert result["count"] == [3, 3, 2, 0]
    with torch.no_grad():
        out = model(batch["input_ids"], labels=labels, spans=spans)
    hits = (out.sbo_logits.argmax(-1) == labels[out.targets[:, 0], out.targets[:, 1]]).double()
    first = (out.targets[:, 1] - out.targets[:, 2]) == 1
    assert abs(result["sbo"][0] - float(hits[first].mean())) < 1e-12

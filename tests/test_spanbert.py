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


def _span_batch(seed: int = 0):
    ids = torch.randint(5, 50, (2, 16), generator=torch.Generator().manual_seed(seed))
    spans = [[(3, 6)], [(2, 4), (9, 12)]]
    labels = torch.full_like(ids, -100)
    for row, row_spans in enumerate(spans):
        for start, end in row_spans:
            labels[row, start:end] = ids[row, start:end]
    return {"input_ids": ids.masked_fill(labels != -100, 3), "attention_mask": torch.ones_like(ids),
            "labels": labels, "spans": spans}


def test_sbo_weight_zero_trains_the_encoder_by_the_masked_lm_alone():
    torch.manual_seed(0)
    control = SpanBertForPreTraining(CONFIG, max_span_length=8, sbo_weight=0.0).eval()
    batch = _span_batch()
    out = control(**batch)
    assert torch.equal(out.loss, out.mlm_loss) and out.sbo_loss > 0
    out.loss.backward()
    with_zero = {name: p.grad.clone() for name, p in control.bert.named_parameters() if p.grad is not None}
    control.zero_grad()
    control(**batch).mlm_loss.backward()
    for name, p in control.bert.named_parameters():
        if p.grad is not None:
            assert torch.equal(with_zero[name], p.grad), name
    assert all(p.grad is None or not p.grad.any() for p in control.sbo.parameters())
    half = SpanBertForPreTraining(CONFIG, max_span_length=8, sbo_weight=0.5).eval()
    half.load_state_dict(control.state_dict())
    out = half(**batch)
    assert torch.allclose(out.loss, out.mlm_loss + 0.5 * out.sbo_loss)


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf"), True, "1"])
def test_bad_sbo_weight(weight):
    with pytest.raises(ValueError, match="sbo_weight must be a finite number >= 0"):
        SpanBertForPreTraining(CONFIG, sbo_weight=weight)


def test_boundary_probe_trains_a_fresh_head_on_a_frozen_encoder():
    from minibert.models.spanbert import BoundaryProbe, accuracy_by_span_position

    torch.manual_seed(0)
    model = SpanBertForPreTraining(CONFIG, max_span_length=8)
    probe = BoundaryProbe(model, max_span_length=8)
    assert not model.training  # the encoder is put in eval mode
    head_ids = {id(p) for p in probe.sbo.parameters()}
    assert {id(p) for p in probe.parameters()} == head_ids  # only the head trains
    batch = _span_batch()
    # with the model's own head copied in, the probe computes the model's SBO logits
    probe.sbo.load_state_dict(model.sbo.state_dict())
    with torch.no_grad():
        assert torch.allclose(probe(**batch).sbo_logits, model(**batch).sbo_logits, atol=1e-6)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW(probe.parameters(), lr=1e-2)
    probe.train()
    losses = []
    for _ in range(30):
        out = probe(**batch)
        assert out.mlm_loss is None and torch.equal(out.loss, out.sbo_loss)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        losses.append(out.loss.item())
    assert losses[-1] < losses[0] - 1.0, losses
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the encoder did not move
    assert model.bert.embeddings.token.weight.grad is None
    result = accuracy_by_span_position(probe, batch, longest=3)
    assert result["count"] == [3, 3, 2] and result["sbo"][0] == 1.0


def test_boundary_probe_bad_inputs():
    from minibert.models.spanbert import BoundaryProbe

    with pytest.raises(TypeError, match="needs a masked LM"):
        BoundaryProbe(torch.nn.Linear(2, 2))
    probe = BoundaryProbe(SpanBertForPreTraining(CONFIG, max_span_length=8), max_span_length=8)
    batch = _span_batch()
    with pytest.raises(ValueError, match="needs the masked spans"):
        probe(batch["input_ids"], labels=batch["labels"])
    labels = batch["labels"].clone()
    labels[0, 4] = -100
    with pytest.raises(ValueError, match="every span token must have a label"):
        probe(batch["input_ids"], labels=labels, spans=batch["spans"])

"""Fine-tuning heads against transformers' BertFor* twins with the same random weights (1e-5, eval, padding),
checkpoint round trips both ways, span decoding and tagging helpers, and clear errors."""
import pytest
import torch
import transformers

from minibert import BertConfig, BertForMaskedLM, BertForSequenceClassification
from minibert.training.finetuning import (BertForQuestionAnswering, BertForTokenClassification, align_word_labels,
                                          best_span, bio_spans, span_f1, with_encoder)

from test_bert_parity import CONFIGS, TOL


@pytest.mark.parametrize("overrides", CONFIGS)
def test_token_classification_equals_transformers(hf_twin, make_batch, randomize, overrides, tmp_path):
    config = BertConfig(**overrides)
    ours = BertForTokenClassification(config, num_labels=5).eval()
    randomize(ours, 21)
    theirs = hf_twin(ours, transformers.BertForTokenClassification, tmp_path)
    ids, types, mask = make_batch(config, seed=22)
    labels = torch.randint(0, 5, ids.shape, generator=torch.Generator().manual_seed(23))
    labels[mask == 0] = -100
    labels[:, 0] = -100
    with torch.no_grad():
        a = ours(ids, types, mask, labels=labels)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
    assert (a.logits - b.logits)[mask.bool()].abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL
    again = BertForTokenClassification.from_pretrained(tmp_path)
    assert again.num_labels == 5
    with torch.no_grad():
        assert torch.equal(again(ids, types, mask).logits, a.logits)


@pytest.mark.parametrize("overrides", CONFIGS)
def test_question_answering_equals_transformers(hf_twin, make_batch, randomize, overrides, tmp_path):
    config = BertConfig(**overrides)
    ours = BertForQuestionAnswering(config).eval()
    randomize(ours, 31)
    theirs = hf_twin(ours, transformers.BertForQuestionAnswering, tmp_path)
    ids, types, mask = make_batch(config, seed=32)
    start = torch.tensor([3, 0, 5, ids.shape[1] + 7])  # the last one is out of range: ignored by both
    end = torch.tensor([6, 2, 5, ids.shape[1] + 9])
    with torch.no_grad():
        a = ours(ids, types, mask, start_positions=start, end_positions=end)
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, start_positions=start,
                   end_positions=end)
    real = mask.bool()
    assert (a.start_logits - b.start_logits)[real].abs().max() < TOL
    assert (a.end_logits - b.end_logits)[real].abs().max() < TOL
    assert abs(a.loss.item() - b.loss.item()) < TOL


def test_the_span_head_is_a_module_that_can_be_swapped(make_batch, randomize):
    """Chapter 07 swaps a learner's span head into a trained QA model: the head is a module of its own with
    ``nn.Linear``'s parameter names (checkpoint keys stay ``qa_outputs.*``), returning logits and the loss."""
    from torch import nn

    from minibert.core.swap import swap_in
    from minibert.training.finetuning import QuestionAnsweringHead

    class WrittenOut(nn.Module):
        def __init__(self, hidden_size):
            super().__init__()
            self.weight, self.bias = nn.Parameter(torch.zeros(2, hidden_size)), nn.Parameter(torch.zeros(2))

        def forward(self, hidden, start_positions=None, end_positions=None):
            scores = hidden @ self.weight.T + self.bias
            start, end = scores[..., 0], scores[..., 1]
            if start_positions is None:
                return start, end, None
            t = hidden.shape[1]
            loss = sum(torch.nn.functional.cross_entropy(s, p.clamp(0, t), ignore_index=t)
                       for s, p in ((start, start_positions), (end, end_positions))) / 2
            return start, end, loss

    config = BertConfig(**CONFIGS[0])
    ours = randomize(BertForQuestionAnswering(config).eval(), 41)
    assert isinstance(ours.qa_outputs, QuestionAnsweringHead)
    assert {k for k in ours.state_dict() if k.startswith("qa_outputs")} == {"qa_outputs.weight", "qa_outputs.bias"}
    ids, types, mask = make_batch(config, seed=42)
    start = torch.tensor([3, 0, 5, ids.shape[1] + 7][:ids.shape[0]])
    end = torch.tensor([6, 2, 5, ids.shape[1] + 9][:ids.shape[0]])
    mine = swap_in(ours, QuestionAnsweringHead, lambda old: WrittenOut(old.in_features))
    with torch.no_grad():
        a = ours(ids, types, mask, start_positions=start, end_positions=end)
        b = mine(ids, types, mask, start_positions=start, end_positions=end)
        hidden = ours.bert(ids, types, mask).last_hidden_state
    assert torch.allclose(a.start_logits, b.start_logits, atol=1e-6) and torch.allclose(a.end_logits, b.end_logits, atol=1e-6)
    assert abs(a.loss.item() - b.loss.item()) < 1e-6
    start_logits, end_logits, loss = ours.qa_outputs(hidden)
    assert loss is None and torch.allclose(start_logits, a.start_logits)


def test_transformers_checkpoints_load_into_our_heads(make_batch, randomize, tmp_path):
    for hf_class, our_class, labels in ((transformers.BertForTokenClassification, BertForTokenClassification, 4),
                                        (transformers.BertForQuestionAnswering, BertForQuestionAnswering, 2)):
        hf_config = transformers.BertConfig(**CONFIGS[1], num_labels=labels)
        torch.manual_seed(0)
        theirs = hf_class(hf_config).eval()
        randomize(theirs, 41)
        folder = tmp_path / hf_class.__name__
        theirs.save_pretrained(folder)
        ours = our_class.from_pretrained(folder)
        ids, types, mask = make_batch(ours.config, seed=42)
        with torch.no_grad():
            a, b = ours(ids, types, mask), theirs(input_ids=ids, token_type_ids=types, attention_mask=mask)
        ours_out = a.logits if a.logits is not None else a.start_logits  # the QA head has start and end scores
        theirs_out = b.logits if hasattr(b, "logits") else b.start_logits
        assert (ours_out - theirs_out)[mask.bool()].abs().max() < TOL


def test_sentence_pair_classification_uses_token_types(hf_twin, make_batch, randomize, tmp_path):
    """Sentence pairs go through the existing sequence classifier; segment ids matter and match transformers."""
    config = BertConfig(**CONFIGS[0])
    ours = BertForSequenceClassification(config, num_labels=3).eval()
    randomize(ours, 51)
    theirs = hf_twin(ours, transformers.BertForSequenceClassification, tmp_path)
    ids, _, mask = make_batch(config, seed=52)
    types = (torch.arange(ids.shape[1])[None, :] > 10).long() * mask
    with torch.no_grad():
        a = ours(ids, types, mask).logits
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
        assert (a - b).abs().max() < TOL
        assert (a - ours(ids, torch.zeros_like(types), mask).logits).abs().max() > 1e-4


def test_best_span_brute_force():
    g = torch.Generator().manual_seed(0)
    start, end = torch.randn(6, 20, generator=g), torch.randn(6, 20, generator=g)
    allowed = torch.rand(6, 20, generator=g) > 0.3
    allowed[:, 0] = False
    allowed[:, 5] = True
    starts, ends, scores = best_span(start, end, allowed, max_answer_length=4)
    for r in range(6):
        best = max((float(start[r, i] + end[r, j]), i, j) for i in range(20) for j in range(i, min(20, i + 4))
                   if allowed[r, i] and allowed[r, j])
        assert (int(starts[r]), int(ends[r])) == best[1:] and abs(float(scores[r]) - best[0]) < 1e-6
    with pytest.raises(ValueError, match="no allowed position"):
        best_span(start, end, torch.zeros(6, 20, dtype=torch.bool))


def test_with_encoder_copies_pretrained_weights(randomize):
    config = BertConfig.tiny()
    pretrained = BertForMaskedLM(config)
    randomize(pretrained, 61)
    for task in (BertForTokenClassification(config, 3), BertForQuestionAnswering(config),
                 BertForSequenceClassification(config, 2)):
        with_encoder(task, pretrained)
        assert torch.equal(task.bert.embeddings.token.weight, pretrained.bert.embeddings.token.weight)
        assert torch.equal(task.bert.encoder.layers[1].ffn.outer.weight, pretrained.bert.encoder.layers[1].ffn.outer.weight)
    with pytest.raises(ValueError, match="differ"):
        with_encoder(BertForQuestionAnswering(BertConfig.tiny(hidden_size=32)), pretrained)


def test_word_label_alignment_and_span_f1():
    assert align_word_labels([None, 0, 0, 1, 2, 2, None], [1, 0, 2]) == [-100, 1, -100, 0, 2, -100, -100]
    assert bio_spans(["B-CODE", "I-CODE", "O", "B-CODE", "I-X", "I-X"]) == {(0, 2, "CODE"), (3, 4, "CODE"), (4, 6, "X")}
    gold = [["B-CODE", "I-CODE", "O", "B-CODE"]]
    assert span_f1(gold, gold)["f1"] == 1.0
    scores = span_f1([["B-CODE", "O", "O", "B-CODE"]], gold)
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5


def test_bad_input_errors():
    config = BertConfig.tiny()
    ids = torch.randint(5, 100, (2, 8))
    with pytest.raises(ValueError, match="labels has shape"):
        BertForTokenClassification(config, 3)(ids, labels=torch.zeros(2, 7, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        BertForTokenClassification(config, 3)(ids, labels=torch.full((2, 8), 3))
    with pytest.raises(ValueError, match="both start_positions and end_positions"):
        BertForQuestionAnswering(config)(ids, start_positions=torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="num_labels"):
        BertForTokenClassification(config, 0)


# -- the corpus tasks of chapter 07 -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from test_training import small_vocab

    from minibert.training.pretrain import load_tokenizer

    return load_tokenizer(str(small_vocab(tmp_path_factory.mktemp("vocab"))))


def test_corpus_tasks_are_well_formed(tokenizer):
    from minibert.training import tasks

    kind_train, kind_test = tasks.document_kind_task(tokenizer, per_class=60)
    assert {e.label for e in kind_train} == {0, 1} and sum(e.label for e in kind_train) == 60
    assert not {e.text for e in kind_train} & {e.text for e in kind_test}  # held-out documents
    pair_train, _ = tasks.duplicate_task(tokenizer, pairs=80)
    assert all(e.token_type_ids.count(1) > 1 and e.input_ids.count(tokenizer.sep_token_id) == 2 for e in pair_train)
    assert 0.3 < sum(e.label for e in pair_train) / len(pair_train) < 0.7
    tag_train, _ = tasks.code_tagging_task(tokenizer)
    for e in tag_train[:50]:
        assert len(e.tags) == len(e.input_ids) and e.tags[0] == e.tags[-1] == -100
        assert 1 in e.tags  # every example has code to find
        assert '"' not in e.text
    qa_train, _ = tasks.cloze_qa_task(tokenizer)
    for e in qa_train[:50]:
        start, end = e.span
        assert e.extra["context_start"] <= start <= end < len(e.input_ids) - 1
        assert e.token_type_ids[start] == 1
        answer = tokenizer.decode(e.input_ids[start:end + 1]).replace(" ", "")
        assert answer == tokenizer.decode(token_ids_of(tokenizer, e.extra["answer"])).replace(" ", "")


def token_ids_of(tokenizer, text):
    from minibert.masking.dataset import token_ids

    return token_ids(tokenizer, text)


def test_fit_learns_a_corpus_task(tokenizer):
    from minibert.training import tasks

    train, _ = tasks.code_tagging_task(tokenizer)
    torch.manual_seed(0)
    model = BertForTokenClassification(BertConfig.tiny(vocab_size=len(tokenizer), hidden_size=32,
                                                       intermediate_size=64), 3)
    losses = tasks.fit(model, train, tokenizer.pad_token_id, steps=30, learning_rate=3e-3)
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5
    assert not model.training
    batch = tasks.collate(train[:4], tokenizer.pad_token_id)
    assert batch["labels"].shape == batch["input_ids"].shape
    with pytest.raises(ValueError, match="no training examples"):
        tasks.fit(model, [], 0, steps=1)


def _labelled(n, label_of=lambda i: i % 2):
    from minibert.training.tasks import Example
    g = torch.Generator().manual_seed(n)
    return [Example(torch.randint(5, 50, (3 + i % 4,), generator=g).tolist(), [0] * (3 + i % 4), label=label_of(i))
            for i in range(n)]


def test_validation_split_sets_aside_a_fixed_share_without_overlap():
    from minibert.training.tasks import validation_split
    examples = _labelled(50)
    train, validation = validation_split(examples, 0.2, seed=3)
    assert len(validation) == 10 and len(train) == 40
    assert {id(e) for e in train}.isdisjoint(id(e) for e in validation)
    assert {id(e) for e in train + validation} == {id(e) for e in examples}
    again = validation_split(examples, 0.2, seed=3)
    assert [id(e) for e in again[1]] == [id(e) for e in validation]  # reproducible
    assert [id(e) for e in validation_split(examples, 0.2, seed=4)[1]] != [id(e) for e in validation]
    with pytest.raises(ValueError, match="between 0 and 1"):
        validation_split(examples, 1.0)
    with pytest.raises(ValueError, match="too few"):
        validation_split(examples[:2], 0.1)


def test_majority_accuracy_answers_the_most_frequent_training_label():
    from minibert.training.tasks import majority_accuracy
    train = _labelled(10, lambda i: int(i < 7))  # seven 1s, three 0s
    test = _labelled(8, lambda i: int(i < 2))  # two 1s, six 0s
    assert majority_accuracy(train, test) == 2 / 8
    assert majority_accuracy(_labelled(4), _labelled(4, lambda i: 0)) == 1.0  # a tie picks the smaller label


def test_seeded_model_gives_both_starts_the_same_head_and_predict_runs_in_chunks():
    from minibert.training.tasks import accuracy, predict, seeded_model
    config = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16)
    source = BertForMaskedLM(config)
    make = lambda: BertForSequenceClassification(config, 2)  # noqa: E731
    pre, scratch = seeded_model(make, 5, source).eval(), seeded_model(make, 5).eval()
    assert torch.equal(pre.classifier.weight, scratch.classifier.weight)
    assert torch.equal(pre.bert.embeddings.token.weight, source.bert.embeddings.token.weight)
    assert not torch.equal(scratch.bert.embeddings.token.weight, pre.bert.embeddings.token.weight)
    assert torch.equal(seeded_model(make, 5).classifier.weight, scratch.classifier.weight)
    examples = _labelled(9)
    whole, chunked = predict(pre, examples, 0, chunk=64).logits, predict(pre, examples, 0, chunk=4).logits
    assert whole.shape == (9, 2) and (whole - chunked).abs().max() < 1e-5
    labels = torch.tensor([e.label for e in examples])
    assert accuracy(pre, examples, 0) == float((whole.argmax(-1) == labels).double().mean())

"""DistilBERT (transformers parity, 66M parameters), the student initialised from a teacher, the distillation loss
against its NumPy reference, the Distiller, and the temperature explorer."""
import math

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_bert_parity import TOL  # noqa: E402

from minibert import BertConfig, BertForMaskedLM, BertModel, count_parameters  # noqa: E402
from minibert.models.distilbert.distillation import SANH_RECIPE, Distiller, distillation_loss, soften  # noqa: E402
from minibert.models.distilbert.model import (DistilBertConfig, DistilBertForMaskedLM, DistilBertModel,  # noqa: E402
                                              copy_teacher_weights, spread_layers, student_config, student_from_teacher)
from minibert.reference.distillation import distillation_terms, kl_divergence, softmax_at  # noqa: E402
from minibert.widgets import draw_temperature, temperature_explorer, temperature_view  # noqa: E402

CONFIG = dict(vocab_size=211, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=37,
              max_position_embeddings=96)


# -- the architecture ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_class, hf_class", [(DistilBertModel, transformers.DistilBertModel),
                                                    (DistilBertForMaskedLM, transformers.DistilBertForMaskedLM)])
def test_distilbert_equals_transformers_both_ways(hf_twin, randomize, make_batch, model_class, hf_class, tmp_path):
    config = DistilBertConfig(**CONFIG, hidden_act="gelu_new")
    ours = model_class(config).eval()
    randomize(ours, 1)
    theirs = hf_twin(ours, hf_class, tmp_path / "ours")
    ids, _, mask = make_batch(config)
    real = mask.bool()
    with torch.no_grad():
        a = ours(ids, attention_mask=mask, output_hidden_states=True)
        b = theirs(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    for x, y in zip(a.hidden_states, b.hidden_states):
        assert (x - y)[real].abs().max() < TOL
    if model_class is DistilBertForMaskedLM:
        assert (a.logits - b.logits)[real].abs().max() < TOL * 10  # logits sum H products of size ~1
    # and back: a transformers checkpoint loads into minibert
    randomize(theirs, 2)
    theirs.save_pretrained(tmp_path / "theirs")
    again = model_class.from_pretrained(tmp_path / "theirs")
    with torch.no_grad():
        a = again(ids, attention_mask=mask, output_hidden_states=True)
        b = theirs(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    assert (a.hidden_states[-1] - b.hidden_states[-1])[real].abs().max() < TOL


def test_distilbert_base_has_66_362_880_parameters():
    ours = count_parameters(lambda: DistilBertModel(DistilBertConfig()))
    with torch.device("meta"):
        theirs = sum(p.numel() for p in transformers.DistilBertModel(transformers.DistilBertConfig()).parameters())
    assert ours == theirs == 66_362_880
    bert = count_parameters(lambda: BertModel(BertConfig()))
    assert round(1 - ours / bert, 2) == 0.39  # "40% smaller"


def test_config_reads_transformers_names_and_refuses_what_it_lacks():
    hf = transformers.DistilBertConfig(vocab_size=300, dim=64, n_layers=2, n_heads=4, hidden_dim=100,
                                       activation="gelu", max_position_embeddings=50)
    ours = DistilBertConfig.from_dict(hf.to_dict())
    assert (ours.hidden_size, ours.num_hidden_layers, ours.intermediate_size, ours.type_vocab_size) == (64, 2, 100, 0)
    assert DistilBertConfig.from_dict(ours.to_hf_dict()) == ours
    assert ours.to_hf_dict()["model_type"] == "distilbert" and "hidden_size" not in ours.to_hf_dict()
    with pytest.raises(ValueError, match="sinusoidal"):
        DistilBertConfig.from_dict({**hf.to_dict(), "sinusoidal_pos_embds": True})
    with pytest.raises(ValueError, match="no segment embeddings"):
        DistilBertConfig(type_vocab_size=2)
    with pytest.raises(TypeError, match="DistilBertConfig"):
        DistilBertModel(BertConfig.tiny())
    with pytest.raises(ValueError, match="drop token_type_ids"):
        DistilBertModel(DistilBertConfig(**CONFIG))(torch.tensor([[1, 2]]), torch.tensor([[0, 0]]))


# -- the student ----------------------------------------------------------------------------------------------------
def test_spread_layers_reproduces_the_published_choice():
    assert spread_layers(12, 6) == [0, 2, 4, 7, 9, 11]
    assert spread_layers(4, 2) == [0, 3] and spread_layers(2, 1) == [0] and spread_layers(5, 5) == [0, 1, 2, 3, 4]


@given(st.integers(1, 48), st.integers(1, 48))
@settings(max_examples=200, deadline=None)
def test_spread_layers_keeps_first_and_last_in_order(teacher, student):
    if student > teacher:
        with pytest.raises(ValueError, match="cannot be deeper"):
            spread_layers(teacher, student)
        return
    layers = spread_layers(teacher, student)
    assert len(layers) == student and layers[0] == 0
    assert all(a < b for a, b in zip(layers, layers[1:]))
    assert student == 1 or layers[-1] == teacher - 1


@pytest.fixture(scope="module")
def teacher(randomize):
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(**{**CONFIG, "num_hidden_layers": 6})).eval()
    randomize(model, 3)
    return model


def test_student_reproduces_the_teachers_kept_layers_exactly(make_batch, teacher):
    student = student_from_teacher(teacher, num_layers=3).eval()
    layers = spread_layers(6, 3)
    assert layers == [0, 3, 5] and isinstance(student, DistilBertForMaskedLM)
    ids, _, mask = make_batch(teacher.config, seed=4)
    with torch.no_grad():
        t = teacher(ids, attention_mask=mask, output_hidden_states=True)
        s = student(ids, attention_mask=mask, output_hidden_states=True)
        # the embeddings (the teacher's segment row 0 folded into the positions) and the first layer
        assert (s.hidden_states[0] - t.hidden_states[0]).abs().max() < 1e-6
        assert (s.hidden_states[1] - t.hidden_states[1]).abs().max() < 1e-6
        # each student layer is the teacher layer it was copied from: same input, same output, bit for bit
        x = torch.randn(2, 9, teacher.config.hidden_size)
        for k, i in enumerate(layers):
            assert torch.equal(student.bert.encoder.layer(k)(x)[0], teacher.bert.encoder.layer(i)(x)[0])
        assert torch.equal(student.mlm.dense.weight, teacher.mlm.dense.weight)
    assert count_parameters(student) < count_parameters(teacher)


def test_a_full_depth_copy_is_the_teacher(make_batch, teacher):
    student = student_from_teacher(teacher, layers=range(6)).eval()
    ids, _, mask = make_batch(teacher.config, seed=5)
    with torch.no_grad():
        assert (student(ids, attention_mask=mask).logits - teacher(ids, attention_mask=mask).logits)[mask.bool()] \
            .abs().max() < 1e-5


def test_bad_student_maps_are_explained(teacher):
    config = student_config(teacher.config, 3)
    student = DistilBertForMaskedLM(config)
    cases = [
        (dict(layers=[0, 2, 7]), "out of range"),
        (dict(layers=[0, 2]), "has 2 entries but the student has 3"),
        (dict(layers=[4, 2, 5]), "strictly increasing"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            copy_teacher_weights(student, teacher, **kwargs)
    with pytest.raises(ValueError, match="cannot be deeper"):
        student_from_teacher(teacher, num_layers=7)
    deep = DistilBertForMaskedLM(config.replace(num_hidden_layers=7))
    with pytest.raises(ValueError, match="deeper than the teacher"):
        copy_teacher_weights(deep, teacher, layers=list(range(7)))
    narrow = DistilBertForMaskedLM(config.replace(hidden_size=16, intermediate_size=20))
    with pytest.raises(ValueError, match="embedding size mismatch"):
        copy_teacher_weights(narrow, teacher)
    with pytest.raises(ValueError, match="factorises its embeddings"):
        student_config(BertConfig.tiny(embedding_size=16))


# -- the loss -------------------------------------------------------------------------------------------------------
def random_terms(seed, rows=37, vocab=113, tokens=53, width=24, scale=4.0):
    g = torch.Generator().manual_seed(seed)
    return dict(student_logits=torch.randn(rows, vocab, generator=g, dtype=torch.float64) * scale,
                teacher_logits=torch.randn(rows, vocab, generator=g, dtype=torch.float64) * scale,
                targets=torch.randint(0, vocab, (rows,), generator=g),
                student_hidden=torch.randn(tokens, width, generator=g, dtype=torch.float64),
                teacher_hidden=torch.randn(tokens, width, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 7.3])
@pytest.mark.parametrize("seed", [0, 1])
def test_terms_equal_the_numpy_reference(temperature, seed):
    inputs = random_terms(seed)
    weights = dict(alpha_ce=5.0, alpha_mlm=2.0, alpha_cos=1.0)
    ours = distillation_loss(**inputs, temperature=temperature, **weights)
    reference = distillation_terms(*(x.numpy() for x in inputs.values()), temperature, **weights)
    for name in ("ce", "mlm", "cos", "loss"):
        assert abs(float(getattr(ours, name)) - reference[name]) < 1e-10, name
    np.testing.assert_allclose(soften(inputs["teacher_logits"], temperature).numpy(),
                               softmax_at(inputs["teacher_logits"].numpy(), temperature), atol=1e-14)


def test_weights_switch_terms_on_and_off():
    inputs = random_terms(2)
    full = distillation_loss(**inputs, **SANH_RECIPE)
    assert SANH_RECIPE == dict(temperature=2.0, alpha_ce=5.0, alpha_mlm=2.0, alpha_cos=1.0)
    assert torch.allclose(full.loss, 5 * full.ce + 2 * full.mlm + full.cos)
    # only the masked-LM term: the student trained on the true tokens alone, nothing else needed
    plain = distillation_loss(inputs["student_logits"], inputs["teacher_logits"], inputs["targets"],
                              alpha_ce=0, alpha_mlm=1, alpha_cos=0)
    assert plain.ce is None and plain.cos is None
    assert torch.allclose(plain.loss, F.cross_entropy(inputs["student_logits"], inputs["targets"]))
    # only the soft targets
    soft = distillation_loss(inputs["student_logits"], inputs["teacher_logits"], alpha_ce=1, alpha_mlm=0, alpha_cos=0)
    assert soft.mlm is None and torch.equal(soft.loss, soft.ce)


def test_temperature_one_is_the_plain_softmax_and_the_teacher_gets_no_gradient():
    inputs = random_terms(3)
    student = inputs["student_logits"].requires_grad_()
    teacher = inputs["teacher_logits"].clone().requires_grad_()
    out = distillation_loss(student, teacher, temperature=1.0, alpha_ce=1, alpha_mlm=0, alpha_cos=0)
    p_t, p_s = teacher.softmax(-1), student.softmax(-1)
    assert torch.allclose(out.ce, (p_t * (p_t.log() - p_s.log())).sum(-1).mean())
    # KL = soft cross-entropy minus the teacher's entropy: the same gradients as Hinton's formulation
    soft_ce = -(p_t * student.log_softmax(-1)).sum(-1).mean()
    entropy = -(p_t * p_t.log()).sum(-1).mean()
    assert torch.allclose(out.ce, soft_ce - entropy)
    out.ce.backward()
    assert teacher.grad is None
    # d(T^2 KL)/dz_s = T (p_s - p_t) / N at T = 1
    assert torch.allclose(student.grad, (p_s - p_t).detach() / student.shape[0])


@pytest.mark.parametrize("temperature", [0.7, 3.0])
def test_gradient_is_T_times_the_difference_of_soft_distributions(temperature):
    inputs = random_terms(4)
    student = inputs["student_logits"].requires_grad_()
    out = distillation_loss(student, inputs["teacher_logits"], temperature=temperature, alpha_ce=1, alpha_mlm=0,
                            alpha_cos=0)
    out.ce.backward()
    expected = temperature * (soften(student.detach(), temperature) - soften(inputs["teacher_logits"], temperature))
    assert torch.allclose(student.grad, expected / student.shape[0], atol=1e-12)


def test_high_temperature_tends_to_matching_centred_logits():
    """Hinton et al. (2015), section 2.1: as T grows, T^2 KL -> ||(z_s - mean) - (z_t - mean)||^2 / (2 V)."""
    inputs = random_terms(5, scale=1.0)
    s, t = inputs["student_logits"], inputs["teacher_logits"]
    vocab = s.shape[1]
    centred = ((s - s.mean(-1, keepdim=True)) - (t - t.mean(-1, keepdim=True))).pow(2).sum(-1).mean() / (2 * vocab)
    gaps = [abs(float(distillation_loss(s, t, temperature=T, alpha_ce=1, alpha_mlm=0, alpha_cos=0).ce) - float(centred))
            for T in (1.0, 10.0, 100.0, 1000.0)]
    assert all(a > b for a, b in zip(gaps, gaps[1:]))
    assert gaps[-1] / float(centred) < 1e-3


@given(st.integers(0, 10_000), st.floats(0.1, 20.0), st.floats(-50.0, 50.0))
@settings(max_examples=60, deadline=None)
def test_kl_term_is_non_negative_and_blind_to_logit_shifts(seed, temperature, shift):
    inputs = random_terms(seed, rows=5, vocab=17)
    s, t = inputs["student_logits"], inputs["teacher_logits"]
    ce = distillation_loss(s, t, temperature=temperature, alpha_ce=1, alpha_mlm=0, alpha_cos=0).ce
    shifted = distillation_loss(s + shift, t, temperature=temperature, alpha_ce=1, alpha_mlm=0, alpha_cos=0).ce
    same = distillation_loss(t, t, temperature=temperature, alpha_ce=1, alpha_mlm=0, alpha_cos=0).ce
    assert float(ce) >= 0 and abs(float(same)) < 1e-12
    assert abs(float(ce) - float(shifted)) < 1e-9 * max(1.0, float(ce))
    reference = temperature ** 2 * kl_divergence(softmax_at(t.numpy(), temperature), softmax_at(s.numpy(), temperature))
    assert abs(float(ce) - reference.mean()) < 1e-9 * max(1.0, float(ce))


def test_bad_loss_inputs_are_explained():
    inputs = random_terms(6)
    for temperature, error, message in ((0, ValueError, "temperature must be a finite number > 0"),
                                        (-1.0, ValueError, "> 0"), (math.inf, ValueError, "finite"),
                                        (math.nan, ValueError, "finite"), ("2", TypeError, "must be a number")):
        with pytest.raises(error, match=message):
            distillation_loss(**inputs, temperature=temperature)
        with pytest.raises(error, match=message):
            soften(inputs["teacher_logits"], temperature)
    with pytest.raises(ValueError, match="alpha_mlm must be a finite number >= 0"):
        distillation_loss(**inputs, alpha_mlm=-1)
    with pytest.raises(ValueError, match="all three weights are 0"):
        distillation_loss(**inputs, alpha_ce=0, alpha_mlm=0, alpha_cos=0)
    with pytest.raises(ValueError, match="student logits .* and teacher logits .* differ"):
        distillation_loss(inputs["student_logits"], inputs["teacher_logits"][:, :50])
    with pytest.raises(ValueError, match="needs the true token ids"):
        distillation_loss(inputs["student_logits"], inputs["teacher_logits"], alpha_cos=0)
    with pytest.raises(ValueError, match="embedding size mismatch"):
        distillation_loss(**{**inputs, "student_hidden": inputs["student_hidden"][:, :10]})
    with pytest.raises(ValueError, match="needs the student's and the teacher's hidden states"):
        distillation_loss(inputs["student_logits"], inputs["teacher_logits"], inputs["targets"])


# -- the Distiller --------------------------------------------------------------------------------------------------
def test_distiller_terms_come_from_both_models_and_only_the_student_learns(make_batch, teacher):
    student = student_from_teacher(teacher, num_layers=3)
    distiller = Distiller(student, teacher, **SANH_RECIPE).train()
    assert not distiller.teacher.training and distiller.student.training
    distiller.student.eval()  # no dropout, so the terms can be recomputed below
    ids, _, mask = make_batch(teacher.config, seed=6)
    labels = torch.where(torch.rand(ids.shape, generator=torch.Generator().manual_seed(7)) < 0.15, ids, -100)
    labels[mask == 0] = -100
    labels[:, 0] = ids[:, 0]
    out = distiller(ids, mask, labels)
    chosen, real = labels != -100, mask.bool()
    with torch.no_grad():
        t = teacher(ids, attention_mask=mask, output_hidden_states=True)
        s = student(ids, attention_mask=mask, output_hidden_states=True)
    expected = distillation_loss(s.logits[chosen], t.logits[chosen], labels[chosen], s.hidden_states[-1][real],
                                 t.hidden_states[-1][real], **SANH_RECIPE)
    for name in ("loss", "ce", "mlm", "cos"):
        assert abs(float(getattr(out, name).detach()) - float(getattr(expected, name))) < 1e-5, name
    out.loss.backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None for p in student.parameters())
    # without labels, or with positions, it is the student
    with torch.no_grad():
        assert torch.equal(distiller(ids, mask).logits, student(ids, attention_mask=mask).logits)
        assert torch.equal(distiller(ids, mask, positions=chosen).logits, s.logits[chosen])


def test_distiller_without_teacher_terms_is_plain_masked_lm(make_batch, teacher):
    student = student_from_teacher(teacher, num_layers=2).eval()
    distiller = Distiller(student, teacher, alpha_ce=0, alpha_mlm=1, alpha_cos=0)
    distiller.student.eval()
    ids, _, mask = make_batch(teacher.config, seed=8)
    labels = torch.full_like(ids, -100)
    labels[:, 1] = ids[:, 1]
    calls = []
    handle = teacher.register_forward_hook(lambda *args: calls.append(1))
    try:
        out = distiller(ids, mask, labels)
    finally:
        handle.remove()
    assert not calls, "the teacher ran although no term needs it"
    with torch.no_grad():
        expected = student(ids, attention_mask=mask, labels=labels).loss
    assert torch.allclose(out.loss.detach(), expected, atol=1e-6) and out.ce is None and out.cos is None


def test_distiller_refuses_mismatched_models(teacher):
    other_vocab = DistilBertForMaskedLM(student_config(teacher.config, 3).replace(vocab_size=50))
    with pytest.raises(ValueError, match="vocabulary"):
        Distiller(other_vocab, teacher)
    narrow = DistilBertForMaskedLM(student_config(teacher.config, 3).replace(hidden_size=16, intermediate_size=20))
    with pytest.raises(ValueError, match="embedding size mismatch"):
        Distiller(narrow, teacher)
    Distiller(narrow, teacher, alpha_cos=0)  # without the cosine term widths may differ
    with pytest.raises(TypeError, match="masked-LM model"):
        Distiller(narrow.bert, teacher)
    with pytest.raises(ValueError, match="temperature"):
        Distiller(narrow, teacher, temperature=0, alpha_cos=0)


# -- the temperature explorer -------------------------------------------------------------------------------------
def test_temperature_view_numbers_come_from_the_library():
    g = torch.Generator().manual_seed(0)
    teacher, student = torch.randn(40, generator=g) * 3, torch.randn(40, generator=g) * 3
    vocabulary = [f"w{i}" for i in range(40)]
    view = temperature_view(teacher, student, 3.0, vocabulary, target=5, top_k=6)
    order = teacher.argsort(descending=True)[:6].tolist()
    assert view["ids"][:6] == order and view["ids"][-1] == 5 and view["tokens"][0] == f"w{order[0]}"
    np.testing.assert_allclose(view["teacher"], soften(teacher.double(), 3.0)[view["ids"]].numpy())
    np.testing.assert_allclose(view["student"], soften(student.double(), 3.0)[view["ids"]].numpy())
    expected = distillation_loss(student.double()[None], teacher.double()[None], torch.tensor([5]), temperature=3.0,
                                 alpha_ce=5.0, alpha_mlm=2.0, alpha_cos=0)
    assert abs(view["terms"]["ce"] - float(expected.ce)) < 1e-12
    assert abs(view["terms"]["loss"] - float(expected.loss)) < 1e-12
    assert abs(view["terms"]["kl"] * 9 - view["terms"]["ce"]) < 1e-12
    # the teacher's soft targets flatten as T grows
    assert np.all(np.diff(view["curve"]["teacher_entropy"]) > 0)


def test_temperature_figure_and_panel_redraw():
    g = torch.Generator().manual_seed(1)
    teacher, student = torch.randn(30, generator=g) * 2, torch.randn(30, generator=g) * 2
    fig = draw_temperature(temperature_view(teacher, student, 0.5, top_k=5))
    bars, curve = fig.axes[:2]
    heights = [p.get_height() for p in bars.patches]
    np.testing.assert_allclose(heights[:5], soften(teacher.double(), 0.5).sort(descending=True).values[:5].numpy())
    assert "T²·KL" in bars.get_title() and curve.get_xscale() == "log"
    panel = temperature_explorer(teacher, student, temperature=2.0)
    fig = panel.update(temperature=8.0)
    assert panel.slider.value == pytest.approx(8.0) and panel.view["temperature"] == pytest.approx(8.0)
    assert fig.axes[0].get_ylabel() == "probability at T = 8.00"
    with pytest.raises(ValueError, match="differ in size"):
        temperature_view(teacher, student[:10], 1.0)
    with pytest.raises(ValueError, match="target 99 is outside"):
        temperature_view(teacher, student, 1.0, target=99)
    with pytest.raises(ValueError, match="temperature must be"):
        temperature_view(teacher, student, 0.0)

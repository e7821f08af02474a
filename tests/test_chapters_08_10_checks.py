"""Checks behind claims that chapters 08-10 make in prose: the FLOP count that shared layers leave unchanged, the
ALBERT tables' quality columns and the width ablation, and the gradient sizes the temperature explorer draws."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from minibert import AlbertConfig, AlbertModel, distillation_loss
from minibert.models.albert.parameter_tables import (DEPTH_ABLATION, MODEL_RESULTS, MODEL_SIZES, WIDTH_ABLATION, depth_table,
                                    model_size_table, width_table)
from minibert.widgets import temperature_view


# -- chapter 09 ----------------------------------------------------------------------------------------------------
def test_sharing_changes_parameters_not_flops():
    shape = dict(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                 intermediate_size=64, max_position_embeddings=16)
    ids = torch.randint(5, 300, (2, 16), generator=torch.Generator().manual_seed(0))
    flops, parameters = {}, {}
    for sharing in ("all", "none"):
        model = AlbertModel(AlbertConfig(cross_layer_sharing=sharing, **shape)).eval()
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            model(ids)
        flops[sharing] = counter.get_total_flops()
        parameters[sharing] = sum(p.numel() for p in model.parameters())
    assert flops["all"] == flops["none"] > 0
    assert parameters["none"] > 2 * parameters["all"]


def test_model_size_table_carries_the_papers_quality_and_speed():
    rows = {row["model"]: row for row in model_size_table()}
    assert set(rows) == set(MODEL_SIZES) == set(MODEL_RESULTS)
    # the chapter's reading: at equal shape ALBERT scores lower; only xxlarge beats BERT-large, and it is slower
    assert rows["ALBERT-base"]["published_average"] < rows["BERT-base"]["published_average"]
    assert rows["ALBERT-large"]["published_average"] < rows["BERT-large"]["published_average"]
    assert rows["ALBERT-xxlarge"]["published_average"] == max(r["published_average"] for r in rows.values())
    assert rows["ALBERT-xxlarge"]["published_speedup"] < 1 < rows["ALBERT-large"]["published_speedup"]


def test_depth_table_counts_one_layer_and_carries_the_averages():
    rows = depth_table()
    assert len({row["exact"] for row in rows}) == 1
    averages = {row["L"]: row["published_average"] for row in rows}
    assert averages == {depth: average for depth, (_, average) in DEPTH_ABLATION.items()}
    assert max(averages, key=averages.get) == 24 and averages[48] < averages[24]


def test_width_table_grows_about_as_h_squared_and_xxlarge_equals_its_4096_row():
    rows = {row["H"]: row for row in width_table()}
    assert set(rows) == set(WIDTH_ABLATION)
    assert rows[1024]["agreement"] == "matches"
    ratio = rows[6144]["exact"] / rows[4096]["exact"]
    assert 2.0 < ratio < (6144 / 4096) ** 2 + 0.1
    # with every layer shared, depth does not change the count: the 3-layer H=4096 row is ALBERT-xxlarge's count,
    # although the paper prints 225M for one and 235M for the other
    xxlarge = {row["model"]: row for row in model_size_table()}["ALBERT-xxlarge"]
    assert rows[4096]["exact"] == xxlarge["exact"]
    averages = {h: row["published_average"] for h, row in rows.items()}
    assert max(averages, key=averages.get) == 4096


# -- chapter 10 ----------------------------------------------------------------------------------------------------
def _kl_gradient_norm(student, teacher, temperature, scale):
    z = student.clone().requires_grad_(True)
    term = distillation_loss(z[None], teacher[None], temperature=temperature, alpha_ce=1, alpha_mlm=0,
                             alpha_cos=0).ce
    (term * scale).backward()
    return float(z.grad.norm())


@pytest.mark.parametrize("temperature", [0.5, 2.0, 8.0])
def test_explorer_gradient_sizes_are_autograd_gradients(temperature):
    g = torch.Generator().manual_seed(0)
    teacher, student = torch.randn(50, generator=g, dtype=torch.float64) * 3, torch.randn(50, generator=g,
                                                                                        dtype=torch.float64) * 3
    view = temperature_view(teacher, student, temperature)
    # the distillation term is T^2 KL; the plain KL is that divided by T^2
    assert view["terms"]["grad_ce"] == pytest.approx(_kl_gradient_norm(student, teacher, temperature, 1.0), rel=1e-9)
    assert view["terms"]["grad_kl"] == pytest.approx(
        _kl_gradient_norm(student, teacher, temperature, 1 / temperature ** 2), rel=1e-9)
    assert view["max_entropy"] == pytest.approx(math.log(50))


def test_plain_kl_gradient_falls_like_one_over_t_squared_and_the_scaled_one_levels_off():
    g = torch.Generator().manual_seed(1)
    teacher, student = torch.randn(200, generator=g, dtype=torch.float64), torch.randn(200, generator=g,
                                                                                     dtype=torch.float64)
    view = temperature_view(teacher, student, 2.0)
    temperatures, curve = view["curve_T"], view["curve"]
    large = temperatures > 10
    # (p_s - p_t) / T ~ (z_s - z_t) / (N T^2): T^2 times the plain KL's gradient tends to |centred z_s - z_t| / N
    limit = float(((student - student.mean()) - (teacher - teacher.mean())).norm()) / 200
    np.testing.assert_allclose(curve["grad_ce"][large], limit, rtol=0.05)
    np.testing.assert_allclose(curve["grad_kl"][large] * temperatures[large] ** 2, limit, rtol=0.05)
    assert curve["grad_kl"][-1] < curve["grad_kl"][0] / 100


def test_a_high_temperature_nears_the_uniform_entropy():
    logits = torch.randn(4096, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    p = (logits / 50.0).softmax(-1)
    entropy = float(-(p * p.log()).sum())
    assert math.log(4096) - 0.01 < entropy <= math.log(4096) + 1e-9


def test_word_overlap_solves_nsp_but_not_sop_on_the_course_corpus():
    """Chapter 09's reading of ALBERT's diagnosis: topic overlap gives NSP away, and cannot touch SOP."""
    from minibert.corpus import load_documents
    from minibert.masking import nsp_pairs, sop_pairs
    from minibert.masking.dataset import encode_documents
    from minibert.tokenizers import course_tokenizer

    documents = encode_documents(load_documents(), course_tokenizer())

    def rule_accuracy(pairs):
        overlaps = np.array([len(set(p.a) & set(p.b)) / len(set(p.a) | set(p.b)) for p in pairs])
        labels = np.array([p.label for p in pairs])
        return float(((overlaps < np.median(overlaps)).astype(int) == labels).mean())

    assert rule_accuracy(nsp_pairs(documents, max_tokens=64, generator=0)) > 0.65
    assert 0.44 < rule_accuracy(sop_pairs(documents, max_tokens=64, generator=0)) < 0.56


# -- the exercises' model solutions in the library (the chapters' "your code in the real model" cells) ------------
def test_chapter_08_pipeline_solution_trains_exactly_as_the_librarys_dataset():
    from minibert.exercises import get
    from minibert.masking import Masker
    from minibert.masking.dataset import MaskedLMDataset
    from minibert.training import Trainer, TrainingConfig
    from minibert.training.pretrain import build_model

    pipeline = get("08.4").run_solution()

    class WithPipeline(MaskedLMDataset):
        def batch(self, indices, epoch=0):
            return pipeline(self.blocks, self.masker, list(indices), epoch, pad_id=self.pad_id, length=self.length,
                            seed=self.seed, dynamic=self.dynamic)

    g = torch.Generator().manual_seed(0)
    blocks = [[2] + torch.randint(5, 80, (int(n),), generator=g).tolist() + [3]
              for n in torch.randint(4, 20, (16,), generator=g)]
    masker = Masker(mask_token_id=4, vocab_size=80, special_ids={0, 1, 2, 3, 4})
    losses = []
    for data_class in (MaskedLMDataset, WithPipeline):
        data = data_class(blocks, masker, 0, seed=3, dynamic=True, length=22)
        model = build_model(80, 22, 16, 1, 2, dropout=0.0, seed=0, pad_token_id=0)
        config = TrainingConfig(steps=6, batch_size=4, warmup_steps=1, seed=0)
        torch.manual_seed(0)
        losses.append([r["loss"] for r in Trainer(model, data, config, progress=False).train()])
    assert losses[0] == losses[1]  # the same batches, so the very same arithmetic


@pytest.mark.parametrize("sharing", ["all", "none", "attention", "ffn"])
def test_chapter_09_albert_solution_carries_the_librarys_weights(sharing, randomize, make_batch):
    from minibert.exercises import get

    config = AlbertConfig(vocab_size=60, embedding_size=8, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                          intermediate_size=32, max_position_embeddings=20, cross_layer_sharing=sharing)
    reference = randomize(AlbertModel(config, add_pooler=False).eval(), 0, norms_near_one=True)
    mine = get("09.4").run_solution()(config).eval()
    mine.load_state_dict(reference.state_dict())
    assert sum(p.numel() for p in mine.parameters()) == sum(p.numel() for p in reference.parameters())
    ids, types, mask = make_batch(config, batch=3, seed=1)
    with torch.no_grad():
        torch.testing.assert_close(mine(ids, types, mask)[mask.bool()],
                                   reference(ids, types, mask).last_hidden_state[mask.bool()], atol=1e-5, rtol=1e-5)


def test_distiller_trains_with_a_loss_given_to_it():
    """Distiller(loss=...): the learner's soft + hard terms (chapter 10's exercise) replace the library's in the
    training loss; the cosine term and the reported terms stay the library's."""
    from minibert import BertConfig, BertForMaskedLM
    from minibert.exercises import get
    from minibert.models.distilbert.distillation import SANH_RECIPE, Distiller
    from minibert.models.distilbert.model import student_from_teacher

    torch.manual_seed(0)
    teacher = BertForMaskedLM(BertConfig.tiny(num_hidden_layers=2)).eval()
    ids = torch.randint(5, teacher.config.vocab_size, (2, 9), generator=torch.Generator().manual_seed(1))
    labels = torch.full_like(ids, -100)
    labels[:, 2:5] = ids[:, 2:5]
    mask = torch.ones_like(ids)
    library = Distiller(student_from_teacher(teacher), teacher, **SANH_RECIPE)
    yours = Distiller(student_from_teacher(teacher), teacher, **SANH_RECIPE, loss=get("10.2").run_solution())
    expected, got = library(ids, mask, labels), yours(ids, mask, labels)
    assert float(got.loss.detach()) == pytest.approx(float(expected.loss.detach()), rel=1e-5)
    assert got.as_dict() == pytest.approx(expected.as_dict(), rel=1e-5)
    got.loss.backward()
    assert all(p.grad is None for p in yours.teacher.parameters())
    constant = Distiller(student_from_teacher(teacher), teacher, **SANH_RECIPE,
                         loss=lambda s, t, y, T, a_ce, a_mlm: s.new_tensor(7.0))
    terms = constant(ids, mask, labels)
    assert float(terms.loss.detach()) == pytest.approx(7.0 + SANH_RECIPE["alpha_cos"] * float(terms.cos.detach()))
    with pytest.raises(TypeError, match="loss must be a function"):
        Distiller(student_from_teacher(teacher), teacher, loss="kl")

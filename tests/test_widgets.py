"""The attention explorer draws what the model computed, and its controls redraw it."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from minibert import BertConfig, BertModel  # noqa: E402
from minibert.widgets import attention_explorer, attention_stack, draw_attention  # noqa: E402

TOKENS = ["[CLS]", "the", "cat", "sat", "[SEP]"]


@pytest.fixture(scope="module")
def model_and_ids():
    torch.manual_seed(0)
    model = BertModel(BertConfig.tiny()).eval()
    return model, torch.tensor([[2, 10, 11, 12, 3]])


def test_stack_from_model_output_and_tensors_agree(model_and_ids):
    model, ids = model_and_ids
    from_model = attention_stack(model, TOKENS, input_ids=ids)
    with torch.no_grad():
        attentions = model(ids, output_attentions=True).attentions
    assert from_model.shape == (2, 4, 5, 5)
    np.testing.assert_array_equal(from_model, attention_stack(list(attentions), TOKENS))
    np.testing.assert_array_equal(from_model[1], attention_stack([a[0] for a in attentions])[1])
    np.testing.assert_allclose(from_model.sum(-1), 1.0, atol=1e-6)


def test_draw_shows_the_selected_head_and_row(model_and_ids):
    model, ids = model_and_ids
    stack = attention_stack(model, TOKENS, input_ids=ids)
    fig = draw_attention(stack, TOKENS, layer=1, head=2, query=3)
    heatmap, bars = fig.axes[0], fig.axes[1]
    np.testing.assert_allclose(heatmap.images[0].get_array(), stack[1, 2])
    np.testing.assert_allclose([p.get_height() for p in bars.patches], stack[1, 2, 3], rtol=1e-6)
    assert "layer 1, head 2" in heatmap.get_title() and "'sat'" in bars.get_title()
    mean = draw_attention(stack, TOKENS, layer=0, head="mean", query=0)
    np.testing.assert_allclose(mean.axes[0].images[0].get_array(), stack[0].mean(0), rtol=1e-6)


def test_widget_controls_redraw(model_and_ids):
    model, ids = model_and_ids
    panel = attention_explorer(model, TOKENS, input_ids=ids)
    first = panel.figure.axes[0].images[0].get_array().copy()
    fig = panel.update(layer=1, head=3, query=4)
    assert not np.allclose(fig.axes[0].images[0].get_array(), first)
    layer_slider = panel.children[0].children[0]
    assert panel.children[0].children[0].value == 1  # update() moved the controls too
    layer_slider.value = 0  # moving the slider redraws through the observer
    np.testing.assert_allclose(panel.figure.axes[0].images[0].get_array(), panel.stack[0, 3])


def test_bad_arguments(model_and_ids):
    model, ids = model_and_ids
    stack = attention_stack(model, TOKENS, input_ids=ids)
    with pytest.raises(ValueError, match="layer"):
        draw_attention(stack, TOKENS, layer=5, head=0, query=0)
    with pytest.raises(ValueError, match="head"):
        draw_attention(stack, TOKENS, layer=0, head=9, query=0)
    with pytest.raises(ValueError, match="tokens"):
        attention_stack(model, TOKENS[:3], input_ids=ids)
    with pytest.raises(ValueError, match="input_ids"):
        attention_stack(model, TOKENS)
    with pytest.raises(ValueError, match="output_attentions"):
        attention_stack([], TOKENS)

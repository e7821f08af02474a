"""Post-LN (BERT) and pre-LN (Xiong et al. 2020) from one encoder block: the pre-LN layer equals the equations written
out by hand, the post-LN default is unchanged, and pre-LN adds one LayerNorm after the last layer."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from minibert import BertConfig, BertModel
from minibert.core.transformer import Encoder, EncoderLayer


def randomized(module, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * 0.3)
    return module


def attention_by_hand(layer, x, mask):
    a = layer.attention
    heads, d = a.num_heads, x.shape[-1] // a.num_heads

    def split(t):
        return t.view(*t.shape[:2], heads, d).transpose(1, 2)

    q, k, v = (split(F.linear(x, m.weight, m.bias)) for m in (a.query, a.key, a.value))
    scores = q @ k.transpose(-1, -2) / d ** 0.5
    scores = scores.masked_fill(~mask[:, None, None, :], torch.finfo(x.dtype).min)
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x.shape)
    return F.linear(out, a.output.weight, a.output.bias)


def layer_norm(module, x):
    return F.layer_norm(x, (x.shape[-1],), module.weight, module.bias, module.eps)


def ffn_by_hand(layer, x):
    return F.linear(F.gelu(F.linear(x, layer.ffn.inner.weight, layer.ffn.inner.bias)), layer.ffn.outer.weight,
                    layer.ffn.outer.bias)


@pytest.mark.parametrize("norm_position", ["pre", "post"])
def test_layer_equals_the_equations_written_by_hand(norm_position):
    layer = randomized(EncoderLayer(16, 4, 32, norm_position=norm_position).double().eval(), 1)
    x = torch.randn(3, 7, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    keep = torch.ones(3, 7, dtype=torch.bool)
    keep[1, 5:] = False
    bias = torch.zeros(3, 1, 1, 7, dtype=torch.float64).masked_fill(~keep[:, None, None, :], torch.finfo(x.dtype).min)
    ours, _ = layer(x, bias)
    if norm_position == "pre":  # Xiong et al. (2020), Figure 1 (b)
        h = x + attention_by_hand(layer, layer_norm(layer.attention_norm, x), keep)
        expected = h + ffn_by_hand(layer, layer_norm(layer.ffn_norm, h))
    else:  # Vaswani et al. (2017) and BERT
        h = layer_norm(layer.attention_norm, x + attention_by_hand(layer, x, keep))
        expected = layer_norm(layer.ffn_norm, h + ffn_by_hand(layer, h))
    assert (ours - expected).abs().max() < 1e-10


def test_pre_ln_encoder_ends_with_a_layer_norm_and_post_ln_has_none():
    post = BertConfig.tiny(hidden_size=16, num_attention_heads=2, intermediate_size=32, num_hidden_layers=3)
    pre = post.replace(norm_position="pre")
    assert Encoder(post).final_norm is None
    encoder = randomized(Encoder(pre).double().eval(), 3)
    x = torch.randn(2, 5, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    out, _, states = encoder(x, output_hidden_states=True)
    h = x
    for layer in encoder.layers:
        h, _ = layer(h)
    assert (out - layer_norm(encoder.final_norm, h)).abs().max() < 1e-10
    assert torch.equal(states[-1], out)
    assert all(layer.norm_position == "pre" for layer in encoder.layers)


def test_post_is_the_default_and_is_not_written_to_config_json():
    config = BertConfig.tiny()
    assert config.norm_position == "post" and "norm_position" not in config.to_dict()
    pre = config.replace(norm_position="pre")
    assert pre.to_dict()["norm_position"] == "pre"
    assert BertConfig.from_dict(pre.to_dict()) == pre
    torch.manual_seed(0)
    a = BertModel(config)
    torch.manual_seed(0)
    b = BertModel(pre)
    assert set(b.state_dict()) - set(a.state_dict()) == {"encoder.final_norm.weight", "encoder.final_norm.bias"}


def test_a_wrong_norm_position_is_refused():
    with pytest.raises(ValueError, match="norm_position"):
        BertConfig.tiny(norm_position="middle")
    with pytest.raises(ValueError, match="norm_position must be one of"):
        EncoderLayer(8, 2, 16, norm_position="sandwich")


def test_saving_a_pre_ln_model_warns_that_transformers_would_read_it_as_post_ln(tmp_path):
    config = BertConfig.tiny(norm_position="pre")
    model = BertModel(config)
    with pytest.warns(UserWarning, match="pre-LN"):
        model.save_pretrained(tmp_path)
    again = BertModel.from_pretrained(tmp_path)
    assert again.config.norm_position == "pre"

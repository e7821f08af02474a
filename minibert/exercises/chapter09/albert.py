"""Chapter 09, building: 09.4, ALBERT's factorised embeddings and shared layers as a module that carries the
library's weights."""
from __future__ import annotations

import dataclasses

import torch

from .. import exercise


# -- 09.4: factorised embeddings and shared layers, as a module ------------------------------------------------------

_ALBERT = '''
import torch
from torch import nn
from minibert.core.attention import attention_bias
from minibert.core.transformer import EncoderLayer


class MyAlbert(nn.Module):
    def __init__(self, config):
        super().__init__()
        V, E, H, L = config.vocab_size, config.embedding_width, config.hidden_size, config.num_hidden_layers
        self.embeddings = nn.Module()  # a container for the four embedding pieces
        self.embeddings.token = nn.Embedding(V, E, padding_idx=config.pad_token_id)
        self.embeddings.position = nn.Embedding(config.max_position_embeddings, E)
        self.embeddings.segment = nn.Embedding(config.type_vocab_size, E)
        self.embeddings.norm = nn.LayerNorm(E, eps=config.layer_norm_eps)
        self.embedding_projection = nn.Linear(E, H) if E != H else None
        sharing, self.depth = config.cross_layer_sharing, L
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList(EncoderLayer.from_config(config)
                                            for _ in range(1 if sharing == "all" else L))
        first = self.encoder.layers[0]
        for layer in self.encoder.layers[1:]:
            if sharing == "attention":
                layer.attention, layer.attention_norm = first.attention, first.attention_norm
            elif sharing == "ffn":
                layer.ffn, layer.ffn_norm = first.ffn, first.ffn_norm

    def forward(self, input_ids, token_type_ids=None, attention_mask=None):
        e = self.embeddings
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        segments = e.segment(token_type_ids) if token_type_ids is not None else e.segment.weight[0]
        x = e.norm(e.token(input_ids) + e.position(positions) + segments)
        if self.embedding_projection is not None:
            x = self.embedding_projection(x)
        bias = None
        if attention_mask is not None:
            bias = attention_bias(attention_mask.bool()[:, None, None, :], x.dtype)
        layers = self.encoder.layers
        for i in range(self.depth):
            x, _ = layers[0 if len(layers) == 1 else i](x, bias)
        return x


def answer(config):
    return MyAlbert(config)
'''


def _albert_variant(*replacements: tuple[str, str]) -> str:
    """The model solution with pieces replaced: how the typical wrong answers of 09.4 are written."""
    source = _ALBERT
    for old, new in replacements:
        if old not in source:
            raise RuntimeError(f"09.4: a wrong answer's pattern is not in the solution: {old!r}")
        source = source.replace(old, new)
    return source


def _albert_configs():
    from minibert.models.albert.model import AlbertConfig

    shape = dict(vocab_size=40, embedding_size=8, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                 intermediate_size=64, max_position_embeddings=24)
    return [AlbertConfig(**shape, cross_layer_sharing="all"),
            AlbertConfig(**shape, cross_layer_sharing="none"),
            AlbertConfig(**shape, cross_layer_sharing="attention"),
            AlbertConfig(**shape, cross_layer_sharing="ffn"),
            AlbertConfig(**{**shape, "embedding_size": 32}, cross_layer_sharing="all")]


def _library_trunk(config, seed: int):
    """The library's ALBERT without its pooler, with weights far from their initial values."""
    from minibert.models.albert.model import AlbertModel

    torch.manual_seed(seed)
    model = AlbertModel(config, add_pooler=False).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape) * 0.2)
    return model


def _hidden(module, *args, **kwargs) -> torch.Tensor:
    out = module(*args, **kwargs)
    if hasattr(out, "last_hidden_state"):
        out = out.last_hidden_state
    elif isinstance(out, (tuple, list)) and out:
        out = out[0]
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise AssertionError(f"forward should return the last hidden states, a (batch, T, H) float tensor; got "
                             f"{type(out).__name__}" + (f" of dtype {out.dtype}" if isinstance(out, torch.Tensor) else ""))
    return out.float()


def _describe(config) -> str:
    return (f"sharing={config.cross_layer_sharing!r}, E={config.embedding_width}, H={config.hidden_size}, "
            f"L={config.num_hidden_layers}")


@exercise("09.4", "ALBERT's two ideas: a factorised table and shared layers", kind="build",
          hints=("Look tokens up in a narrow E-wide table (with E-wide positions and segments, summed and normalised), "
                 "widen the result to H once, then run an encoder whose layers are one module used L times "
                 "('all'), or L layers that share their attention or feed-forward module. Sharing means the same "
                 "module object, not a copy with the same values.",
                 "Names and shapes (so that the library's weights load into yours): embeddings.token "
                 "nn.Embedding(V, E, padding_idx=pad), embeddings.position nn.Embedding(P, E), embeddings.segment "
                 "nn.Embedding(2, E), embeddings.norm nn.LayerNorm(E, eps); embedding_projection nn.Linear(E, H) "
                 "only when E != H; encoder.layers an nn.ModuleList of EncoderLayer.from_config(config). A layer is "
                 "called as layer(x, bias) -> (x, weights) with bias = attention_bias(mask.bool()[:, None, None, :]) "
                 "(B, 1, 1, T). Without token_type_ids every token is in segment 0. config.embedding_width is E.",
                 "\nself.encoder = nn.Module()\n"
                 "self.encoder.layers = nn.ModuleList(EncoderLayer.from_config(config) for _ in range(...))\n"
                 "first = self.encoder.layers[0]\n"
                 "for layer in self.encoder.layers[1:]:\n"
                 "    if sharing == \"attention\":\n"
                 "        layer.attention, layer.attention_norm = first.attention, first.attention_norm\n"
                 "    ...\n"
                 "# forward: for i in range(L): x, _ = <the layer used at depth i>(x, bias)"),
          solution=_ALBERT,
          wrong=(
              _albert_variant(("nn.Embedding(V, E, padding_idx", "nn.Embedding(V, H, padding_idx"),
                              ("nn.Embedding(config.max_position_embeddings, E)",
                               "nn.Embedding(config.max_position_embeddings, H)"),
                              ("nn.Embedding(config.type_vocab_size, E)", "nn.Embedding(config.type_vocab_size, H)"),
                              ("nn.LayerNorm(E, eps", "nn.LayerNorm(H, eps"),
                              ("nn.Linear(E, H) if E != H else None", "None")),
              _albert_variant(("range(1 if sharing == \"all\" else L)", "range(L)")),
              _albert_variant(("layer.attention, layer.attention_norm = first.attention, first.attention_norm",
                               "layer.attention, layer.attention_norm = (copy.deepcopy(first.attention), "
                               "copy.deepcopy(first.attention_norm))"),
                              ("import torch\n", "import copy\nimport torch\n")),
              _albert_variant(("for i in range(self.depth):", "for i in range(len(layers)):")),
              _albert_variant(("x, _ = layers[0 if len(layers) == 1 else i](x, bias)",
                               "x, _ = layers[0 if len(layers) == 1 else i](x, None)")),
              _albert_variant(("nn.Linear(E, H) if E != H else None", "nn.Linear(E, H)")),
              _albert_variant(("x = e.norm(e.token(input_ids) + e.position(positions) + segments)",
                               "x = e.token(input_ids) + e.position(positions) + segments"),
                              ("        self.embeddings.norm = nn.LayerNorm(E, eps=config.layer_norm_eps)\n", "")),
              _albert_variant(("else e.segment.weight[0]", "else 0")),
          ),
          builds=("minibert.models.bert.model.BertModel", "minibert.models.bert.model.BertEmbeddings",
                  "minibert.core.transformer.Encoder", "minibert.models.albert.model.AlbertModel",
                  "transformers.models.albert.modeling_albert.AlbertModel",
                  "transformers.models.albert.modeling_albert.AlbertEmbeddings",
                  "transformers.models.albert.modeling_albert.AlbertTransformer"),
          shortcut="""
          from minibert.models.albert.model import AlbertModel

          def answer(config):
              return AlbertModel(config, add_pooler=False)
          """)
def _(answer):
    from torch import nn

    generator = torch.Generator().manual_seed(3)
    for number, config in enumerate(_albert_configs()):
        where = f"with {_describe(config)}"
        mine = answer(config)
        if not isinstance(mine, nn.Module):
            raise AssertionError(f"answer(config) should return your module (a torch.nn.Module), got "
                                 f"{type(mine).__name__}")
        reference = _library_trunk(config, seed=number)
        expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
        got = {k: tuple(v.shape) for k, v in mine.state_dict().items()}
        if got != expected:
            missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
            width, hidden = config.embedding_width, config.hidden_size
            if got.get("embeddings.token.weight") == (config.vocab_size, hidden) and width != hidden:
                raise AssertionError(f"{where}: your token table is V x H; ALBERT's is V x E, widened to H afterwards")
            if any(k.startswith("embedding_projection.") for k in missing):
                raise AssertionError(f"{where}: there is no embedding_projection: the E-wide embeddings must be "
                                     "projected to H by an nn.Linear(E, H) named embedding_projection")
            if any(k.startswith("embedding_projection.") for k in extra):
                raise AssertionError(f"{where}: with E = H there is nothing to project; the library (like the paper's "
                                     "E = 768 rows) has no embedding_projection then")
            if config.cross_layer_sharing == "all" and any(k.startswith("encoder.layers.1.") for k in extra):
                raise AssertionError(f"{where}: sharing 'all' keeps a single layer, encoder.layers.0, applied L "
                                     "times; you built several")
            if any(k.startswith("embeddings.norm.") for k in missing):
                raise AssertionError(f"{where}: the embeddings have no LayerNorm (embeddings.norm): the sum of "
                                     "token, position and segment vectors is normalised before the projection")
            shapes = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing[:3])}" + (" ..." if len(missing) > 3 else ""))
            if extra:
                parts.append(f"unexpected {', '.join(extra[:3])}" + (" ..." if len(extra) > 3 else ""))
            if shapes:
                parts.append(f"shape of {shapes[0]}: {got[shapes[0]]} instead of {expected[shapes[0]]}")
            raise AssertionError(f"{where}: your parameters cannot carry the library's ALBERT weights: "
                                 + "; ".join(parts) + ". Name and shape them as the exercise says.")
        distinct = sum(p.numel() for p in mine.parameters())
        library = sum(p.numel() for p in reference.parameters())
        if distinct != library:
            raise AssertionError(f"{where}: your module has {distinct:,} distinct parameters, the library's "
                                 f"{library:,}: a shared sub-layer must be the same module object in every layer "
                                 "(assign it), not a copy with the same values")
        mine.load_state_dict(reference.state_dict())
        mine.eval()
        ids = torch.randint(1, config.vocab_size, (3, 9), generator=generator)
        mask = torch.ones_like(ids)
        mask[1, 6:] = 0
        mask[2, 3:] = 0
        types = torch.zeros_like(ids)
        types[:, 5:] = 1
        with torch.no_grad():
            expected_out = reference(ids, types, mask).last_hidden_state
            got_out = _hidden(mine, ids, types, mask)
            if tuple(got_out.shape) != tuple(expected_out.shape):
                raise AssertionError(f"{where}: forward returned shape {tuple(got_out.shape)}, expected (batch, T, H) "
                                     f"= {tuple(expected_out.shape)}")
            real = mask.bool()
            if not torch.allclose(got_out[real], expected_out[real], atol=1e-5, rtol=1e-4):
                unmasked = reference(ids, types).last_hidden_state
                if torch.allclose(got_out[real], unmasked[real], atol=1e-5, rtol=1e-4):
                    raise AssertionError(f"{where}: your outputs on a padded batch are those of a model that attends "
                                         "to the padding: turn the attention mask into an additive bias and give it "
                                         "to every layer")
                if config.cross_layer_sharing == "all" and config.num_hidden_layers > 1:
                    once = _library_trunk(dataclasses.replace(config, num_hidden_layers=1), seed=number)
                    once.load_state_dict(reference.state_dict())
                    if torch.allclose(got_out[real], once.eval()(ids, types, mask).last_hidden_state[real],
                                      atol=1e-5, rtol=1e-4):
                        raise AssertionError(f"{where}: your model applies the shared layer once; ALBERT applies it "
                                             "at every one of the L depths")
                raise AssertionError(f"{where}: with the library's weights your outputs differ from the library's "
                                     "ALBERT. Check, in order: token + position + segment vectors, LayerNorm, the "
                                     "projection to H, then the layer used at each depth")
            if number:
                continue
            without_types = _hidden(mine, ids, None, mask)
            if not torch.allclose(without_types[real], reference(ids, None, mask).last_hidden_state[real],
                                  atol=1e-5, rtol=1e-4):
                raise AssertionError(f"{where}: right with token_type_ids, wrong without them: then every token is "
                                     "in segment 0 and gets segment row 0 added")

"""Exercises of chapter 09 (ALBERT: factorised embeddings and cross-layer sharing).

09.1 the factorised table's size, 09.2 when factorising pays, 09.3 the encoder under each sharing mode (compute);
09.4 ALBERT's two ideas as a module that carries the library's weights (build); 09.5 what depth costs a shared model
(predict, then run).
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
import torch

from . import exercise


def _count(value, what: str) -> int:
    """A whole number from an int, NumPy or torch integer, or an integral float; AssertionError otherwise."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"{what} should be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise AssertionError(f"{what} should be one number, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be an integer, got {type(value).__name__}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not math.isfinite(value) or not float(value).is_integer():
        raise AssertionError(f"{what} should be a whole number, got {value}")
    return int(value)


def _factorised(vocab: int, width: int, hidden: int) -> int:
    """Token table plus projection, counted on modules built on the meta device (nothing allocated)."""
    from torch import nn

    from minibert.core.parameter_count import count_parameters

    return count_parameters(lambda: nn.Embedding(vocab, width)) + count_parameters(lambda: nn.Linear(width, hidden))


# -- 09.1 ---------------------------------------------------------------------------------------------------------

@exercise("09.1", "a factorised token table", kind="compute",
          hints=("Two pieces replace BERT's one table: a narrow lookup table, and a layer that widens its rows to the "
                 "hidden size. Count every parameter of both.",
                 "nn.Embedding(V, E) has a V x E weight; nn.Linear(E, H) has an H x E weight and H biases. "
                 "answer(V, E, H) returns an integer."),
          solution="""
          def answer(V, E, H):
              return V * E + E * H + H
          """,
          wrong=("""
          def answer(V, E, H):
              return V * H
          """, """
          def answer(V, E, H):
              return V * E + E * H
          """, """
          def answer(V, E, H):
              return V * E + E * H + E
          """, """
          def answer(V, E, H):
              return V * E
          """))
def _(answer):
    for vocab, width, hidden in ((30000, 128, 768), (30000, 64, 4096), (1000, 16, 64), (np.int64(500), 8, 32)):
        vocab = int(vocab)
        expected = _factorised(vocab, width, hidden)
        got = _count(answer(vocab, width, hidden), f"answer({vocab}, {width}, {hidden})")
        if got == expected:
            continue
        if got == vocab * hidden:
            raise AssertionError("that is BERT's unfactorised V x H table; ALBERT's table is V x E, then E -> H")
        if got == vocab * width:
            raise AssertionError("that is the table alone; the projection from E to H has parameters too")
        if got == vocab * width + width * hidden:
            raise AssertionError("almost: the projection is a Linear layer, and it has a bias")
        if got == vocab * width + width * hidden + width:
            raise AssertionError("the projection's bias has one entry per *output* feature: H of them, not E")
        raise AssertionError(f"answer({vocab}, {width}, {hidden}) = {got:,} is not the size of a V x E table plus "
                             "a Linear(E, H)")


# -- 09.2 ---------------------------------------------------------------------------------------------------------

@exercise("09.2", "when does factorising pay?", kind="compute",
          hints=("Write the saving condition (09.1's count against V x H) as an inequality in E and find the largest "
                 "whole E that satisfies it. Careful: *fewer* parameters, not the same number.",
                 "V*E + E*H + H < V*H is linear in E; answer(V, H) returns an integer. A loop over E from H down is "
                 "fine too (H is at most a few thousand)."),
          solution="""
          def answer(V, H):
              E = (V * H - H) // (V + H)
              while V * (E + 1) + (E + 1) * H + H < V * H:
                  E += 1
              while E > 0 and not V * E + E * H + H < V * H:
                  E -= 1
              return E
          """,
          wrong=("""
          def answer(V, H):
              return H - 1
          """, """
          def answer(V, H):
              return (V * H - H) // (V + H)
          """, """
          def answer(V, H):
              return max(E for E in range(1, H + 1) if V * E + E * H < V * H)
          """, """
          def answer(V, H):
              return max(E for E in range(1, H + 1) if V * E + E * H + H <= V * H)
          """))
def _(answer):
    for vocab, hidden in ((30000, 768), (30000, 4096), (50, 64), (1000, 16), (10, 8)):
        # the saving condition on real modules: a V x E table plus Linear(E, H) against a V x H table
        expected = max(e for e in range(1, hidden + 1) if vocab * e + e * hidden + hidden < vocab * hidden)
        assert _factorised(vocab, expected, hidden) < vocab * hidden <= _factorised(vocab, expected + 1, hidden)
        got = _count(answer(vocab, hidden), f"answer({vocab}, {hidden})")
        if got == expected:
            continue
        if got == hidden - 1:
            raise AssertionError(f"with V={vocab}, H={hidden} the projection's E x H weights cost too: E = H - 1 "
                                 "does not save anything")
        if got > expected and _factorised(vocab, got, hidden) == vocab * hidden:
            raise AssertionError(f"answer({vocab}, {hidden}) = {got} gives exactly as many parameters as the plain "
                                 "table; factorising must give strictly fewer")
        if got > expected and vocab * got + got * hidden < vocab * hidden:
            raise AssertionError(f"answer({vocab}, {hidden}) = {got}: without the projection's bias that would "
                                 "save, with it it does not")
        raise AssertionError(f"answer({vocab}, {hidden}) = {got}, but that is not the largest E whose factorised "
                             "table (V x E plus Linear(E, H)) has fewer parameters than V x H")


# -- 09.3 ---------------------------------------------------------------------------------------------------------

@exercise("09.3", "the encoder under each sharing mode", kind="compute",
          hints=("Count one attention sub-layer and one feed-forward sub-layer (each with its LayerNorm) once, then "
                 "ask how many distinct copies of each a sharing mode keeps: 1 when shared, L otherwise.",
                 "Attention: four Linear(H, H) (query, key, value, output) plus a LayerNorm(H) (2H). Feed-forward: "
                 "Linear(H, 4H) and Linear(4H, H) plus a LayerNorm(H). answer(H, L, sharing) returns an integer for "
                 "sharing in 'none', 'attention', 'ffn', 'all'."),
          solution="""
          def answer(H, L, sharing):
              attention = 4 * H * H + 4 * H + 2 * H
              ffn = 8 * H * H + 5 * H + 2 * H
              attention_copies = 1 if sharing in ("all", "attention") else L
              ffn_copies = 1 if sharing in ("all", "ffn") else L
              return attention_copies * attention + ffn_copies * ffn
          """,
          wrong=("""
          def answer(H, L, sharing):
              layer = 12 * H * H + 13 * H
              return layer if sharing == "all" else L * layer
          """, """
          def answer(H, L, sharing):
              attention = 4 * H * H + 4 * H
              ffn = 8 * H * H + 5 * H
              norms = L * 4 * H
              attention_copies = 1 if sharing in ("all", "attention") else L
              ffn_copies = 1 if sharing in ("all", "ffn") else L
              return attention_copies * attention + ffn_copies * ffn + norms
          """, """
          def answer(H, L, sharing):
              attention = 4 * H * H + 4 * H + 2 * H
              ffn = 8 * H * H + 5 * H + 2 * H
              attention_copies = 1 if sharing in ("all", "ffn") else L
              ffn_copies = 1 if sharing in ("all", "attention") else L
              return attention_copies * attention + ffn_copies * ffn
          """, """
          def answer(H, L, sharing):
              attention = 4 * H * H + 2 * H
              ffn = 8 * H * H + 2 * H
              attention_copies = 1 if sharing in ("all", "attention") else L
              ffn_copies = 1 if sharing in ("all", "ffn") else L
              return attention_copies * attention + ffn_copies * ffn
          """))
def _(answer):
    from minibert.core.parameter_count import count_parameters
    from minibert.core.transformer import Encoder
    from minibert.models.albert.model import AlbertConfig

    def encoder_size(hidden, layers, sharing):
        config = AlbertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4,
                              intermediate_size=4 * hidden, cross_layer_sharing=sharing)
        return count_parameters(lambda: Encoder(config))

    for hidden, layers in ((64, 4), (768, 12), (32, 1)):
        for sharing in ("none", "attention", "ffn", "all"):
            expected = encoder_size(hidden, layers, sharing)
            got = _count(answer(hidden, layers, sharing), f"answer({hidden}, {layers}, {sharing!r})")
            if got == expected:
                continue
            if sharing in ("attention", "ffn") and layers > 1:
                other = "ffn" if sharing == "attention" else "attention"
                if got == encoder_size(hidden, layers, other):
                    raise AssertionError(f"answer({hidden}, {layers}, {sharing!r}) is the count of sharing {other!r}: "
                                         "the mode names the sub-layer that is shared (kept once)")
            copies = (1 if sharing in ("all", "attention") else layers, 1 if sharing in ("all", "ffn") else layers)
            unshared_norms = copies[0] * (4 * hidden * hidden + 4 * hidden) + copies[1] * (
                8 * hidden * hidden + 5 * hidden) + layers * 4 * hidden
            if sharing != "none" and got == unshared_norms:
                raise AssertionError(f"answer({hidden}, {layers}, {sharing!r}): the LayerNorm after a sub-layer is "
                                     "part of it and is shared together with it")
            raise AssertionError(f"answer({hidden}, {layers}, {sharing!r}) = {got:,}, but that encoder has a different "
                                 "number of parameters; count each sub-layer's weights, biases and LayerNorm (weight "
                                 "and bias), and share the LayerNorm together with its sub-layer")


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
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"forward should return the last hidden states, a (batch, T, H) tensor; got "
                             f"{type(out).__name__}")
    return out


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
                 "self.encoder = nn.Module()\n"
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


# -- 09.5: predict, then run -------------------------------------------------------------------------------------

_WORDS = {"same": 1.0, "double": 2.0, "half": 0.5}


def _word(value, what: str) -> str:
    if isinstance(value, str) and value.strip().lower() in _WORDS:
        return value.strip().lower()
    if isinstance(value, str):
        raise AssertionError(f"{what}: say 'same', 'double' or 'half', got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: say 'same', 'double' or 'half', got {type(value).__name__}") from None
    for word, factor in _WORDS.items():
        if math.isclose(number, factor):
            return word
    raise AssertionError(f"{what}: say 'same', 'double' or 'half' (or the factor 1, 2 or 0.5), got {number:g}")


def _depth_experiment() -> dict:
    """Parameters and forward-pass FLOPs of an all-shared ALBERT at 6 and at 12 layers (small, on one batch)."""
    from torch.utils.flop_counter import FlopCounterMode

    from minibert.models.albert.model import AlbertConfig, AlbertModel

    ids = torch.randint(5, 500, (2, 32), generator=torch.Generator().manual_seed(0))
    measured = {}
    for depth in (6, 12):
        config = AlbertConfig(vocab_size=500, embedding_size=16, hidden_size=64, num_hidden_layers=depth,
                              num_attention_heads=4, intermediate_size=256, max_position_embeddings=32)
        torch.manual_seed(0)
        model = AlbertModel(config).eval()
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            model(ids)
        measured[depth] = (sum(p.numel() for p in model.parameters()), counter.get_total_flops())
    return measured


@exercise("09.5", "predict: what does depth cost a shared model?", kind="predict",
          hints=("With every layer shared, ask separately what is stored (the weights) and what is computed (each "
                 "depth runs its layer on every token).",
                 "Give answer = (parameters, arithmetic), each 'same', 'double' or 'half', for going from 6 to 12 "
                 "layers with cross_layer_sharing='all'."),
          solution="answer = ('same', 'double')",
          wrong=("answer = ('double', 'double')", "answer = ('same', 'same')", "answer = ('half', 'same')",
                 "answer = ('same', 'twice as much')"))
def _(answer):
    if isinstance(answer, (str, dict)) or not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("give two words, answer = (parameters, arithmetic), each 'same', 'double' or 'half'")
    parameters, arithmetic = _word(answer[0], "parameters"), _word(answer[1], "arithmetic")
    measured = _depth_experiment()
    (p6, f6), (p12, f12) = measured[6], measured[12]
    explanation = (
        f"Measured on a small all-shared ALBERT (H = 64, E = 16), one forward pass of 2 x 32 tokens: 6 layers "
        f"{p6:,} parameters and {f6:,} FLOPs, 12 layers {p12:,} parameters and {f12:,} FLOPs (x{f12 / f6:.3f}). The "
        "parameters stay the same because the 12 depths reuse one layer's weights; the arithmetic almost doubles "
        "because each depth still runs that layer on every token (only the embeddings, computed once, keep it just "
        "under 2). Sharing saves memory, not compute.")
    if (parameters, arithmetic) != ("same", "double"):
        raise AssertionError(f"you predicted parameters {parameters}, arithmetic {arithmetic}. {explanation}")
    print(explanation)

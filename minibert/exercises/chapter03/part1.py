"""Chapter 03: exercises 03.1, 03.2, 03.3, 03.4."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)


@exercise("03.1", "one post-LN encoder layer", kind="build",
          hints=(
              "Two sub-layers, wrapped the same way: the sub-layer (attention, then the position-wise feed-forward "
              "network), dropout on its output, the sub-layer's INPUT added back (the residual), then LayerNorm. "
              "The feed-forward network widens each vector, applies GELU and narrows it back. Attention may be "
              "the library's MultiHeadSelfAttention (you built one in chapter 01).",
              "attention = MultiHeadSelfAttention(H, heads, dropout) returns (output, weights) from (x, mask, "
              "need_weights); attention_norm and ffn_norm = nn.LayerNorm(H, eps=layer_norm_eps); ffn = a small "
              "module with inner = nn.Linear(H, I) and outer = nn.Linear(I, H), forward outer(F.gelu(inner(x))); "
              "dropout = nn.Dropout(dropout). forward(x, mask=None, need_weights=False) returns (x (B, T, H), the "
              "attention weights).",
              "attended, weights = self.attention(x, mask, need_weights)\n"
              "x = self.attention_norm(x + self.dropout(attended))\n"
              "x = ...  # the same wrapping around self.ffn, with self.ffn_norm\n"
              "return x, weights"),
          solution=_LAYER_SOLUTION,
          wrong=(
              _variant(_variant(_LAYER_SOLUTION, "x = self.attention_norm(x + self.dropout(attended))",
                                "x = x + self.dropout(self.attention(self.attention_norm(x), mask)[0])", "pre-LN"),
                       "x = self.ffn_norm(x + self.dropout(self.ffn(x)))",
                       "x = x + self.dropout(self.ffn(self.ffn_norm(x)))", "normalised before each sub-layer"),
              _variant(_LAYER_SOLUTION, "self.ffn_norm(x + self.dropout(self.ffn(x)))",
                       "self.ffn_norm(self.dropout(self.ffn(x)))", "no residual around the feed-forward"),
              _variant(_LAYER_SOLUTION, "self.outer(F.gelu(self.inner(x)))", "self.outer(F.relu(self.inner(x)))",
                       "ReLU"),
              _variant(_LAYER_SOLUTION, "self.outer(F.gelu(self.inner(x)))",
                       'self.outer(F.gelu(self.inner(x), approximate="tanh"))', "the tanh GELU"),
              _variant(_LAYER_SOLUTION, "nn.LayerNorm(hidden_size, eps=layer_norm_eps)\n        self.ffn =",
                       "nn.LayerNorm(hidden_size)\n        self.ffn =", "LayerNorm's default eps"),
              _variant(_LAYER_SOLUTION, "self.ffn_norm(x + self.dropout(self.ffn(x)))",
                       "self.dropout(self.ffn_norm(x + self.ffn(x)))", "dropout after the LayerNorm"),
              _variant(_LAYER_SOLUTION, "self.ffn_norm(x + self.dropout(self.ffn(x)))",
                       "self.ffn_norm(x + self.ffn(x))", "no dropout on the feed-forward output"),
              _variant(_LAYER_SOLUTION, "        return x, weights\n", "        return x, None\n",
                       "the weights are dropped"),
          ),
          builds=("minibert.core.transformer.EncoderLayer", "minibert.core.transformer.FeedForward",
                  "torch.nn.TransformerEncoderLayer", "minibert.reference.encoder_layer",
                  "minibert.reference.feed_forward"),
          shortcut="""
          from minibert.core.transformer import EncoderLayer

          def answer(hidden_size, num_heads, intermediate_size, dropout=0.1, layer_norm_eps=1e-12):
              return EncoderLayer(hidden_size, num_heads, intermediate_size, dropout=dropout, attention_dropout=dropout,
                                  layer_norm_eps=layer_norm_eps)
          """)
def _(answer):
    from minibert.core.transformer import EncoderLayer

    with _one_thread():
        for seed, (batch, length, hidden, heads, intermediate, eps) in enumerate(
                [(2, 5, 16, 4, 32, 1e-12), (3, 6, 12, 3, 48, 1e-12), (1, 1, 8, 1, 8, 1e-12), (2, 4, 8, 2, 16, 0.5)]):
            try:
                _check_layer_case(answer, seed, batch, length, hidden, heads, intermediate, eps)
            except AssertionError as err:
                if eps != 1e-12 and "differs" in str(err):
                    raise AssertionError(f"{err}. (With the default eps this shape passes: is layer_norm_eps "
                                         "passed on to both LayerNorms?)") from None
                raise
        # training mode, dropout = 1: every sub-layer output is dropped, leaving ffn_norm(attention_norm(x))
        module = answer(8, 2, 16, dropout=1.0, layer_norm_eps=1e-12)
        library = _randomized(EncoderLayer(8, 2, 16, dropout=1.0, attention_dropout=1.0).double(), 7)
        module = module.double()
        module.load_state_dict(library.state_dict())
        module.train()
        library.train()
        x = torch.randn(2, 4, 8, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
        with torch.no_grad():
            result = module(x.clone())
            out = _tensor(result[0] if isinstance(result, (tuple, list)) else result, "the output")
            expected = library(x)[0]
        if not _close(out, expected):
            raise AssertionError(
                "answer(8, 2, 16, dropout=1.0) in training mode: with dropout 1 every sub-layer's output is dropped, "
                "so the layer should return ffn_norm(attention_norm(x)); yours does not. Dropout goes on each "
                "sub-layer's output, before the residual add (and nowhere else)")


# -- 03.2 -------------------------------------------------------------------------------------------------------

_EMBEDDINGS_SOLUTION = """
import torch
from torch import nn


class MyEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        H = config.hidden_size
        self.token = nn.Embedding(config.vocab_size, H, padding_idx=config.pad_token_id)
        self.position = nn.Embedding(config.max_position_embeddings, H)
        self.segment = nn.Embedding(config.type_vocab_size, H)
        self.norm = nn.LayerNorm(H, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids=None, position_ids=None):
        if position_ids is None:
            position_ids = torch.arange(input_ids.shape[1], device=input_ids.device)  # 0 .. T-1
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)  # every token in segment A
        x = self.token(input_ids) + self.position(position_ids) + self.segment(token_type_ids)
        return self.dropout(self.norm(x))


def answer(config):
    return MyEmbeddings(config)
"""

_EMBEDDINGS_SKELETON = ("Name the parts as BertEmbeddings does: token, position, segment (nn.Embedding each), norm "
                        "(nn.LayerNorm) and dropout.")


def _embedding_diagnosis(library, ids, types, positions, out, what: str) -> str:
    with torch.no_grad():
        T = ids.shape[1]
        pos = torch.arange(T) if positions is None else positions
        seg = library.segment(torch.zeros_like(ids) if types is None else types)
        tok = library.token(ids)
        full = tok + library.position(pos) + seg
        norm = library.norm
        default_eps = F.layer_norm(full, norm.normalized_shape, norm.weight, norm.bias, eps=1e-5)
        candidates = [
            (default_eps, f"the LayerNorm's eps should be config.layer_norm_eps ({norm.eps:g} here), not "
                          "nn.LayerNorm's default 1e-5"),
            (library.norm(tok + seg), "the position embeddings are missing: attention alone cannot tell word order"),
            (library.norm(tok + library.position(pos)), "the segment embeddings are missing"
                                                        + (" (no token_type_ids means every token is in segment A, "
                                                           "0)" if types is None else "")),
            (full, "the sum should go through the LayerNorm (norm)"),
            (library.norm(tok + library.position(pos + 1) + seg), "positions start at 0, not 1"),
        ]
        if positions is not None:
            candidates.append((library.norm(tok + library.position(torch.arange(T)) + seg),
                               "the position_ids given to forward are ignored: use them when they are not None"))
        for candidate, why in candidates:
            if _close(out, candidate, atol=1e-10):
                return f"{what}: {why}"
    return f"{what}: the values differ from LayerNorm(token + position + segment)"


@exercise("03.2", "BERT's input embeddings", kind="build",
          hints=(
              "Three lookup tables, one per kind of id: the token, its position in the sequence (counted from 0, "
              "unless position ids are given) and its segment (A or B; no segment ids means every token is in A). "
              "Their vectors are summed, normalised, and dropped out during training.",
              "nn.Embedding(config.vocab_size, H, padding_idx=config.pad_token_id), nn.Embedding("
              "config.max_position_embeddings, H), nn.Embedding(config.type_vocab_size, H), nn.LayerNorm(H, "
              "eps=config.layer_norm_eps), nn.Dropout(config.hidden_dropout_prob), with H = config.hidden_size. "
              "forward(input_ids (B, T), token_type_ids=None, position_ids=None) -> (B, T, H); "
              "torch.arange(T) broadcasts over the batch.",
              "if position_ids is None:\n"
              "    position_ids = torch.arange(input_ids.shape[1])\n"
              "if token_type_ids is None:\n"
              "    token_type_ids = torch.zeros_like(input_ids)\n"
              "x = self.token(input_ids) + ...\n"
              "return self.dropout(...)"),
          solution=_EMBEDDINGS_SOLUTION,
          wrong=(
              _variant(_EMBEDDINGS_SOLUTION, " + self.position(position_ids)", "", "no positions"),
              _variant(_EMBEDDINGS_SOLUTION, "torch.arange(input_ids.shape[1], device=input_ids.device)",
                       "torch.arange(1, input_ids.shape[1] + 1, device=input_ids.device)", "positions from 1"),
              _variant(_EMBEDDINGS_SOLUTION, "        if position_ids is None:\n            position_ids =",
                       "        if True:\n            position_ids =", "position_ids ignored"),
              _variant(_EMBEDDINGS_SOLUTION, "return self.dropout(self.norm(x))", "return self.norm(self.dropout(x))",
                       "dropout before the LayerNorm"),
              _variant(_EMBEDDINGS_SOLUTION, "return self.dropout(self.norm(x))", "return self.norm(x)",
                       "no dropout"),
              _variant(_EMBEDDINGS_SOLUTION, "eps=config.layer_norm_eps", "eps=1e-5", "LayerNorm's default eps"),
              _variant(_EMBEDDINGS_SOLUTION, ", padding_idx=config.pad_token_id", "", "no padding index"),
              _variant(_EMBEDDINGS_SOLUTION, "self.position(position_ids) + self.segment(token_type_ids)",
                       "self.position(position_ids) + (0 if token_type_ids is None else self.segment(token_type_ids))",
                       "no segment without token_type_ids").replace(
                  "        if token_type_ids is None:\n            token_type_ids = torch.zeros_like(input_ids)  "
                  "# every token in segment A\n", ""),
          ),
          builds=("minibert.models.bert.model.BertEmbeddings",),
          shortcut="""
          from minibert.models.bert.model import BertEmbeddings

          def answer(config):
              return BertEmbeddings(config)
          """)
def _(answer):
    from minibert.core.config import BertConfig
    from minibert.models.bert.model import BertEmbeddings

    sizes = dict(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                 max_position_embeddings=24)
    configs = [BertConfig(**sizes), BertConfig(**sizes, type_vocab_size=3, pad_token_id=1),
               BertConfig(**sizes, layer_norm_eps=0.5)]
    with _one_thread():
        for seed, config in enumerate(configs):
            what = ("answer(config)" + (f" with pad_token_id={config.pad_token_id}" if config.pad_token_id else "")
                    + (f" with layer_norm_eps={config.layer_norm_eps}" if config.layer_norm_eps != 1e-12 else ""))
            module = answer(config)
            library = BertEmbeddings(config).double().eval()
            _same_parts(module, library, what, _EMBEDDINGS_SKELETON)
            token = getattr(module, "token", None)
            if getattr(token, "padding_idx", None) != config.pad_token_id:
                raise AssertionError(f"{what}: the token table should know the padding id (padding_idx="
                                     "config.pad_token_id), so that the [PAD] row gets no gradient")
            _randomized(library, seed)
            module = module.double()
            module.load_state_dict(library.state_dict())
            module.eval()
            g = torch.Generator().manual_seed(50 + seed)
            ids = torch.randint(0, config.vocab_size, (3, 9), generator=g)
            types = torch.randint(0, config.type_vocab_size, (3, 9), generator=g)
            positions = torch.arange(5, 14).expand(3, 9)
            for args, when in [((ids, types), "with token_type_ids"), ((ids,), "without token_type_ids"),
                               ((ids, types, positions), "with position_ids 5 .. 13"),
                               ((ids[:, :1], types[:, :1]), "on one token")]:
                label = f"{what} {when}"
                with torch.no_grad():
                    out = _tensor(module(*(a.clone() for a in args)), f"the output {when}")
                    expected = library(*args)
                if tuple(out.shape) != tuple(expected.shape):
                    raise AssertionError(f"{label}: expected shape {tuple(expected.shape)} (batch, T, H), got "
                                         f"{tuple(out.shape)}")
                if not _close(out, expected):
                    message = _embedding_diagnosis(library, args[0], args[1] if len(args) > 1 else None,
                                                   args[2] if len(args) > 2 else None, out, label)
                    if config.layer_norm_eps != 1e-12 and message.endswith("+ segment)"):
                        message += " (with the default eps these inputs pass: is config.layer_norm_eps used?)"
                    raise AssertionError(message)
        # training mode with dropout 1: everything after the LayerNorm is dropped
        config = BertConfig(**sizes)
        object.__setattr__(config, "hidden_dropout_prob", 1.0)  # past the config's own check: a test of placement
        module = answer(config).double()
        library = _randomized(BertEmbeddings(config).double(), 9)
        module.load_state_dict(library.state_dict())
        module.train()
        with torch.no_grad():
            out = _tensor(module(ids.clone(), types.clone()), "the output in training mode")
        if not torch.equal(out, torch.zeros_like(out)):
            raise AssertionError("answer(config) with hidden_dropout_prob=1.0, in training mode, should return zeros: "
                                 "dropout comes last, after the LayerNorm (and nowhere else)")


# -- 03.3 -------------------------------------------------------------------------------------------------------

def _layer_parameters(hidden: int, intermediate: int) -> int:
    from minibert.core.config import BertConfig
    from minibert.core.parameter_count import count_parameters
    from minibert.core.transformer import EncoderLayer

    config = BertConfig(hidden_size=hidden, num_attention_heads=1, intermediate_size=intermediate)
    return count_parameters(lambda: EncoderLayer.from_config(config))


@exercise("03.3", "parameters of one encoder layer", kind="compute",
          hints=(
              "Go through the layer's parts and count each weight matrix and each bias vector: the four attention "
              "projections, the feed-forward network's two layers (H -> I -> H), and the two LayerNorms (a scale "
              "and a shift each). The number of heads does not matter.",
              "nn.Linear(a, b) holds a * b weights and b biases; nn.LayerNorm(H) holds 2H. Write the sum as a "
              "function of H and I and check it: answer(768, 3072) * 12 should be BERT-base's encoder, "
              "85,054,464."),
          solution="""
          def answer(H, I):
              attention = 4 * (H * H + H)
              ffn = (H * I + I) + (I * H + H)
              norms = 2 * 2 * H
              return attention + ffn + norms
          """,
          wrong=("def answer(H, I):\n    return 12 * H * H + 13 * H\n",
                 "def answer(H, I):\n    return 4 * H * H + 2 * H * I\n",
                 "def answer(H, I):\n    return 4 * (H * H + H) + (H * I + I) + (I * H + H) + 2 * H\n",
                 "def answer(H, I):\n    return 3 * (H * H + H) + (H * I + I) + (I * H + H) + 4 * H\n"))
def _(answer):
    for hidden, intermediate in [(768, 3072), (384, 1536), (64, 64), (1024, 4096), (96, 200)]:
        got = _whole_number(answer(hidden, intermediate), f"answer({hidden}, {intermediate})")
        expected = _layer_parameters(hidden, intermediate)
        if got == expected:
            continue
        shown = f"answer({hidden}, {intermediate}) = {got:,}"
        if got == 12 * hidden * hidden + 13 * hidden:
            raise AssertionError(f"{shown} assumes I = 4H; the feed-forward width I is an argument of its own")
        if got == 4 * hidden * hidden + 2 * hidden * intermediate:
            raise AssertionError(f"{shown} counts the weight matrices but no biases or LayerNorms")
        if got == expected - 2 * hidden:
            raise AssertionError(f"{shown} counts one LayerNorm too few, or only its scale: the layer has two, each "
                                 "with a scale AND a shift")
        if got == expected - hidden * hidden - hidden:
            raise AssertionError(f"{shown} misses one of the four attention projections (the output one, W^O?)")
        raise AssertionError(f"{shown}, but a layer of width {hidden} with a feed-forward width of {intermediate} "
                             f"has {expected:,} parameters")


# -- 03.4 -------------------------------------------------------------------------------------------------------

@exercise("03.4", "where do the parameters go?", kind="compute",
          hints=(
              "The embeddings are three tables of H-wide vectors (one row per vocabulary entry, per position, per "
              "segment) plus their LayerNorm. Count them, then divide by the whole model's count; keep every "
              "digit, don't round.",
              "V = 30522, P = 512, 2 segments, H = 768; LayerNorm(H) holds 2H; BERT-base has 109,482,240 "
              "parameters. answer is a Python float between 0 and 1."),
          solution="answer = ((30522 + 512 + 2) * 768 + 2 * 768) / 109_482_240",
          wrong=("answer = 30522 * 768 / 109_482_240",
                 "answer = 100 * ((30522 + 512 + 2) * 768 + 2 * 768) / 109_482_240",
                 "answer = (30522 + 512 + 2) * 768 / 109_482_240", "answer = round(23_837_184 / 109_482_240, 2)",
                 "answer = (30522 + 512) * 768 / 109_482_240"))
def _(answer):
    got = float(_number(answer, "the fraction"))
    expected = 23_837_184 / 109_482_240
    if abs(got - expected) < 1e-7:  # float32 is fine; a missing LayerNorm (2H) is 1.4e-5 away
        return
    if 1 < got <= 100:
        raise AssertionError(f"{got:.2f} looks like a percentage; give a fraction between 0 and 1")
    if abs(got - 30522 * 768 / 109_482_240) < 1e-9:
        raise AssertionError("that is the token table only; add the position and segment tables and the LayerNorm")
    if abs(got - (30522 + 512 + 2) * 768 / 109_482_240) < 1e-9:
        raise AssertionError("the three tables are there, the embeddings' LayerNorm (2H) is not")
    if abs(got - expected) < 1e-2:
        raise AssertionError(f"{got:.4f} is close: keep every digit (no rounding), and check that all three "
                             "tables and the LayerNorm are in")
    raise AssertionError(f"{got:.4f} is not the embeddings' share of BERT-base")


# -- 03.5 -------------------------------------------------------------------------------------------------------

_POOL_SOLUTION = """
def answer(hidden, attention_mask):
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1): 1 for real tokens, 0 for padding
    total = (hidden * weights).sum(dim=1)  # (B, H): the sum over real tokens
    count = weights.sum(dim=1).clamp(min=1e-9)  # (B, 1): how many there are, never 0
    return total / count
"""

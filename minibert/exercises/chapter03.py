"""Exercises of chapter 03 (the Transformer encoder and BERT): one post-LN encoder layer and BERT's input
embeddings built as torch modules, two parameter counts, and mean pooling.

03.1 and 03.2 are the chapter's builds: section 5 puts the learner's layer and embeddings into the real
all-MiniLM-L6-v2 (through :func:`minibert.core.swap.swap_in`, carrying its trained weights) and compares the outputs
with ``transformers``. The encoder layer may use the library's ``MultiHeadSelfAttention`` (chapter 01's exercise
01.5 builds that one): what 03.1 asks for is the block around it.
"""
from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from . import exercise


# -- shared helpers ---------------------------------------------------------------------------------------------

@contextmanager
def _one_thread():
    """Tiny tensors: a second torch thread buys nothing, and on a busy machine it makes each small product wait."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _number(value, what: str) -> float | int:
    """A Python, NumPy or torch number (one element) as a Python number; anything else is said plainly."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.size != 1 if isinstance(value, np.ndarray) else value.numel() != 1:
            raise AssertionError(f"{what} should be one number, got an array of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AssertionError(f"{what} should be a number, got {type(value).__name__}")
    return value


def _whole_number(value, what: str) -> int:
    value = _number(value, what)
    if isinstance(value, numbers.Integral):
        return int(value)
    if not np.isfinite(float(value)) or not float(value).is_integer():
        raise AssertionError(f"{what} should be a whole number (a count of parameters), got {value!r}")
    return int(value)


def _tensor(value, what: str) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} should be a tensor, got {type(value).__name__}")
    return value.detach().double()


def _variant(source: str, old: str, new: str, note: str) -> str:
    """A registered wrong answer: the model solution with one typical mistake put in."""
    if old not in source:
        raise ValueError(f"cannot make the wrong answer {note!r}: {old!r} is not in the solution")
    return f"# {note}\n" + source.replace(old, new, 1)


def _randomized(module: torch.nn.Module, seed: int, scale: float = 0.5) -> torch.nn.Module:
    """Random weights far from initialisation (LayerNorm scales and shifts included), so a swapped part shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale
            p.copy_(1.0 + noise if name.endswith("norm.weight") else noise)
    return module


def _same_parts(module, reference, what: str, skeleton: str) -> None:
    """Parameter names and shapes of ``module`` are those of ``reference`` (so its weights load), else a diagnosis."""
    if not isinstance(module, torch.nn.Module):
        raise AssertionError(f"{what} should be a torch.nn.Module (your class, built), got {type(module).__name__}")
    try:
        got = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    except AttributeError as err:
        raise AssertionError(f"{what} is not set up as a torch module ({err}): did __init__ start with "
                             "super().__init__()?") from None
    expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        raise AssertionError(f"{what} cannot carry the library's weights: "
                             + "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "",
                                                     f"unexpected {', '.join(extra)}" if extra else "") if p)
                             + f". {skeleton}")
    shapes = [k for k in expected if expected[k] != got[k]]
    if shapes:
        k = shapes[0]
        raise AssertionError(f"{what}: {k} has shape {got[k]}, the library's has {expected[k]}. {skeleton}")


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-8) -> bool:
    return tuple(a.shape) == tuple(b.shape) and bool(torch.allclose(a, b, atol=atol))


# -- 03.1 -------------------------------------------------------------------------------------------------------

_LAYER_SOLUTION = """
import torch.nn.functional as F
from torch import nn

from minibert.core.attention import MultiHeadSelfAttention


class MyFeedForward(nn.Module):
    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.inner = nn.Linear(hidden_size, intermediate_size)
        self.outer = nn.Linear(intermediate_size, hidden_size)

    def forward(self, x):
        return self.outer(F.gelu(self.inner(x)))  # BERT's GELU is the exact one (erf)


class MyEncoderLayer(nn.Module):
    def __init__(self, hidden_size, num_heads, intermediate_size, dropout=0.1, layer_norm_eps=1e-12):
        super().__init__()
        self.attention = MultiHeadSelfAttention(hidden_size, num_heads, dropout)
        self.attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.ffn = MyFeedForward(hidden_size, intermediate_size)
        self.ffn_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None, need_weights=False):
        attended, weights = self.attention(x, mask, need_weights)
        x = self.attention_norm(x + self.dropout(attended))  # post-LN: add, then normalise
        x = self.ffn_norm(x + self.dropout(self.ffn(x)))
        return x, weights


def answer(hidden_size, num_heads, intermediate_size, dropout=0.1, layer_norm_eps=1e-12):
    return MyEncoderLayer(hidden_size, num_heads, intermediate_size, dropout, layer_norm_eps)
"""

_LAYER_SKELETON = ("Name the parts as EncoderLayer does: attention (a MultiHeadSelfAttention), attention_norm, ffn "
                   "(with ffn.inner and ffn.outer, nn.Linear each), ffn_norm (nn.LayerNorm each) and dropout.")


def _layer_diagnosis(library, x, bias, out, what: str) -> str:
    """Why ``out`` is not the library layer's output: the usual mistakes, recomputed from the layer's own parts."""
    attention, ffn = library.attention, library.ffn
    ln1, ln2 = library.attention_norm, library.ffn_norm
    if not torch.isfinite(out).all():
        return f"{what}: the output contains NaN or inf"

    def attend(h):
        return attention(h, bias)[0]

    def feed(h, activation=F.gelu):
        return ffn.outer(activation(ffn.inner(h)))

    def default_eps(norm):  # nn.LayerNorm's own eps, 1e-5, instead of the layer's
        return lambda h: F.layer_norm(h, norm.normalized_shape, norm.weight, norm.bias, eps=1e-5)

    with torch.no_grad():
        h = ln1(x + attend(x))
        pre = x + attend(ln1(x))
        eps_note = (f"LayerNorm's eps is {ln1.eps:g} here (layer_norm_eps), not nn.LayerNorm's default 1e-5: pass "
                    "eps=layer_norm_eps to both LayerNorms")
        for n1, n2 in [(default_eps(ln1), ln2), (ln1, default_eps(ln2)), (default_eps(ln1), default_eps(ln2))]:
            h_eps = n1(x + attend(x))
            if _close(out, n2(h_eps + feed(h_eps)), atol=1e-10):
                return f"{what}: {eps_note}"
        candidates = [
            (pre + feed(ln2(pre)), "LayerNorm comes AFTER each residual sum in BERT (post-LN): "
                                   "attention_norm(x + attention(x)), not x + attention(attention_norm(x))"),
            (ln2(feed(ln1(attend(x)))), "the residual connections are missing: each sub-layer's output is ADDED to "
                                        "its input before the LayerNorm"),
            (ln2(feed(h)), "the residual connection around the feed-forward sub-layer is missing: add its input back "
                           "before ffn_norm"),
            (ln2(ln1(attend(x)) + feed(ln1(attend(x)))), "the residual connection around attention is missing: add "
                                                         "x back before attention_norm"),
            (ln2(h + feed(h, F.relu)), "BERT's feed-forward activation is GELU, not ReLU"),
            (ln2(h + feed(h, lambda t: F.gelu(t, approximate="tanh"))), "BERT's GELU is the exact one (erf): "
                                                                         "F.gelu(x), not the tanh approximation"),
            (ln1(h + feed(h)), "the second sub-layer is normalised with attention_norm; it has its own, ffn_norm"),
            (ln2(x + attend(x) + feed(x + attend(x))), "the attention sub-layer's LayerNorm (attention_norm) is "
                                                       "missing"),
            (h + feed(h), "the feed-forward sub-layer's LayerNorm (ffn_norm) is missing"),
            (ln2(h + ffn.outer(ffn.inner(h))), "the feed-forward network needs its activation between inner and "
                                               "outer"),
        ]
        for candidate, why in candidates:
            if _close(out, candidate, atol=1e-7):
                return f"{what}: {why}"
    return (f"{what}: the output differs from the library's layer: attention, dropout, add, attention_norm; then "
            "feed-forward (inner, GELU, outer), dropout, add, ffn_norm")


def _check_layer_case(answer, seed, batch, length, hidden, heads, intermediate, eps):
    from minibert.core.attention import attention_bias
    from minibert.core.transformer import EncoderLayer

    what = f"answer({hidden}, {heads}, {intermediate}" + (f", layer_norm_eps={eps}" if eps != 1e-12 else "") + ")"
    module = answer(hidden, heads, intermediate, dropout=0.1, layer_norm_eps=eps)
    library = EncoderLayer(hidden, heads, intermediate, layer_norm_eps=eps).double().eval()
    _same_parts(module, library, what, _LAYER_SKELETON)
    _randomized(library, seed)
    module = module.double()
    module.load_state_dict(library.state_dict())
    module.eval()
    g = torch.Generator().manual_seed(100 + seed)
    x = torch.randn(batch, length, hidden, generator=g, dtype=torch.float64)
    lengths = torch.tensor([length, max(1, length - 3), 0][:batch])
    bias = attention_bias((torch.arange(length)[None, :] < lengths[:, None])[:, None, None, :], torch.float64)
    for mask, when in [(None, "without a mask"), (bias, "with padding" + (" (one sequence fully masked)"
                                                                          if batch > 2 else ""))]:
        label = f"{what} on a ({batch}, {length}, {hidden}) batch {when}"
        with torch.no_grad():
            result = module(x.clone(), None if mask is None else mask.clone(), need_weights=True)
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise AssertionError(f"{label}: forward should return a pair (output, attention weights or None), "
                                     f"got {type(result).__name__}")
            out, weights = _tensor(result[0], "the output"), result[1]
            expected, expected_w = library(x, mask, need_weights=True)
            if not _close(out, expected):
                if tuple(out.shape) != tuple(expected.shape):
                    raise AssertionError(f"{label}: the output should have shape {tuple(expected.shape)}, got "
                                         f"{tuple(out.shape)}")
                raise AssertionError(_layer_diagnosis(library, x, mask, out, label))
            if weights is None or not _close(_tensor(weights, "the weights"), expected_w):
                raise AssertionError(f"{label}: with need_weights=True the second element should be the attention "
                                     "weights (B, heads, T, T), passed on from the attention sub-layer")


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


@exercise("03.5", "mean pooling", kind="build",
          hints=(
              "A sentence vector is the average of its real tokens' vectors: padding must neither add to the sum "
              "nor to the count. A sentence with no real token at all must give zeros, not NaN.",
              "hidden (B, T, H), attention_mask (B, T) of 1/0 (ints, floats or booleans): mask.to(hidden.dtype)"
              ".unsqueeze(-1) is (B, T, 1) and broadcasts over H; .sum(dim=1) sums over T; .clamp(min=1e-9) keeps "
              "a count of 0 from dividing by zero. Return (B, H), not normalised.",
              "weights = attention_mask.to(hidden.dtype).unsqueeze(-1)\n"
              "total = (hidden * weights).sum(dim=1)\n"
              "count = ...\n"
              "return total / count"),
          solution=_POOL_SOLUTION,
          wrong=(
              "def answer(hidden, attention_mask):\n    return hidden.mean(1)\n",
              _variant(_POOL_SOLUTION, ".clamp(min=1e-9)", "", "a sentence without real tokens divides by zero"),
              _variant(_POOL_SOLUTION, "count = weights.sum(dim=1).clamp(min=1e-9)",
                       "count = hidden.shape[1]", "divides by T"),
              _variant(_POOL_SOLUTION, "    return total / count\n",
                       "    import torch\n    return torch.nn.functional.normalize(total / count, dim=-1)\n",
                       "normalised"),
          ),
          builds=("minibert.models.bert.model.mean_pool",),
          shortcut="""
          from minibert import mean_pool

          def answer(hidden, attention_mask):
              return mean_pool(hidden, attention_mask, normalize=False)
          """)
def _(answer):
    from minibert.models.bert.model import mean_pool

    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(4, 7, 5, generator=g, dtype=torch.float64)
    lengths = torch.tensor([7, 4, 2, 0])
    real = torch.arange(7)[None, :] < lengths[:, None]
    for mask, kind in [(real.long(), "an int 0/1 mask"), (real, "a boolean mask"), (real.float(), "a float mask")]:
        label = f"a (4, 7, 5) batch with {kind} (lengths 7, 4, 2 and 0)"
        got = _tensor(answer(hidden.clone(), mask.clone()), f"the result for {label}")
        expected = mean_pool(hidden, real.long(), normalize=False)
        assert tuple(got.shape) == (4, 5), f"{label}: expected a (batch, H) = (4, 5) result, got {tuple(got.shape)}"
        if _close(got, expected, atol=1e-10):
            continue
        if _close(got[:3], expected[:3], atol=1e-10):
            raise AssertionError(f"{label}: the sentence with no real token gives "
                                 f"{'NaN' if torch.isnan(got[3]).any() else 'something other than zeros'}: its "
                                 "count is 0, so keep the divisor away from 0 (the sum is 0 anyway)")
        if _close(got, hidden.mean(1), atol=1e-10):
            raise AssertionError(f"{label}: the padding positions are included in the average; use the mask")
        if _close(got[:3], F.normalize(expected[:3], dim=-1), atol=1e-10):
            raise AssertionError(f"{label}: right direction, but the exercise asks for the mean itself, not "
                                 "normalised to length 1")
        if _close(got[:3], (hidden * real[..., None]).sum(1)[:3] / 7, atol=1e-10):
            raise AssertionError(f"{label}: padding is left out of the sum but not out of the count: divide by the "
                                 "number of REAL tokens of each sentence")
        raise AssertionError(f"{label}: the values differ from the mean over each sentence's real tokens")
    single = _tensor(answer(hidden[:1, :3].float(), torch.ones(1, 3, dtype=torch.long)), "the result in float32")
    assert _close(single, hidden[:1, :3].float().double().mean(1), atol=1e-6), (
        "one float32 sentence without padding should give the plain mean of its token vectors")

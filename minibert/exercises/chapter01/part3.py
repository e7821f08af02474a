"""Chapter 01: exercises 01.5."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part2 import _MHA_SOLUTION, _MHA_WRONGS, _mha_diagnosis, _pair, _randomized, _same_parts  # noqa: F401 (shared with part2's exercises)


@exercise("01.5", "multi-head self-attention, as a torch module", kind="build",
          hints=(
              "Project x three times (queries, keys, values), cut the width into `num_heads` slices, run 01.3's "
              "scaled dot-product attention in all slices at once (the scale is one slice's width), glue the slices "
              "back side by side and project once more. The mask arrives as numbers to ADD to the scores: 0 where "
              "a key may be seen, the most negative float where it may not; it is finite, so a row with every key "
              "masked stays finite.",
              "__init__: super().__init__(); self.query = nn.Linear(H, H), and the same for key, value, output. "
              "forward: (B, T, H) -> .view(B, T, heads, d).transpose(1, 2) -> (B, heads, T, d) with d = H // heads; "
              "q @ k.transpose(-1, -2) is (B, heads, T, T); add the mask (it broadcasts); .softmax(dim=-1); "
              "weights @ v is (B, heads, T, d); .transpose(1, 2).reshape(B, T, H) undoes the split. Return "
              "(self.output(...), weights if need_weights else None).",
              "def split(self, x):\n"
              "    B, T, _ = x.shape\n"
              "    return x.view(B, T, self.num_heads, self.head_size).transpose(1, 2)\n\n"
              "def forward(self, x, mask=None, need_weights=False):\n"
              "    q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))\n"
              "    scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size)\n"
              "    ...  # add the mask, softmax, weights @ v, merge the heads, output projection"),
          solution=_MHA_SOLUTION,
          wrong=_MHA_WRONGS,
          builds=("minibert.core.attention.MultiHeadSelfAttention",
                  "minibert.core.attention.scaled_dot_product_attention", "torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention",
                  "torch.nn.functional.multi_head_attention_forward", "minibert.reference.multi_head_attention",
                  "minibert.reference.scaled_dot_product_attention"),
          shortcut="""
          from minibert.core.attention import MultiHeadSelfAttention

          def answer(hidden_size, num_heads):
              return MultiHeadSelfAttention(hidden_size, num_heads)
          """)
def _(answer):
    skeleton = "Name the four projections query, key, value and output, each nn.Linear(hidden_size, hidden_size)."
    with _one_thread():
        for seed, (batch, length, width, heads) in enumerate([(2, 6, 12, 1), (2, 5, 16, 4), (3, 7, 24, 3),
                                                              (1, 1, 8, 2)]):
            _check_attention_case(answer, seed, batch, length, width, heads, skeleton)


def _check_attention_case(answer, seed: int, batch: int, length: int, width: int, heads: int, skeleton: str):
    """One shape: the learner's module carries random library weights and must give the library's output and
    weights without a mask, with padding (one sequence fully masked when the batch has three) and causally."""
    from minibert.core.attention import MultiHeadSelfAttention, attention_bias, causal_mask

    module = answer(width, heads)
    library = _randomized(MultiHeadSelfAttention(width, heads).double().eval(), seed)
    what = f"answer({width}, {heads})"
    _same_parts(module, library, what, skeleton)
    module = module.double()
    module.load_state_dict(library.state_dict())
    module.eval()
    g = torch.Generator().manual_seed(100 + seed)
    x = torch.randn(batch, length, width, generator=g, dtype=torch.float64)
    lengths = torch.tensor([length, max(1, length - 2), 0][:batch])
    padding = torch.arange(length)[None, :] < lengths[:, None]                       # (B, T)
    masks = [(None, "without a mask"),
             (attention_bias(padding[:, None, None, :], torch.float64),
              "with a padding mask" + (" (one sequence has every key masked)" if batch > 2 else "")),
             (attention_bias(causal_mask(length)[None, None], torch.float64), "with a causal (1, 1, T, T) mask")]
    for bias, when in masks:
        label = f"{what} on a ({batch}, {length}, {width}) batch {when}"
        with torch.no_grad():
            out, weights = _pair(module(x.clone(), None if bias is None else bias.clone(), need_weights=True),
                                 label)
            expected_out, expected_w = library(x, bias, need_weights=True)
            if weights is None or tuple(weights.shape) != tuple(expected_w.shape) \
                    or tuple(out.shape) != tuple(expected_out.shape) \
                    or not torch.allclose(weights.double(), expected_w, atol=1e-8) \
                    or not torch.allclose(out.double(), expected_out, atol=1e-8):
                raise AssertionError(_mha_diagnosis(library, x, bias, None if weights is None else weights.double(),
                                                    out.double(), expected_w, expected_out, label))
            quiet, _ = _pair(module(x.clone(), None if bias is None else bias.clone(), need_weights=False), label)
            assert torch.allclose(quiet.double(), expected_out, atol=1e-8), (
                f"{label}: the output with need_weights=False differs from the output with need_weights=True")

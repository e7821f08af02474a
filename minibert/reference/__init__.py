"""NumPy references: the course's formulas written out in float64, apart from the torch code they check.

The attention and encoder reference (chapters 01 and 03) is exported here, so ``from minibert import reference as
ref; ref.softmax(...)`` reads like the equations. The other references are modules of their own:

- :mod:`.encoder` (01, 03): softmax, masks, scaled dot-product and multi-head attention, LayerNorm, GELU, one
  post-LN encoder layer;
- :mod:`.positions` (02, 12, 13): Shaw, T5, Transformer-XL and DeBERTa relative positions, as loops over (i, j);
  RoPE's rotations and ALiBi's slopes and biases;
- :mod:`.tokenizer_trainers` (04): WordPiece and BPE training the slow, obvious way;
- :mod:`.distillation` (10): DistilBERT's three loss terms.
"""
from .encoder import (causal_mask, encoder_layer, feed_forward, gelu_erf, gelu_tanh, layer_norm, merge_heads,
                      multi_head_attention, padding_mask, scaled_dot_product_attention, softmax, split_heads)

__all__ = ["softmax", "causal_mask", "padding_mask", "scaled_dot_product_attention", "split_heads", "merge_heads",
           "multi_head_attention", "layer_norm", "gelu_erf", "gelu_tanh", "feed_forward", "encoder_layer"]

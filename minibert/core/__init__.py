"""The encoder every model in the course is built from (chapters 01-03).

- :mod:`.attention` (01): scaled dot-product and multi-head self-attention, masks as additive biases;
- :mod:`.positions` (02): sinusoidal and learned absolute positions, relative distances, T5 and DeBERTa buckets;
- :mod:`.relative_attention` (02): Shaw et al.'s relative attention and T5's relative bias;
- :mod:`.rotary` (02): rotary position embedding (RoPE), in ``transformers``' rotate-half layout;
- :mod:`.alibi` (02): ALiBi's slopes and linear biases, the paper's form and BLOOM's;
- :mod:`.normalization` (14): RMSNorm, T5's layer normalisation without the mean;
- :mod:`.transformer` (03): the feed-forward block, the encoder layer (post-LN or pre-LN), the layer loop every
  encoder shares (``LayerStack``), BERT's encoder stack and BERT's initialiser;
- :mod:`.config` (03): :class:`~minibert.core.config.ConfigBase`, the base of every config (a table of field checks,
  ``config.json`` both ways), and :class:`~minibert.core.config.BertConfig` with Hugging Face's field names;
- :mod:`.checks`: the one checker of settings and arguments (integers, numbers, choices), so every message reads
  the same;
- :mod:`.outputs` (03): :class:`~minibert.core.outputs.ModelOutput`, the base of every model's output;
- :mod:`.checkpoints` (03): Hugging Face checkpoint folders in both directions, through key rules;
  :mod:`.locate` finds a folder by name (offline first), :mod:`.files` writes files and folders whole;
- :mod:`.inputs`: the one validator of model inputs (ids, masks, token types, positions) and ``IGNORE_INDEX``;
- :mod:`.parameter_count` (03): parameters counted on the ``meta`` device, BERT-base/large tables;
- :mod:`.swap` (01-05): :func:`~minibert.core.swap.swap_in`, a copy of a model with your own module in place of one
  of its parts, carrying the trained weights: how the exercises run the learner's code inside the real model.

The models in :mod:`minibert.models` reuse these parts; nothing here imports a model at import time.
"""

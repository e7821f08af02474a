"""BERT and its offspring, one module or small package per family (chapters 03 and 08-15).

- :mod:`.bert` (03): ``model`` (embeddings, ``BertModel``, pooler, mean pooling) and ``heads`` (masked LM,
  pre-training and sequence classification);
- :mod:`.roberta` (08): a ``BertConfig`` with other values, the same ``BertModel``;
- :mod:`.albert` (09): ``model`` (factorised embeddings, cross-layer sharing, SOP) and ``parameter_tables`` (the
  paper's ablation tables, counted);
- :mod:`.distilbert` (10): ``model`` (the student, built from a teacher) and ``distillation`` (the triple loss);
- :mod:`.spanbert` and :mod:`.electra` (11): the span boundary objective; replaced-token detection;
- :mod:`.transformer_xl` (02, 12): relative attention with memory;
- :mod:`.xlnet` (12): ``config``, ``permutation`` (orders and masks), ``two_stream_attention``, ``model`` and
  ``joint_prediction`` (the "New York" experiment);
- :mod:`.deberta` (13): ``disentangled_attention`` and ``model``;
- :mod:`.family` (14): ``causal_lm`` (GPT-style decoder), ``xlm`` (translation LM), ``noise`` (T5 and BART
  corruption);
- :mod:`.t5` (14): ``config``, ``blocks`` and ``model`` (the T5 encoder-decoder), ``span_data`` (its tiny
  pre-training data).
- :mod:`.modernbert` (15): ``config``, ``layers`` (GeGLU, RoPE attention), ``local_attention`` (sliding window,
  local/global pattern), ``unpadding`` and ``model``.
"""

"""ModernBERT (chapter 15): ``config`` (transformers' names), ``local_attention`` (the sliding window and the
local/global layer pattern), ``unpadding`` (pack a padded batch's real tokens and back) and ``model``."""

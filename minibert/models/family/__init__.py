"""The rest of the family (chapter 14): ``causal_lm`` (a GPT-style decoder from BERT's blocks), ``xlm`` (translation
language modelling with language embeddings) and ``noise`` (T5's span corruption, BART's noise functions)."""

"""ALBERT (chapter 09): ``model`` (factorised embeddings, cross-layer sharing, sentence-order prediction) and
``parameter_tables`` (the paper's parameter counts, rebuilt on the meta device)."""

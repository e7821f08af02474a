"""Exercises of chapter 09 (ALBERT: factorised embeddings and cross-layer sharing).

09.1 the factorised table's size, 09.2 when factorising pays, 09.3 the encoder under each sharing mode (compute);
09.4 ALBERT's two ideas as a module that carries the library's weights (build); 09.5 what depth costs a shared model
(predict, then run).
"""
from . import albert, counts  # noqa: F401 (importing them registers the exercises)

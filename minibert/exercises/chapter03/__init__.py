"""Exercises of chapter 03 (the Transformer encoder and BERT): one post-LN encoder layer and BERT's input
embeddings built as torch modules, two parameter counts, and mean pooling.

03.1 and 03.2 are the chapter's builds: section 5 puts the learner's layer and embeddings into the real
all-MiniLM-L6-v2 (through :func:`minibert.core.swap.swap_in`, carrying its trained weights) and compares the outputs
with ``transformers``. The encoder layer may use the library's ``MultiHeadSelfAttention`` (chapter 01's exercise
01.5 builds that one): what 03.1 asks for is the block around it."""
from . import part1, part2  # noqa: F401 (importing them registers the exercises)

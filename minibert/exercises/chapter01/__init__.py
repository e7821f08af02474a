"""Exercises of chapter 01 (attention): a stable softmax, the causal mask, attention with masks in NumPy, the size
of an attention block, and multi-head self-attention as a torch module.

01.5 is the chapter's main build: the learner's module replaces every ``MultiHeadSelfAttention`` of the real
all-MiniLM-L6-v2 (section 6 of the chapter, through :func:`minibert.core.swap.swap_in`) and gives the same sentence
embeddings. Every check diagnoses without printing the answer."""
from . import part1, part2, part3  # noqa: F401 (importing them registers the exercises)

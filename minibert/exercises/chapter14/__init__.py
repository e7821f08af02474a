"""Exercises of chapter 14 (the family: GPT, T5, BART, XLM).

14.1 builds T5's span corruption from a noise mask; 14.2-14.4 are short computations; 14.5 builds sampled
generation (temperature, top-k) for a causal LM, run on the chapter's tiny GPT; 14.6 predicts what temperature does
to the variety of samples; 14.7 builds the T5 decoder's self- and cross-attention masks."""
from . import part1, part2  # noqa: F401 (importing them registers the exercises)

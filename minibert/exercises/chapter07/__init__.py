"""Exercises of chapter 07 (fine-tuning): extractive QA's span head and its loss built from scratch, the best valid
answer span, labels on first pieces, and entities from BIO tags.

07.1 (section 5) is swapped into the fine-tuned QA model of the chapter with :func:`~minibert.core.swap.swap_in`:
same logits, same loss, same answers as the library's head."""
from . import part1, part2, part3  # noqa: F401 (importing them registers the exercises)

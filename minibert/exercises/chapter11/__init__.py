"""Exercises of chapter 11 (SpanBERT and ELECTRA).

11.1-11.4 are short computations; 11.5 builds SpanBERT's span selection (run inside the library's ``Masker`` in the
chapter), 11.6 asks for a prediction about the span boundary objective in a whole model, 11.7 builds the SBO head's
forward pass (swapped into the chapter's SpanBERT)."""
from . import part1, part2, part3  # noqa: F401 (importing them registers the exercises)

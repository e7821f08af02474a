"""Exercises of chapter 02 (positions): the sinusoidal table, the matrix that moves it, Shaw's clipped index, T5's
buckets, where T5 starts sharing them, and Transformer-XL's relative shift.

The learner builds each mechanism; the chapter then runs the learner's pieces where the library uses them: the table
against ``transformers``' DistilBERT sinusoids (02.1), the clipped index inside Shaw attention (02.3) and the buckets
inside :class:`~minibert.core.relative_attention.T5RelativeBias` against ``transformers``' T5 attention (02.4)."""
from . import part1, part2  # noqa: F401 (importing them registers the exercises)

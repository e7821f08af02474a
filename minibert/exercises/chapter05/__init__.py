"""Exercises of chapter 05 (masked language modelling): a whole-word 80/10/10 masker built from scratch, the shares
of each treatment, BERT's prediction budget, word ids from WordPiece tokens, and the mean span length.

05.1 (section 4) is the build exercise: the chapter then masks real inputs with the learner's function, compares the
statistics with the library's ``Masker(unit="word")`` and feeds the batches to a pre-trained BERT's masked-LM loss."""
from . import part1, part2  # noqa: F401 (importing them registers the exercises)

"""Exercises of chapter 06 (pre-training): the warm-up-then-decay schedule, the optimiser of a pre-training run built
from scratch (BERT's two parameter groups, AdamW, the schedule), a label-smoothed target, and the loss of an
accumulated batch.

06.2 (section 3) is the build exercise: the chapter then runs the library's ``Trainer`` with the learner's
optimiser and schedule plugged in (``Trainer(..., optimization=answer)``) and compares the run with the default."""
from . import part1, part2  # noqa: F401 (importing them registers the exercises)

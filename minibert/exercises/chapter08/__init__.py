"""Exercises of chapter 08 (RoBERTa: the recipe and its details).

08.1 how often BERT's static masks repeat (compute), 08.2 RoBERTa's position ids (build), 08.3 bigger batches at the
same number of sequences (compute), 08.4 the masked-data pipeline with dynamic and static masking (build: the learner's
function then feeds the course's Trainer), 08.5 how many different masks a sentence meets (predict, then run).
"""
from . import pipeline, recipe  # noqa: F401 (importing them registers the exercises)

"""Exercises of chapter 10 (DistilBERT: temperature, the distillation loss, the student's layers).

10.1 a softmax with temperature (build), 10.2 DistilBERT's soft + hard loss at the masked positions (build: it then
trains a student through the library's Distiller), 10.3 which teacher layers the student keeps (build), 10.4 why half
the layers is not half the parameters (compute), 10.5 what temperature does to the soft targets and the loss (predict,
then run).
"""
from . import loss, parts  # noqa: F401 (importing them registers the exercises)

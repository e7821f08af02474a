"""Exercises of chapter 13 (DeBERTa): the scale, content-to-position by hand, log buckets, the table's size; the
disentangled scores built whole (13.5, run inside the chapter's DeBERTa-v2), and a prediction about what a
position term can still do when every pair reads the same distance (13.6)."""
from . import part1, part2  # noqa: F401 (importing them registers the exercises)

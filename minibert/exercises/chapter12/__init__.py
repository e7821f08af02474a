"""Exercises of chapter 12 (Transformer-XL and XLNet).

12.1 builds XLNet's two attention masks from a factorisation order, partial prediction included (the chapter runs
its tiny XLNet with them); 12.2-12.4 are short computations; 12.5 asks which predictions a changed token reaches."""
from . import part1, part2  # noqa: F401 (importing them registers the exercises)

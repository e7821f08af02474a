"""Exercises of chapter 04 (tokenizers): WordPiece's greedy encoder and a BPE trainer built from scratch, the
WordPiece score, BPE's encoding of a new word, text as byte symbols, and the unigram model's Viterbi segmentation.

04.1 (section 2) and 04.2 (section 5) are build exercises: the chapter then runs the learner's encoder on real text
against BERT's tokenizer, and the learner's trainer against ``train_bpe``. 04.3 (section 7) is one too: the chapter
runs the learner's Viterbi inside ``UnigramTokenizer`` against ``tokenizers``' Unigram model."""
from . import part1, part2, part3, part4  # noqa: F401 (importing them registers the exercises)

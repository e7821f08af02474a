"""Tokenizers from scratch: BERT's WordPiece tokenizer, WordPiece and BPE training, byte-level BPE."""
from .basic import BasicTokenizer
from .encoding import Encoding
from .wordpiece import WordPieceTokenizer, greedy_longest_match

"""Tokenizers from scratch: BERT's WordPiece tokenizer, WordPiece and BPE training, byte-level BPE."""
from .basic import BasicTokenizer
from .bpe import BPE, MergeStep, train_bpe
from .byte_level import ByteLevelBPETokenizer, bytes_to_unicode
from .encoding import Encoding
from .train_wordpiece import train_wordpiece
from .wordpiece import WordPieceTokenizer, greedy_longest_match

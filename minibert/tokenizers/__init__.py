"""Tokenizers from scratch: how text becomes the ids a BERT reads (chapter 04).

* :class:`WordPieceTokenizer`: BERT's tokenizer (basic tokenizer + greedy longest-match WordPiece), the same ids as
  ``transformers.BertTokenizer``; ``from_pretrained`` / ``save_pretrained`` read and write ``vocab.txt`` folders.
* :func:`train_wordpiece`: a WordPiece vocabulary by likelihood score count(ab) / (count(a) count(b)).
* :func:`train_bpe`: BPE by frequency (Sennrich et al., 2016), the same merges as ``tokenizers``' BpeTrainer.
* :class:`ByteLevelBPETokenizer`: GPT-2 / RoBERTa byte-level BPE, training and encoding.
* :class:`UnigramTokenizer`: the unigram language model (Kudo, 2018) of SentencePiece / ALBERT / T5: Viterbi
  segmentation and sampling, the same pieces as ``tokenizers``' Unigram model; ``tokenizer.json`` both ways.
* :func:`train_unigram`: a Unigram vocabulary by EM and likelihood-loss pruning.
* :func:`course_tokenizer`: the course's 4,096-token WordPiece tokenizer, used from chapter 05 on.
"""
from .basic import BasicTokenizer
from .bpe import BPE, MergeStep, count_words, train_bpe
from .byte_level import ByteLevelBPETokenizer, bytes_to_unicode
from .course import course_tokenizer
from .encoding import Encoding
from .train_unigram import train_unigram
from .train_wordpiece import train_wordpiece
from .unigram import UnigramTokenizer
from .wordpiece import WordPieceTokenizer, greedy_longest_match

__all__ = ["BasicTokenizer", "BPE", "MergeStep", "count_words", "train_bpe", "ByteLevelBPETokenizer",
           "bytes_to_unicode", "course_tokenizer", "Encoding", "train_wordpiece", "WordPieceTokenizer", "UnigramTokenizer",
           "train_unigram",
           "greedy_longest_match"]

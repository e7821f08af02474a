"""Masked language modelling inputs: which tokens to predict (token, whole-word and span masking), sentence-pair
builders (NSP, SOP) and RoBERTa's FULL-SENTENCES packing, and MLM's relation to left-to-right language modelling.

Everything here works on token ids and is tokenizer-agnostic; every random choice comes from a ``torch.Generator``.
"""
from .causal import mask_last_token
from .mlm import (IGNORE_INDEX, KEPT, MASKED, NOT_SELECTED, RANDOM, MaskedBatch, Masker, as_generator,
                  span_length_distribution)
from .pairs import SentencePair, check_documents, encode_pair, nsp_pairs, pack_full_sentences, sop_pairs
from .words import chinese_word_ids, is_special_token, jieba_segment, wordpiece_word_ids

__all__ = ["IGNORE_INDEX", "NOT_SELECTED", "MASKED", "RANDOM", "KEPT", "MaskedBatch", "Masker", "as_generator",
           "span_length_distribution", "mask_last_token", "SentencePair", "check_documents", "encode_pair",
           "nsp_pairs", "sop_pairs", "pack_full_sentences", "chinese_word_ids", "is_special_token", "jieba_segment",
           "wordpiece_word_ids"]

"""minibert: BERT and its offspring, built from scratch for the course "BERT and its offspring".

Every module implements one mechanism, opens with its equation and paper, and is tested against a NumPy
reference and against Hugging Face ``transformers`` with the same weights.
"""
from .bert import BertModel, BertOutput, mean_pool
from .config import BertConfig
from .deberta import DebertaV2Config, DebertaV2ForMaskedLM, DebertaV2Model
from .heads import BertForMaskedLM, BertForPreTraining, BertForSequenceClassification
from .params import count_parameters
from . import tokenizers  # noqa: E402  (minibert.tokenizers.WordPieceTokenizer, train_wordpiece, ...)

__version__ = "0.1.0"

__all__ = ["BertConfig", "BertModel", "BertOutput", "BertForMaskedLM", "BertForPreTraining",
           "BertForSequenceClassification", "DebertaV2Config", "DebertaV2Model", "DebertaV2ForMaskedLM",
           "count_parameters", "mean_pool", "__version__"]

"""minibert: BERT and its offspring, built from scratch for the course "BERT and its offspring".

Every module implements one mechanism, opens with its equation and paper, and is tested against a NumPy
reference and against Hugging Face ``transformers`` with the same weights.

The model classes are exported here; the mechanisms live in their modules (``minibert.attention``,
``minibert.positions``, ``minibert.tokenizers``, ``minibert.masking``, ``minibert.training``, ...).
"""
from . import tokenizers
from .albert import AlbertConfig, AlbertForMaskedLM, AlbertForPreTraining, AlbertModel
from .bert import BertModel, BertOutput, mean_pool
from .causal_lm import CausalLM
from .config import BertConfig
from .deberta import DebertaV2Config, DebertaV2ForMaskedLM, DebertaV2Model
from .distilbert import DistilBertConfig, DistilBertForMaskedLM, DistilBertModel
from .distillation import Distiller, distillation_loss
from .electra import Electra, ElectraConfig, ElectraDiscriminator, ElectraGenerator
from .finetuning import BertForQuestionAnswering, BertForTokenClassification
from .heads import BertForMaskedLM, BertForPreTraining, BertForSequenceClassification
from .params import count_parameters
from .roberta import RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification, RobertaModel
from .spanbert import SpanBertForPreTraining
from .transformer_xl import TransformerXL
from .xlm import XLMConfig, XLMModel
from .xlnet import XLNetConfig, XLNetLMHeadModel, XLNetModel

__version__ = "0.1.0"

__all__ = [
    "BertConfig", "BertModel", "BertOutput", "BertForMaskedLM", "BertForPreTraining", "BertForSequenceClassification",
    "BertForTokenClassification", "BertForQuestionAnswering",
    "RobertaConfig", "RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification",
    "AlbertConfig", "AlbertModel", "AlbertForMaskedLM", "AlbertForPreTraining",
    "DistilBertConfig", "DistilBertModel", "DistilBertForMaskedLM", "Distiller", "distillation_loss",
    "DebertaV2Config", "DebertaV2Model", "DebertaV2ForMaskedLM",
    "SpanBertForPreTraining", "ElectraConfig", "Electra", "ElectraGenerator", "ElectraDiscriminator",
    "TransformerXL", "XLNetConfig", "XLNetModel", "XLNetLMHeadModel", "CausalLM", "XLMConfig", "XLMModel",
    "count_parameters", "mean_pool", "tokenizers", "__version__",
]

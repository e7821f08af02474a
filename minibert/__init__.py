"""minibert: BERT and its offspring, built from scratch for the course "BERT and its offspring".

Every mechanism is implemented once, with its paper and equation in the docstring, and tested against a NumPy
reference and against Hugging Face ``transformers`` with the same weights. The model classes are exported here; the
package tree follows the course (``docs/architecture.md`` draws it):

========================  ==========================================================================================
chapter                   where its code lives
========================  ==========================================================================================
00 welcome                ``minibert.environment``
01 attention              ``minibert.core.attention``, ``minibert.reference`` (NumPy)
02 positions              ``minibert.core.positions``, ``minibert.core.relative_attention``,
                          ``minibert.models.transformer_xl``, ``minibert.reference.positions``
03 transformer and BERT   ``minibert.core`` (``transformer``, ``config``, ``outputs``, ``checkpoints``,
                          ``parameter_count``), ``minibert.models.elmo``, ``minibert.models.bert``
04 tokenizers             ``minibert.tokenizers``, ``minibert.reference.tokenizer_trainers``, ``minibert.corpus``
05 masked LM              ``minibert.masking`` (the masked-LM dataset: ``minibert.masking.dataset``)
06 pre-training           ``minibert.training`` (``trainer``, ``loop``, ``schedules``, ``pretrain``)
07 fine-tuning            ``minibert.training.finetuning``, ``minibert.training.tasks``
08 RoBERTa                ``minibert.models.roberta``, ``minibert.training.recipes``
09 ALBERT                 ``minibert.models.albert``
10 DistilBERT             ``minibert.models.distilbert``, ``minibert.reference.distillation``
11 SpanBERT and ELECTRA   ``minibert.models.spanbert``, ``minibert.models.electra``
12 Transformer-XL, XLNet  ``minibert.models.transformer_xl``, ``minibert.models.xlnet``
13 DeBERTa                ``minibert.models.deberta``
14 the family             ``minibert.models.family``, ``minibert.models.t5`` (T5 encoder-decoder)
15 ModernBERT             ``minibert.models.modernbert``
========================  ==========================================================================================

Widgets are in ``minibert.widgets``, exercises in ``minibert.exercises``.
"""
from . import tokenizers
from .core.config import BertConfig
from .core.parameter_count import count_parameters
from .models.albert.model import AlbertConfig, AlbertForMaskedLM, AlbertForPreTraining, AlbertModel
from .models.bert.heads import BertForMaskedLM, BertForPreTraining, BertForSequenceClassification
from .models.bert.model import BertModel, BertOutput, mean_pool
from .models.deberta.model import DebertaV2Config, DebertaV2ForMaskedLM, DebertaV2Model
from .models.distilbert.distillation import Distiller, distillation_loss
from .models.distilbert.model import DistilBertConfig, DistilBertForMaskedLM, DistilBertModel
from .models.electra import Electra, ElectraConfig, ElectraDiscriminator, ElectraGenerator
from .models.family.causal_lm import CausalLM
from .models.family.xlm import XLMConfig, XLMModel
from .models.modernbert.config import ModernBertConfig
from .models.modernbert.model import ModernBertForMaskedLM, ModernBertModel
from .models.roberta import RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification, RobertaModel
from .models.spanbert import SpanBertForPreTraining
from .models.t5 import T5Config, T5ForConditionalGeneration, T5Model
from .models.transformer_xl import TransformerXL, TransformerXLConfig
from .models.xlnet.config import XLNetConfig
from .models.xlnet.model import XLNetLMHeadModel, XLNetModel
from .training.finetuning import BertForQuestionAnswering, BertForTokenClassification

__version__ = "0.2.0"

__all__ = [
    "BertConfig", "BertModel", "BertOutput", "BertForMaskedLM", "BertForPreTraining", "BertForSequenceClassification",
    "BertForTokenClassification", "BertForQuestionAnswering",
    "RobertaConfig", "RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification",
    "AlbertConfig", "AlbertModel", "AlbertForMaskedLM", "AlbertForPreTraining",
    "DistilBertConfig", "DistilBertModel", "DistilBertForMaskedLM", "Distiller", "distillation_loss",
    "DebertaV2Config", "DebertaV2Model", "DebertaV2ForMaskedLM",
    "SpanBertForPreTraining", "ElectraConfig", "Electra", "ElectraGenerator", "ElectraDiscriminator",
    "TransformerXL", "TransformerXLConfig", "XLNetConfig", "XLNetModel", "XLNetLMHeadModel", "CausalLM",
    "XLMConfig", "XLMModel", "T5Config", "T5Model", "T5ForConditionalGeneration", "ModernBertConfig", "ModernBertModel",
    "ModernBertForMaskedLM",
    "count_parameters", "mean_pool", "tokenizers", "__version__",
]

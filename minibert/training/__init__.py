"""Training (chapters 06-08): the one training loop and everything that feeds it.

- :mod:`.trainer` (06): :class:`~minibert.training.trainer.Trainer` (AdamW, warm-up, accumulation, clipping,
  checkpoints swapped in whole);
- :mod:`.config` (06): :class:`~minibert.training.config.TrainingConfig`, validated when made;
- :mod:`.evaluation` (06): ``evaluate_mlm`` and the unigram baseline;
- :mod:`.loop` (06-12): ``apply_gradients``, the end of every optimiser step (it stops a run whose gradients are no
  longer finite), and ``fit``, the short loop of the fine-tuning tasks and the chapters' experiments;
- :mod:`.schedules` (06): warm-up then linear, cosine or constant decay;
- :mod:`.pretrain` (06): the pre-training command line, ``python -m minibert.training.pretrain``, and the helpers the
  chapter uses (``load_tokenizer``, ``build_datasets``, ``build_model``);
- :mod:`.finetuning` (07): token-classification and question-answering heads, span decoding and span F1;
- :mod:`.tasks` (07): four small fine-tuning tasks made from the course corpus;
- :mod:`.recipes` (08): RoBERTa's pre-training recipe as switches on the same loop;
- :mod:`.statistics` (07-11): Student's t quantiles and the paired seed-by-seed interval the experiments are read
  with.
"""
from .trainer import Trainer, TrainingConfig, distributed_context, evaluate_mlm, unigram_baseline

__all__ = ["TrainingConfig", "Trainer", "evaluate_mlm", "unigram_baseline", "distributed_context"]

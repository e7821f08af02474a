"""T5, the encoder-decoder of chapter 14 (Raffel et al., 2020): ``config`` (``T5Config``, transformers' names),
``blocks`` (the layers and stacks from the course's parts) and ``model`` (``T5Model``, ``T5ForConditionalGeneration``)."""
from .config import T5Config
from .model import T5ForConditionalGeneration, T5Model

__all__ = ["T5Config", "T5Model", "T5ForConditionalGeneration"]

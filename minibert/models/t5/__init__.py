"""T5, the encoder-decoder of chapter 14 (Raffel et al., 2020): ``config`` (``T5Config``, transformers' names),
``blocks`` (layers and stacks from the course's parts), ``model`` (``T5Model``, ``T5ForConditionalGeneration``) and
``span_data`` (character-level span corruption for the tiny model the chapter trains)."""
from .config import T5Config
from .model import T5ForConditionalGeneration, T5Model

__all__ = ["T5Config", "T5Model", "T5ForConditionalGeneration"]

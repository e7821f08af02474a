"""Counting parameters without allocating them: build the model on PyTorch's ``meta`` device.

A meta tensor has a shape and a dtype but no storage, so BERT-large (335M parameters, 1.3 GB in float32) is
"built" in milliseconds with no memory. The counts below are what the papers round to 110M and 340M.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

__all__ = ["count_parameters", "parameter_table", "PUBLISHED_SIZES"]

# name -> (config overrides of BertConfig, the figure the paper prints)
PUBLISHED_SIZES = {
    "BERT-base": ({}, "110M"),
    "BERT-large": ({"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
                    "intermediate_size": 4096}, "340M"),
}


def count_parameters(build: Callable[[], nn.Module] | nn.Module, trainable_only: bool = False) -> int:
    """Number of distinct parameters (tied matrices counted once).

    ``build`` is either a module or a zero-argument function that builds one; a function is run on the meta
    device, so nothing is allocated however large the model.
    """
    if isinstance(build, nn.Module):
        model = build
    elif callable(build):
        with torch.device("meta"):
            model = build()
    else:
        raise TypeError(f"count_parameters expects a module or a function that builds one, got {type(build).__name__}")
    seen, total = set(), 0
    for param in model.parameters():  # .parameters() already yields a shared Parameter once; ids make it explicit
        if id(param) in seen or (trainable_only and not param.requires_grad):
            continue
        seen.add(id(param))
        total += param.numel()
    return total


def parameter_table() -> list[dict]:
    """Exact parameter counts of the published BERT sizes next to the papers' rounded figures, with the split
    between embeddings, encoder layers and pooler."""
    from minibert.models.bert.model import BertModel
    from .config import BertConfig

    rows = []
    for name, (overrides, published) in PUBLISHED_SIZES.items():
        config = BertConfig(**overrides)
        with torch.device("meta"):
            model = BertModel(config)
        rows.append({
            "model": name,
            "L": config.num_hidden_layers, "H": config.hidden_size, "A": config.num_attention_heads,
            "embeddings": count_parameters(model.embeddings),
            "encoder": count_parameters(model.encoder),
            "pooler": count_parameters(model.pooler),
            "total": count_parameters(model),
            "published": published,
        })
    return rows

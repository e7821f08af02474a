"""Putting your own piece into a real model: the course's one mechanism for replacing a part.

A model is a tree of modules. :func:`swap_in` returns a copy of it in which every module of one type (say, every
:class:`~minibert.core.attention.MultiHeadSelfAttention`) is replaced by one you built, carrying the original's
trained weights. The replacement must use the same parameter names and shapes (each exercise's skeleton gives them)
and the same ``forward`` contract; nothing else in the model changes, so if the copy gives the same outputs as the
original, your piece computes what the library's does, on real weights and real text::

    mine = swap_in(model, MultiHeadSelfAttention, lambda old: MyAttention(old.num_heads * old.head_size, old.num_heads))
    torch.testing.assert_close(mine(**batch).last_hidden_state, model(**batch).last_hidden_state)

The original model is left untouched. Functions that are not modules (a masker, a tokenizer's encoder) need no
mechanism: the trainer and the tokenizer take them as arguments.
"""
from __future__ import annotations

import copy
from typing import Callable

from torch import nn

__all__ = ["swap_in"]


def swap_in(model: nn.Module, original: type, build: Callable[[nn.Module], nn.Module]) -> nn.Module:
    """A copy of ``model`` with every submodule of type ``original`` replaced by ``build(that_submodule)``, into
    which the submodule's weights are loaded (strictly: same names, same shapes). Modules shared between layers
    (ALBERT) stay shared: each original is replaced once."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"swap_in expects a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(original, type) or not issubclass(original, nn.Module):
        raise TypeError(f"`original` must be a module class such as MultiHeadSelfAttention, got {original!r}")
    if not callable(build):
        raise TypeError("`build` must be a function taking the module it replaces and returning yours")
    copied = copy.deepcopy(model)
    replaced: dict[int, nn.Module] = {}
    parents = [(name, module) for name, module in copied.named_modules(remove_duplicate=False)]
    for parent_name, parent in parents:
        for child_name, child in list(parent.named_children()):
            if type(child) is not original:
                continue
            if id(child) not in replaced:
                replaced[id(child)] = _rebuilt(child, build, f"{parent_name}.{child_name}".lstrip("."))
            setattr(parent, child_name, replaced[id(child)])
    if not replaced:
        raise ValueError(f"the model has no {original.__name__} to replace (module types in it: "
                         f"{sorted({type(m).__name__ for m in model.modules()})})")
    return copied


def _rebuilt(old: nn.Module, build: Callable[[nn.Module], nn.Module], where: str) -> nn.Module:
    new = build(old)
    if not isinstance(new, nn.Module):
        raise TypeError(f"`build` must return a torch.nn.Module, got {type(new).__name__} for {where}")
    expected = {k: tuple(v.shape) for k, v in old.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in new.state_dict().items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        shapes = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
        raise ValueError(
            f"your {type(new).__name__} cannot carry the weights of {where} ({type(old).__name__}): "
            + "; ".join(part for part in (
                f"missing {', '.join(f'{k} {expected[k]}' for k in missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
                f"shape of {', '.join(f'{k}: {got[k]} instead of {expected[k]}' for k in shapes)}" if shapes else "",
            ) if part)
            + ". Name and shape your parameters as the exercise's skeleton does.")
    new.load_state_dict(old.state_dict())
    new.train(old.training)
    return new

"""Fixtures the test modules share: one thread for tiny models, random weights far from their initial values, a
padded batch, and a model's ``transformers`` twin loaded from the checkpoint minibert saved.

The helpers are fixtures that return functions, so a test asks for them by name (``def test_x(randomize): ...``);
they are session-scoped so that module-scoped fixtures (a model pair built once per module) can use them too.
"""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """These models are tiny: a second thread buys nothing, and on a shared, busy machine two threads per process
    make their training loops many times slower. Restored after the module. A module opts in with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def randomize_weights(model: torch.nn.Module, seed: int, scale: float = 0.2,
                      norms_near_one: bool = False) -> torch.nn.Module:
    """Every weight drawn from N(0, scale^2), far from its initial value, so that a mixed-up tensor cannot hide.
    ``norms_near_one`` centres LayerNorm scales on 1: around 0 they wash the tokens' differences out, and two models
    could agree on near-constant outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            shift = float(norms_near_one and name.lower().endswith("norm.weight"))
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * scale + shift)
    return model


def padded_batch(config, batch: int = 4, seed: int = 0):
    """``(input_ids, token_type_ids, attention_mask)`` as long as the model allows, the first row full and the others
    padded to random lengths (at least 2 real tokens) with ``config.pad_token_id``; token types only on real tokens."""
    g = torch.Generator().manual_seed(seed)
    length = config.max_position_embeddings
    ids = torch.randint(0, config.vocab_size, (batch, length), generator=g)
    lengths = torch.randint(2, length + 1, (batch,), generator=g)
    lengths[0] = length
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    ids = ids.masked_fill(mask == 0, config.pad_token_id)
    types = torch.randint(0, max(config.type_vocab_size, 1), (batch, length), generator=g) * mask
    return ids, types, mask


def load_hf_twin(ours, hf_class, folder, attn: str | None = "eager"):
    """Save ``ours`` with minibert, load the folder with ``hf_class.from_pretrained`` and require that every weight
    found its place (no missing, unexpected or mis-shaped keys). Returns the twin in eval mode. ``attn=None`` for the
    classes that take no ``attn_implementation``."""
    ours.save_pretrained(folder)
    options = {"attn_implementation": attn} if attn else {}
    theirs, info = hf_class.from_pretrained(folder, output_loading_info=True, **options)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    return theirs.eval()


@pytest.fixture(scope="session")
def randomize():
    return randomize_weights


@pytest.fixture(scope="session")
def make_batch():
    return padded_batch


@pytest.fixture(scope="session")
def hf_twin():
    return load_hf_twin

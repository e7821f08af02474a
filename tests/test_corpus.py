"""The course corpus helpers: documents, held-out split, random windows for the left-to-right models."""
import pytest
import torch

from minibert.corpus import random_windows


def test_random_windows_are_slices_of_the_stream():
    stream = torch.arange(100)
    windows = random_windows(stream, 8, 5, torch.Generator().manual_seed(0))
    assert windows.shape == (5, 8)
    assert torch.equal(windows[:, 1:] - windows[:, :-1], torch.ones(5, 7, dtype=torch.long))
    again = random_windows(stream, 8, 5, torch.Generator().manual_seed(0))
    assert torch.equal(windows, again)


def test_random_windows_refuse_what_they_cannot_cut():
    with pytest.raises(ValueError, match="too few for windows of 8"):
        random_windows(torch.arange(8), 8, 1, torch.Generator())
    with pytest.raises(TypeError, match="1-D tensor"):
        random_windows(torch.zeros(2, 20), 8, 1, torch.Generator())

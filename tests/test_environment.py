"""setup(): seeds, threads, and the test command's one-thread override."""
import pytest
import torch

from minibert.environment import setup


def test_the_thread_override_wins_and_is_checked(monkeypatch):
    previous = torch.get_num_threads()
    try:
        monkeypatch.setenv("MINIBERT_THREADS", "1")
        setup(seed=0, threads=2)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("MINIBERT_THREADS", "two")
        with pytest.raises(ValueError, match="MINIBERT_THREADS must be a positive integer"):
            setup(seed=0)
        monkeypatch.delenv("MINIBERT_THREADS")
        setup(seed=0, threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)


def test_the_same_seed_gives_the_same_numbers():
    setup(seed=3)
    first = torch.randn(4)
    setup(seed=3)
    assert torch.equal(first, torch.randn(4))

"""ELMo (Peters et al., 2018, *Deep contextualized word representations*): contextual word vectors read off a
bidirectional LSTM language model, mixed across layers by a task:

    ELMo_k = gamma * sum_{j=0..L} s_j h_{k,j},      s = softmax(w)                  (Peters et al. 2018, eq. 1)

where ``h_{k,0}`` is the context-free vector of token ``k`` (repeated for the two directions) and, for
``j = 1..L``, ``h_{k,j} = [forward_j(t_1..t_k); backward_j(t_k..t_N)]`` concatenates the ``j``-th layer of a
left-to-right LSTM and of a right-to-left one. The two language models are trained together (section 3.1):

    sum_k  log p(t_k | t_1..t_{k-1})  +  log p(t_k | t_{k+1}..t_N)

sharing the token vectors and the output softmax; each direction has its own LSTMs. Only ``w`` (one weight per
layer) and the scale ``gamma`` belong to the task; the biLM stays frozen.

As in the paper (section 3.4) the LSTM layers have projections back to the token width and a residual connection
between layers. Unlike it, tokens are word pieces with a learned table instead of a character CNN, and the model is
tiny (the paper: 2 layers of 4,096 units with 512-wide projections, 10 epochs on the 1B Word Benchmark).

    >>> elmo = ElmoBiLM.from_pretrained("assets/elmo")
    >>> layers = elmo.layer_states(input_ids)         # (L + 1, batch, T, 2 * embedding_size)
    >>> vectors = ScalarMix(elmo.config.num_layers)(layers)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from minibert.core.checkpoints import CheckpointError, read_config, read_state_dict, refuse_to_replace
from minibert.core.config import POSITIVE, PROBABILITY, ConfigBase
from minibert.core.files import make_readable, replace_folder
from minibert.core.inputs import token_ids

__all__ = ["ElmoConfig", "ElmoBiLM", "ScalarMix"]


@dataclass
class ElmoConfig(ConfigBase):
    """The sizes of a small ELMo: token vectors ``embedding_size`` wide, ``num_layers`` LSTM layers of
    ``hidden_size`` units in each direction."""

    vocab_size: int
    embedding_size: int = 64
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.1

    field_checks: ClassVar[dict[str, Callable]] = {
        **dict.fromkeys(("vocab_size", "embedding_size", "hidden_size", "num_layers"), POSITIVE),
        "dropout": PROBABILITY,
    }


class _ProjectedLSTM(nn.Module):
    """One LSTM layer of ``hidden`` units whose outputs are projected back to the token width (section 3.4; the
    paper's LSTMs also feed the projection back into the recurrence, which torch's CPU kernels run slowly)."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(width, hidden, batch_first=True)
        self.projection = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(self.lstm(x)[0])


class ElmoBiLM(nn.Module):
    """A forward and a backward LSTM language model over shared token vectors and a shared (tied) softmax."""

    def __init__(self, config: ElmoConfig):
        super().__init__()
        self.config = config
        E, H = config.embedding_size, config.hidden_size
        self.embedding = nn.Embedding(config.vocab_size, E)
        self.forward_layers = nn.ModuleList(_ProjectedLSTM(E, H) for _ in range(config.num_layers))
        self.backward_layers = nn.ModuleList(_ProjectedLSTM(E, H) for _ in range(config.num_layers))
        self.dropout = nn.Dropout(config.dropout)
        self.output_bias = nn.Parameter(torch.zeros(config.vocab_size))  # the softmax's weights are the embedding

    def _check(self, input_ids: torch.Tensor) -> None:
        """Every row is read whole, so batch only sequences of equal length (no padding)."""
        token_ids(input_ids, self.config.vocab_size)

    def _run(self, layers: nn.ModuleList, x: torch.Tensor) -> list[torch.Tensor]:
        states, h = [], x
        for j, lstm in enumerate(layers):
            out = lstm(self.dropout(h))
            h = out + h if j > 0 else out  # residual connection between LSTM layers (section 3.4)
            states.append(h)
        return states

    def directional_states(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """``(x, forward, backward)``: token vectors ``(B, T, E)`` and, per layer, the forward states (position
        ``k`` has read ``t_1..t_k``) and the backward states (position ``k`` has read ``t_k..t_N``)."""
        self._check(input_ids)
        x = self.embedding(input_ids)
        forward = self._run(self.forward_layers, x)
        backward = [h.flip(1) for h in self._run(self.backward_layers, x.flip(1))]
        return x, forward, backward

    def layer_states(self, input_ids: torch.Tensor) -> torch.Tensor:
        """``(L + 1, B, T, 2E)``: layer 0 is ``[x; x]``, layer ``j`` is ``[forward_j; backward_j]``."""
        x, forward, backward = self.directional_states(input_ids)
        return torch.stack([torch.cat([x, x], -1)] + [torch.cat(pair, -1) for pair in zip(forward, backward)])

    def lm_losses(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean cross-entropy (nats per token) of the forward LM (predict ``t_{k+1}`` from ``t_1..t_k``) and of the
        backward LM (predict ``t_{k-1}`` from ``t_k..t_N``)."""
        _, forward, backward = self.directional_states(input_ids)
        if input_ids.shape[1] < 2:
            raise ValueError(f"the language-model losses need at least two tokens per sequence (one to read, one to "
                             f"predict), got {input_ids.shape[1]}")
        def loss(states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            logits = self.dropout(states) @ self.embedding.weight.T + self.output_bias
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return loss(forward[-1][:, :-1], input_ids[:, 1:]), loss(backward[-1][:, 1:], input_ids[:, :-1])

    def save_pretrained(self, folder: str | Path, overwrite: bool = False) -> Path:
        """``config.json`` + ``model.safetensors``, written whole (see :func:`minibert.core.files.replace_folder`);
        a folder holding another kind of checkpoint is refused unless ``overwrite=True``."""
        folder = Path(folder)
        refuse_to_replace(folder, "a elmo checkpoint", overwrite)  # the wording what_is_in uses
        text = json.dumps({"model_type": "elmo", **self.config.to_dict()}, indent=1) + "\n"
        tensors = {name: t.detach().contiguous() for name, t in self.state_dict().items()}

        def build(tmp: Path) -> None:
            (tmp / "config.json").write_text(text, encoding="utf-8")
            save_file(tensors, str(tmp / "model.safetensors"))
            for item in tmp.iterdir():
                make_readable(item)

        replace_folder(folder, build)
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> "ElmoBiLM":
        folder = Path(folder)
        if not (folder / "config.json").exists():
            raise FileNotFoundError(f"no ELMo checkpoint in {folder.name!r} (config.json missing): run "
                                    "`python scripts/train_tiny_elmo.py` to make assets/elmo/")
        settings = read_config(folder)
        found = settings.pop("model_type", "elmo")
        if found != "elmo":
            raise CheckpointError(f"{folder} is not an ELMo checkpoint (model_type {found!r})")
        try:
            config = ElmoConfig(**settings)
        except TypeError as err:
            raise CheckpointError(f"{folder / 'config.json'} does not describe an ELMo model: {err}") from None
        except ValueError as err:
            raise CheckpointError(f"{folder / 'config.json'}: {err}") from None
        model = cls(config)
        try:
            model.load_state_dict(read_state_dict(folder))
        except RuntimeError as err:
            first = str(err).split("\n\t")[1:2] or [str(err)]
            raise CheckpointError(f"the weights in {folder} do not fit the model its config.json describes "
                                  f"({first[0].strip()} ...); is config.json the one saved with these weights?") from None
        return model.eval()


class ScalarMix(nn.Module):
    """Eq. 1 of Peters et al. (2018): ``gamma * sum_j softmax(w)_j h_j`` over the biLM's ``L + 1`` layers.
    ``w`` starts at zero (an equal mix) and ``gamma`` at one; a task learns both."""

    def __init__(self, num_layers: int):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(num_layers + 1))
        self.gamma = nn.Parameter(torch.ones(()))

    def forward(self, layers: torch.Tensor) -> torch.Tensor:
        if layers.shape[0] != self.weights.shape[0]:
            raise ValueError(f"expected {self.weights.shape[0]} layers (the token layer and {self.weights.shape[0] - 1}"
                             f" LSTM layers) along the first axis, got {layers.shape[0]}")
        s = torch.softmax(self.weights, 0)
        return self.gamma * torch.einsum("j,j...->...", s, layers)

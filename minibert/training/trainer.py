r"""Pre-training a masked language model: AdamW, warm-up then decay, large batches by accumulation, clipping,
evaluation, and checkpoints that resume *exactly*.

One optimizer step sees a global batch of :math:`B` sequences. It is cut into micro-batches (gradient
accumulation: big effective batches on a small machine, as RoBERTa's 8K batches were) and, under
``torchrun``, shared between processes with DistributedDataParallel. The loss of a step is the mean over *all*
predicted tokens :math:`M` of the global batch,

.. math::  \mathcal{L} = \frac{1}{|M|}\sum_{t\in M} -\log p_\theta(x_t\mid\tilde x)
           = \sum_{\text{micro-batch } m} \frac{|M_m|}{|M|}\,\bar{\mathcal{L}}_m ,

so every micro-batch's mean loss is weighted by its share of the predictions. Because DDP *averages* gradients
over the :math:`W` processes, each process scales its part by :math:`W`. The result equals one process training
on the whole batch, up to floating-point summation order.

Reproducibility: the batch of step :math:`s` and the masks in it are functions of the seed and :math:`s` only
(see :mod:`minibert.masking.dataset`), and a checkpoint stores the model, the optimizer, the schedule, the random number
generators and the step, so stopping and resuming gives bit-for-bit the losses of an uninterrupted run.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from minibert.core.checkpoints import CheckpointError, PretrainedMixin, load_into, read_state_dict
from minibert.masking.dataset import MaskedLMDataset
from minibert.models.bert.heads import IGNORE_INDEX
from .loop import apply_gradients
from .schedules import DECAYS, warmup_decay_scheduler

__all__ = ["TrainingConfig", "Trainer", "evaluate_mlm", "unigram_baseline", "distributed_context"]


@dataclass
class TrainingConfig:
    """Hyper-parameters of a pre-training run. ``batch_size``: sequences per optimizer step over all processes;
    ``micro_batch_size``: sequences per forward pass on one process (default: the whole per-process share)."""

    steps: int = 300
    batch_size: int = 32
    micro_batch_size: int | None = None
    learning_rate: float = 1e-3
    warmup_steps: int = 30
    decay: str = "linear"
    weight_decay: float = 0.01
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-6
    max_grad_norm: float | None = 1.0
    label_smoothing: float = 0.0
    eval_every: int | None = None
    eval_batch_size: int = 64
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainingConfig.{name} must be a positive integer, got {value!r}")
        if self.micro_batch_size is not None and (not isinstance(self.micro_batch_size, int) or self.micro_batch_size < 1):
            raise ValueError(f"micro_batch_size must be a positive integer or None, got {self.micro_batch_size!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps={self.steps}], got {self.warmup_steps}")
        if self.decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {self.decay!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be > 0 or None, got {self.max_grad_norm}")
        self.adam_betas = tuple(self.adam_betas)

    # fields that change the trajectory: a checkpoint only resumes under the same values
    TRAJECTORY = ("batch_size", "learning_rate", "warmup_steps", "decay", "weight_decay", "adam_betas",
                  "adam_eps", "max_grad_norm", "label_smoothing", "seed", "steps")


def distributed_context() -> tuple[int, int]:
    """``(rank, world_size)``: ``(0, 1)`` unless ``torch.distributed`` was initialised (e.g. under torchrun)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _all_reduce(value: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        torch.distributed.all_reduce(value)
    return value


@torch.no_grad()
def evaluate_mlm(model, dataset: MaskedLMDataset, batch_size: int = 64, device=None) -> dict[str, float]:
    """Masked-token accuracy (the right token ranked first, or among the first five), mean cross-entropy and
    perplexity on ``dataset`` with its fixed (epoch-0) masks.

    Under 80-10-10 a tenth of the scored positions still show their own token, and a model learns early to copy
    it: ``accuracy`` counts those too (as BERT's papers do). ``mask_accuracy`` scores only the positions whose
    input is ``[MASK]``, the ones that need the context: read it to know whether a model uses its context."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    total_loss, correct, in_top5, count, masked_correct, masked_count = 0.0, 0, 0, 0, 0, 0
    mask_id = dataset.masker.mask_token_id
    for batch in dataset.evaluation_batches(batch_size):
        labels = batch["labels"].to(device)
        chosen = labels != IGNORE_INDEX
        logits = model(batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device),
                       positions=chosen).logits.float()
        target = labels[chosen]
        total_loss += float(F.cross_entropy(logits, target, reduction="sum"))
        best = logits.topk(min(5, logits.shape[-1]), dim=-1).indices
        correct += int((best[:, 0] == target).sum())
        in_top5 += int((best == target[:, None]).any(-1).sum())
        count += target.numel()
        shows_mask = batch["input_ids"].to(device)[chosen] == mask_id
        masked_correct += int((best[shows_mask, 0] == target[shows_mask]).sum())
        masked_count += int(shows_mask.sum())
    model.train(was_training)
    loss = total_loss / count
    return {"loss": loss, "accuracy": correct / count, "top5_accuracy": in_top5 / count,
            "perplexity": math.exp(loss), "predictions": count,
            "mask_accuracy": masked_correct / max(masked_count, 1)}


def unigram_baseline(train: MaskedLMDataset, test: MaskedLMDataset) -> dict:
    """The best context-free guess: always predict the training data's most frequent ordinary token. Also the
    perplexity of the (add-one smoothed) unigram distribution on the test predictions."""
    vocab_size = train.masker.vocab_size
    counts = torch.ones(vocab_size, dtype=torch.float64)  # add-one smoothing
    for block in train.blocks:
        counts += torch.bincount(torch.tensor(block), minlength=vocab_size).double()
    counts[train.masker.special_ids] = 0
    log_p = (counts / counts.sum()).log()
    best = int(counts.argmax())
    labels = torch.cat([b["labels"][b["labels"] != IGNORE_INDEX] for b in test.evaluation_batches(256)])
    return {"token_id": best, "accuracy": float((labels == best).double().mean()),
            "perplexity": math.exp(-float(log_p[labels].mean()))}


def _parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """BERT's AdamW groups: no weight decay on biases and LayerNorm weights."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.dim() < 2 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class Trainer:
    """Trains a ``BertForMaskedLM`` (or any model taking ``input_ids, attention_mask, labels, label_smoothing``
    and returning ``.loss``) on a :class:`~minibert.masking.dataset.MaskedLMDataset`.

    Runs the same on one process or under ``torchrun`` (call ``torch.distributed.init_process_group`` first; the
    model is wrapped in DistributedDataParallel). ``history`` holds one record per optimizer step:
    ``{"step", "loss", "lr"}`` plus ``eval_loss``/``eval_accuracy``/``eval_perplexity`` when evaluated.

    ``optimization(model, config) -> (optimizer, scheduler)`` replaces the default: AdamW over BERT's two parameter
    groups (:func:`_parameter_groups`) with :func:`~minibert.training.schedules.warmup_decay_scheduler`. The
    scheduler needs ``step()``, ``get_last_lr()`` and, for checkpoints, ``state_dict()`` (a ``LambdaLR`` has them);
    chapter 06 plugs the learner's own version in here.
    """

    def __init__(self, model: torch.nn.Module, train_data: MaskedLMDataset, config: TrainingConfig,
                 eval_data: MaskedLMDataset | None = None, device=None, progress: bool = True,
                 optimization: Callable[[torch.nn.Module, TrainingConfig], tuple] | None = None):
        self.rank, self.world = distributed_context()
        micro = config.micro_batch_size or config.batch_size // self.world
        if micro < 1 or config.batch_size % (self.world * micro):
            raise ValueError(f"batch_size={config.batch_size} must be a multiple of processes ({self.world}) x "
                             f"micro_batch_size ({micro})")
        self.micro_batch_size, self.accumulation = micro, config.batch_size // (self.world * micro)
        self.batches_per_epoch = len(train_data) // config.batch_size
        if self.batches_per_epoch == 0:
            raise ValueError(f"the training data has {len(train_data)} sequences, fewer than one batch of "
                             f"{config.batch_size}; lower batch_size or add text")
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.module = model.to(self.device)
        self.model = self.module
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = torch.nn.parallel.DistributedDataParallel(self.module, device_ids=ids)
        self.train_data, self.eval_data, self.config, self.progress = train_data, eval_data, config, progress
        if optimization is None:
            self.optimizer = torch.optim.AdamW(_parameter_groups(self.module, config.weight_decay),
                                               lr=config.learning_rate, betas=config.adam_betas, eps=config.adam_eps)
            self.scheduler = warmup_decay_scheduler(self.optimizer, config.warmup_steps, config.steps, config.decay)
        else:
            self.optimizer, self.scheduler = optimization(self.module, config)
        self.step = 0
        self.history: list[dict] = []

    # -- data ----------------------------------------------------------------------------------------------------
    def position(self, step: int | None = None) -> tuple[int, int]:
        """``(epoch, batch index in the epoch)`` of optimizer step ``step``: the data position, from the step alone."""
        step = self.step if step is None else step
        return divmod(step, self.batches_per_epoch)

    def micro_batches(self, step: int) -> list[dict[str, torch.Tensor]]:
        """This process's micro-batches of step ``step``: its contiguous share of the global batch."""
        epoch, index = self.position(step)
        indices = self.train_data.global_batches(self.config.batch_size, epoch)[index]
        share = self.config.batch_size // self.world
        mine = indices[self.rank * share:(self.rank + 1) * share]
        return [self.train_data.batch(mine[i:i + self.micro_batch_size], epoch)
                for i in range(0, len(mine), self.micro_batch_size)]

    # -- one optimizer step --------------------------------------------------------------------------------------
    def train_step(self) -> dict:
        self.model.train()
        batches = self.micro_batches(self.step)
        counts = [int((b["labels"] != IGNORE_INDEX).sum()) for b in batches]
        total = int(_all_reduce(torch.tensor(sum(counts), dtype=torch.float64, device=self.device), self.world))
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        for i, (batch, count) in enumerate(zip(batches, counts)):
            last = i == len(batches) - 1
            sync = contextlib.nullcontext() if last or self.world == 1 else self.model.no_sync()
            if count == 0:
                raise ValueError(f"a micro-batch of step {self.step} has no token to predict; use exact masking "
                                 "(at least one prediction per sequence) or larger micro-batches")
            with sync:
                extra = {k: v.to(self.device) for k, v in batch.items()
                         if k not in ("input_ids", "attention_mask", "labels")}  # e.g. token types, NSP labels
                out = self.model(batch["input_ids"].to(self.device), attention_mask=batch["attention_mask"].to(self.device),
                                 labels=batch["labels"].to(self.device), label_smoothing=self.config.label_smoothing,
                                 **extra)
                (out.loss * (count * self.world / total)).backward()
            loss_sum += out.loss.detach().double() * count
        loss = float(_all_reduce(loss_sum, self.world)) / total
        lr = self.scheduler.get_last_lr()[0]
        apply_gradients(self.module.parameters(), self.optimizer, self.scheduler, self.config.max_grad_norm)
        self.step += 1
        record = {"step": self.step, "loss": loss, "lr": lr}
        self.history.append(record)
        return record

    def evaluate(self) -> dict[str, float]:
        if self.eval_data is None:
            raise ValueError("no eval_data was given to the Trainer")
        return evaluate_mlm(self.module, self.eval_data, self.config.eval_batch_size, self.device)

    def train(self, steps: int | None = None, callback: Callable[["Trainer", dict], None] | None = None) -> list[dict]:
        """Train ``steps`` more optimizer steps (default: up to ``config.steps``); evaluate every ``eval_every``
        steps and at the end. ``callback(trainer, record)`` runs after every step (live plots, logging)."""
        from tqdm import tqdm

        end = self.config.steps if steps is None else min(self.config.steps, self.step + steps)
        bar = tqdm(total=self.config.steps, initial=self.step, desc="pre-training", ncols=90,
                   disable=not self.progress or self.rank != 0)
        while self.step < end:
            record = self.train_step()
            every = self.config.eval_every
            if self.eval_data is not None and ((every and self.step % every == 0) or self.step == self.config.steps):
                record.update({f"eval_{k}": v for k, v in self.evaluate().items() if k != "predictions"})
            bar.update(1)
            bar.set_postfix(loss=f"{record['loss']:.3f}")
            if callback is not None:
                callback(self, record)
        bar.close()
        return self.history

    # -- checkpoints ---------------------------------------------------------------------------------------------
    def save_checkpoint(self, folder) -> Path:
        """Model (a Hugging Face folder when the model supports it), optimizer, schedule, step, history, and
        every process's random number generator states."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.rank == 0:
            if isinstance(self.module, PretrainedMixin):
                self.module.save_pretrained(folder)
            else:
                torch.save(self.module.state_dict(), folder / "model.pt")
            torch.save({"step": self.step, "history": self.history, "world": self.world,
                        "config": dataclasses.asdict(self.config), "optimizer": self.optimizer.state_dict(),
                        "scheduler": self.scheduler.state_dict()}, folder / "training_state.pt")
        numpy_state = np.random.get_state()
        rng = {"torch": torch.get_rng_state(), "python": random.getstate(),
               "numpy": (numpy_state[0], torch.from_numpy(numpy_state[1].astype(np.int64)), *numpy_state[2:]),
               "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}
        torch.save(rng, folder / f"rng_rank{self.rank}.pt")
        if self.world > 1:
            torch.distributed.barrier()
        return folder

    def load_checkpoint(self, folder) -> None:
        """Resume from :meth:`save_checkpoint`'s folder; training then continues exactly where it stopped."""
        folder = Path(folder)
        if not (folder / "training_state.pt").is_file():
            raise CheckpointError(f"{folder} has no training_state.pt; is it a folder written by Trainer.save_checkpoint?")
        state = torch.load(folder / "training_state.pt", map_location="cpu", weights_only=True)
        saved = state["config"]
        changed = [f"{k}: {saved.get(k)!r} -> {getattr(self.config, k)!r}" for k in TrainingConfig.TRAJECTORY
                   if (tuple(saved.get(k)) if k == "adam_betas" else saved.get(k)) != getattr(self.config, k)]
        if changed:
            raise CheckpointError("the checkpoint was trained with other settings, so resuming would not continue "
                                  "the same run: " + "; ".join(changed))
        if state["world"] != self.world:
            raise CheckpointError(f"the checkpoint was written by {state['world']} process(es), this run has "
                                  f"{self.world}; the random states of dropout belong to the processes")
        if isinstance(self.module, PretrainedMixin):
            load_into(self.module, read_state_dict(folder), self.module.hf_key_rules, self.module.hf_ignore)
        else:
            self.module.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True))
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.history = state["step"], list(state["history"])
        rng_file = folder / f"rng_rank{self.rank}.pt"
        rng = torch.load(rng_file, weights_only=True)
        torch.set_rng_state(rng["torch"])
        random.setstate(rng["python"])
        name, keys, *rest = rng["numpy"]
        np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])

    def ranks_in_sync(self) -> float:
        """Largest difference of any parameter between processes (0.0 on one process): DDP keeps them equal."""
        if self.world == 1:
            return 0.0
        flat = torch.cat([p.detach().flatten() for p in self.module.parameters()])
        high, low = flat.clone(), flat.clone()
        torch.distributed.all_reduce(high, op=torch.distributed.ReduceOp.MAX)
        torch.distributed.all_reduce(low, op=torch.distributed.ReduceOp.MIN)
        return float((high - low).abs().max())

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
import os
import random
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from minibert.core.checkpoints import (CheckpointError, PretrainedMixin, checkpoint_files, load_into, read_state_dict,
                                       replace_folder)
from minibert.masking.dataset import MaskedLMDataset
from minibert.core.inputs import IGNORE_INDEX
from .loop import TrainingDiverged, apply_gradients, check_loss
from .config import TrainingConfig
from .evaluation import evaluate_mlm, unigram_baseline
from .schedules import warmup_decay_scheduler

__all__ = ["TrainingConfig", "Trainer", "evaluate_mlm", "unigram_baseline", "distributed_context"]


def distributed_context() -> tuple[int, int]:
    """``(rank, world_size)``: ``(0, 1)`` unless ``torch.distributed`` was initialised (e.g. under torchrun)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _all_reduce(value: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        torch.distributed.all_reduce(value)
    return value


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
        self.last_checkpoint: Path | None = None
        self.last_checkpoint_step: int | None = None

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
                check_loss(out.loss, self.step + 1)
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
            try:
                record = self.train_step()
            except TrainingDiverged as err:
                bar.close()
                last = (f"the last checkpoint saved is {self.last_checkpoint} (step {self.last_checkpoint_step}): "
                        "resume from it with load_checkpoint" if self.last_checkpoint else "no checkpoint was saved")
                raise TrainingDiverged(f"training stopped at step {self.step + 1}: {err.reason} The weights are "
                                       f"those of step {self.step}; {last}.") from None
            
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
    def save_checkpoint(self, folder, overwrite: bool = False) -> Path:
        """Model (a Hugging Face folder when the model supports it), optimizer, schedule, step, history, and
        every process's random number generator states.

        The folder is assembled beside its target and swapped in whole: a crash leaves the previous checkpoint
        complete. A folder holding a *later* step of a run, or something else than a training run, is refused
        unless ``overwrite=True``."""
        folder = Path(folder)
        if self.rank == 0:
            self._refuse_to_replace(folder, overwrite)
        staging = folder.parent / f".{folder.name}.step{self.step}.staging"
        if self.rank == 0:
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
        if self.world > 1:
            torch.distributed.barrier()
        numpy_state = np.random.get_state()
        rng = {"torch": torch.get_rng_state(), "python": random.getstate(),
               "numpy": (numpy_state[0], torch.from_numpy(numpy_state[1].astype(np.int64)), *numpy_state[2:]),
               "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}
        torch.save(rng, staging / f"rng_rank{self.rank}.pt")
        if self.world > 1:
            torch.distributed.barrier()
        if self.rank == 0:
            def build(tmp: Path) -> None:
                for item in staging.iterdir():
                    os.replace(item, tmp / item.name)
                if isinstance(self.module, PretrainedMixin):
                    config_dict, state = self.module.hf_checkpoint()
                    checkpoint_files(tmp, config_dict, state, self.module.hf_key_rules)
                else:
                    torch.save(self.module.state_dict(), tmp / "model.pt")
                torch.save({"step": self.step, "history": self.history, "world": self.world,
                            "config": dataclasses.asdict(self.config), "optimizer": self.optimizer.state_dict(),
                            "scheduler": self.scheduler.state_dict()}, tmp / "training_state.pt")

            try:
                replace_folder(folder, build, drop=("model.pt", "training_state.pt") + tuple(
                    f"rng_rank{r}.pt" for r in range(max(self.world, 64))))
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        if self.world > 1:
            torch.distributed.barrier()
        self.last_checkpoint, self.last_checkpoint_step = folder, self.step
        return folder

    def _refuse_to_replace(self, folder: Path, overwrite: bool) -> None:
        if overwrite or not folder.exists():
            return
        if not folder.is_dir():
            raise CheckpointError(f"{folder} exists and is not a folder")
        state_file = folder / "training_state.pt"
        if state_file.is_file():
            try:
                saved_step = torch.load(state_file, map_location="cpu", weights_only=True)["step"]
            except Exception:  # noqa: BLE001 (a damaged state: the caller decides with overwrite=True)
                raise CheckpointError(f"{state_file} cannot be read; pass overwrite=True to replace it") from None
            if saved_step > self.step:
                raise CheckpointError(f"{folder} holds step {saved_step} of a run, later than this step ({self.step})"
                                      "; saving would replace it with an earlier one. Choose another folder, resume "
                                      "from it, or pass overwrite=True.")
            return
        if any(folder.iterdir()):
            raise CheckpointError(f"{folder} already holds files that are not a training run; choose another "
                                  "folder, or pass overwrite=True to replace them")

    def load_checkpoint(self, folder) -> None:
        """Resume from :meth:`save_checkpoint`'s folder; training then continues exactly where it stopped."""
        folder = Path(folder)
        if not (folder / "training_state.pt").is_file():
            raise CheckpointError(f"{folder} has no training_state.pt; is it a folder written by Trainer.save_checkpoint?")
        try:
            state = torch.load(folder / "training_state.pt", map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 (unpickling errors of every kind)
            raise CheckpointError(f"{folder / 'training_state.pt'} cannot be read ({type(err).__name__}: {err})") from None
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
        self.last_checkpoint, self.last_checkpoint_step = folder, self.step

    def ranks_in_sync(self) -> float:
        """Largest difference of any parameter between processes (0.0 on one process): DDP keeps them equal."""
        if self.world == 1:
            return 0.0
        flat = torch.cat([p.detach().flatten() for p in self.module.parameters()])
        high, low = flat.clone(), flat.clone()
        torch.distributed.all_reduce(high, op=torch.distributed.ReduceOp.MAX)
        torch.distributed.all_reduce(low, op=torch.distributed.ReduceOp.MIN)
        return float((high - low).abs().max())

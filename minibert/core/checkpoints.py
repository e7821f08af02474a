"""Reading and writing Hugging Face checkpoint folders (``config.json`` + ``model.safetensors``).

minibert names its modules for reading (``encoder.layers.3.attention.query``) while Hugging Face keeps the names of
the original TensorFlow code (``encoder.layer.3.attention.self.query``). A model class lists the correspondence as
:class:`KeyRule` templates, and this module translates in both directions, checks shapes, and explains every
mismatch instead of loading half a model.

Safety: weights are read with ``safetensors`` or ``torch.load(weights_only=True)``; nothing is ever unpickled, and
a tensor with a NaN or an infinity is refused. A save is assembled beside its folder and swapped in whole
(:mod:`.files`); finding a folder by name, offline first, is :mod:`.locate`.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import torch

from .files import WEIGHT_FILES, atomic_write_text, make_readable, replace_folder, what_is_in
from .locate import PACKAGED_CHECKPOINTS, CheckpointError, resolve_checkpoint
from .transformer import init_weights

__all__ = [
    "KeyRule",
    "CheckpointError",
    "PACKAGED_CHECKPOINTS",
    "resolve_checkpoint",
    "read_state_dict",
    "read_config",
    "translate_keys",
    "load_into",
    "write_checkpoint",
    "checkpoint_files",
    "replace_folder",
    "atomic_write_text",
    "refuse_to_replace",
    "prefixed_rules",
    "BUFFER_KEYS",
    "PretrainedMixin",
]

# Buffers that transformers saves in some checkpoints and minibert computes instead: fine to drop when loading.
BUFFER_KEYS = (r"position_ids$", r"token_type_ids$")

@dataclass(frozen=True)
class KeyRule:
    """``hf`` and ``ours`` are key prefixes; ``{i}`` stands for a layer number. When several rules match a key,
    the one with the longest prefix wins, so a general rule and a more specific one can sit side by side."""

    hf: str
    ours: str

    def _regex(self, template: str) -> re.Pattern:
        return re.compile("^" + re.escape(template).replace(r"\{i\}", r"(?P<i>\d+)"))

    def apply(self, key: str, to_hf: bool) -> str | None:
        source, target = (self.ours, self.hf) if to_hf else (self.hf, self.ours)
        match = self._regex(source).match(key)
        if match is None:
            return None
        prefix = target.replace("{i}", match.group("i")) if "{i}" in target else target
        return prefix + key[match.end():]


def translate_keys(keys: Iterable[str], rules: list[KeyRule], to_hf: bool) -> dict[str, str]:
    """Map each key through the most specific rule (longest matching prefix); unmatched keys map to themselves."""
    out = {}
    for key in keys:
        best, best_len = key, -1
        for rule in rules:
            new = rule.apply(key, to_hf)
            source_len = len(rule.ours if to_hf else rule.hf)
            if new is not None and source_len > best_len:
                best, best_len = new, source_len
        out[key] = best
    return out


# -- reading and writing weights -----------------------------------------------------------------------------------
def read_state_dict(folder: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint folder, with legacy ``LayerNorm.gamma/beta`` renamed to ``weight/bias``. A file that
    cannot be parsed, or a tensor with a NaN or an infinity, is refused with the file's path."""
    folder = Path(folder)
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        path = folder / "model.safetensors"
        try:
            state = load_file(str(path))
        except Exception as err:  # SafetensorError, OSError: the file is damaged or not a safetensors file
            raise CheckpointError(f"{path} cannot be read as safetensors ({type(err).__name__}: {err}); the file "
                                  "is damaged or incomplete: save the model again or restore the folder") from None
    elif (folder / "pytorch_model.bin").is_file():
        path = folder / "pytorch_model.bin"
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 (unpickling errors of every kind)
            raise CheckpointError(f"{path} cannot be read as a torch state dict ({type(err).__name__}: {err}); "
                                  "only plain tensors load (weights_only=True)") from None
        if not isinstance(state, dict) or not all(isinstance(t, torch.Tensor) for t in state.values()):
            raise CheckpointError(f"{path} does not hold a dict of tensors")
    else:
        raise CheckpointError(f"{folder} has none of {', '.join(WEIGHT_FILES)}")
    bad = [key for key, tensor in state.items() if tensor.is_floating_point() and not bool(tensor.isfinite().all())]
    if bad:
        raise CheckpointError(f"{path} holds NaN or infinite values in {len(bad)} tensor(s): "
                              f"{', '.join(bad[:6])}{' ...' if len(bad) > 6 else ''}; these weights come from a "
                              "training run that diverged: load an earlier checkpoint")
    renamed = {}
    for key, tensor in state.items():
        key = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", key)
        key = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", key)
        renamed[key] = tensor
    return renamed


def read_config(folder: str | os.PathLike) -> dict:
    """``config.json`` of a checkpoint folder as a dict; a parse error names the file."""
    path = Path(folder) / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CheckpointError(f"{path} does not exist; a checkpoint folder needs config.json") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path} is not valid JSON ({err}); the file is damaged: save the model again") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} holds a JSON {type(data).__name__}, not an object of settings")
    return data


def prefixed_rules(rules: list[KeyRule], hf: str = "", ours: str = "") -> list[KeyRule]:
    """The same rules one level down: ``prefixed_rules(BERT_KEY_RULES, hf="roberta.", ours="bert.")`` maps an
    encoder's keys inside a model with a head (HF calls the encoder ``roberta``, minibert ``bert``)."""
    return [KeyRule(hf + rule.hf, ours + rule.ours) for rule in rules]


def load_into(model: torch.nn.Module, hf_state: dict[str, torch.Tensor], rules: list[KeyRule],
              ignore: Iterable[str] = ()) -> None:
    """Copy a Hugging Face state dict into ``model``; raise :class:`CheckpointError` listing every problem.

    ``ignore``: regexes for checkpoint keys that are fine to drop (buffers, heads this model does not have).
    """
    ours = model.state_dict()
    mapping = translate_keys(hf_state.keys(), rules, to_hf=False)
    ignore_re = [re.compile(p) for p in ignore]
    incoming, unexpected, misshaped = {}, [], []
    for hf_key, our_key in mapping.items():
        if our_key not in ours:
            if not any(p.search(hf_key) for p in ignore_re):
                unexpected.append(hf_key)
            continue
        tensor = hf_state[hf_key]
        if tuple(tensor.shape) != tuple(ours[our_key].shape):
            misshaped.append(f"{hf_key}: checkpoint {tuple(tensor.shape)} vs model {tuple(ours[our_key].shape)}")
            continue
        incoming[our_key] = tensor
    missing = [k for k in ours if k not in incoming]
    if missing or unexpected or misshaped:
        hf_names = translate_keys(missing, rules, to_hf=True)
        lines = [f"the checkpoint does not match {type(model).__name__}:"]
        if missing:
            lines.append(f"  missing from the checkpoint ({len(missing)}): " + ", ".join(hf_names[k] for k in missing[:12])
                         + (" ..." if len(missing) > 12 else ""))
        if unexpected:
            lines.append(f"  not used by the model ({len(unexpected)}): " + ", ".join(unexpected[:12])
                         + (" ..." if len(unexpected) > 12 else ""))
        if misshaped:
            lines.append(f"  wrong shape ({len(misshaped)}): " + "; ".join(misshaped[:12]))
        lines.append("  Is the config.json the one saved with these weights, and is this the right model class?")
        raise CheckpointError("\n".join(lines))
    model.load_state_dict({k: v.to(ours[k].dtype) for k, v in incoming.items()}, strict=False)


def checkpoint_files(folder: Path, config_dict: dict, state: dict[str, torch.Tensor], rules: list[KeyRule]) -> None:
    """Write ``model.safetensors`` and ``config.json`` into an existing, fresh folder (no swap: see
    :func:`write_checkpoint`). Weights with a NaN or an infinity are refused."""
    from safetensors.torch import save_file

    names = translate_keys(list(state), rules, to_hf=True)
    tensors = {hf: state[ours_key].detach().to("cpu").contiguous().clone() for ours_key, hf in names.items()}
    bad = [hf for hf, tensor in tensors.items() if tensor.is_floating_point() and not bool(tensor.isfinite().all())]
    if bad:
        raise CheckpointError(f"refusing to save weights with NaN or infinite values ({', '.join(bad[:6])}"
                              f"{' ...' if len(bad) > 6 else ''}): the training run diverged")
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(config_dict, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name in ("model.safetensors", "config.json"):
        make_readable(folder / name)


def refuse_to_replace(folder: Path, what: str, overwrite: bool) -> None:
    """Raise unless ``folder`` is absent, holds no artefact, or holds ``what`` already (or ``overwrite`` is set)."""
    holding = what_is_in(folder) if folder.is_dir() else None
    if holding is not None and holding != what and not overwrite:
        raise CheckpointError(f"{folder} already holds {holding}; saving {what} there would replace it. Choose "
                              "another folder, or pass overwrite=True to replace it.")


def write_checkpoint(folder: str | os.PathLike, config_dict: dict, state: dict[str, torch.Tensor],
                     rules: list[KeyRule], overwrite: bool = False) -> Path:
    """Save ``config.json`` and ``model.safetensors`` with Hugging Face key names. A key no rule maps is not written
    (a tied copy, such as an MLM decoder that is the token embedding table, has no rule).

    The folder is written beside its target and swapped in whole, so a crash leaves the previous save loadable and
    the weights never sit beside another save's config. A folder holding another model type's checkpoint or a
    training run is refused unless ``overwrite=True``; other files in it (a tokenizer) are kept; a weight file of the
    other format (``pytorch_model.bin``) is dropped, so it cannot be loaded by mistake later."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"{folder} exists and is not a folder")
    refuse_to_replace(folder, f"a {config_dict.get('model_type') or 'model'} checkpoint", overwrite)
    replace_folder(folder, lambda tmp: checkpoint_files(tmp, config_dict, state, rules))
    return folder


class PretrainedMixin:
    """Gives a model ``from_pretrained`` / ``save_pretrained`` from a few class attributes:

    ``config_class`` (with ``from_dict``/``to_hf_dict``), ``hf_architecture`` (the ``transformers`` class name),
    ``hf_key_rules`` (:class:`KeyRule` list), ``hf_ignore`` (regexes of checkpoint keys to drop silently) and, for
    an encoder, ``hf_base_prefix``: the prefix a checkpoint saved with a head puts before the encoder's keys
    (``"bert."``, ``"roberta."``), stripped here so that a bare encoder loads from any checkpoint of its family.
    A model whose checkpoint tensors need reshaping overrides ``_hf_state_for_loading``.

    A model made of an encoder and heads builds itself with :meth:`assemble`, the one head constructor.
    """

    config_class = None
    hf_architecture = ""
    hf_key_rules: list[KeyRule] = []
    hf_ignore: tuple[str, ...] = ()
    hf_base_prefix = ""
    encoder_attribute = "bert"  # where assemble() puts the encoder (DeBERTa's checkpoints call it "deberta")

    @classmethod
    def check_config(cls, config) -> None:
        """Refuse a config of another family: a model is built from its ``config_class`` (or a subclass of it)."""
        if not isinstance(config, cls.config_class):
            raise TypeError(f"{cls.__name__} is built from its own config class, {cls.config_class.__name__}; "
                            f"got {type(config).__name__}")

    def assemble(self, config, encoder: torch.nn.Module, **heads: torch.nn.Module) -> None:
        """Keep ``config``, put ``encoder`` (which initialised itself) under ``encoder_attribute`` and add ``heads``
        (:meth:`add_heads`). Build the parts in the call, encoder first: their random draws then come in the same
        order in every model."""
        self.config = config
        setattr(self, self.encoder_attribute, encoder)
        self.add_heads(**heads)

    def add_heads(self, **heads: torch.nn.Module) -> None:
        """Each head as an attribute of that name, given BERT's initialisation (:func:`~.transformer.init_weights`)."""
        for name, head in heads.items():
            setattr(self, name, head)
        init_weights(*heads.values(), std=self.config.initializer_range)

    @classmethod
    def _hf_state_for_loading(cls, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        prefix = cls.hf_base_prefix
        if prefix and any(key.startswith(prefix) for key in state):
            return {key.removeprefix(prefix): tensor for key, tensor in state.items()}
        return state

    @classmethod
    def from_pretrained(cls, path_or_name, local_files_only: bool | None = None, ignore_model_type: bool = False,
                        **config_overrides):
        """Build the model from a checkpoint folder or a name (see :func:`resolve_checkpoint`), in eval mode.

        A checkpoint of another model type (a RoBERTa folder given to ``BertModel``) is refused, naming both;
        ``ignore_model_type=True`` loads it anyway when the weights fit."""
        folder = resolve_checkpoint(path_or_name, local_files_only)
        config_data = read_config(folder)
        try:
            config = cls.config_class.from_dict({**config_data, **config_overrides})
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"{folder / 'config.json'}: {err}") from None
        found = config_data.get("model_type")
        expected = config.to_hf_dict(cls.hf_architecture).get("model_type")
        if found and expected and found != expected and not ignore_model_type:
            raise CheckpointError(f"{folder} holds a {found!r} checkpoint but {cls.__name__} is a {expected!r} model; "
                                  f"load it with the {found} class, or pass ignore_model_type=True to load the "
                                  "weights anyway")
        with torch.device("meta"):
            model = cls(config)
        model = model.to_empty(device="cpu")
        load_into(model, cls._hf_state_for_loading(read_state_dict(folder)), cls.hf_key_rules, cls.hf_ignore)
        model.source_folder = folder
        return model.eval()

    def _extra_hf_config(self) -> dict:
        """Keys a head adds to config.json (e.g. ``id2label`` for a classifier)."""
        return {}

    def hf_checkpoint(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """``(config.json's dict, state dict)`` as they are saved; a model whose tensors change shape on the way
        (XLNet) overrides this."""
        if getattr(self.config, "norm_position", "post") == "pre":  # minibert's own variant (chapter 03)
            warnings.warn("saving a pre-LN model: minibert's from_pretrained reads it back, but transformers' BERT "
                          "classes have no pre-LN option and would load it as post-LN (ignoring encoder.final_norm)",
                          UserWarning, stacklevel=3)
        return {**self.config.to_hf_dict(self.hf_architecture), **self._extra_hf_config()}, self.state_dict()

    def save_pretrained(self, folder, overwrite: bool = False) -> Path:
        """Write a folder that ``transformers.<hf_architecture>.from_pretrained`` (and this class) can load; see
        :func:`write_checkpoint` for what is refused without ``overwrite=True``."""
        config_dict, state = self.hf_checkpoint()
        return write_checkpoint(folder, config_dict, state, self.hf_key_rules, overwrite)

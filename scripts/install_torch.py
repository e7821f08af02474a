"""Install torch into the course's environment, choosing the build that fits the machine.

    python scripts/install_torch.py torch==2.13.0       # what course.sh runs when no torch is installed yet

PyPI's torch wheel for Linux x86-64 is a CUDA build: with its nvidia-* dependencies about 3 GB, of no use on a
laptop without an NVIDIA GPU. So the choice (one pure function, :func:`plan`, unit-tested in
``tests/test_install_torch.py`` without a network):

* Linux (WSL included) without an NVIDIA GPU: the CPU build, from PyTorch's CPU wheel index;
* Linux with an NVIDIA GPU (``nvidia-smi`` answers, or the driver is loaded): the default index's CUDA build;
* PyTorch's CPU index not reachable (a closed network, a proxy): the default index, with a loud message that says
  what that means;
* macOS and Windows: the default index, as pip would (their PyPI wheels are already CPU/MPS builds);
* ``MINIBERT_TORCH_INDEX=URL`` set: that index, whatever the machine (CI uses it).

Standard library only: it runs before anything else is installed.
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class Machine:
    system: str          # platform.system(): "Linux", "Darwin", "Windows"
    nvidia_gpu: bool
    cpu_index_reachable: bool


@dataclass(frozen=True)
class Plan:
    pip_args: list[str]  # what follows `python -m pip install`
    message: str         # what the learner is told
    loud: bool           # True when the learner should notice (a multi-GB download may follow)


def plan(machine: Machine, spec: str = "torch==2.13.0", explicit_index: str | None = None) -> Plan:
    """The pip arguments that install ``spec`` on ``machine``, and what to tell the learner about it."""
    if explicit_index:
        return Plan(["--index-url", explicit_index, spec],
                    f"installing {spec} from {explicit_index} (MINIBERT_TORCH_INDEX)", loud=False)
    if machine.system != "Linux":
        return Plan([spec], f"installing {spec} from the default index ({machine.system}: its wheel is the "
                            f"CPU build)", loud=False)
    if machine.nvidia_gpu:
        return Plan([spec], f"installing {spec} from the default index: an NVIDIA GPU is present, so the CUDA "
                            f"build (several GB) is the one to use", loud=False)
    if machine.cpu_index_reachable:
        return Plan(["--index-url", CPU_INDEX, spec],
                    f"installing the CPU build of {spec} from {CPU_INDEX} (no NVIDIA GPU here)", loud=False)
    return Plan([spec], f"PyTorch's CPU index ({CPU_INDEX}) could not be reached, so {spec} comes from the default "
                        f"index instead. On Linux that is usually the CUDA build: about 3 GB to download, and "
                        f"it works on the CPU too. To get the small CPU build later, reach that index and run: "
                        f"{sys.executable} -m pip install --force-reinstall --index-url {CPU_INDEX} {spec}",
                loud=True)


def has_nvidia_gpu() -> bool:
    if Path("/proc/driver/nvidia/version").exists():
        return True
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def index_reachable(url: str = CPU_INDEX, timeout: float = 8.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/torch/", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def detect(system: str | None = None) -> Machine:
    system = system or platform.system()
    if system != "Linux":
        return Machine(system, nvidia_gpu=False, cpu_index_reachable=False)
    gpu = has_nvidia_gpu()
    return Machine(system, nvidia_gpu=gpu, cpu_index_reachable=False if gpu else index_reachable())


def loud(text: str) -> None:
    line = "#" * 90
    print(f"\n{line}\n#  {text}\n{line}\n", file=sys.stderr)


def main(argv: list[str]) -> int:
    spec = argv[0] if argv else "torch==2.13.0"
    chosen = plan(detect(), spec, os.environ.get("MINIBERT_TORCH_INDEX") or None)
    (loud if chosen.loud else lambda text: print(f"==> {text}", flush=True))(chosen.message)
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *chosen.pip_args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

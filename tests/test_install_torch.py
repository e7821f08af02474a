"""course.sh installs the torch build that fits the machine: the decision, tested without a network.

The cases of the README: Linux without an NVIDIA GPU gets the CPU build from PyTorch's CPU index; Linux with one gets
the default index's CUDA build; an unreachable CPU index falls back to the default index, loudly; macOS and Windows
get what pip gives them; an explicit index wins.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("install_torch", ROOT / "scripts" / "install_torch.py")
install_torch = importlib.util.module_from_spec(_spec)
sys.modules["install_torch"] = install_torch
_spec.loader.exec_module(install_torch)
Machine, plan, CPU_INDEX = install_torch.Machine, install_torch.plan, install_torch.CPU_INDEX


def test_linux_without_gpu_takes_the_cpu_build_from_the_cpu_index():
    chosen = plan(Machine("Linux", nvidia_gpu=False, cpu_index_reachable=True), "torch==2.13.0")
    assert chosen.pip_args == ["--index-url", CPU_INDEX, "torch==2.13.0"]
    assert not chosen.loud and "CPU build" in chosen.message


def test_linux_with_an_nvidia_gpu_takes_the_default_cuda_build():
    chosen = plan(Machine("Linux", nvidia_gpu=True, cpu_index_reachable=True), "torch==2.13.0")
    assert chosen.pip_args == ["torch==2.13.0"]
    assert "CUDA" in chosen.message and not chosen.loud


def test_unreachable_cpu_index_falls_back_to_the_default_index_and_says_so_loudly():
    chosen = plan(Machine("Linux", nvidia_gpu=False, cpu_index_reachable=False), "torch==2.13.0")
    assert chosen.pip_args == ["torch==2.13.0"]
    assert chosen.loud
    assert "could not be reached" in chosen.message and "3 GB" in chosen.message and CPU_INDEX in chosen.message


@pytest.mark.parametrize("system", ["Darwin", "Windows"])
def test_macos_and_windows_install_as_pip_would(system):
    chosen = plan(Machine(system, nvidia_gpu=False, cpu_index_reachable=False), "torch>=2.13")
    assert chosen.pip_args == ["torch>=2.13"]
    assert not chosen.loud and system in chosen.message


def test_an_explicit_index_wins_on_every_machine():
    for machine in [Machine("Linux", True, True), Machine("Linux", False, False), Machine("Darwin", False, False)]:
        chosen = plan(machine, "torch", explicit_index="https://example.invalid/whl/cpu")
        assert chosen.pip_args == ["--index-url", "https://example.invalid/whl/cpu", "torch"]


def test_detection_on_macos_asks_no_network(monkeypatch):
    monkeypatch.setattr(install_torch, "index_reachable", lambda *a, **k: pytest.fail("probed the network"))
    assert install_torch.detect("Darwin") == Machine("Darwin", nvidia_gpu=False, cpu_index_reachable=False)


def test_an_unreachable_index_is_reported_as_such_not_raised():
    # a reserved name that never resolves: the probe must answer False quickly instead of raising
    assert install_torch.index_reachable("http://minibert-no-such-host.invalid/whl", timeout=2) is False


def test_course_sh_installs_torch_through_the_chooser():
    commands = [line.strip() for line in (ROOT / "course.sh").read_text().splitlines()
                if not line.lstrip().startswith("#")]
    assert any(line.startswith('"$VENV/bin/python" scripts/install_torch.py') for line in commands), (
        "course.sh must install torch through scripts/install_torch.py")
    assert not any("pip install" in line and "TORCH_SPEC" in line for line in commands), "torch installed directly"
    result = subprocess.run(["bash", "-n", str(ROOT / "course.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

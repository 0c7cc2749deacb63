"""Scaffolding shared by the benchmark scripts: process memory from /proc, and the machine's CPU.

The scripts run as ``python benchmarks/bench_x.py``, so this folder is on ``sys.path`` and they
import ``from _common import ...``.
"""
from __future__ import annotations

from pathlib import Path


def vm(key: str) -> float:
    """A ``/proc/self/status`` memory figure (``VmRSS``, ``VmHWM`` ...) in MiB; NaN where there is none."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024  # kB -> MiB
    return float("nan")


def reset_peak() -> bool:
    """Reset this process's peak resident memory (``VmHWM``); False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_name() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` ("unknown CPU" elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"

"""Pin OpenBLAS's kernel family, so the MLP members give the same bits on every x86-64 machine.

numpy's OpenBLAS chooses its kernels from the CPU when numpy is imported: the SkylakeX kernels
on a CPU with AVX-512, the Haswell kernels (or the Zen ones, the same code) on other AVX2 CPUs.
They add a matrix-vector product's float32 terms in different orders. So the low-latency
members' probabilities, and with them a replay's ledger digest, differed between machines.
Measured with `bench/replay.py` on the ETH file on one AMD EPYC with AVX-512: 082f9abb… with
its own SkylakeX kernels (as on an Intel Sapphire Rapids), dae9cc50… with Haswell or Zen
kernels, at the same speed.

`pin_blas_kernels` sets `OPENBLAS_CORETYPE=Haswell` on x86-64 CPUs that have AVX2 and FMA,
before numpy loads OpenBLAS. `trader/__init__.py` calls it, so every entry point gets it: the
CLI, the bench scripts and the tests. It leaves alone:
- an `OPENBLAS_CORETYPE` the user set;
- other CPUs (aarch64, x86 without AVX2): their kernels are their own, and so are their bits;
- a process that imported numpy before trader. Setting it then would only change the children
  of that process, so the parent and its children would disagree. `blas_threads` logs the
  kernels it finds instead.

torch's own kernels (the sequence members) are not affected.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path

CORE_TYPE_VARIABLE = "OPENBLAS_CORETYPE"
PINNED_CORE = "Haswell"
REQUIRED_CPU_FLAGS = frozenset({"avx2", "fma"})
X86_64_MACHINES = frozenset({"x86_64", "AMD64"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """Return the first CPU's feature flags (empty where /proc/cpuinfo cannot be read)."""
    try:
        with cpuinfo.open() as lines:
            for line in lines:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def takes_pinned_kernels(
    machine: Callable[[], str] = platform.machine,
    flags: Callable[[], frozenset[str]] = cpu_flags,
) -> bool:
    """Return whether this CPU runs the pinned kernels: x86-64 with AVX2 and FMA."""
    return machine() in X86_64_MACHINES and REQUIRED_CPU_FLAGS <= flags()


def pin_blas_kernels(
    environ: MutableMapping[str, str] = os.environ,
    *,
    machine: Callable[[], str] = platform.machine,
    flags: Callable[[], frozenset[str]] = cpu_flags,
    modules: Mapping[str, object] = sys.modules,
) -> str | None:
    """Choose the Haswell kernels for the OpenBLAS numpy will load, where that is safe.

    Return the kernel family that this sets or that the user set, or None where nothing is
    pinned.
    """
    if CORE_TYPE_VARIABLE in environ:
        return environ[CORE_TYPE_VARIABLE]
    if "numpy" in modules:
        return None
    if not takes_pinned_kernels(machine, flags):
        return None
    environ[CORE_TYPE_VARIABLE] = PINNED_CORE
    return PINNED_CORE

"""OpenBLAS's kernels are pinned on x86-64 with AVX2, so the MLP members' bits are the machine's
no longer: trader.blas_kernels, and the warning of trader.ensemble.blas_threads."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trader.blas_kernels import (
    CORE_TYPE_VARIABLE,
    PINNED_CORE,
    REQUIRED_CPU_FLAGS,
    cpu_flags,
    pin_blas_kernels,
)
from trader.ensemble.blas_threads import openblas_kernels

AVX2 = frozenset({"sse2", "avx", "avx2", "fma"})
pinnable = pytest.mark.skipif(
    not REQUIRED_CPU_FLAGS <= cpu_flags() or os.uname().machine != "x86_64",
    reason="the kernels are pinned on x86-64 CPUs with AVX2 and FMA only",
)


def pin(
    environ: dict[str, str], machine: str = "x86_64", flags: frozenset[str] = AVX2
) -> str | None:
    return pin_blas_kernels(environ, machine=lambda: machine, flags=lambda: flags, modules={})


def test_an_x86_64_cpu_with_avx2_and_fma_gets_the_haswell_kernels() -> None:
    environ: dict[str, str] = {}
    assert pin(environ) == PINNED_CORE == "Haswell"
    assert environ == {CORE_TYPE_VARIABLE: "Haswell"}


def test_the_users_own_choice_is_kept() -> None:
    environ = {CORE_TYPE_VARIABLE: "SkylakeX"}
    assert pin(environ) == "SkylakeX"
    assert environ == {CORE_TYPE_VARIABLE: "SkylakeX"}


@pytest.mark.parametrize(
    ("machine", "flags"),
    [
        ("aarch64", frozenset({"fp", "asimd"})),
        ("x86_64", frozenset({"sse2", "avx"})),  # no AVX2: the Haswell kernels would not run
        ("x86_64", frozenset({"avx2"})),  # no FMA
        ("x86_64", frozenset()),  # /proc/cpuinfo unreadable
    ],
)
def test_other_cpus_keep_their_own_kernels(machine: str, flags: frozenset[str]) -> None:
    environ: dict[str, str] = {}
    assert pin(environ, machine, flags) is None
    assert environ == {}


def test_nothing_is_pinned_once_numpy_is_loaded() -> None:
    """Too late for this process; pinning then would set its children apart from it."""
    environ: dict[str, str] = {}
    chosen = pin_blas_kernels(
        environ, machine=lambda: "x86_64", flags=lambda: AVX2, modules={"numpy": object()}
    )
    assert chosen is None and environ == {}


def test_cpu_flags_come_from_the_first_flags_line(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 fma\n\n"
        "processor\t: 1\nflags\t\t: fpu\n"
    )
    assert cpu_flags(cpuinfo) == {"fpu", "sse2", "avx2", "fma"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


def _python(code: str, environ: dict[str, str]) -> str:
    """Run `code` in a fresh interpreter; return what it printed and logged."""
    done = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def _kernels_of(imports: str, environ: dict[str, str]) -> str:
    """Return the OpenBLAS kernels a fresh interpreter runs after `imports`."""
    printed = _python(
        f"{imports}; from trader.ensemble.blas_threads import openblas_kernels; "
        "print(openblas_kernels())",
        environ,
    )
    return printed.strip().splitlines()[-1]


def _environment(**extra: str) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if key != CORE_TYPE_VARIABLE}
    return {**environ, **extra}


@pinnable
def test_importing_trader_first_runs_numpy_on_the_haswell_kernels() -> None:
    imports = "import trader, numpy"
    assert _kernels_of(imports, _environment()) == "['Haswell']"
    sandy = _environment(OPENBLAS_CORETYPE="Sandybridge")
    assert _kernels_of(imports, sandy) == "['Sandybridge']"


@pinnable
def test_this_test_process_runs_the_pinned_kernels_as_its_subprocesses_do() -> None:
    """In-process results and those of `trader` subprocesses are compared by other tests."""
    import numpy  # noqa: F401  # loads OpenBLAS, if no test has yet

    assert openblas_kernels() == ["Haswell"]


def _warnings_of_limit(environ: dict[str, str]) -> str:
    """Import numpy, then trader, and limit the BLAS threads; return what was logged."""
    code = (
        "import numpy, trader\n"
        "from trader.logging_setup import configure_logging\n"
        "from trader.ensemble.blas_threads import limit_blas_threads\n"
        "configure_logging(json=True, level='WARNING')\n"
        "assert limit_blas_threads(1)\n"
    )
    return _python(code, environ)


@pinnable
def test_numpy_loaded_before_trader_is_reported_when_its_kernels_differ() -> None:
    native = _kernels_of("import numpy", _environment())
    logged = _warnings_of_limit(_environment())
    assert ("blas.kernels_not_pinned" in logged) == (native != "['Haswell']"), (native, logged)


def test_kernels_the_user_chose_are_not_reported() -> None:
    """OPENBLAS_CORETYPE=Zen runs the kernels OpenBLAS calls Haswell: no warning for it."""
    assert "blas.kernels_not_pinned" not in _warnings_of_limit(
        _environment(OPENBLAS_CORETYPE="Zen")
    )

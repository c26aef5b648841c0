"""Fixtures the two kill tests share: the forking launcher and the low-latency checkpoints."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.checkpoints import write_low_latency_checkpoints
from tests.support.kill_harness import Zygote


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    """A launcher that forks `trader run` / `trader replay` from one imported process."""
    launcher = Zygote()
    try:
        yield launcher
    finally:
        launcher.close()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tests' momentum MLP and flat CQL, written once per test module."""
    return write_low_latency_checkpoints(tmp_path_factory.mktemp("checkpoints"))

"""Replay tests log at WARNING: thousands of signals at INFO would drown the output."""

from collections.abc import Iterator

import pytest

from tests.replay.support import quiet_logs


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with quiet_logs():
        yield

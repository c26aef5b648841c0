"""Session fixtures for the full-size FLAG-TRADER (88 M parameters): built and saved once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from trader.models import LoadedModel, load

from .builders import flag_state

FIRST_RUN_CONFIG = {"state_dim": 60, "action_dim": 3, "max_length": 256}


@pytest.fixture(scope="session")
def flag_legacy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The user's first-run layout {'model', 'config'} with seeded random weights."""
    state = flag_state()
    path = tmp_path_factory.mktemp("flag") / "flag_trader_best.pt"
    torch.save({"model": state, "config": dict(FIRST_RUN_CONFIG)}, path)
    return path, state


@pytest.fixture(scope="session")
def flag_loaded(flag_legacy: tuple[Path, dict[str, Any]]) -> LoadedModel:
    return load(flag_legacy[0])

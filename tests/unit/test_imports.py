"""A replay, and the config every command validates, import only the libraries they use.

ccxt and aiohttp (the HINANCE adapter), Alembic (migrations), APScheduler, prometheus_client and
redis cost about a second of start-up together; they load when a run uses them.
"""

import subprocess
import sys

import pytest

OPTIONAL = ("ccxt", "aiohttp", "alembic", "apscheduler", "prometheus_client", "redis", "websockets")


def imported_after(code: str) -> set[str]:
    """Return which of OPTIONAL a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(set(sys.modules) & {set(OPTIONAL)!r})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import trader.config",
        "import adapters.hinance.config",
        "from trader.config import load_config\nload_config(environ={})",
        "import trader.replay.session, trader.engine.assembly, trader.replay.batch",
        "import trader.cli.replay_command, trader.logging_setup",
        "import trader.cli.main",
    ],
)
def test_the_replay_path_imports_no_optional_library(code: str) -> None:
    assert imported_after(code) == set()


def test_the_hinance_package_still_exports_its_adapter() -> None:
    assert "ccxt" in imported_after("from adapters.hinance import HinanceFeed, build_hinance")

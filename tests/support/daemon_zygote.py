"""A process that imports the daemon once, then forks one `trader run` per request (kill tests).

Starting `trader run` costs seconds of imports (torch, SQLAlchemy, ccxt); a kill/resume test
needs twenty runs. This zygote pays the imports once: each `run CONFIG LOG` line on stdin forks
a child that loads CONFIG exactly as `trader run --config CONFIG` does (file < TRADER_*
environment) and runs the daemon with its output in LOG; `replay CONFIG FEED DB LOG` does what
`trader replay FEED --config CONFIG --db DB` does. The zygote answers `pid N`, then
`exit N CODE` when the child ends (CODE -9 when it was killed). The children are real
processes: a SIGKILL stops them wherever they are, as it would a daemon.

    python -m tests.support.daemon_zygote      (from the repository root)
"""

import importlib
import os
import sys
import traceback

DAEMON_MODULES = (
    "adapters.replay",
    "adapters.simulated",
    "trader.cli.run_command",
    "trader.config",
    "trader.engine.assembly",
    "trader.engine.downtime",
    "trader.engine.metrics_wiring",
    "trader.engine.recovery",
    "trader.engine.runner",
    "trader.ensemble",  # loads torch
    "trader.ledger.backup",
    "trader.ledger.schema",
    "trader.ledger.store",
    "trader.logging_setup",
    "trader.metrics",
    "trader.replay.batch",
    "trader.replay.feature_plan",
    "trader.replay.paced",
    "trader.replay.plan",
    "trader.replay.progress",
    "trader.replay.session",
    "trader.scheduler",
    "trader.service.health",
    "trader.service.notify",
    "trader.service.supervisor",
)


def _child(request: list[str]) -> int:
    """Run `trader run --config CONFIG` or `trader replay FEED --config CONFIG --db URL`."""
    import asyncio
    from pathlib import Path

    from trader.cli.run_command import run_daemon
    from trader.config import load_config
    from trader.errors import TraderError
    from trader.logging_setup import configure_from
    from trader.replay.session import replay, replay_settings

    log_fd = os.open(request[-1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        if request[0] == "run":
            settings = load_config(Path(request[1]))
            configure_from(settings.logging)
            asyncio.run(run_daemon(settings))
        else:
            settings = replay_settings(Path(request[1]), request[2], db=request[3])
            configure_from(settings.logging)
            result = asyncio.run(replay(settings, handle_signals=True))
            print(f"ledger-digest {result.digest}", flush=True)
    except TraderError:
        return 1
    return 0


def main() -> None:
    # Everything a run or replay imports (also lazily), done once before any fork: every child
    # then runs the same code even if files change meanwhile. Nothing here starts threads.
    for name in DAEMON_MODULES:
        importlib.import_module(name)

    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if (parts[0], len(parts)) not in (("run", 3), ("replay", 5)):
            out.write(f"error unknown request {line.strip()!r}\n")
            out.flush()
            continue
        out.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(parts)
            except BaseException:
                traceback.print_exc()  # into the child's log
            finally:
                os._exit(code)
        out.write(f"pid {pid}\n")
        out.flush()
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        out.write(f"exit {pid} {code}\n")
        out.flush()


if __name__ == "__main__":
    main()

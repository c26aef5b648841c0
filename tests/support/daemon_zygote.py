"""A process that imports the daemon once, then forks one `trader run` per request (kill tests).

Starting `trader run` costs seconds of imports (torch, SQLAlchemy, ccxt); a kill/resume test
needs twenty runs. This zygote pays the imports once: each `run CONFIG LOG` line on stdin forks
a child that loads CONFIG exactly as `trader run --config CONFIG` does (file < TRADER_*
environment) and runs the daemon with its output in LOG. The zygote answers `pid N`, then
`exit N CODE` when the child ends (CODE -9 when it was killed). The children are real
processes: a SIGKILL stops them wherever they are, as it would a daemon.

    python -m tests.support.daemon_zygote      (from the repository root)
"""

import os
import sys
import traceback


def _child(config_path: str, log_path: str) -> int:
    import asyncio
    from pathlib import Path

    from trader.cli.run_command import run_daemon
    from trader.config import load_config
    from trader.errors import TraderError
    from trader.logging_setup import configure_from

    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    settings = load_config(Path(config_path))
    configure_from(settings.logging)
    try:
        asyncio.run(run_daemon(settings))
    except TraderError:
        return 1
    return 0


def main() -> None:
    # The imports a daemon needs, done before any fork; nothing here starts threads.
    import trader.cli.run_command
    import trader.engine.assembly
    import trader.engine.runner
    import trader.ensemble  # noqa: F401  # loads torch

    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] != "run" or len(parts) != 3:
            out.write(f"error unknown request {line.strip()!r}\n")
            out.flush()
            continue
        out.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(parts[1], parts[2])
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

"""`tongchuan-tui stop [NAME]`: end a detached or attachable session gracefully, and wait for its host."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from tongchuan_tui import exitcodes

STOP_TIMEOUT_S = 60.0
"""Bound on the wait for the host to exit: final IsEnd, last results (end_timeout_s), journal closed."""


def _stderr(message: str) -> None:
    click.echo(f"tongchuan-tui: {message}", err=True)


def process_gone(pid: int) -> bool:
    """Whether process `pid` has exited (a zombie no one reaped counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


@click.command("stop")
@click.argument("name", required=False)
@click.option("--no-wait", is_flag=True, help="Ask the session to stop; do not wait for its host to exit.")
def stop_command(name: str | None, no_wait: bool) -> None:
    """End a running session gracefully (final packet, last results, journal closed), then wait for it.

    NAME may be left out when only one session runs.
    """
    from tongchuan_tui.commands.attach import pick
    from tongchuan_tui.remote.client import send_command

    live = pick(name)
    try:
        hello = send_command(live.paths.socket, "stop")
    except Exception as exc:
        _stderr(f"cannot reach session {live.paths.name}: {exc}")
        sys.exit(exitcodes.NO_SESSION)
    if no_wait:
        click.echo(f"stopping {live.paths.name}")
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while not process_gone(hello.pid):
        if time.monotonic() > deadline:
            _stderr(f"session {live.paths.name} (pid {hello.pid}) has not exited within {STOP_TIMEOUT_S:g} s")
            sys.exit(exitcodes.UNEXPECTED)
        time.sleep(0.1)
    where = f" (journal: {hello.journal})" if hello.journal else ""
    click.echo(f"stopped {live.paths.name}{where}")

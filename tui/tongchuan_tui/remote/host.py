"""`--attachable`: run a session in the foreground, headless, with a control server viewers attach to.

What `--detach` spawns in the background and what a systemd unit runs. The session ends at the end of its
input, on `stop` (from a viewer or `tongchuan-tui stop`), or on SIGINT, SIGTERM or SIGHUP — each gracefully:
final IsEnd, last results, journal closed. A viewer that goes away never ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from typing import Any

import click

from tongchuan_tui import exitcodes
from tongchuan_tui.config import Settings
from tongchuan_tui.remote.paths import SessionPaths, UnsafePathError, session_paths, validate_name
from tongchuan_tui.remote.server import ControlServer, HostInfo, NameInUseError
from tongchuan_tui.runtime import RunPlan

SIGNAL_REASONS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "terminated"}


def _stderr(message: str) -> None:
    click.echo(f"tongchuan-tui: {message}", err=True)


def host_command(settings: Settings, options: dict[str, Any]) -> int:
    """Run an attachable session in the foreground; returns the exit code."""
    from tongchuan_tui.commands.run import make_plan

    name = options.get("name") or ""
    if not name:
        from tongchuan_tui.remote.live import next_default_name

        name = next_default_name()
    problem = validate_name(name)
    if problem is not None:
        _stderr(problem)
        return exitcodes.USAGE
    try:
        paths = session_paths(name)
    except UnsafePathError as exc:
        _stderr(str(exc))
        return exitcodes.USAGE
    plan = make_plan(settings, options, headless=True)
    if isinstance(plan, int):
        return plan
    output = "jsonl" if options.get("jsonl") else "plain" if options.get("plain") else None
    return asyncio.run(run_host(plan, paths, output=output))


async def run_host(plan: RunPlan, paths: SessionPaths, *, output: str | None = None) -> int:
    """Serve `plan`'s session on `paths.socket` until it ends; returns its exit code."""
    from tongchuan_tui.commands.run import _stderr_reporter
    from tongchuan_tui.pipeline.sinks import JsonlSink, PlainSink
    from tongchuan_tui.runtime import ManagedSession

    session = ManagedSession(plan)
    loop = asyncio.get_running_loop()

    def on_command(name: str, args: dict[str, Any]) -> None:
        # Called on the server's thread: the session is commanded on its own loop.
        if name == "pause":
            loop.call_soon_threadsafe(session.pause)
        elif name == "resume":
            loop.call_soon_threadsafe(session.resume)
        elif name == "mark":
            loop.call_soon_threadsafe(session.mark, str(args.get("label", "")))
        elif name == "stop":
            loop.call_soon_threadsafe(session.stop, "stopped")

    info = HostInfo(
        name=paths.name,
        input=plan.input_description,
        source=plan.settings.source,
        target=plan.settings.target,
        started_at=time.time(),
        pid=os.getpid(),
        journal=str(plan.journal_path) if plan.journal_path is not None else None,
        endpoint_host=plan.endpoint_host,
        emulated=plan.emulated,
    )
    server = ControlServer(paths, info, on_command)
    try:
        server.start()
    except NameInUseError:
        _stderr(f"a session named {paths.name} is already running: pick another --name, or stop it first")
        return exitcodes.USAGE
    except OSError as exc:
        _stderr(f"cannot serve session {paths.name} on {paths.socket}: {exc.strerror or exc}")
        return exitcodes.UNEXPECTED
    _write_info(paths, info)
    if output == "jsonl":
        session.add_sink(JsonlSink(sys.stdout))
    elif output == "plain":
        session.add_sink(PlainSink(sys.stdout))
    session.add_sink(_stderr_reporter)
    session.add_sink(server.sink)
    task = asyncio.current_task()
    signals_seen: list[int] = []

    def on_signal(signum: int) -> None:
        signals_seen.append(signum)
        if len(signals_seen) > 1 and task is not None:
            task.cancel()  # a second signal: do not wait for the last results
            return
        session.stop(SIGNAL_REASONS[signal.Signals(signum)])

    for signum in SIGNAL_REASONS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await session.run()
    except asyncio.CancelledError:
        _stderr("forced to quit; the last results were not collected")
        return exitcodes.INTERRUPTED if signals_seen[:1] == [signal.SIGINT] else exitcodes.TERMINATED
    finally:
        for signum in SIGNAL_REASONS:
            loop.remove_signal_handler(signum)
        # Blocking but short and bounded: the session is over, nothing is paced any more.
        server.close()
        with contextlib.suppress(FileNotFoundError):
            paths.info.unlink()


def _write_info(paths: SessionPaths, info: HostInfo) -> None:
    """The host's pid and journal next to its socket, so a dead host can be reported (mode 0600)."""
    data = {"name": info.name, "pid": info.pid, "journal": info.journal, "started_at": info.started_at}
    try:
        fd = os.open(paths.info, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
    except OSError as exc:
        _stderr(f"warning: cannot write {paths.info}: {exc.strerror}")

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
import sys
import time
from typing import Any

import click

from tongchuan_tui import exitcodes
from tongchuan_tui.config import Settings
from tongchuan_tui.logs import SecretFilter
from tongchuan_tui.remote.paths import SessionPaths, UnsafePathError, session_paths, validate_name
from tongchuan_tui.remote.server import ControlServer, HostInfo, NameInUseError
from tongchuan_tui.runtime import RunPlan

FORCED_END_S = 3.0
"""After a second signal, how long the session may still take to send its last packet and close its journal
(bounded, as a headless run's)."""


def _stderr(message: str) -> None:
    click.echo(f"tongchuan-tui: {message}", err=True)


def host_command(
    settings: Settings, options: dict[str, Any], *, secret_filter: SecretFilter | None = None
) -> int:
    """Run an attachable session in the foreground; returns the exit code."""
    from tongchuan_tui.commands.run import make_plan, start_live_outputs

    name = options.get("name") or ""
    try:
        if not name:
            from tongchuan_tui.remote.live import next_default_name

            name = next_default_name()
        problem = validate_name(name)
        if problem is not None:
            _stderr(problem)
            return exitcodes.USAGE
        paths = session_paths(name)
    except UnsafePathError as exc:
        _stderr(str(exc))
        return exitcodes.SESSION_REFUSED
    plan = make_plan(settings, options, headless=True, secret_filter=secret_filter)
    if isinstance(plan, int):
        return plan
    outputs = start_live_outputs(plan, headless=True)  # --serve, --live-*: as in any headless run
    if isinstance(outputs, int):
        return outputs
    output = "jsonl" if options.get("jsonl") else "plain" if options.get("plain") else None
    try:
        return asyncio.run(run_host(plan, paths, output=output))
    finally:
        if outputs is not None:
            outputs.close()


async def run_host(plan: RunPlan, paths: SessionPaths, *, output: str | None = None) -> int:
    """Serve `plan`'s session on `paths.socket` until it ends; returns its exit code.

    The session runs on its engine's thread; the control server on its own; printers and the stderr
    reporter write from theirs. This loop only waits and handles signals.
    """
    from tongchuan_tui.commands.reporting import StderrReporter, account_for_output
    from tongchuan_tui.commands.run import SIGNAL_REASONS, run_engine
    from tongchuan_tui.pipeline.offload import ThreadedSink
    from tongchuan_tui.pipeline.sinks import FdWriter, JsonlSink, PlainSink
    from tongchuan_tui.runtime import session_engine

    # Signals are caught from the first moment, as in any headless run (`run_engine` takes them over).
    loop = asyncio.get_running_loop()
    early: list[int] = []
    for signum in SIGNAL_REASONS:
        loop.add_signal_handler(signum, early.append, signum)
    engine = session_engine(plan)

    def on_command(name: str, args: dict[str, Any]) -> None:
        # Called on the server's thread; the engine's commands may come from any thread.
        if name == "pause":
            engine.pause()
        elif name == "resume":
            engine.resume()
        elif name == "mark":
            engine.mark(str(args.get("label", "")))
        elif name == "stop":
            engine.stop("stopped")

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
    sinks: list[ThreadedSink[Any]] = []
    lines: Any = None
    if output is not None:
        sys.stdout.flush()
        stdout = FdWriter(sys.stdout.fileno())
        lines = JsonlSink(stdout) if output == "jsonl" else PlainSink(stdout)
        sinks.append(ThreadedSink(lines, name="printer"))
    sinks.append(ThreadedSink(StderrReporter(), name="stderr-reporter"))
    for sink in sinks:
        engine.add_sink(sink)
    engine.add_sink(server.sink)  # never blocks: it only schedules work on the server's loop
    try:
        code = await run_engine(engine, early)
    finally:
        for sink in sinks:
            sink.close()
        # Blocking but short and bounded: the session is over, nothing is paced any more.
        server.close()
        with contextlib.suppress(FileNotFoundError):
            paths.info.unlink()
    return account_for_output(code, engine.session, lines)


def _write_info(paths: SessionPaths, info: HostInfo) -> None:
    """The host's pid and journal next to its socket, so a dead host can be reported (mode 0600)."""
    data = {"name": info.name, "pid": info.pid, "journal": info.journal, "started_at": info.started_at}
    try:
        fd = os.open(paths.info, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
    except OSError as exc:
        _stderr(f"warning: cannot write {paths.info}: {exc.strerror}")

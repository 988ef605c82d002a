"""`tongchuan-tui attach [NAME] [--plain|--jsonl]`: view a session running in another process.

The viewer first shows everything said so far, then follows live. Leaving it (q → detach, its terminal gone,
Ctrl-C) leaves the session running; only `q` → stop, or `tongchuan-tui stop`, ends it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import click

from tongchuan_tui import exitcodes
from tongchuan_tui.remote.client import RemoteSession
from tongchuan_tui.remote.live import ChoiceError, LiveSession, choose


def _stderr(message: str) -> None:
    click.echo(f"tongchuan-tui: {message}", err=True)


def pick(name: str | None) -> LiveSession:
    """The session to act on, or exit with a one-line message (stale sockets found are reported)."""
    try:
        live, reports = choose(name)
    except ChoiceError as exc:
        _stderr(str(exc))
        sys.exit(exc.code)
    for report in reports:
        _stderr(report)
    return live


@click.command("attach")
@click.argument("name", required=False)
@click.option("--plain", is_flag=True, help="No UI: print each finished sentence, history first.")
@click.option("--jsonl", is_flag=True, help="No UI: print every event as a JSON line, history first.")
@click.pass_context
def attach_command(ctx: click.Context, name: str | None, plain: bool, jsonl: bool) -> None:
    """Open a running session (--detach or --attachable): what was said so far, then live.

    NAME may be left out when only one session runs. `q` asks whether to detach (the session goes on) or
    stop it; a viewer's terminal closing only detaches. With --plain or --jsonl, follows until the session
    ends (exit 0); Ctrl-C detaches.
    """
    headless = plain or jsonl
    if not headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        _stderr("attach: the UI needs a terminal; add --plain or --jsonl to print the session instead")
        sys.exit(exitcodes.USAGE)
    live = pick(name)
    session = RemoteSession(live.paths.socket, live.paths.name)
    if headless:
        sys.exit(asyncio.run(follow_headless(session, jsonl=jsonl)))
    obj: Any = ctx.find_root().obj
    settings = obj["settings"]
    from tongchuan_tui.services import Services
    from tongchuan_tui.ui.viewer import make_viewer_app

    hello = live.hello
    services = Services(
        session=session,
        input_description=hello.input,
        endpoint_host=hello.endpoint_host,
        emulated=hello.emulated,
        source_lang=hello.source,
        target_lang=hello.target,
        journal_path=None,
    )
    if hello.journal:
        from pathlib import Path

        from tongchuan_tui.commands.run import _exporter

        services.journal_path = Path(hello.journal)
        services.export = _exporter(services.journal_path)
    app = make_viewer_app(settings, services)
    app.run()
    code = app.return_code
    sys.exit(exitcodes.UNEXPECTED if code is None else code)


async def follow_headless(session: RemoteSession, *, jsonl: bool) -> int:
    """Print the session's history and live events until it ends (0) or a signal detaches this viewer."""
    from tongchuan_tui.pipeline.events import Event, SessionEnded
    from tongchuan_tui.pipeline.sinks import JsonlSink, PlainSink

    printer = JsonlSink(sys.stdout) if jsonl else PlainSink(sys.stdout)

    def sink(event: Event) -> None:
        try:
            printer(event)
        except BrokenPipeError:
            session.detach()  # the reader of our output went away: leave the session alone
        if isinstance(event, SessionEnded) and event.exit_code == exitcodes.NO_SESSION and event.message:
            _stderr(event.message)

    session.add_sink(sink)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for signum in signals:
        loop.add_signal_handler(signum, session.detach)
    try:
        return await session.run()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)

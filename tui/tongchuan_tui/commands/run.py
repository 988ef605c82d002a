"""Interpreting: the default command, in the UI or headless (`--plain`, `--jsonl`)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from tongchuan_tui import exitcodes
from tongchuan_tui.commands.preflight import output_paths_problem, preflight_input, terminal_problem
from tongchuan_tui.commands.reporting import StderrReporter, account_for_output, exit_summary
from tongchuan_tui.config import Settings
from tongchuan_tui.logs import SecretFilter
from tongchuan_tui.runtime import RunPlan, plan_journal_path, session_engine, with_demo_defaults

log = logging.getLogger(__name__)

SIGNAL_REASONS: dict[int, str] = {
    signal.SIGINT: "interrupted",
    signal.SIGTERM: "terminated",
    signal.SIGHUP: "hangup",
}
"""The signals that end a headless session gracefully (SIGHUP: the SSH connection dropped), and why."""
FORCED_END_S = 3.0
"""After a forced quit, how long the session may still take to send its final packet and close its journal."""


def _stderr(message: str) -> None:
    click.echo(f"tongchuan-tui: {message}", err=True)


def make_plan(
    settings: Settings,
    options: dict[str, Any],
    *,
    headless: bool,
    secret_filter: SecretFilter | None = None,
) -> RunPlan | int:
    """Decide everything that can be decided before the loop starts; an int is an exit code (already said).

    Secrets are added to `secret_filter` (the log's) as soon as they are known.
    """
    from tongchuan_tui.api.client import parse_endpoint
    from tongchuan_tui.api.credentials import CredentialsError, resolve_credentials

    demo = bool(options.get("demo"))
    if demo:
        settings = with_demo_defaults(settings)
    credentials = None
    if not demo:
        try:
            endpoint = parse_endpoint(settings.endpoint)
        except ValueError as exc:
            _stderr(str(exc))
            return exitcodes.USAGE
        if endpoint.insecure_non_loopback:
            _stderr(f"warning: {settings.endpoint} is plain http to another machine: nothing is encrypted")
        try:
            credentials = resolve_credentials(
                settings.profile, settings.secret_id, settings.secret_key, settings.token
            )
        except CredentialsError as exc:
            _stderr(str(exc))
            return exitcodes.NO_CREDENTIALS
        if secret_filter is not None:
            for secret in (credentials.secret_id, credentials.secret_key, credentials.token):
                secret_filter.add(secret)
        for warning in credentials.warnings:
            _stderr(f"warning: {warning}")
    from tongchuan_tui.pipeline.budget import BudgetError, account_limits, plan_budget

    try:
        # One service session per target, all in the account's one budget: refused now if they cannot fit.
        plan_budget(
            len(settings.targets),
            mode=settings.mode,
            chunk_ms=settings.chunk_ms,
            display_interval_ms=settings.display_interval_ms,
            limits=account_limits(settings.upload_rate_limit),
        )
    except BudgetError as exc:
        _stderr(str(exc))
        return exitcodes.USAGE
    log_path: Path | None = options.get("log_path")
    journal_path = plan_journal_path(settings, log_path, time.time())
    return RunPlan(
        settings=settings,
        credentials=credentials,
        demo=demo,
        # The demo loops its recording in the UI (it is a showcase); headless it plays once and ends.
        loop_input=demo and not headless,
        journal_path=journal_path,
        record_audio=options.get("record_audio"),
        # Journal and recording trouble reaches stderr once, as the WarningRaised the session emits for it.
        on_journal_error=None,
        secret_filter=secret_filter,
    )


def run_command(
    settings: Settings, options: dict[str, Any], *, secret_filter: SecretFilter | None = None
) -> int:
    """Run one interpreting session; returns the process exit code."""
    # Two outputs that cannot both be had: refused, rather than one silently winning.
    if options.get("plain") and options.get("jsonl"):
        _stderr("--plain and --jsonl both print on stdout: choose one")
        return exitcodes.USAGE
    if options.get("no_log") and options.get("log_path") is not None:
        _stderr("--log and --no-log contradict each other: choose one")
        return exitcodes.USAGE
    pcm_on_stdout = settings.voice_out == "-"
    if pcm_on_stdout and (options.get("plain") or options.get("jsonl")):
        _stderr("--voice-out - writes the voice to stdout: drop --plain/--jsonl (the text is in the journal)")
        return exitcodes.USAGE
    # The voice as raw PCM on stdout runs headless too: the terminal's stdout is a pipe, not a screen.
    headless = bool(options.get("plain") or options.get("jsonl") or pcm_on_stdout)
    if settings.input.strip() == "-" and not headless and not options.get("demo"):
        # The UI reads its keys from the terminal on stdin; audio there would arrive as keystrokes.
        _stderr("--input - (audio on stdin) runs headless: add --plain or --jsonl")
        return exitcodes.USAGE
    problem = terminal_problem(headless)
    if problem is not None:
        _stderr(problem)
        return exitcodes.USAGE
    plan = make_plan(settings, options, headless=headless, secret_filter=secret_filter)
    if isinstance(plan, int):
        return plan
    problem = output_paths_problem(plan, from_flag=options.get("log_path") is not None)
    if problem is not None:
        _stderr(problem)
        return exitcodes.USAGE
    if not headless and not plan.demo:
        problem = preflight_input(settings.input)
        if problem is not None:
            _stderr(problem)
            return exitcodes.BAD_INPUT
    voice = start_voice_outputs(plan, headless=headless)
    if isinstance(voice, int):
        return voice
    outputs = start_live_outputs(plan, headless=headless)
    if isinstance(outputs, int):
        if voice is not None:
            voice.close()
        return outputs
    try:
        if headless:
            return asyncio.run(run_headless(plan, jsonl=bool(options.get("jsonl"))))
        return run_ui(plan, live_status=outputs.status_line if outputs and outputs.server else None)
    finally:
        if voice is not None:
            voice.close()
        if outputs is not None:
            outputs.close()


def start_voice_outputs(plan: RunPlan, *, headless: bool) -> Any:
    """The hook for `--voice-out`, `--voice-device` and `--keep-voice` (voice/): start them, add their sink.

    Returns the started `VoiceSink` (None when none is asked for), or an exit code (already said).
    """
    settings = plan.settings
    if not (settings.voice_out or settings.voice_device or settings.keep_voice):
        return None  # nothing to start (and PyAV not imported for nothing while signals are not handled yet)
    from tongchuan_tui.voice import VoiceError
    from tongchuan_tui.voice.live import open_voice

    warn = _stderr if headless else lambda message: log.warning("%s", message)
    try:
        sink = open_voice(plan.settings, journal_path=plan.journal_path, on_warning=warn)
    except VoiceError as exc:
        _stderr(str(exc))
        return exitcodes.USAGE
    if sink is not None:
        plan.sinks.append(sink)
        plan.voice = sink
    return sink


def start_live_outputs(plan: RunPlan, *, headless: bool) -> Any:
    """The hook for `--serve` and `--live-*` (outputs/): start them and add their sink to the plan.

    Returns the started `LiveOutputs` (or None when none is asked for), or an exit code (already said).
    """
    from tongchuan_tui.outputs import OutputsError
    from tongchuan_tui.outputs.live import open_live_outputs

    # While the UI runs the terminal is Textual's: a live file failing mid-session goes to the log file.
    warn = _stderr if headless else lambda message: log.warning("%s", message)
    try:
        outputs = open_live_outputs(plan.settings, on_warning=warn)
    except OutputsError as exc:
        _stderr(str(exc))
        return exitcodes.USAGE
    if outputs is not None:
        plan.sinks.append(outputs.sink)
        if outputs.share_url is not None:
            _stderr(f"serving the caption page at {outputs.share_url}")
    return outputs


async def run_headless(plan: RunPlan, *, jsonl: bool) -> int:
    """Interpret with the plain or JSONL printer on stdout until the input ends or a signal arrives.

    The session runs on its engine's thread; the printers are its subscribers, writing from their own
    thread (a slow reader of stdout never holds up a packet); this loop only waits and handles signals.
    What could not be written is accounted for at the end (`account_for_output`).
    """
    # Signals are caught from the first moment: until ours are in place, asyncio's own SIGINT handler would
    # cancel the run, a forced quit of a session that has barely started (the engine is built below).
    loop = asyncio.get_running_loop()
    early: list[int] = []
    for signum in SIGNAL_REASONS:
        loop.add_signal_handler(signum, early.append, signum)
    from tongchuan_tui.pipeline.offload import ThreadedSink
    from tongchuan_tui.pipeline.sinks import FdWriter, JsonlSink, PlainSink

    engine = session_engine(plan)
    sys.stdout.flush()
    # With --voice-out - stdout carries the voice: no text printer then.
    lines: Any = None
    printer: ThreadedSink[Any] | None = None
    if plan.settings.voice_out != "-":
        stdout = FdWriter(sys.stdout.fileno())
        lines = JsonlSink(stdout) if jsonl else PlainSink(stdout)
        printer = ThreadedSink(lines, name="printer")
        engine.add_sink(printer)
    reporter = ThreadedSink(StderrReporter(), name="stderr-reporter")
    engine.add_sink(reporter)
    try:
        code = await run_engine(engine, early)
    finally:
        if printer is not None:
            printer.close()
        reporter.close()
    return account_for_output(code, engine.session, lines)


async def run_engine(engine: Any, early: list[int]) -> int:
    """Run the session engine; the first SIGINT/SIGTERM/SIGHUP ends it gracefully, a second one forces it.

    `early`: signals that arrived while it was being built; the first of them ends it as soon as it runs.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    signals_seen: list[int] = list(early[:1])
    if signals_seen:
        engine.stop(SIGNAL_REASONS.get(signals_seen[0], "terminated"))

    def on_signal(signum: int) -> None:
        signals_seen.append(signum)
        if len(signals_seen) > 1 and task is not None:
            # A second signal: the user does not want to wait for the last results.
            engine.stop("interrupted")  # a second stop: the session stops awaiting them
            task.cancel()
            return
        engine.stop(SIGNAL_REASONS.get(signum, "terminated"))

    for signum in SIGNAL_REASONS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        code: int = await engine.run()
        return code
    except asyncio.CancelledError:
        # Bounded: the final IsEnd and the journal's closing line still get their chance.
        await asyncio.to_thread(engine.wait, FORCED_END_S)
        _stderr("forced to quit; the last results were not collected")
        # No signal of ours seen: asyncio's own SIGINT handling cancelled the run.
        return exitcodes.INTERRUPTED if signals_seen[:1] in ([], [signal.SIGINT]) else exitcodes.TERMINATED
    finally:
        for signum in SIGNAL_REASONS:
            loop.remove_signal_handler(signum)


def run_ui(plan: RunPlan, live_status: Any = None) -> int:
    """Interpret in the Textual UI; the session runs on its engine's thread, the UI is one subscriber.

    `live_status` gives the live server's line for the status bar, if serving.

    Whatever ends the UI (q, a crash in it, the terminal hanging up), the session is then ended gracefully
    and waited for (bounded): the final IsEnd is sent and the journal closed before the process exits.
    """
    from tongchuan_tui.commands.hangup import HangupGuard
    from tongchuan_tui.services import Services
    from tongchuan_tui.ui.app import make_app

    # While the UI runs the terminal is Textual's: journal trouble reaches the user as a notification
    # (WarningRaised) and the log file, never as stray stderr text.
    plan.on_journal_error = lambda message: log.warning("journal: %s", message)
    engine = session_engine(plan)
    services = Services(
        session=engine,
        input_description=plan.input_description,
        endpoint_host=plan.endpoint_host,
        emulated=plan.emulated,
        source_lang=plan.settings.source,
        target_lang=plan.settings.target,
        journal_path=plan.journal_path,
        live_status=live_status,
    )
    if plan.settings.input.startswith("mic") and not plan.demo:
        from tongchuan_tui.audio.devices import list_devices

        services.list_devices = list_devices
        services.switch_device = engine.switch_source
    if plan.journal_path is not None:
        services.export = _exporter(plan.journal_path)
    if plan.voice is not None:
        services.voice_status = lambda: plan.voice.status().line()
        services.toggle_voice = plan.voice.toggle_mute if plan.settings.voice_device else None
    app = make_app(plan.settings, services)
    guard = HangupGuard(engine, app, end_timeout_s=plan.settings.end_timeout_s)
    with guard:
        app.run()
        # return_code is set on every exit path (a crash in the UI included); run()'s result is not.
        code = app.return_code
        code = guard.finish(exitcodes.UNEXPECTED if code is None else code)
    model = app.model
    _stderr(
        exit_summary(
            model.ended.reason if model.ended is not None else "stopped",
            model.ended.message if model.ended is not None else "",
            model.transcript.admitted,
            model.elapsed_s(),
            plan.journal_path,
        )
    )
    return account_for_output(code, engine.session)


def _exporter(journal_path: Path) -> Any:
    """Exports the running session's journal next to it (or to a given path)."""

    def export(fmt: str, output: Path | None) -> Path:
        from tongchuan_tui.journal.export import export as render
        from tongchuan_tui.journal.reader import read_journal

        text = render(read_journal(journal_path), fmt)
        target = output if output is not None else journal_path.with_suffix(f".{fmt}")
        target.write_text(text, encoding="utf-8")
        return target

    return export

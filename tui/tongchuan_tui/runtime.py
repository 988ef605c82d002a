"""Wiring a run: settings → credentials, audio source, client (or in-process emulator), session, journal.

The parts that need the event loop (the aiohttp session, the emulator, the audio threads) are built inside
`ManagedSession.run`, on the loop it runs on: `session_engine(plan)` runs it on the engine's own loop and
thread, for the UI and the headless runner alike. The journal and the audio recorder write from threads of
their own (`ThreadedSink`), so no disk work happens on the loop that paces the packets.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tongchuan_tui import exitcodes
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.audio.source import AudioInputError, AudioSource
from tongchuan_tui.config import Settings, sessions_dir, settings_for_display
from tongchuan_tui.journal.recorder import RecordingError
from tongchuan_tui.logs import SecretFilter
from tongchuan_tui.pipeline.engine import SessionEngine
from tongchuan_tui.pipeline.events import Event, SessionEnded, Sink, WarningRaised

log = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_AUDIO = DEMO_DIR / "demo-zh.ogg"
DEMO_CUES = DEMO_DIR / "demo-zh.cues.json"
EMULATOR_HOST_LABEL = "in-process emulator"


@dataclass
class RunPlan:
    """Everything decided before the event loop starts."""

    settings: Settings
    credentials: Credentials | None
    """None in demo mode: the in-process emulator makes its own."""
    demo: bool = False
    loop_input: bool = False
    journal_path: Path | None = None
    record_audio: Path | None = None
    on_journal_error: Callable[[str], None] | None = None
    """Told of journal and recording trouble at once, from whichever thread found it."""
    secret_filter: SecretFilter | None = None
    """The log's masking filter; secrets learnt while building (the demo's) are added to it."""
    sinks: list[Sink] = field(default_factory=list)
    """More subscribers from the start (the live outputs), after the journal."""
    voice: Any = None
    """The started voice outputs (`voice.sink.VoiceSink`), for the UI's mute key and stats; None if none."""

    @property
    def input_spec(self) -> str:
        """What `--input` resolves to (the bundled recording in demo mode)."""
        return str(DEMO_AUDIO) if self.demo else self.settings.input

    @property
    def input_description(self) -> str:
        """The input as headers and journals name it."""
        return "demo recording" if self.demo else self.settings.input

    @property
    def endpoint_host(self) -> str:
        """The service's host as shown to the user."""
        if self.demo:
            return EMULATOR_HOST_LABEL
        from tongchuan_tui.api.client import parse_endpoint

        return parse_endpoint(self.settings.endpoint).host

    @property
    def emulated(self) -> bool:
        """Whether the endpoint is anything but the real service."""
        if self.demo:
            return True
        from tongchuan_tui.api.client import parse_endpoint

        return not parse_endpoint(self.settings.endpoint).is_official


def plan_journal_path(settings: Settings, log_path: Path | None, started_at: float) -> Path | None:
    """Where this session's journal goes: `--log PATH`, else a new file in the sessions dir; None if off."""
    if log_path is not None:
        return log_path.expanduser()
    if not settings.journal:
        return None
    from tongchuan_tui.journal.writer import default_journal_path

    directory = sessions_dir(settings)
    return default_journal_path(directory, started_at, settings.source, settings.target)


class ManagedSession:
    """A `SessionLike` whose parts are built inside the running loop when `run` starts.

    Sinks and commands given before the session exists are kept and applied once it does.
    """

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self._sinks: list[Sink] = list(plan.sinks)
        self._session: Any = None
        self._stop_reason: str | None = None
        self._paused = False
        self._marks: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.journal_path = plan.journal_path

    # -- SessionLike -------------------------------------------------------------------------------------

    def add_sink(self, sink: Sink) -> None:
        """Receive every event of the session."""
        self._sinks.append(sink)
        if self._session is not None:
            self._session.add_sink(sink)

    def stop(self, reason: str = "stopped") -> None:
        """End gracefully (or, before the session exists, do not start it)."""
        if self._session is not None:
            self._session.stop(reason)
        elif self._stop_reason is None:
            self._stop_reason = reason

    def pause(self) -> None:
        """Pause interpretation."""
        if self._session is not None:
            self._session.pause()
        else:
            self._paused = True

    def resume(self) -> None:
        """Resume interpretation."""
        if self._session is not None:
            self._session.resume()
        else:
            self._paused = False

    def mark(self, label: str = "") -> None:
        """Mark the current moment."""
        if self._session is not None:
            self._session.mark(label)
        else:
            self._marks.append(label)

    async def switch_source(self, spec: str) -> None:
        """Switch the live session to another input (e.g. `mic:2`); raises AudioInputError."""
        from tongchuan_tui.audio.factory import open_source

        if self._session is None:
            raise AudioInputError("the session has not started yet; try again in a moment")
        await self._session.switch_source(open_source(spec))

    async def run(self) -> int:
        """Build the parts, run the session to its end, release everything; returns the exit code."""
        if self._stop_reason is not None:
            return self._end_before_start(exitcodes.OK, "stopped before it started")
        async with AsyncExitStack() as stack:
            try:
                session = await self._build(stack)
            except AudioInputError as exc:
                return self._end_before_start(exitcodes.BAD_INPUT, str(exc))
            except RecordingError as exc:
                return self._end_before_start(exitcodes.USAGE, f"--record-audio: {exc}")
            self._session = session
            if self._paused:
                session.pause()
            for label in self._marks:
                session.mark(label)
            if self._stop_reason is not None:
                session.stop(self._stop_reason)
            code: int = await session.run()
            return code
        return exitcodes.UNEXPECTED  # pragma: no cover - the stack does not swallow exceptions

    # -- building ----------------------------------------------------------------------------------------

    def _journal_failed(self, message: str) -> None:
        # Reported at once where the user looks (stderr headless, a notification in the UI);
        # interpretation goes on and the writer keeps retrying.
        if self.plan.on_journal_error is not None:
            self.plan.on_journal_error(message)
        self._emit_from_any_thread(WarningRaised(f"journal: {message}", code="journal"))

    def _recording_failed(self, message: str) -> None:
        if self.plan.on_journal_error is not None:
            self.plan.on_journal_error(f"recording: {message}")
        self._emit_from_any_thread(WarningRaised(f"audio recording: {message}", code="recording"))

    def _emit_from_any_thread(self, event: Event) -> None:
        """Emit on the session's loop, whichever thread (the journal's, the recorder's) has the news."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._emit(event)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._emit(event)
            return
        try:
            loop.call_soon_threadsafe(self._emit, event)
        except RuntimeError:  # closed meanwhile: the session is over, nobody listens any more
            log.warning("%s (after the session ended)", getattr(event, "message", event))

    def _end_before_start(self, code: int, message: str) -> int:
        event = SessionEnded(reason="failed" if code else "stopped", at_ms=0, exit_code=code, message=message)
        self._emit(event)
        return code

    def _emit(self, event: Event) -> None:
        for sink in self._sinks:
            try:
                sink(event)
            except Exception:
                log.exception("sink %r failed", sink)

    async def _build(self, stack: AsyncExitStack) -> Any:
        from tongchuan_tui.api.client import TsiClient
        from tongchuan_tui.audio.factory import open_source
        from tongchuan_tui.pipeline.session import InterpreterSession, SessionOptions
        from tongchuan_tui.voice.tts import tts_options

        plan = self.plan
        self._loop = asyncio.get_running_loop()
        settings = plan.settings
        credentials = plan.credentials
        endpoint = settings.endpoint
        if plan.demo:
            from tongchuan_tui.emulator.testing import running_emulator

            emulator = await stack.enter_async_context(
                running_emulator(
                    cues=DEMO_CUES,
                    loop_cues=plan.loop_input,
                    secret_id="demo-" + secrets.token_hex(4),
                    secret_key=secrets.token_urlsafe(24),
                )
            )
            credentials = Credentials(emulator.secret_id, emulator.secret_key, origin="in-process emulator")
            endpoint = emulator.url
        if credentials is None:  # pragma: no cover - the CLI resolves them before planning
            raise RuntimeError("no credentials")
        if plan.secret_filter is not None:
            for secret in (credentials.secret_id, credentials.secret_key, credentials.token):
                plan.secret_filter.add(secret)

        source: AudioSource = open_source(plan.input_spec, loop=plan.loop_input)
        client = await stack.enter_async_context(
            TsiClient(
                credentials,
                endpoint=endpoint,
                timeout_s=settings.request_timeout_s,
                language=settings.language,
            )
        )
        from tongchuan_tui.pipeline.offload import ThreadedSink

        sinks: list[Sink] = []
        if plan.journal_path is not None:
            from tongchuan_tui.journal.writer import JournalWriter

            writer = JournalWriter(plan.journal_path, on_error=self._journal_failed)
            journal = ThreadedSink(writer, name="journal", on_close=writer.close)
            # Closed (everything queued written, fsync'd) before `run` returns: a session is over only once
            # its journal is complete.
            stack.callback(journal.close)
            sinks.append(journal)
        audio_tap: Callable[[bytes], None] | None = None
        if plan.record_audio is not None:
            from tongchuan_tui.journal.recorder import AudioRecorder

            recorder = AudioRecorder(plan.record_audio, on_error=self._recording_failed)
            recording = ThreadedSink(recorder, name="audio-recorder", on_close=recorder.close)
            stack.callback(recording.close)
            audio_tap = recording
        options = SessionOptions(
            source=settings.source,
            target=settings.target,
            mode=settings.mode,
            chunk_ms=settings.chunk_ms,
            max_backlog_ms=settings.max_backlog_ms,
            translate_time=settings.translate_time,
            display_interval_ms=settings.display_interval_ms,
            end_timeout_s=settings.end_timeout_s,
            input_description=plan.input_description,
            endpoint_host=plan.endpoint_host,
            emulated=plan.emulated,
            settings=settings_for_display(settings),
            tts=tts_options(settings),
        )
        # One account, one budget: shared with this user's other sessions on this machine (not the demo's).
        from tongchuan_tui.pipeline.ratelimit import RateLimits
        from tongchuan_tui.pipeline.ratelimit_file import account_rate_limits

        limits = RateLimits() if plan.demo else account_rate_limits(endpoint, credentials.secret_id)
        # The journal is the first sink, so it has every event before any front end can fail on one.
        return InterpreterSession(
            options, client, source, sinks=[*sinks, *self._sinks], audio_tap=audio_tap, rate_limits=limits
        )


def session_engine(plan: RunPlan) -> SessionEngine:
    """The session of `plan`, ready to run on its own loop and thread (`start()` or `await run()`), with the
    interpreter tuned for pacing while it runs (a short lock switch interval, full garbage collections in
    the quiet moments between packets: `pipeline.realtime`)."""
    from tongchuan_tui.pipeline.realtime import RealtimeRuntime

    return SessionEngine(ManagedSession(plan), name="session-engine", runtime=RealtimeRuntime())


def with_demo_defaults(settings: Settings) -> Settings:
    """The demo speaks Mandarin and shows English, whatever the config says."""
    return replace(settings, source="zh", target="en")

"""The interpreter app: live source and translation, the stream's health, and the user's commands.

The session runs in a worker; its events go to a sink that only updates the UI-free `UiModel`. A timer
(REFRESH_HZ) redraws the widgets whose part of the model changed, so redraws are coalesced however fast
results arrive, and nothing is posted per packet.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterable
from typing import ClassVar, Protocol

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from tongchuan_tui import exitcodes
from tongchuan_tui.pipeline.events import Event
from tongchuan_tui.services import Services
from tongchuan_tui.ui.advice import Advice, advice_for_end, advice_for_failure
from tongchuan_tui.ui.flows import export_transcript, pick_device
from tongchuan_tui.ui.model import DEFAULT_SENTENCE_LIMIT, STATE_ENDED, UiModel
from tongchuan_tui.ui.rows import TranscriptRows
from tongchuan_tui.ui.screens.error import ErrorDialog
from tongchuan_tui.ui.screens.help import HelpScreen
from tongchuan_tui.ui.text import format_elapsed
from tongchuan_tui.ui.widgets.header import HeaderInfo, LiveStatus, SessionHeader, StatusInfo
from tongchuan_tui.ui.widgets.panes import LAYOUTS, TranscriptPanes
from tongchuan_tui.ui.widgets.stats import StatsPane
from tongchuan_tui.ui.widgets.transcript import TranscriptPane

log = logging.getLogger(__name__)

REFRESH_HZ = 20
"""Redraws per second at most."""
NARROW_COLUMNS = 100
"""Below this width the automatic layout stacks the panes."""
STATS_COLUMNS = 120
"""From this width the stats pane is shown at start."""
CLOSER_TIMEOUT_S = 10.0
"""How long one closer (client session, emulator) may take before quitting goes on without it."""
SESSION_GROUP = "session"


class UiSettings(Protocol):
    """The settings the UI reads (config.Settings has them)."""

    @property
    def layout(self) -> str: ...

    @property
    def final_only(self) -> bool: ...


class InterpreterApp(App[int]):
    """Shows a `SessionLike`'s transcript and health, and turns keys into session commands."""

    CSS_PATH = "app.tcss"
    TITLE = "tongchuan-tui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Pause"),
        Binding("m", "mark", "Mark"),
        Binding("d", "pick_device", "Device", show=False),
        Binding("e", "export", "Export", show=False),
        Binding("l", "cycle_layout", "Layout"),
        Binding("p", "toggle_final_only", "Final only", show=False),
        Binding("s", "toggle_stats", "Stats"),
        Binding("end", "live", "Live", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit_gracefully", "Quit"),
        Binding("ctrl+q,ctrl+c", "quit_gracefully", "Quit", show=False, priority=True),
    ]
    SESSION_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {
            "toggle_pause",
            "mark",
            "pick_device",
            "export",
            "cycle_layout",
            "toggle_final_only",
            "toggle_stats",
            "live",
        }
    )

    def __init__(
        self,
        settings: UiSettings,
        services: Services,
        *,
        clock: Callable[[], float] = time.monotonic,
        sentence_limit: int = DEFAULT_SENTENCE_LIMIT,
    ) -> None:
        super().__init__()
        self.services = services
        self.model = UiModel(clock=clock, sentence_limit=sentence_limit)
        self.layout_choice = settings.layout if settings.layout in LAYOUTS else "auto"
        self.final_only = bool(settings.final_only)
        self.stats_visible: bool | None = None
        """None until mounted: then shown by default on wide terminals."""
        self.quitting = False
        self._drawn_generation = -1
        self._drawn_clipping = False
        self._dialog_shown = False
        self._end_handled = False
        self._session_worker: Worker[int] | None = None
        self._session_error = False
        self._finishing = False
        self._draw_failed = False
        self._redraw_timer: Timer | None = None
        self._header: SessionHeader | None = None
        self._froze_heap = False

    # -- building ----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield SessionHeader(self._header_info(), id="header")
        with Horizontal(id="body"):
            yield TranscriptPanes(self.services.source_lang, self.services.target_lang, id="panes")
            yield StatsPane(id="stats")
        yield LiveStatus(self._status_info(following=True), id="status")
        yield Footer()

    @property
    def panes(self) -> TranscriptPanes:
        return self.query_one(TranscriptPanes)

    @property
    def source_pane(self) -> TranscriptPane:
        return self.panes.source_pane

    @property
    def target_pane(self) -> TranscriptPane:
        return self.panes.target_pane

    @property
    def rows(self) -> TranscriptRows:
        """The transcript as laid out on screen."""
        return self.panes.rows

    @property
    def following(self) -> bool:
        """Whether the panes follow the live tail."""
        return self.panes.following

    def on_mount(self) -> None:
        self._header = self.query_one(SessionHeader)
        self.stats_visible = self.size.width >= STATS_COLUMNS
        self.query_one(StatsPane).display = self.stats_visible
        self._apply_layout()
        self.source_pane.focus()
        # The sink is registered before the session starts so that no event (SessionStarted first) is missed.
        self.services.session.add_sink(self._sink)
        # The first frame (a layout and a full render: ~100 ms at 160×48) is drawn before the session
        # starts pacing packets, so that it delays none of them.
        self.call_after_refresh(self._start_session)
        self._redraw_timer = self.set_interval(1 / REFRESH_HZ, self._tick, name="redraw")

    def _start_session(self) -> None:
        if self._session_worker is not None or not self.is_running:
            return
        # A full garbage collection scans every tracked object, and drawing allocates enough to run one
        # every second or so: with the tens of thousands of objects the libraries and Textual created by now
        # (and keep) it stalls the loop that paces the packets for ~35 ms, without them ~8 ms. Undone when
        # the app unmounts, so whatever of them became garbage is collected then.
        gc.freeze()
        self._froze_heap = True
        self._session_worker = self.run_worker(
            self._run_session(), name="session", group=SESSION_GROUP, exclusive=True, exit_on_error=False
        )

    def on_unmount(self) -> None:
        if self._froze_heap:
            self._froze_heap = False
            gc.unfreeze()

    def _sink(self, event: Event) -> None:
        """The session's sink: runs on the event loop for every event; only updates the model."""
        self.model.apply(event)

    async def _run_session(self) -> int:
        return await self.services.session.run()

    # -- the one place session failures are handled -----------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != SESSION_GROUP:
            return
        if event.state == WorkerState.ERROR:
            error = worker.error
            log.error("the session failed", exc_info=error)
            self._session_error = True
            if not self._dialog_shown:
                name = type(error).__name__ if error is not None else "error"
                self._show_dialog(
                    Advice(
                        title="The session stopped unexpectedly",
                        message=f"{name}: {str(error).splitlines()[0] if str(error) else 'no details'}",
                        action="Details are in the log file. The transcript so far is kept.",
                    )
                )
            if self.quitting:
                self._start_finish()
        elif event.state == WorkerState.SUCCESS and self.quitting:
            self._start_finish()

    # -- redraw timer ------------------------------------------------------------------------------------

    def _tick(self) -> None:
        header = self._header
        if not self.is_running or header is None or not header.is_attached:
            # Exiting: the screens are torn down before the app's timers stop; nothing is left to draw.
            self._stop_redrawing()
            return
        try:
            self.refresh_view()
        except Exception:
            # A drawing bug must not take the session down with it; log it once, keep interpreting.
            if not self._draw_failed:
                log.exception("redrawing the UI failed")
                self._draw_failed = True

    def _stop_redrawing(self) -> None:
        if self._redraw_timer is not None:
            self._redraw_timer.stop()
            self._redraw_timer = None

    def refresh_view(self) -> None:
        """Redraw what changed in the model since the last call (the timer calls this ~20 times a second).

        Each widget compares what it would show with what it shows, so a tick with nothing new draws nothing.
        """
        model = self.model
        self.query_one(SessionHeader).set_info(self._header_info())
        self._relayout()
        clipping = model.clipping()
        if self.stats_visible and (
            model.generation != self._drawn_generation or clipping != self._drawn_clipping
        ):
            self.query_one(StatsPane).show(model)
            self._drawn_generation = model.generation
            self._drawn_clipping = clipping
        self.query_one(LiveStatus).set_info(self._status_info())
        for notice in model.take_notices():
            self.notify(notice.text, severity=notice.severity, markup=False)  # type: ignore[arg-type]
        if model.fatal is not None and not self._dialog_shown:
            self._show_dialog(advice_for_failure(model.fatal))
        if model.ended is not None and not self._end_handled:
            self._end_handled = True
            ended = model.ended
            # A signal (the CLI's SIGTERM handler stops the session) means the user wants out, not a dialog;
            # in a replay those reasons are only what was recorded.
            signalled = ended.reason in ("interrupted", "terminated") and not self.services.replay
            if self.quitting or signalled:
                self.quitting = True
                self._start_finish()
            elif ended.exit_code != exitcodes.OK and not self._dialog_shown:
                self._show_dialog(advice_for_end(ended))

    def _header_info(self) -> HeaderInfo:
        services = self.services
        state = self.model.state
        if self.quitting and state != STATE_ENDED:
            state = "stopping"
        elif services.replay and state == "live":
            state = "playing"
        return HeaderInfo(
            source=services.source_lang,
            target=services.target_lang,
            input=self.model.input_description or services.input_description,
            endpoint_host=services.endpoint_host,
            emulated=services.emulated,
            replay=services.replay,
            state=state,
            elapsed=format_elapsed(self.model.elapsed_s()),
        )

    def _status_info(self, *, following: bool | None = None) -> StatusInfo:
        return StatusInfo(
            following=self.following if following is None else following,
            layout=self.resolved_layout(),
            final_only=self.final_only,
            sentences=len(self.model.transcript),
            marks=self.model.marks,
        )

    def _show_dialog(self, advice: Advice) -> None:
        self._dialog_shown = True
        self.push_screen(ErrorDialog(advice))

    # -- layout ------------------------------------------------------------------------------------------

    def resolved_layout(self) -> str:
        """The layout in use: the chosen one, or for `auto` side by side unless the terminal is narrow."""
        if self.layout_choice in LAYOUTS:
            return self.layout_choice
        return "side" if self.size.width >= NARROW_COLUMNS else "stacked"

    def _apply_layout(self) -> None:
        self.panes.set_layout(self.resolved_layout())

    def on_resize(self) -> None:
        self._apply_layout()

    def _relayout(self) -> None:
        self._apply_layout()
        self.panes.show(self.model.transcript, final_only=self.final_only)

    def on_transcript_panes_following_changed(self, event: TranscriptPanes.FollowingChanged) -> None:
        self.query_one(LiveStatus).set_info(self._status_info())

    # -- actions -----------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Behind a dialog, keys must not reach the session (an `m` in the device list is not a mark).
        return not (action in self.SESSION_ACTIONS and isinstance(self.screen, ModalScreen))

    def _session_over(self) -> bool:
        self._start_session()  # a command before the first frame is drawn goes to a started session
        if self.model.state == STATE_ENDED or self.quitting:
            self.notify("The session has ended.", severity="warning")
            return True
        return False

    def action_toggle_pause(self) -> None:
        """Pause or resume the session (sessions confirm at once with Paused/Resumed; both are idempotent)."""
        if self._session_over():
            return
        if self.model.paused:
            self.services.session.resume()
            self.notify("Resuming on a new service session…")
        else:
            self.services.session.pause()
            self.notify("Paused — space resumes.")

    def action_mark(self) -> None:
        """Mark this moment in the journal (the session confirms with MarkAdded)."""
        if self._session_over():
            return
        self.services.session.mark(f"mark {self.model.marks + 1}")

    def action_pick_device(self) -> None:
        """Choose another capture device and switch to it live."""
        if self.services.list_devices is None or self.services.switch_device is None:
            what = self.model.input_description or self.services.input_description
            self.notify(f"Switching devices is not available for this input ({what}).", severity="warning")
            return
        if self._session_over():
            return
        work = pick_device(
            self, self.services.list_devices, self.services.switch_device, self.model.input_description
        )
        self.run_worker(work, group="device", exclusive=True, exit_on_error=False)

    def action_export(self) -> None:
        """Export the session's journal in a chosen format."""
        if self.services.export is None:
            self.notify("Export is not available: this session has no journal.", severity="warning")
            return
        self.run_worker(
            export_transcript(self, self.services.export), group="export", exclusive=True, exit_on_error=False
        )

    def action_cycle_layout(self) -> None:
        """Side by side → stacked → interleaved → translation only → side by side."""
        current = self.resolved_layout()
        self.layout_choice = LAYOUTS[(LAYOUTS.index(current) + 1) % len(LAYOUTS)]
        self._apply_layout()
        self._relayout()
        self.query_one(LiveStatus).set_info(self._status_info())

    def action_toggle_final_only(self) -> None:
        """Show translations only once final, or live."""
        self.final_only = not self.final_only
        self._relayout()
        self.query_one(LiveStatus).set_info(self._status_info())
        self.notify("Translations appear once final." if self.final_only else "Translations appear live.")

    def action_toggle_stats(self) -> None:
        """Show or hide the stats pane."""
        self.stats_visible = not self.stats_visible
        stats = self.query_one(StatsPane)
        stats.display = self.stats_visible
        if self.stats_visible:
            stats.show(self.model)

    def action_live(self) -> None:
        """Back to the live tail."""
        self.panes.go_live()

    def action_help(self) -> None:
        """Show the keys."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- quitting ----------------------------------------------------------------------------------------

    def action_quit_gracefully(self) -> None:
        """First press: stop (final IsEnd, last results), then exit. Second press: exit now."""
        if self.quitting:
            self._force_exit()
            return
        self._start_session()  # quitting before the first frame still ends the session gracefully
        self.quitting = True
        if self._session_finished():
            self._start_finish()
            return
        self.services.session.stop("stopped")
        self.notify("Stopping: collecting the last results… (q again forces)")

    def _session_finished(self) -> bool:
        worker = self._session_worker
        return self.model.ended is not None or worker is None or worker.is_finished

    def _exit_code(self) -> int:
        worker = self._session_worker
        if worker is not None and worker.state == WorkerState.SUCCESS and isinstance(worker.result, int):
            return worker.result
        if self._session_error:
            return exitcodes.UNEXPECTED
        if self.model.ended is not None:
            return self.model.ended.exit_code
        return exitcodes.INTERRUPTED

    def _start_finish(self) -> None:
        if not self._finishing:
            self._finishing = True
            self.run_worker(self._finish(), group="finish", exit_on_error=False)

    async def _finish(self) -> None:
        """Wait for the session to return, run the closers, and exit with the session's code."""
        worker = self._session_worker
        if worker is not None and not worker.is_finished:
            # However the session ended (or failed to within the bound), quitting goes on.
            with contextlib.suppress(TimeoutError, WorkerFailed, WorkerCancelled):
                await asyncio.wait_for(worker.wait(), CLOSER_TIMEOUT_S)
        for closer in self.services.closers:
            try:
                await asyncio.wait_for(closer(), CLOSER_TIMEOUT_S)
            except Exception:
                log.exception("closing a service failed")
        code = self._exit_code()
        self._stop_redrawing()
        self.exit(result=code, return_code=code)

    def _force_exit(self) -> None:
        finished = self._session_finished()
        code = self._exit_code() if finished else exitcodes.INTERRUPTED
        if not finished:
            # A second stop tells the session to stop waiting for results; the exit cancels what remains.
            self.services.session.stop("interrupted")
        log.warning("forced exit before the session finished")
        self._stop_redrawing()
        self.exit(result=code, return_code=code)

    # -- command palette and unexpected errors -----------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Pause / resume", "Pause or resume interpreting (space)", self.action_toggle_pause
        )
        yield SystemCommand("Mark", "Mark this moment in the journal (m)", self.action_mark)
        yield SystemCommand("Switch input device", "Pick another microphone (d)", self.action_pick_device)
        yield SystemCommand("Export", "Export the transcript (e)", self.action_export)
        yield SystemCommand(
            "Cycle layout", "Side by side, stacked, interleaved, translation (l)", self.action_cycle_layout
        )
        yield SystemCommand(
            "Final translations only", "Toggle live/final translations (p)", self.action_toggle_final_only
        )
        yield SystemCommand("Stats", "Show or hide the stats pane (s)", self.action_toggle_stats)
        yield SystemCommand("Back to live", "Follow the newest sentences (End)", self.action_live)
        yield SystemCommand("Help", "Show the keys (?)", self.action_help)
        yield SystemCommand("Quit", "Stop gracefully and exit (q)", self.action_quit_gracefully)
        for command in super().get_system_commands(screen):
            if command.title == "Theme":
                yield command

    def _handle_exception(self, error: Exception) -> None:
        # Textual would print a full traceback on exit; log it instead and leave one line on stderr.
        # (Under a test pilot keep Textual's behaviour so the test sees the exception.)
        log.error("unexpected error in the UI", exc_info=error)
        if self.is_headless:
            super()._handle_exception(error)
            return
        self._return_code = exitcodes.UNEXPECTED
        self.panic(f"tongchuan-tui: unexpected error in the UI ({type(error).__name__}); see the log file")


def make_app(
    settings: UiSettings, services: Services, *, clock: Callable[[], float] = time.monotonic
) -> InterpreterApp:
    """The Textual app for a session. Run it with `app.run()`; the exit code is `app.return_code`.

    `clock` (seconds, monotonic) times the elapsed display and warning hold times; tests freeze it.
    """
    return InterpreterApp(settings, services, clock=clock)

"""The app's side of the session: running it, commanding it, reacting to its failure and end, and quitting.

`SessionControl` is a base of `InterpreterApp`: everything here talks to `services.session` or decides when
and with what code the app exits; drawing and layout stay in `app.py`.

A live session runs on its engine's own thread (`pipeline.engine.SessionEngine`): the app's worker only
awaits its end, and the app's sink, called on the engine's thread, only appends the event to an inbox that
the redraw timer empties into the model on the app's thread (so a flood of revisions costs the engine a
deque append each, and the app one batch per frame). A session that runs on the app's own loop (a replay,
the tests' scripted sessions) reaches the model directly.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading

from textual.app import App
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from tongchuan_tui import exitcodes
from tongchuan_tui.config import log_file
from tongchuan_tui.pipeline.events import Event
from tongchuan_tui.services import Services
from tongchuan_tui.ui.advice import Advice, advice_for_end, advice_for_failure
from tongchuan_tui.ui.flows import export_transcript, pick_device
from tongchuan_tui.ui.model import STATE_ENDED, UiModel
from tongchuan_tui.ui.screens.error import ErrorDialog

log = logging.getLogger(__name__)

CLOSER_TIMEOUT_S = 10.0
"""How long one closer (client session, emulator) may take before quitting goes on without it."""
SESSION_GROUP = "session"


class SessionControl(App[int]):
    """Runs the session in a worker, passes it the user's commands, and ends the app once it is over."""

    # Set by the app before it mounts.
    services: Services
    model: UiModel

    def __init__(self) -> None:
        super().__init__()
        self.quitting = False
        self._dialog_shown = False
        self._end_handled = False
        self._session_worker: Worker[int] | None = None
        self._session_error = False
        self._finishing = False
        self._inbox: collections.deque[Event] = collections.deque()
        self._app_thread = threading.get_ident()
        self._app_loop: asyncio.AbstractEventLoop | None = None

    def _stop_redrawing(self) -> None:
        """Stop the app's redraw timer; called just before exiting (the app overrides this)."""

    # -- starting ----------------------------------------------------------------------------------------

    def _attach_session(self) -> None:
        """Register the sink; then start the session once the first frame is drawn."""
        self._app_thread = threading.get_ident()
        self._app_loop = asyncio.get_running_loop()
        # The sink is registered before the session starts so that no event (SessionStarted first) is missed.
        self.services.session.add_sink(self._sink)
        # The first frame (a layout and a full render: ~100 ms at 160×48) is drawn before the session
        # starts pacing packets, so that it delays none of them.
        self.call_after_refresh(self._start_session)

    def _start_session(self) -> None:
        if self._session_worker is not None or not self.is_running:
            return
        self._session_worker = self.run_worker(
            self._run_session(), name="session", group=SESSION_GROUP, exclusive=True, exit_on_error=False
        )

    def _sink(self, event: Event) -> None:
        """The session's sink, called for every event on the session's thread: never blocks, never draws."""
        if threading.get_ident() == self._app_thread:
            self._take_events()
            self.model.apply(event)
        else:
            # deque.append is atomic: no lock, no wake-up; the redraw timer picks it up within a frame.
            self._inbox.append(event)

    def _take_events(self) -> None:
        """Apply the events that arrived from the session's thread since the last frame, in order."""
        inbox = self._inbox
        while inbox:
            self.model.apply(inbox.popleft())

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
                        action=f"Details are in the log file {log_file()}. The transcript so far is kept.",
                    )
                )
            if self.quitting:
                self._start_finish()
        elif event.state == WorkerState.SUCCESS and self.quitting:
            self._start_finish()

    def _handle_outcome(self) -> None:
        """Show a fatal error or a failed end once; once the session ended while quitting, finish."""
        model = self.model
        if model.fatal is not None and not self._dialog_shown:
            self._show_dialog(advice_for_failure(model.fatal))
        if model.ended is not None and not self._end_handled:
            self._end_handled = True
            ended = model.ended
            # A signal (the CLI's SIGTERM handler stops the session) means the user wants out, not a dialog;
            # in a replay those reasons are only what was recorded.
            signalled = ended.reason in ("interrupted", "terminated", "hangup") and not self.services.replay
            if self.quitting or signalled:
                self.quitting = True
                self._start_finish()
            elif ended.exit_code != exitcodes.OK and not self._dialog_shown:
                self._show_dialog(advice_for_end(ended))

    def _show_dialog(self, advice: Advice) -> None:
        self._dialog_shown = True
        self.push_screen(ErrorDialog(advice))

    # -- commands to the session -------------------------------------------------------------------------

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

    # -- quitting ----------------------------------------------------------------------------------------

    def request_end(self, reason: str) -> None:
        """From any thread or a signal handler: the session is being ended from outside (`reason`: hangup,
        terminated; the caller stopped it); quit as after `q` once it has ended."""
        loop = self._app_loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the app is gone already
            loop.call_soon_threadsafe(self._end_requested, reason)

    def _end_requested(self, reason: str) -> None:
        self._start_session()
        self.quitting = True
        if reason == "hangup":
            # Nobody is looking any more: drawing would only compete with the session's last packets.
            self._stop_redrawing()
        self._start_finish()

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

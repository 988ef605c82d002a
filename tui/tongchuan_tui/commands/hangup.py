"""A foreground UI session that outlives its terminal: SIGHUP (and SIGTERM) end it exactly like `q`.

When the terminal goes away (an SSH connection drops, tmux is killed) the kernel hangs up the tty — reads
return nothing, writes fail with EIO — and sends SIGHUP, then SIGCONT. Without a handler the process dies at
once: no final IsEnd, no closing journal line. `HangupGuard` instead

- points the dead terminal's file descriptors at /dev/null, so neither Textual's output thread nor a log
  line nor a traceback meets EIO;
- stops the session on its engine (final IsEnd, the last results, the journal closed) — it runs on its
  own thread, so this works even while the UI's loop is busy;
- asks the app to quit once the session has ended, as after `q`;
- and, should the UI not manage to exit, ends the process itself once the session is complete.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
from types import FrameType, TracebackType
from typing import Any, Protocol

from tongchuan_tui.pipeline.engine import SessionEngine

log = logging.getLogger(__name__)

END_MARGIN_S = 5.0
"""Beyond the session's own bound on the last results: sending IsEnd, closing the journal."""
EXIT_GRACE_S = 10.0
"""After the session ended, how long the UI may take to exit before the process ends without it."""

SignalHandler = Any
"""What `signal.signal` returns and takes (a callable, SIG_DFL, SIG_IGN or None)."""


class EndableApp(Protocol):
    """The app's side (`ui.session_control.SessionControl`): whether `q` was pressed, and a thread- and
    signal-safe request to end as `q` does."""

    quitting: bool

    def request_end(self, reason: str) -> None: ...


class HangupGuard:
    """Installed around `app.run()` in the main thread; `finish()` once it returns."""

    def __init__(self, engine: SessionEngine, app: EndableApp, *, end_timeout_s: float) -> None:
        self._engine = engine
        self._app = app
        self._bound_s = end_timeout_s + END_MARGIN_S
        self._terminal_fds: list[int] = []
        self._previous: dict[int, SignalHandler] = {}
        self._app_done = threading.Event()
        self.reason: str | None = None
        """Why the session was ended from outside: hangup or terminated (None: the UI ended it)."""

    def __enter__(self) -> HangupGuard:
        # Decided now: once hung up, a tty no longer says it is one.
        self._terminal_fds = [fd for fd in (0, 1, 2) if _isatty(fd)]
        for signum, handler in ((signal.SIGHUP, self._on_hangup), (signal.SIGTERM, self._on_terminate)):
            self._previous[signum] = signal.signal(signum, handler)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._app_done.set()
        for signum, handler in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)

    # -- signals (Python runs these in the main thread, between two bytecodes of whatever it was doing) ---

    def _on_hangup(self, signum: int, frame: FrameType | None) -> None:
        if self.reason == "hangup":
            return
        # Textual resumes its terminal on SIGCONT, which the kernel sends right after SIGHUP: there is no
        # terminal to resume.
        signal.signal(signal.SIGCONT, signal.SIG_DFL)
        self._detach_from_terminal()
        self._end("hangup")

    def _on_terminate(self, signum: int, frame: FrameType | None) -> None:
        if self.reason is None:
            self._end("terminated")

    def _end(self, reason: str) -> None:
        self.reason = reason
        log.warning("ending the session: %s", "the terminal hung up" if reason == "hangup" else "SIGTERM")
        if not self._app.quitting:  # after `q` the session is already stopping; a second stop would hurry it
            self._engine.stop(reason)
        self._app.request_end(reason)
        threading.Thread(target=self._watch, name="hangup-watchdog", daemon=True).start()

    def _detach_from_terminal(self) -> None:
        if not self._terminal_fds:
            return
        try:
            # /dev/null, stdin included: Textual's input thread may be between its select and its read,
            # and a read there must return at once (end of file, as on the hung-up tty), never block.
            null = os.open(os.devnull, os.O_RDWR)
            for fd in self._terminal_fds:
                os.dup2(null, fd)
            os.close(null)
        except OSError:
            log.exception("could not detach from the terminal")

    def _watch(self) -> None:
        """Ends the process once the session is complete if the UI cannot exit (a wedged terminal write)."""
        code: int | None
        try:
            code = self._engine.wait(self._bound_s)
        except Exception:
            code = None
        if self._app_done.wait(EXIT_GRACE_S):
            return
        stacks = "".join(
            f"\n{thread.name}:\n" + "".join(traceback.format_stack(frame))
            for thread in threading.enumerate()
            if (frame := sys._current_frames().get(thread.ident or 0)) is not None
        )
        log.error(
            "the UI did not exit after the session ended (%s); exiting without it%s", self.reason, stacks
        )
        logging.shutdown()
        os._exit(code if code is not None else 1)

    # -- after the app returned ------------------------------------------------------------------------

    def finish(self, code: int) -> int:
        """However the UI ended (q, a crash, a hang-up), end the session gracefully and wait for it
        (bounded); returns the exit code to use."""
        engine = self._engine
        if not engine.finished:
            if not self._app.quitting and self.reason is None:  # the UI failed without stopping it
                engine.stop("stopped")
            try:
                result = engine.wait(self._bound_s)
            except Exception:
                log.exception("the session failed")
                result = None
            if result is None:
                log.error("the session did not end within %.0f s", self._bound_s)
        self._app_done.set()
        return code


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False

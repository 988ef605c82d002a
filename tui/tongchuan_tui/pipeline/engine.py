"""The session engine: a session on its own event loop in its own thread, and any number of subscribers.

A front end (the UI, the headless printers, a remote viewer) never runs the session on its own loop: it hands
the session to a `SessionEngine`, subscribes with `add_sink`, and commands it (`stop`, `pause`, `resume`,
`mark`, `switch_source`) from whatever thread it is on. Commands reach the engine's loop with
`call_soon_threadsafe` (one command channel, applied in order); events leave it by calling every subscriber
on the engine's thread, so a subscriber must not block: it hands the event to its own thread or queue (see
`offload.ThreadedSink`, or the UI's inbox). Nothing a front end does — drawing, a full garbage collection of
its heap aside — can delay the loop that paces the packets.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.pipeline.events import Event, Sink
from tongchuan_tui.pipeline.fanout import fan_out
from tongchuan_tui.pipeline.realtime import RealtimeRuntime

log = logging.getLogger(__name__)

__all__ = ["EngineSession", "SessionEngine"]

RUNTIME_TICK_S = 1.0


class EngineSession(Protocol):
    """What the engine runs: a session (`ManagedSession`, `InterpreterSession`) that builds and runs on the
    loop `run` is awaited on."""

    def add_sink(self, sink: Sink) -> None: ...

    async def run(self) -> int: ...

    def stop(self, reason: str = "stopped") -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def mark(self, label: str = "") -> None: ...


class SessionEngine:
    """Runs one session on a private event loop in a thread of its own; a `SessionLike` for any front end.

    `run()` (awaited on the front end's loop) starts the thread and returns the session's exit code;
    `start()` and `wait()` do the same for code without a loop (signal handlers, a host process).
    `runtime`, if given, tunes the interpreter for pacing while the session runs (see `realtime`).
    """

    def __init__(
        self, session: EngineSession, *, name: str = "session-engine", runtime: RealtimeRuntime | None = None
    ) -> None:
        self.session = session
        self.name = name
        self.runtime = runtime
        self._sinks: tuple[Sink, ...] = ()
        self._broken: set[int] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[Callable[[], object]] = []
        """Commands given before the loop runs, applied in order once it does."""
        self._thread: threading.Thread | None = None
        self._result: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._switches: set[concurrent.futures.Future[None]] = set()
        """Input switches under way; cancelled if the session ends before they do."""
        session.add_sink(self._publish)

    # -- subscribers -------------------------------------------------------------------------------------

    def add_sink(self, sink: Sink) -> None:
        """Receive every event from now on, on the engine's thread (from any thread; must not block)."""
        with self._lock:
            # Copy on write: the engine's thread reads the tuple without a lock while it publishes.
            self._sinks = (*self._sinks, sink)

    def remove_sink(self, sink: Sink) -> None:
        """Stop sending events to `sink` (a viewer that went away)."""
        with self._lock:
            self._sinks = tuple(s for s in self._sinks if s is not sink)

    def _publish(self, event: Event) -> None:
        for warning in fan_out(self._sinks, event, self._broken):
            self._publish(warning)
        if self.runtime is not None:
            self.runtime.observe(event)

    # -- running -----------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the engine's thread has started and not yet finished."""
        return self._thread is not None and not self._result.done()

    @property
    def finished(self) -> bool:
        """Whether the session has returned (or failed)."""
        return self._result.done()

    def start(self) -> None:
        """Start the engine's thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None:
                return
            # A daemon: a forced exit of the process must not wait for a session still collecting results.
            self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
            # Running from now on: a waiter that gives up (a cancelled `run()`) cannot cancel the result.
            self._result.set_running_or_notify_cancel()
        self._thread.start()

    async def run(self) -> int:
        """Start the engine and wait, without blocking this loop, for the session's exit code."""
        self.start()
        return await asyncio.wrap_future(self._result)

    def wait(self, timeout_s: float | None = None) -> int | None:
        """Block until the session returns; its exit code, or None if it had not within `timeout_s`.

        Raises what the session raised.
        """
        try:
            return self._result.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            return None

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        runtime = self.runtime
        if runtime is not None:
            runtime.install()
            _every(loop, RUNTIME_TICK_S, runtime.tick)
        try:
            # The session's first step (SessionStarted) runs before the commands given before the start.
            task = loop.create_task(self.session.run())
            with self._lock:
                self._loop = loop
                early, self._early = self._early, []
            for command in early:
                loop.call_soon(command)
            code = loop.run_until_complete(task)
        except BaseException as error:
            log.exception("the session engine failed")
            self._result.set_exception(error)
        else:
            self._result.set_result(code)
        finally:
            with self._lock:
                self._loop = None
                switches = list(self._switches)
            for switch in switches:
                switch.cancel()
            if runtime is not None:
                runtime.uninstall()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    # -- the command channel -----------------------------------------------------------------------------

    def _command(self, command: Callable[[], object]) -> bool:
        """Run `command` on the engine's loop, after every command given before it; False once it is over."""
        with self._lock:
            loop = self._loop
            if loop is None:
                if self._result.done():
                    return False
                self._early.append(command)
                return True
        try:
            loop.call_soon_threadsafe(command)
        except RuntimeError:  # the loop closed between the check and the call: the session is over
            return False
        return True

    def stop(self, reason: str = "stopped") -> None:
        """End gracefully (final IsEnd, the last results); a second call stops waiting for results."""
        self._command(lambda: self.session.stop(reason))

    def pause(self) -> None:
        """Pause interpretation."""
        self._command(self.session.pause)

    def resume(self) -> None:
        """Resume interpretation."""
        self._command(self.session.resume)

    def mark(self, label: str = "") -> None:
        """Mark the current moment."""
        self._command(lambda: self.session.mark(label))

    async def switch_source(self, spec: str) -> None:
        """Switch the running session to another input (e.g. `mic:2`); raises what the session raises."""
        switch: Callable[[str], Awaitable[None]] | None = getattr(self.session, "switch_source", None)
        if switch is None:
            raise NotImplementedError("this session cannot switch its input")
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def begin() -> None:
            task = asyncio.ensure_future(switch(spec))
            task.add_done_callback(lambda t: _settle(done, t))

        with self._lock:
            self._switches.add(done)
        done.add_done_callback(self._switches.discard)
        if not self._command(begin):
            done.cancel()
        try:
            await asyncio.wrap_future(done)
        except (asyncio.CancelledError, concurrent.futures.CancelledError):
            if done.cancelled():
                raise AudioInputError("the session has ended; the input was not switched") from None
            raise


def _every(loop: asyncio.AbstractEventLoop, interval_s: float, call: Callable[[], None]) -> None:
    """Call `call` on `loop` every `interval_s` until the loop closes."""

    def tick() -> None:
        try:
            call()
        finally:
            loop.call_later(interval_s, tick)

    loop.call_later(interval_s, tick)


def _settle(done: concurrent.futures.Future[Any], task: asyncio.Future[Any]) -> None:
    if task.cancelled():
        done.cancel()
    elif task.exception() is not None:
        done.set_exception(task.exception())
    else:
        done.set_result(task.result())

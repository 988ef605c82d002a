"""The load the UI benchmark puts on the real app: revision floods, a redraw meter, and a real session run
on a session engine's thread with the app subscribed to it, as the CLI runs it.

The app runs headless (`App.run_test`), so Textual skips writing to a terminal; the meter adds that cost
back by turning each screen update into its terminal string (`render_segments`) and timing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from textual.screen import Screen

from tongchuan_tui.pipeline.engine import SessionEngine
from tongchuan_tui.pipeline.events import Event, Sentence, SentenceRevised, SessionEnded, SessionStarted, Sink
from tongchuan_tui.pipeline.realtime import RealtimeRuntime
from tongchuan_tui.pipeline.session import InterpreterSession
from tongchuan_tui.services import Services, SessionLike
from tongchuan_tui.ui.app import make_app

SIZE = (160, 48)
"""A wide terminal: side-by-side panes and the stats pane, the most drawing."""
BURST = 200
"""Revisions handed over between two yields to the loop (a generous upper bound on one answer's worth)."""
ZH = "我们今天讨论实时同声传译的延迟问题以及如何在网络不稳定时保持字幕连贯"
EN = [
    "today",
    "we",
    "discuss",
    "the",
    "latency",
    "of",
    "live",
    "interpretation",
    "and",
    "how",
    "to",
    "keep",
    "subtitles",
    "coherent",
]


@dataclass(frozen=True, slots=True)
class UiSettingsForBench:
    """What the app reads of the settings."""

    layout: str = "auto"
    final_only: bool = False


def revisions(
    sentences: int, per_sentence: int, *, session: int = 0, first: int = 0
) -> Iterator[SentenceRevised]:
    """`per_sentence` growing revisions of each sentence, the last one final, sentence after sentence."""
    for n in range(first, first + sentences):
        start = n * 3000
        for ver in range(1, per_sentence + 1):
            frac = ver / per_sentence
            src = ZH[: max(2, int(len(ZH) * frac))]
            tgt = " ".join(EN[: max(1, int(len(EN) * frac))])
            yield SentenceRevised(
                Sentence(
                    key=f"{session}:{n}",
                    service_session=session,
                    se_id=str(n),
                    se_ver=ver,
                    source_text=f"{n} {src}",
                    target_text=f"{n} {tgt}",
                    start_ms=start,
                    end_ms=start + int(2800 * frac),
                    final=ver == per_sentence,
                )
            )


class FloodSession:
    """A SessionLike that pushes pre-made events to its sinks as fast as the loop lets it, in bursts."""

    def __init__(
        self,
        events: Iterator[Event],
        *,
        every: int = 0,
        checkpoint: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._events = events
        self._every = every
        self._checkpoint = checkpoint
        self._sinks: list[Sink] = []
        self._stop = asyncio.Event()
        self.pushed = 0
        self.flood_s = 0.0
        self.done = asyncio.Event()

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def _emit(self, event: Event) -> None:
        for sink in self._sinks:
            sink(event)

    async def run(self) -> int:
        self._emit(SessionStarted(time.time(), "bench:flood", "zh", "en", "sync", 200, "127.0.0.1", True))
        t0 = time.perf_counter()
        for event in self._events:
            self._emit(event)
            self.pushed += 1
            if self.pushed % BURST == 0:
                await asyncio.sleep(0)
            if self._every and self._checkpoint is not None and self.pushed % self._every == 0:
                self.flood_s += time.perf_counter() - t0
                await self._checkpoint(self.pushed)
                t0 = time.perf_counter()
        self.flood_s += time.perf_counter() - t0
        self.done.set()
        await self._stop.wait()
        self._emit(SessionEnded("stopped", 0, 0))
        return 0

    def stop(self, reason: str = "stopped") -> None:
        self._stop.set()

    def pause(self) -> None:
        """Not used."""

    def resume(self) -> None:
        """Not used."""

    def mark(self, label: str = "") -> None:
        """Not used."""


@dataclass
class RedrawMeter:
    """Counts screen updates and times the work behind them: the app's `refresh_view`, Textual's layout and
    compositing (`Screen._refresh_layout`, `Screen._compositor_refresh`), and the terminal string a real
    driver would write."""

    displays: list[float] = field(default_factory=list)
    view_ms: list[float] = field(default_factory=list)
    screen_ms: list[float] = field(default_factory=list)
    output_ms: list[float] = field(default_factory=list)
    output_bytes: int = 0
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def install(self, app: Any) -> None:
        """Wrap the app's drawing methods (undone by `uninstall`)."""
        display, refresh_view = app._display, app.refresh_view

        def timed_display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.displays.append(time.monotonic())
                t = time.perf_counter()
                with contextlib.suppress(AttributeError, TypeError):
                    self.output_bytes += len(renderable.render_segments(app.console))
                self.output_ms.append((time.perf_counter() - t) * 1000)
            display(screen, renderable)

        def timed_view() -> None:
            t = time.perf_counter()
            refresh_view()
            self.view_ms.append((time.perf_counter() - t) * 1000)

        app._display, app.refresh_view = timed_display, timed_view
        # Textual's own share: layout and compositing (looked up on the class at each call, so patchable).
        for name in ("_refresh_layout", "_compositor_refresh"):
            original = getattr(Screen, name)
            setattr(Screen, name, self._timed(original))
            self._undo.append(functools.partial(setattr, Screen, name, original))

    def _timed(self, method: Callable[..., None]) -> Callable[..., None]:
        def timed(screen: Any, *args: Any, **kwargs: Any) -> None:
            t = time.perf_counter()
            method(screen, *args, **kwargs)
            self.screen_ms.append((time.perf_counter() - t) * 1000)

        return timed

    def uninstall(self) -> None:
        """Restore Textual's Screen class."""
        for undo in self._undo:
            undo()
        self._undo.clear()

    def rate(self, start: float, end: float) -> float:
        """Screen updates per second between two monotonic times."""
        n = sum(1 for t in self.displays if start <= t <= end)
        return n / (end - start) if end > start else 0.0


def services_for(session: SessionLike) -> Services:
    """What the app is handed: the session and a plausible emulated endpoint."""
    return Services(
        session=session,
        input_description="bench",
        endpoint_host="127.0.0.1",
        emulated=True,
        source_lang="zh",
        target_lang="en",
    )


Runner = Callable[[Callable[[InterpreterSession], Awaitable[int]]], Awaitable[Any]]
"""`sessions.run_session` with all but its `wrap` given: runs one bench session, returns its `SessionRun`."""


class EngineBenchSession:
    """What the bench's engine runs: `sessions.run_session` itself, on the engine's loop and thread, so the
    client, the session and the loop-lag probe all live there, as the CLI's session does; the session's
    events are handed to the engine's subscribers (the app)."""

    def __init__(
        self, runner: Callable[[Callable[[InterpreterSession], Awaitable[int]]], Awaitable[Any]]
    ) -> None:
        self._runner = runner
        self._sinks: list[Sink] = []
        self._inner: InterpreterSession | None = None
        self._stop_reason: str | None = None
        self.result: Any = None
        """The `SessionRun` once done."""

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    async def run(self) -> int:
        async def wrap(session: InterpreterSession) -> int:
            self._inner = session
            for sink in self._sinks:
                session.add_sink(sink)
            if self._stop_reason is not None:
                session.stop(self._stop_reason)
            return await session.run()

        self.result = await self._runner(wrap)
        return int(self.result.exit_code)

    def stop(self, reason: str = "stopped") -> None:
        if self._inner is not None:
            self._inner.stop(reason)
        elif self._stop_reason is None:
            self._stop_reason = reason

    def pause(self) -> None:
        """Not used."""

    def resume(self) -> None:
        """Not used."""

    def mark(self, label: str = "") -> None:
        """Not used."""


class FloodingProxy:
    """Wraps the engine for the app, and floods the app's sink with revisions from a thread of its own while
    the session runs — as a session producing that many revisions would, from the engine's thread, without
    charging the making of the events to the engine's loop."""

    def __init__(self, inner: SessionEngine, rate: float | None) -> None:
        self._inner = inner
        self._rate = rate
        """Revisions per second (0: none), or None for as fast as the app takes them."""
        self._app_sinks: list[Sink] = []
        self._stop_flood = threading.Event()
        self.backlog: Callable[[], int] = lambda: 0
        """Events the app has not taken yet (set once the app exists; paces the unbounded flood)."""
        self.pushed = 0
        self.exit_code = -1
        self.finished = asyncio.Event()

    def add_sink(self, sink: Sink) -> None:
        self._app_sinks.append(sink)
        self._inner.add_sink(sink)

    def _flood(self) -> None:
        events = revisions(10**9, 8, session=99)
        tick = 0.05
        burst = BURST if self._rate is None else max(1, round(self._rate * tick))
        next_at = time.monotonic()
        while not self._stop_flood.is_set():
            for _ in range(burst):
                event = next(events)
                for sink in self._app_sinks:
                    sink(event)
            self.pushed += burst
            if self._rate is None:
                # As fast as the app applies them: wait (bounded) until it has taken most of the last burst.
                deadline = time.monotonic() + 1.0
                while self.backlog() > BURST // 2 and time.monotonic() < deadline:
                    self._stop_flood.wait(0.001)
            else:
                next_at += tick
                self._stop_flood.wait(max(0.0, next_at - time.monotonic()))

    async def run(self) -> int:
        flood = threading.Thread(target=self._flood, name="bench-flood", daemon=True)
        if self._rate != 0:
            flood.start()
        try:
            self.exit_code = await self._inner.run()
        finally:
            self._stop_flood.set()
            if flood.is_alive():
                flood.join(5.0)
            self.finished.set()
        return self.exit_code

    def stop(self, reason: str = "stopped") -> None:
        self._inner.stop(reason)

    def pause(self) -> None:
        self._inner.pause()

    def resume(self) -> None:
        self._inner.resume()

    def mark(self, label: str = "") -> None:
        self._inner.mark(label)


async def in_flooded_app(
    meter: RedrawMeter,
    counts: dict[str, float],
    rate: float | None,
    runner: Runner,
) -> Any:
    """Run `runner` (a `run_session(wrap=...)`) on a session engine's thread with the real app subscribed on
    this loop, flooding the app at `rate` revisions per second (None: as fast as it takes them); returns
    the runner's `SessionRun`."""
    bench = EngineBenchSession(runner)
    engine = SessionEngine(bench, name="bench-session-engine", runtime=RealtimeRuntime())
    proxy = FloodingProxy(engine, rate)
    app = make_app(UiSettingsForBench(), services_for(proxy))
    proxy.backlog = lambda: len(app._inbox)
    async with app.run_test(size=SIZE) as pilot:
        meter.install(app)
        try:
            t0 = time.monotonic()
            await proxy.finished.wait()
            t1 = time.monotonic()
            counts["flooded"] = proxy.pushed
            counts["seconds"] = t1 - t0
            counts["redraws_per_s"] = meter.rate(t0, t1)
            await pilot.pause(0.1)
        finally:
            meter.uninstall()
    return bench.result

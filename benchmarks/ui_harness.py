"""The load the UI benchmark puts on the real app: revision floods, a redraw meter, and a proxy session.

The app runs headless (`App.run_test`), so Textual skips writing to a terminal; the meter adds that cost
back by turning each screen update into its terminal string (`render_segments`) and timing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from textual.screen import Screen

from tongchuan_tui.pipeline.events import Event, Sentence, SentenceRevised, SessionEnded, SessionStarted
from tongchuan_tui.services import Services, SessionLike, Sink
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


class FloodingProxy:
    """Wraps a real session for the app, and floods the app's sink with revisions while it runs."""

    def __init__(self, inner: SessionLike, rate: float | None) -> None:
        self._inner = inner
        self._rate = rate
        """Revisions per second (0: none), or None for as fast as the loop allows."""
        self._app_sinks: list[Sink] = []
        self.pushed = 0
        self.exit_code = -1
        self.finished = asyncio.Event()

    def add_sink(self, sink: Sink) -> None:
        self._app_sinks.append(sink)
        self._inner.add_sink(sink)

    async def _flood(self) -> None:
        events = revisions(10**9, 8, session=99)
        tick = 0.05
        burst = BURST if self._rate is None else max(1, round(self._rate * tick))
        next_at = time.monotonic()
        while True:
            for _ in range(burst):
                event = next(events)
                for sink in self._app_sinks:
                    sink(event)
            self.pushed += burst
            if self._rate is None:
                await asyncio.sleep(0)
            else:
                next_at += tick
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def run(self) -> int:
        flood = asyncio.ensure_future(self._flood() if self._rate != 0 else asyncio.sleep(0))
        try:
            self.exit_code = await self._inner.run()
        finally:
            flood.cancel()
            await asyncio.gather(flood, return_exceptions=True)
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


def in_flooded_app(
    meter: RedrawMeter, counts: dict[str, float], rate: float | None
) -> Callable[[SessionLike], Awaitable[int]]:
    """A `run_session(wrap=...)` that runs the session inside the app while flooding the app at `rate`
    revisions per second (None: as fast as the loop allows)."""

    async def wrap(session: SessionLike) -> int:
        proxy = FloodingProxy(session, rate)
        app = make_app(UiSettingsForBench(), services_for(proxy))
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
        return proxy.exit_code

    return wrap

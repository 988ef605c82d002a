"""Measure 6: the Textual app under a flood of sentence revisions — redraws, memory, and packet timing.

The app runs headless (`App.run_test`), so Textual skips writing to a terminal; the bench adds that cost
back by turning each screen update into its terminal string (`render_segments`) and timing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from textual.screen import Screen

from benchmarks.analysis import pacing
from benchmarks.audio import speech_pcm
from benchmarks.emulator_thread import EmulatorThread
from benchmarks.measure import LoopLag, fmt, rss_mib, summarize
from benchmarks.report import Section, prose
from benchmarks.sessions import SessionRun, file_source, run_session
from tongchuan_tui.pipeline.events import Event, Sentence, SentenceRevised, SessionEnded, SessionStarted
from tongchuan_tui.services import Services, SessionLike, Sink
from tongchuan_tui.ui.app import make_app

REDRAW_TARGET_HZ = 20
FLAT_MIB = 1.0
FLAT_FRACTION = 0.10
JITTER_SLACK_MS = 5.0
REALISTIC_RATE = 25.0
"""Sync answers 5 times a second with up to 5 sentences each: the most revisions the service produces."""
HEAVY_RATE = 1000.0
"""Forty times that: the load the target is judged at."""
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
                    se_id=n,
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


def _services(session: SessionLike) -> Services:
    return Services(
        session=session,
        input_description="bench",
        endpoint_host="127.0.0.1",
        emulated=True,
        source_lang="zh",
        target_lang="en",
    )


@dataclass
class FloodResult:
    """Measure 6a: redraws while 20,000 revisions arrive."""

    revisions: int
    flood_s: float
    rate_per_s: float
    meter: RedrawMeter
    on_screen: int


async def flood_redraws(total_revisions: int = 20_000, per_sentence: int = 8) -> FloodResult:
    """Push `total_revisions` into the real app as fast as possible; measure what the redraws cost."""
    session = FloodSession(revisions(total_revisions // per_sentence, per_sentence))
    app = make_app(UiSettingsForBench(), _services(session))
    meter = RedrawMeter()
    async with app.run_test(size=SIZE) as pilot:
        meter.install(app)
        try:
            t0 = time.monotonic()
            await session.done.wait()
            t1 = time.monotonic()
            await pilot.pause(0.3)  # the last coalesced redraw
            on_screen = len(app.model.transcript)
            session.stop()
            await pilot.pause(0.1)
        finally:
            meter.uninstall()
    return FloodResult(session.pushed, session.flood_s, meter.rate(t0, t1), meter, on_screen)


@dataclass
class MemoryResult:
    """Measure 6b: memory as sentences accumulate."""

    points: list[tuple[int, float, float, int]] = field(default_factory=list)
    """(sentences, traced MiB since mount, RSS MiB, sentences held by the UI)."""


async def memory_growth(checkpoints: tuple[int, ...] = (10_000, 25_000, 50_000)) -> MemoryResult:
    """50,000 sentences (a partial and a final revision each) into the app, measured at each checkpoint."""
    result = MemoryResult()
    per_sentence = 2
    app: Any = None

    async def checkpoint(pushed: int) -> None:
        sentences = pushed // per_sentence
        if sentences not in checkpoints:
            return
        await asyncio.sleep(0.15)  # let a redraw happen
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0] / 2**20
        result.points.append((sentences, traced, rss_mib(), len(app.model.transcript)))

    session = FloodSession(
        revisions(max(checkpoints), per_sentence), every=per_sentence * 500, checkpoint=checkpoint
    )
    app = make_app(UiSettingsForBench(), _services(session))
    async with app.run_test(size=SIZE) as pilot:
        gc.collect()
        tracemalloc.start()
        try:
            await session.done.wait()
            session.stop()
            await pilot.pause(0.1)
        finally:
            tracemalloc.stop()
    return result


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
        app = make_app(UiSettingsForBench(), _services(proxy))
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


@dataclass
class JitterRun:
    """A real session's packet timing, alone or inside the flooded app."""

    name: str
    run: SessionRun
    loop_lag_ms: list[float]
    counts: dict[str, float]
    meter: RedrawMeter


async def jitter_runs(emu: EmulatorThread, seconds: float) -> list[JitterRun]:
    """The same non-live session alone on the loop, then inside the app with ever heavier revision floods."""
    pcm = speech_pcm(seconds)
    out = []
    conditions: list[tuple[str, bool, float | None]] = [
        ("session alone", False, None),
        ("in the app, no flood", True, 0.0),
        (f"in the app, {REALISTIC_RATE:.0f} revisions/s", True, REALISTIC_RATE),
        (f"in the app, {HEAVY_RATE:,.0f} revisions/s", True, HEAVY_RATE),
        ("in the app, as fast as the loop allows", True, None),
    ]
    for name, flooded, rate in conditions:
        lag = LoopLag()
        counts: dict[str, float] = {}
        meter = RedrawMeter()
        run = await run_session(
            emu,
            file_source(pcm),
            label=name,
            audio_s=seconds,
            during=lag.run,
            wrap=in_flooded_app(meter, counts, rate) if flooded else None,
        )
        out.append(JitterRun(name, run, lag.lags_ms, counts, meter))
    return out


def ui_section(flood: FloodResult | None, memory: MemoryResult | None, jitter: list[JitterRun]) -> Section:
    """Measure 6."""
    sec = Section(
        "6. The UI under load (issue 4)",
        prose(
            f"""
            The real app (`make_app`, headless `App.run_test` at {SIZE[0]}×{SIZE[1]}: side-by-side panes and
            the stats pane) fed by a fake session that pushes sentence revisions to the app's sink as fast as
            the loop allows ({BURST} per loop turn). Redraws are counted where a screen update is handed to
            the driver; the headless driver writes nothing, so the bench also builds the terminal string a
            real driver would write and counts that time. *App update* is the app's `refresh_view` (its 20 Hz
            timer); *Textual layout/compositing* is per call of `Screen._refresh_layout` /
            `_compositor_refresh`. Each of these runs on the event loop and delays whatever else is due.
            """
        ),
    )
    if flood is not None:
        m = flood.meter
        work = sum(m.view_ms) + sum(m.screen_ms) + sum(m.output_ms)
        sec.table(
            [
                "revisions",
                "pushed in s",
                "redraws/s while pushing",
                "app update p50/p99 ms",
                "layout+compositing p50/p99/max ms",
                "terminal output p50/p99 ms",
                "drawing work per redraw ms",
                "sentences on screen",
            ],
            [
                [
                    flood.revisions,
                    fmt(flood.flood_s, 2),
                    fmt(flood.rate_per_s),
                    f"{fmt(summarize(m.view_ms).p50)} / {fmt(summarize(m.view_ms).p99)}",
                    f"{fmt(summarize(m.screen_ms).p50)} / {fmt(summarize(m.screen_ms).p99)} / "
                    f"{fmt(summarize(m.screen_ms).max)}",
                    f"{fmt(summarize(m.output_ms).p50)} / {fmt(summarize(m.output_ms).p99)}",
                    fmt(work / max(1, len(m.displays))),
                    flood.on_screen,
                ]
            ],
        )
        sec.target(
            "redraws coalesced",
            f"≤ {REDRAW_TARGET_HZ} per second (+10% for timer edges)",
            f"{fmt(flood.rate_per_s)}/s",
            flood.rate_per_s <= REDRAW_TARGET_HZ * 1.1,
        )
    if memory is not None and memory.points:
        sec.table(
            [
                "sentences pushed",
                "Python heap since start (tracemalloc) MiB",
                "RSS MiB",
                "sentences held by the UI",
            ],
            [[n, fmt(traced, 2), fmt(rss), held] for n, traced, rss, held in memory.points],
        )
        first, last = memory.points[0], memory.points[-1]
        growth = last[1] - first[1]
        allowed = max(FLAT_MIB, FLAT_FRACTION * first[1])
        sec.target(
            f"flat memory, {first[0]:,} → {last[0]:,} sentences",
            f"heap grows < {fmt(allowed, 2)} MiB (max of {FLAT_MIB} MiB, {FLAT_FRACTION:.0%})",
            f"{growth:+.2f} MiB",
            growth < allowed,
        )
    if jitter:
        rows = []
        for j in jitter:
            pace = pacing(j.run.packets, 0.0)
            errors = [abs(e) for e in pace.errors_ms]
            rows.append(
                [
                    j.name,
                    pace.abs_error.n,
                    fmt(summarize(errors).p50),
                    fmt(summarize(errors).p99),
                    fmt(summarize(errors).max),
                    pace.ahead,
                    fmt(summarize(j.loop_lag_ms).p99),
                    fmt(summarize(j.loop_lag_ms).max),
                    f"{j.counts.get('flooded', 0):,.0f}",
                    fmt(j.counts.get("redraws_per_s", float("nan"))),
                    f"{fmt(summarize(j.meter.screen_ms).p50)} / {fmt(summarize(j.meter.screen_ms).max)}",
                ]
            )
        sec.table(
            [
                "condition",
                "packets",
                "|pacing error| p50 ms",
                "p99 ms",
                "max ms",
                "ahead",
                "loop lag p99 ms",
                "loop lag max ms",
                "revisions flooded",
                "redraws/s",
                "layout+compositing p50 / max ms",
            ],
            rows,
        )
        by_name = {j.name: j for j in jitter}
        heavy = by_name.get(f"in the app, {HEAVY_RATE:,.0f} revisions/s")
        if heavy is not None and jitter[0].name == "session alone":
            calm = summarize([abs(e) for e in pacing(jitter[0].run.packets, 0.0).errors_ms]).p99
            busy = summarize([abs(e) for e in pacing(heavy.run.packets, 0.0).errors_ms]).p99
            ahead = sum(pacing(j.run.packets, 0.0).ahead for j in jitter)
            sec.target(
                f"packet timing undisturbed by the UI ({HEAVY_RATE:,.0f} revisions/s)",
                f"p99 pacing error ≤ session alone + {JITTER_SLACK_MS:.0f} ms; none ahead",
                f"{fmt(calm)} → {fmt(busy)} ms; {ahead} ahead",
                busy <= calm + JITTER_SLACK_MS and ahead == 0,
            )
        sec.notes.append(
            prose(
                """
                The jitter runs read a non-live input paced 1:1 by the scheduler, so every packet has an exact
                due time, while revisions flood the app for the whole session: at 25/s (about the most the
                service produces: 5 answers a second, up to 5 sentences each), at 1,000/s, and as fast as the
                loop allows (a stress row: the flood itself then competes with the scheduler for the loop).
                *Loop lag* is how late a 5 ms sleeper wakes: the longest stall of the event loop.
                """
            )
        )
    return sec

"""Measure 6: the Textual app under a flood of sentence revisions — redraws, memory, and packet timing."""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

from benchmarks.analysis import pacing
from benchmarks.audio import speech_pcm
from benchmarks.emulator_thread import EmulatorThread
from benchmarks.measure import LoopLag, fmt, rss_mib, summarize
from benchmarks.report import Section, prose
from benchmarks.sessions import SessionRun, file_source, run_session
from benchmarks.ui_harness import (
    BURST,
    SIZE,
    FloodSession,
    RedrawMeter,
    UiSettingsForBench,
    in_flooded_app,
    revisions,
    services_for,
)
from tongchuan_tui.ui.app import make_app

REDRAW_TARGET_HZ = 20
FLAT_MIB = 1.0
FLAT_FRACTION = 0.10
JITTER_SLACK_MS = 5.0
REALISTIC_RATE = 25.0
"""Sync answers 5 times a second with up to 5 sentences each: the most revisions the service produces."""
HEAVY_RATE = 1000.0
"""Forty times that: the load the target is judged at."""


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
    app = make_app(UiSettingsForBench(), services_for(session))
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
    app = make_app(UiSettingsForBench(), services_for(session))
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
        ("in the app, as fast as it takes them", True, None),
    ]
    for name, flooded, rate in conditions:
        lag = LoopLag()
        counts: dict[str, float] = {}
        meter = RedrawMeter()
        source = file_source(pcm)

        def runner(wrap: Any, name: str = name, lag: LoopLag = lag, source: Any = source) -> Any:
            return run_session(emu, source, label=name, audio_s=seconds, during=lag.run, wrap=wrap)

        # In the app the whole session (client, scheduler, the loop-lag probe) runs on the engine's thread.
        run = await (in_flooded_app(meter, counts, rate, runner) if flooded else runner(None))
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
            `_compositor_refresh`. Each of these runs on the app's loop; the session paces its packets on
            its own engine thread, so they reach it only through the interpreter's shared lock (the GIL)
            and full garbage collections.
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
                app takes them (a stress row). In the app the session runs as the CLI runs it: on a session
                engine's own loop and thread, the app subscribed to it; the flood comes from a thread of its
                own into the app's sink, as a session's revisions would. *Loop lag* is how late a 5 ms
                sleeper wakes on the session's loop (the engine's, in the app): the longest stall of the loop
                that paces the packets.
                """
            )
        )
    return sec

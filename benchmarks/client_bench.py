"""Measures 1–4: client-added latency, pacing, catching up under service latency, CPU and memory."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from benchmarks.analysis import Packet, lag_behind, pacing, service_excess_ms, sizes
from benchmarks.audio import LiveSource, speech_pcm
from benchmarks.emulator_thread import EmulatorThread
from benchmarks.measure import fmt, summarize
from benchmarks.report import Section, prose
from benchmarks.sessions import SessionRun, file_source, latency_steps, live_source, run_session

MIC_FRAME_MS = 100
"""The microphone source's default PortAudio buffer (audio/mic.py)."""
SMALL_FRAME_MS = 20
LATENCIES_MS = (100, 300)
SPIKE_MS = 1000.0
SPIKE_SPAN = (0.25, 0.6)
"""The spike: 1 s answers from 25% to 60% of the run, then back to normal."""
RECOVERED_WITHIN_MS = 50.0
SERVICE_JITTER_MS = 10.0
"""Arrival jitter allowed when judging pacing from arrivals alone (the emulator allows 500 ms)."""
BOUNDED_MS = 1000.0


@dataclass
class LiveRun:
    """A run on a real-time source, with what the source saw and any latency changes."""

    run: SessionRun
    source: LiveSource
    latency_ms: float = 0.0
    changes: list[float] = field(default_factory=list)

    def behind_live_ms(self) -> list[float]:
        """Per audio packet: its arrival minus the moment its last sample was spoken (source start + end)."""
        return list(pacing(self.run.timeline_packets, self.source.started_at).errors_ms)

    def added_latency_ms(self) -> list[float]:
        """Per audio packet: arrival minus the hand-over of the frame holding its last sample."""
        return lag_behind(self.run.timeline_packets, self.source.available_at)


@dataclass
class ClientResults:
    """Every run of measures 1–4."""

    live: dict[int, LiveRun] = field(default_factory=dict)
    file: SessionRun | None = None
    catchup: dict[str, LiveRun] = field(default_factory=dict)


async def run_client(emu: EmulatorThread, seconds: float, catchup_seconds: float) -> ClientResults:
    """The runs, one after another (never two streams at once)."""
    results = ClientResults()
    pcm = speech_pcm(seconds)
    for frame_ms in (MIC_FRAME_MS, SMALL_FRAME_MS):
        source = live_source(pcm, frame_ms)
        run = await run_session(emu, source, label=f"live, {frame_ms} ms frames", audio_s=seconds)
        results.live[frame_ms] = LiveRun(run, source)
    results.file = await run_session(emu, file_source(pcm), label="file (non-live)", audio_s=seconds)
    short = speech_pcm(catchup_seconds)
    for latency in LATENCIES_MS:
        emu.handle.set_faults(latency_ms=latency)
        source = live_source(short, MIC_FRAME_MS)
        try:
            run = await run_session(emu, source, label=f"{latency} ms latency", audio_s=catchup_seconds)
        finally:
            emu.handle.clear_faults()
        results.catchup[f"{latency} ms"] = LiveRun(run, source, latency)
    source = live_source(short, MIC_FRAME_MS)
    changes: list[float] = []

    async def spike() -> None:
        start, end = (catchup_seconds * f for f in SPIKE_SPAN)
        await latency_steps(emu, ((start, SPIKE_MS), (end, 0.0)), changes)

    try:
        run = await run_session(emu, source, label="spike", audio_s=catchup_seconds, during=spike)
    finally:
        emu.handle.clear_faults()
    results.catchup["spike"] = LiveRun(run, source, SPIKE_MS, changes)
    return results


def scheduled(run: SessionRun, source: LiveSource | None) -> list[Packet]:
    """Packets timed from the start of their service session's ideal 1:1 schedule: when it opened, or, for a
    live input, when its first sample was spoken if that was earlier (that audio already existed)."""
    out = []
    for p in run.timeline_packets:
        opened_at, offset = run.opened[p.session]
        start = opened_at if source is None else min(opened_at, source.started_at + offset / 1000)
        out.append(
            Packet(p.seq, p.audio_start_ms - offset, p.duration_ms, p.wire_at - start, p.is_end, p.session)
        )
    return out


def _ms(values: list[float], q: str) -> str:
    s = summarize(values)
    return fmt({"p50": s.p50, "p99": s.p99, "max": s.max, "mean": s.mean}[q])


def latency_section(res: ClientResults) -> Section:
    """Measure 1."""
    sec = Section(
        "1. Client-added latency (live source)",
        prose(
            """
            A real-time thread hands over the demo speech in frames (100 ms, the microphone source's
            PortAudio buffer, and 20 ms) to a real `InterpreterSession` + `TsiClient` (sync mode, 200 ms
            packets) talking to the emulator on 127.0.0.1 (its own thread and event loop). *Added latency*:
            from the hand-over of the frame holding a packet's last sample to the request body reaching the
            socket (aiohttp request tracing). *Behind live*: from the moment that sample was spoken (source
            start + its position) to the same instant — what a listener waits. *Client work*: from the
            scheduler's `sync()` call to the socket (JSON, base64, TC3 signing, aiohttp).
            """
        ),
    )
    rows = []
    for frame_ms, live in res.live.items():
        added, behind = live.added_latency_ms(), live.behind_live_ms()
        rows.append(
            [
                f"{frame_ms} ms frames",
                len(added),
                _ms(added, "p50"),
                _ms(added, "p99"),
                _ms(added, "max"),
                _ms(behind, "p50"),
                _ms(behind, "p99"),
                _ms(live.run.client_overhead_ms, "p50"),
                _ms(live.run.client_overhead_ms, "p99"),
            ]
        )
        p99 = summarize(added).p99
        sec.target(
            f"added latency p99, {frame_ms} ms frames",
            "< 20 ms",
            f"{fmt(p99)} ms",
            None if math.isnan(p99) else p99 < 20,
        )
    held = [
        fm
        for fm, lr in res.live.items()
        if summarize(lr.behind_live_ms()).p50 - summarize(lr.run.client_overhead_ms).p50 > fm / 2
    ]
    if held:
        sec.notes.append(
            prose(
                """
                Nearly all of the added latency is one input frame: the scheduler's 1:1 clock starts when the
                first frame *arrives* (`ServiceSession.opened_at`), but that frame's audio began one frame
                earlier, so every packet is held until one frame after its audio exists. Starting a live
                session's clock earlier by the audio already queued when it opens, capped at one packet,
                removes it without sending ahead as the service sees it (it measures from its first packet,
                and the packets still leave one packet-length apart); tried on this machine, that one change
                brought the added latency p99 to about 3 ms with both frame sizes and no emulator violations.
                """
            )
        )
    sec.table(
        [
            "input",
            "packets",
            "added p50 ms",
            "added p99 ms",
            "added max ms",
            "behind live p50 ms",
            "behind live p99 ms",
            "client work p50 ms",
            "client work p99 ms",
        ],
        rows,
    )
    return sec


def pacing_section(res: ClientResults) -> Section:
    """Measure 2."""
    sec = Section(
        "2. Pacing against the ideal 1:1 schedule",
        prose(
            """
            Packet k of a service session is due when the audio it ends with has been spoken since the
            session began: for 200 ms packets, (k+1)·200 ms. The session begins when it opened
            (`ServiceSessionOpened`), or for a live input when its first sample was spoken, if earlier (that
            audio existed before the session opened). Error = arrival on the socket − due (positive: late).
            *Ahead* counts packets more than 1 ms early (the clock reads are on different threads). *Max
            excess (service's view)* needs no start time: at each arrival, the audio already delivered in the
            session less the time since its first packet arrived — what the service can check; arrival jitter
            of the first packet shows in it as a few ms. The non-live run reads the audio as fast as the
            session takes it, so only the scheduler paces it; for the live runs the error is mostly the
            hold of measure 1. *Emulator violations* are the emulator's own pacing/gap rule breaks (it fails
            the session on one; its tolerance is 500 ms).
            """
        ),
    )
    runs: list[tuple[SessionRun, LiveSource | None]] = [(lr.run, lr.source) for lr in res.live.values()]
    runs += [(res.file, None)] if res.file is not None else []
    rows = []
    ahead_total, violations, worst, worst_excess = 0, 0, math.nan, float("-inf")
    for run, source in runs:
        pace = pacing(scheduled(run, source), 0.0)
        excess = service_excess_ms(run.timeline_packets)
        worst_excess = max(worst_excess, excess)
        ahead_total += pace.ahead
        violations += run.emulator_violations
        worst = max(worst, pace.abs_error.p99) if not math.isnan(worst) else pace.abs_error.p99
        rows.append(
            [
                run.label,
                pace.abs_error.n,
                fmt(pace.abs_error.mean),
                fmt(pace.abs_error.p99),
                fmt(pace.abs_error.max),
                pace.ahead,
                fmt(excess),
                fmt(pace.earliest_ms),
                run.emulator_violations,
                sizes(run.packets),
            ]
        )
    sec.table(
        [
            "run",
            "packets",
            "|error| mean ms",
            "|error| p99 ms",
            "|error| max ms",
            "ahead",
            "max excess (service's view) ms",
            "earliest ms",
            "emulator violations",
            "packet sizes",
        ],
        rows,
    )
    sec.target("never ahead of the 1:1 schedule", "0 packets early", f"{ahead_total} early", ahead_total == 0)
    sec.target(
        "never ahead as the service sees it",
        f"max excess ≤ {SERVICE_JITTER_MS:.0f} ms (arrival jitter)",
        f"{fmt(worst_excess)} ms",
        worst_excess <= SERVICE_JITTER_MS,
    )
    sec.target("emulator's pacing rules", "0 violations", f"{violations}", violations == 0)
    file_p99 = pacing(scheduled(res.file, None), 0.0).abs_error.p99 if res.file is not None else math.nan
    sec.notes.append(
        f"Scheduler precision (non-live run): p99 |pacing error| {fmt(file_p99)} ms (no target set; "
        f"for reference). Worst p99 over all runs: {fmt(worst)} ms."
    )
    return sec


def _recovery_s(live: LiveRun, reference_ms: float) -> float:
    """Seconds from clearing the latency to the first packet back within RECOVERED_WITHIN_MS of normal."""
    if len(live.changes) < 2:
        return math.nan
    cleared = live.changes[-1]
    behind = live.behind_live_ms()
    audio = [p for p in live.run.timeline_packets if not p.is_end]
    for packet, lag in zip(audio, behind, strict=True):
        if packet.wire_at > cleared and lag <= reference_ms + RECOVERED_WITHIN_MS:
            return packet.wire_at - cleared
    return math.inf


def catchup_section(res: ClientResults) -> Section:
    """Measure 3."""
    sec = Section(
        "3. Behind live under service latency",
        prose(
            """
            The live source (100 ms frames) against the emulator with injected answer latency: constant
            100 ms and 300 ms, and a spike (1,000 ms answers from 25% to 60% of the run, then none). One
            request is in flight at a time, so slow answers queue audio; the scheduler then sends bigger
            packets (up to 500 ms) to catch up. *Behind live* as in measure 1 (upload side); *answer behind
            live* adds the packet's round trip: when its results can be on screen. *Max backlog* is the
            pipeline's own gauge
            (sampled once a second).
            """
        ),
    )
    reference = res.live.get(MIC_FRAME_MS)
    ref_ms = summarize(reference.behind_live_ms()).p50 if reference is not None else math.nan
    rows = []
    runs = ([("none", reference)] if reference is not None else []) + list(res.catchup.items())
    for name, live in runs:
        behind = live.behind_live_ms()
        audio = [p for p in live.run.timeline_packets if not p.is_end]
        last_s = [
            lag
            for p, lag in zip(audio, behind, strict=True)
            if p.audio_end_ms > (live.run.audio_s - 5) * 1000
        ]
        answers = [lag + rtt for lag, rtt in zip(behind, live.run.round_trips_ms, strict=False)]
        rows.append(
            [
                name,
                _ms(live.run.round_trips_ms, "p50"),
                f"{_ms(answers, 'p50')} / {_ms(answers, 'max')}",
                fmt(behind[-1] if behind else math.nan),
                fmt(summarize(last_s).mean),
                fmt(max(behind, default=math.nan)),
                max((s.backlog_ms for s in live.run.stats), default=0),
                max((s.dropped_ms for s in live.run.stats), default=0),
                sizes(live.run.timeline_packets),
                f"{live.run.exit_code} ({live.run.end_reason})",
            ]
        )
        if name in ("100 ms", "300 ms"):
            top = max(behind, default=math.nan)
            sec.target(
                f"behind live bounded, {name} latency",
                f"max < {BOUNDED_MS:.0f} ms",
                f"{fmt(top)} ms",
                top < BOUNDED_MS,
            )
        if name == "spike":
            rec = _recovery_s(live, ref_ms)
            sec.target(
                "recovers after a latency spike",
                f"back within {RECOVERED_WITHIN_MS:.0f} ms of normal before the audio ends",
                f"{fmt(rec, 2)} s after the spike",
                None if math.isnan(rec) else math.isfinite(rec),
            )
    sec.table(
        [
            "injected latency",
            "round trip p50 ms",
            "answer behind live p50 / max ms",
            "behind live at end ms",
            "mean, last 5 s ms",
            "max ms",
            "max backlog ms",
            "dropped ms",
            "packet sizes",
            "exit",
        ],
        rows,
    )
    return sec


def cpu_rows(res: ClientResults) -> list[list[object]]:
    """Rows for measure 4 (CPU and memory per stream)."""
    runs = [lr.run for lr in res.live.values()]
    runs += [res.file] if res.file is not None else []
    runs += [lr.run for lr in res.catchup.values()]
    return [
        [
            f"ours: {run.label}",
            fmt(run.audio_s),
            fmt(run.wall_s),
            fmt(run.cpu_client_s, 2),
            fmt(100 * run.cpu_client_s / run.audio_s, 2),
            fmt(100 * run.cpu_loop_thread_s / run.audio_s, 2),
            fmt(run.rss_mib),
        ]
        for run in runs
    ]

"""Measure 5: the quick-start sample's approach next to ours, on the same audio and emulator."""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.analysis import Packet, growth_ms_per_min, pacing
from benchmarks.audio import speech_pcm
from benchmarks.baseline import BaselineRun, run_baseline
from benchmarks.client_bench import MIC_FRAME_MS, ClientResults, LiveRun
from benchmarks.emulator_thread import EmulatorThread
from benchmarks.measure import fmt, process_cpu_s
from benchmarks.report import Section, prose

LATENCIES_MS = (0, 100, 300)


@dataclass
class BaselineMeasured:
    """A baseline run with the CPU its process used outside the emulator."""

    run: BaselineRun
    latency_ms: int
    audio_s: float
    cpu_s: float

    def packets(self) -> list[Packet]:
        """Its packets as they reached the socket, relative to its start; the padded last one is IsEnd."""
        ends = self.run.audio_end_ms
        return [
            Packet(
                seq,
                (ends[seq - 1] if seq else 0),
                ends[seq] - (ends[seq - 1] if seq else 0),
                at - self.run.started_at,
                seq == len(ends) - 1,
            )
            for seq, at in enumerate(self.run.sent_at)
        ]


def run_baselines(emu: EmulatorThread, seconds: float, short_seconds: float) -> list[BaselineMeasured]:
    """The baseline at 0, 100 and 300 ms of injected latency (blocking, on this thread)."""
    out = []
    for latency in LATENCIES_MS:
        audio_s = seconds if latency == 0 else short_seconds
        pcm = speech_pcm(audio_s)
        emu.handle.set_faults(latency_ms=latency)
        try:
            emu_cpu0, cpu0 = emu.cpu_s(), process_cpu_s()
            run = run_baseline(emu.handle.url, emu.handle.secret_id, emu.handle.secret_key, pcm)
            cpu = process_cpu_s() - cpu0 - (emu.cpu_s() - emu_cpu0)
        finally:
            emu.handle.clear_faults()
        out.append(BaselineMeasured(run, latency, audio_s, cpu))
    return out


def _row(
    name: str, packets: list[Packet], start: float, audio_s: float, cpu_s: float, conns: str
) -> list[object]:
    pace = pacing(packets, start)
    audio = [p for p in packets if not p.is_end]
    behind = list(pace.errors_ms)
    slope = growth_ms_per_min([p.audio_end_ms for p in audio], behind)
    return [
        name,
        len(audio),
        pace.ahead,
        fmt(pace.earliest_ms),
        fmt(behind[-1] if behind else math.nan),
        fmt(max(behind, default=math.nan)),
        fmt(slope),
        fmt(slope * 60 / 1000 if math.isfinite(slope) else math.nan, 1),
        fmt(100 * cpu_s / audio_s, 2),
        conns,
    ]


def baseline_section(ours: ClientResults, baselines: list[BaselineMeasured]) -> Section:
    """Measure 5, with our live runs at the same latencies next to the baseline's."""
    sec = Section(
        "5. Baseline: the quick-start sample's approach",
        prose(
            """
            The sample's loop, reproduced on the same speech and emulator: blocking `http.client` calls with a
            new connection per request, TC3-signed TongChuanSync, 200 ms packets of raw PCM (the sample wraps
            each in a WAV header; the protocol says raw PCM, so the baseline sends raw PCM), and
            `time.sleep(0.2)` after each answer. It reads a file, so its "live" reference is its own start: a
            talk that began when it did. Ours is the live run of measures 1 and 3 (100 ms frames) at the same
            latency. *Growth* is the least-squares slope of behind-live over the run; *after 1 h* extrapolates
            it. CPU is the process's CPU time outside the emulator's thread, per second of audio.
            """
        ),
    )
    ours_by_latency: dict[int, LiveRun | None] = {
        0: ours.live.get(MIC_FRAME_MS),
        100: ours.catchup.get("100 ms"),
        300: ours.catchup.get("300 ms"),
    }
    rows = []
    verdicts = []
    for base in baselines:
        live = ours_by_latency.get(base.latency_ms)
        if live is not None:
            rows.append(
                _row(
                    f"ours, {base.latency_ms} ms latency",
                    live.run.timeline_packets,
                    live.source.started_at,
                    live.run.audio_s,
                    live.run.cpu_client_s,
                    "1 kept-alive",
                )
            )
        rows.append(
            _row(
                f"quick-start, {base.latency_ms} ms latency",
                base.packets(),
                0.0,
                base.audio_s,
                base.cpu_s,
                "1 per request",
            )
        )
        if base.run.errors:
            errors = base.run.errors
            sec.notes.append(f"quick-start at {base.latency_ms} ms: {len(errors)} errors, e.g. {errors[0]}")
        if live is not None and base.latency_ms > 0:
            ours_behind = pacing(live.run.timeline_packets, live.source.started_at).errors_ms
            base_behind = pacing(base.packets(), 0.0).errors_ms
            if ours_behind and base_behind:
                verdicts.append(ours_behind[-1] <= base_behind[-1])
    sec.table(
        [
            "client",
            "packets",
            "ahead",
            "earliest ms",
            "behind live at end ms",
            "max ms",
            "growth ms/min",
            "after 1 h, s",
            "CPU % of a core",
            "connections",
        ],
        rows,
    )
    sec.target(
        "beats the baseline",
        "less behind live at the end, with 100 and 300 ms latency",
        f"{sum(verdicts)}/{len(verdicts)} latencies",
        all(verdicts) if verdicts else None,
    )
    return sec

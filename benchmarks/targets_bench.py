"""Multi-target and many-streams rows (issue 12): several service sessions in one process, one input fanned
out to a service session per target, all sharing the account's one rate budget.

- multi-target: one input into 4 targets (en, ja, ko, yue) at 200 ms packets: 4 × 5 = 20 Sync requests/s;
- many streams: 3 inputs × 4 targets = 12 service sessions; the shared limiter plans their packets to 500 ms
  (12 × 2 = 24 Sync requests/s, under 25).

Measured: CPU of the client per service session (process CPU less the emulator thread's, as a share of one
core per second of audio), the packet length and the spacing of consecutive packets of each service session
(a 1:1 stream spaces them by their length), and the peak request rate the emulator saw in any one second.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass, field

from benchmarks.audio import FileLikeSource
from benchmarks.emulator_thread import EmulatorThread
from benchmarks.measure import fmt, percentile, process_cpu_s
from benchmarks.report import Section, Target, prose
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.api.models import ACTION_DISPLAY, ACTION_SYNC
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.state import EmulatorState
from tongchuan_tui.pipeline.events import ChunkSent, Event
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.session import InterpreterSession, SessionOptions

TARGETS = ("en", "ja", "ko", "yue")
CPU_GOAL_PCT = 1.0
"""Issue 12: at most 1 % of one core per service session, headless."""
RATE_LIMIT = 25


@dataclass
class TargetsRun:
    """One run: how many inputs and targets, and what the client and the emulator saw."""

    label: str
    inputs: int
    targets: int
    audio_s: float
    wall_s: float = 0.0
    cpu_client_s: float = 0.0
    chunks: list[ChunkSent] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    peak: dict[str, int] = field(default_factory=dict)
    violations: int = 0

    @property
    def service_sessions(self) -> int:
        """Service sessions in the run (one per input and target)."""
        return self.inputs * self.targets

    def cpu_pct_per_session(self) -> float:
        """Client CPU as a share of one core, per service session, over the audio's duration."""
        return 100 * self.cpu_client_s / self.audio_s / max(1, self.service_sessions)

    def packet_ms(self) -> float:
        """The median packet length (not counting the last, padded ones)."""
        lengths = [c.duration_ms for c in self.chunks if not c.is_end]
        return statistics.median(lengths) if lengths else float("nan")

    def spacing_error_ms(self) -> list[float]:
        """Per pair of consecutive packets of one service session: |spacing − the first one's length|."""
        by_uuid: dict[str, list[ChunkSent]] = {}
        for chunk in self.chunks:
            by_uuid.setdefault(chunk.session_uuid, []).append(chunk)
        errors: list[float] = []
        for chunks in by_uuid.values():
            chunks.sort(key=lambda c: c.seq)
            for a, b in itertools.pairwise(chunks):
                if not b.is_end:
                    errors.append(abs(b.sent_at_ms - a.sent_at_ms - a.duration_ms))
        return errors


async def run_targets(emu: EmulatorThread, *, inputs: int, seconds: float, label: str) -> TargetsRun:
    """`inputs` sessions over `seconds` of speech each, each into all four targets, in this process."""
    handle = emu.handle
    run = TargetsRun(label=label, inputs=inputs, targets=len(TARGETS), audio_s=seconds)
    ms = round(seconds * 1000)
    speech = [(a, min(ms, a + 2500)) for a in range(500, ms - 500, 3000)]
    limits = RateLimits(spread=True)  # as runtime.py builds the process's budget
    wall0 = time.time()

    def sink(event: Event) -> None:
        if isinstance(event, ChunkSent):
            run.chunks.append(event)

    creds = Credentials(handle.secret_id, handle.secret_key)
    async with TsiClient(creds, endpoint=handle.url, timeout_s=10.0) as client:
        sessions = [
            InterpreterSession(
                SessionOptions(target=TARGETS[0], targets=TARGETS, end_timeout_s=5.0, emulated=True),
                client,
                FileLikeSource(speech_like_pcm(ms, speech, seed=n), description=f"bench:file/{n}"),
                sinks=[sink],
                rate_limits=limits,
            )
            for n in range(inputs)
        ]
        emu_cpu0, cpu0, t0 = emu.cpu_s(), process_cpu_s(), time.monotonic()
        run.exit_codes = list(await asyncio.gather(*(s.run() for s in sessions)))
        run.wall_s = time.monotonic() - t0
        run.cpu_client_s = process_cpu_s() - cpu0 - (emu.cpu_s() - emu_cpu0)
    state = handle.state
    ours = {c.session_uuid for c in run.chunks}
    run.violations = sum(
        len(s.pacing_violations) + len(s.gap_violations) for s in state.sessions if s.session_uuid in ours
    )
    # Only this run's requests (the log is shared with the bench's other parts).
    fresh = EmulatorState(sessions=(), requests=tuple(r for r in state.requests if r.at >= wall0))
    run.peak = {action: fresh.peak_rate(action) for action in (ACTION_SYNC, ACTION_DISPLAY)}
    return run


async def targets_runs(emu: EmulatorThread, seconds: float) -> list[TargetsRun]:
    """The multi-target row and the many-streams row."""
    return [
        await run_targets(emu, inputs=1, seconds=seconds, label="multi-target: 1 input × 4 targets"),
        await run_targets(emu, inputs=3, seconds=seconds, label="many streams: 3 inputs × 4 targets"),
    ]


def targets_section(runs: list[TargetsRun]) -> Section:
    """Measure: several service sessions in one process under one rate budget."""
    sec = Section(
        "Multi-target and many streams in one process",
        prose(
            """
            One input fanned out to a service session per target language (en, ja, ko, yue), every service
            session of the process sharing one rate budget. 4 targets at 200 ms packets plan 20 Sync/s;
            3 inputs × 4 targets = 12 service sessions, which the limiter plans to 500 ms packets (24 Sync/s).
            Client CPU is the process's less the emulator thread's. Spacing error: how far consecutive packets
            of one service session were from being spaced by their length (1:1). Peak: the most requests of
            one action the emulator saw in any one second.
            """
        ),
    )
    rows = []
    for run in runs:
        errors = run.spacing_error_ms()
        rows.append(
            [
                run.label,
                run.service_sessions,
                fmt(run.audio_s),
                fmt(run.wall_s),
                fmt(run.packet_ms(), 0),
                fmt(percentile(errors, 50) if errors else float("nan")),
                fmt(percentile(errors, 99) if errors else float("nan")),
                fmt(run.cpu_pct_per_session(), 2),
                run.peak.get(ACTION_SYNC, 0),
                run.peak.get(ACTION_DISPLAY, 0),
                run.violations,
                ",".join(map(str, sorted(set(run.exit_codes)))),
            ]
        )
        sec.targets.append(
            Target(
                f"{run.label}: CPU per service session",
                f"≤ {CPU_GOAL_PCT:g} % of one core",
                f"{fmt(run.cpu_pct_per_session(), 2)} %",
                run.cpu_pct_per_session() <= CPU_GOAL_PCT,
            )
        )
        peak = max(run.peak.values(), default=0)
        sec.targets.append(
            Target(
                f"{run.label}: peak Sync requests/s seen by the emulator",
                f"≤ {RATE_LIMIT}",
                str(run.peak.get(ACTION_SYNC, 0)),
                run.peak.get(ACTION_SYNC, 0) <= RATE_LIMIT and peak <= 2 * RATE_LIMIT,
            )
        )
    sec.table(
        [
            "run",
            "service sessions",
            "audio s",
            "wall s",
            "packet ms",
            "spacing error p50 ms",
            "p99 ms",
            "CPU % of a core per service session",
            "peak Sync/s",
            "peak Display/s",
            "pacing violations",
            "exit",
        ],
        rows,
    )
    return sec

"""UI-free test doubles: a scripted SessionLike the test drives, a frozen clock, and canned events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tongchuan_tui.pipeline.events import (
    Event,
    HealthChanged,
    LevelMeasured,
    MarkAdded,
    Paused,
    Resumed,
    Sentence,
    SentenceRevised,
    ServiceSessionOpened,
    SessionEnded,
    SessionStarted,
    StatsSnapshot,
    StatsUpdated,
)
from tongchuan_tui.services import DeviceInfo, Services, Sink


class FrozenClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class UiSettingsStub:
    """The two settings the UI reads."""

    layout: str = "auto"
    final_only: bool = False


class ScriptedSession:
    """A SessionLike: emits its script when run, then waits for `stop` or `finish`; records each command."""

    def __init__(
        self,
        script: Iterable[Event] = (),
        *,
        end_on_stop: bool = True,
        exit_code: int = 0,
        fail_with: Exception | None = None,
    ) -> None:
        self.script = list(script)
        self.sinks: list[Sink] = []
        self.calls: list[tuple[str, str]] = []
        self.end_on_stop = end_on_stop
        self.exit_code = exit_code
        self.fail_with = fail_with
        self.timeline_ms = 0
        self._done = asyncio.Event()
        self.running = asyncio.Event()

    def add_sink(self, sink: Sink) -> None:
        self.sinks.append(sink)

    def emit(self, event: Event) -> None:
        """Hand an event to every sink, as a session does on its event loop."""
        for sink in self.sinks:
            sink(event)

    async def run(self) -> int:
        for event in self.script:
            self.emit(event)
        self.running.set()
        if self.fail_with is not None:
            raise self.fail_with
        await self._done.wait()
        self.emit(SessionEnded(reason=self._reason, at_ms=self.timeline_ms, exit_code=self.exit_code))
        return self.exit_code

    def finish(self, reason: str = "input-ended", exit_code: int | None = None) -> None:
        """End the session from the test's side (input ended, failure...)."""
        if exit_code is not None:
            self.exit_code = exit_code
        self._reason = reason
        self._done.set()

    _reason = "stopped"

    def stop(self, reason: str = "stopped") -> None:
        self.calls.append(("stop", reason))
        if self.end_on_stop:
            self.finish(reason)

    def pause(self) -> None:
        self.calls.append(("pause", ""))
        self.emit(Paused(at_ms=self.timeline_ms))

    def resume(self) -> None:
        self.calls.append(("resume", ""))
        self.emit(Resumed(at_ms=self.timeline_ms))

    def mark(self, label: str = "") -> None:
        self.calls.append(("mark", label))
        self.emit(MarkAdded(at_ms=self.timeline_ms, label=label))


@dataclass
class Recorder:
    """Records calls to the Services callables (device switching, export, closers)."""

    switched: list[str] = field(default_factory=list)
    exported: list[str] = field(default_factory=list)
    closed: int = 0
    switch_error: Exception | None = None

    def switch_device(self) -> Callable[[str], Awaitable[None]]:
        async def switch(spec: str) -> None:
            if self.switch_error is not None:
                raise self.switch_error
            self.switched.append(spec)

        return switch

    def export(self, directory: Path) -> Callable[[str, Path | None], Path]:
        def export(fmt: str, out: Path | None) -> Path:
            self.exported.append(fmt)
            return out or directory / f"session.{fmt}"

        return export

    def closer(self) -> Callable[[], Awaitable[None]]:
        async def close() -> None:
            self.closed += 1

        return close


DEVICES = [
    DeviceInfo(index=0, name="Built-in Microphone", channels=2, default_rate=48000.0, is_default=True),
    DeviceInfo(index=3, name="USB Audio Interface", channels=1, default_rate=44100.0),
]


def make_services(session: ScriptedSession, **overrides: object) -> Services:
    """Services around a scripted session, as the CLI would build them for a file on the emulator."""
    values: dict[str, object] = {
        "session": session,
        "input_description": "file:talk.wav",
        "endpoint_host": "127.0.0.1:8765",
        "emulated": True,
        "source_lang": "zh",
        "target_lang": "en",
    }
    values.update(overrides)
    return Services(**values)  # type: ignore[arg-type]


def sentence(
    index: int, source: str, target: str, *, final: bool = True, ver: int = 3, start_ms: int | None = None
) -> SentenceRevised:
    """A revision of sentence `index` of service session 0."""
    start = index * 4000 if start_ms is None else start_ms
    return SentenceRevised(
        Sentence(
            key=f"0:{index}",
            service_session=0,
            se_id=str(index),
            se_ver=ver,
            source_text=source,
            target_text=target,
            start_ms=start,
            end_ms=start + 3500,
            final=final,
        )
    )


def started(input_description: str = "file:talk.wav") -> SessionStarted:
    return SessionStarted(
        started_at_utc=1_764_000_000.0,
        input=input_description,
        source="zh",
        target="en",
        mode="sync",
        chunk_ms=200,
        endpoint_host="127.0.0.1:8765",
        emulated=True,
    )


DEMO_SENTENCES = [
    ("大家好，欢迎来到今天的发布会。", "Hello everyone, and welcome to today's launch event."),
    (
        "我们今天要介绍一款全新的同声传译工具。",
        "Today we are introducing a brand-new simultaneous interpretation tool.",
    ),
    (
        "它可以在终端里实时显示原文和译文。",
        "It shows the source text and the translation live in the terminal.",
    ),
    ("即使在网络不稳定的情况下，它也能保持稳定。", "It stays stable even when the network is unreliable."),
    (
        "所有内容都会保存在会话日志中，方便以后导出。",
        "Everything is kept in the session journal, ready to export later.",
    ),
    ("接下来请看演示。", "Now, let's look at the demo."),
]


def demo_script() -> list[Event]:
    """A session in full flow: finished sentences, one still being revised, stats and level."""
    events: list[Event] = [started(), ServiceSessionOpened("uuid-0", 0, 0, "start")]
    for index, (source, target) in enumerate(DEMO_SENTENCES):
        events.append(sentence(index, source, target, final=True, ver=4))
    events.append(
        sentence(len(DEMO_SENTENCES), "下面我们看一下", "Below we will look at", final=False, ver=2)
    )
    events.append(LevelMeasured(dbfs=-23.5, peak_dbfs=-9.0, clipped=False, silent_for_ms=0))
    events.append(
        StatsUpdated(
            StatsSnapshot(
                requests_ok=142,
                requests_retried=2,
                requests_failed=0,
                requests_per_s=5.0,
                rtt_p50_ms=118.0,
                rtt_p95_ms=240.0,
                rtt_p99_ms=312.0,
                rtt_recent_ms=(110.0, 120.0, 180.0, 95.0, 240.0, 130.0, 118.0, 101.0, 150.0, 312.0, 122.0),
                in_flight=1,
                backlog_ms=0,
                dropped_ms=0,
                behind_live_ms=200,
                audio_sent_ms=28_400,
                service_sessions=1,
                rollovers=0,
                rate_headroom={"TongChuanSync": 0.8},
                rtt_now_ms=121.0,
                lag_first_ms=1400,
                lag_final_ms=2600,
            )
        )
    )
    events.append(HealthChanged("live", "", "", 1_764_000_000.0))
    return events

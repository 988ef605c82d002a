"""The session sink that voices the translation: decoding, placing, writing and playing on its own thread.

Calling the sink only queues the few events it needs (`SentenceVoiced`, `ChunkSent` for the timeline's
progress, `SessionEnded`): the session's thread never decodes or writes. On its thread, each sentence's
audio is decoded to the track rate, then:
- on the track (`--voice-out`), placed on the session timeline by a planner (when it arrived, or after the
  previous sentence), silence written up to the live position as the session goes on and up to its end;
- on the device (`--voice-device`), placed by a second planner on the wall clock and queued to the player;
- with `--keep-voice`, written as received to `JOURNAL.voice/NNNNN.EXT` (for `export --voice`).
A sentence sped up or skipped to stay live is said through `on_warning`, once per sentence.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tongchuan_tui.pipeline.events import ChunkSent, Event, SentenceVoiced, SessionEnded
from tongchuan_tui.voice.decode import decode_voice, speed_up
from tongchuan_tui.voice.keeper import keep_audio
from tongchuan_tui.voice.planner import Placement, VoicePlanner, describe
from tongchuan_tui.voice.player import VoicePlayer
from tongchuan_tui.voice.track import TrackWriter

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class VoiceStatus:
    """What the stats pane shows of the voice."""

    voiced: int
    queued_ms: int
    sped_up: int
    skipped: int
    muted: bool
    error: str | None

    def line(self) -> str:
        """One line: `voice 12 sentences, 1.2 s queued, 1 sped up, 0 skipped (muted)`."""
        text = (
            f"voice {self.voiced} sentence{'' if self.voiced == 1 else 's'}, {self.queued_ms / 1000:.1f} s "
            f"queued, {self.sped_up} sped up, {self.skipped} skipped"
        )
        if self.muted:
            text += " (muted)"
        return f"{text}; {self.error}" if self.error else text


class VoiceSink:
    """Feeds the voice outputs from the session's events without blocking the session."""

    def __init__(
        self,
        *,
        rate: int,
        catch_up_ms: int,
        track: TrackWriter | None = None,
        player: VoicePlayer | None = None,
        keep_dir: Path | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.rate = rate
        self._track = track
        self._player = player
        self._keep_dir = keep_dir
        self._on_warning = on_warning
        self._track_plan = VoicePlanner(catch_up_ms)
        self._device_plan = VoicePlanner(catch_up_ms)
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
        self._voiced = 0
        self._closed = False
        self._keep_failed = False
        self.placements: list[Placement] = []
        """Where each sentence went on the track (or on the device's clock without a track)."""

    def start(self) -> None:
        """Start the worker thread (and the device, which may raise VoiceError)."""
        if self._player is not None:
            self._player.start()
        self._thread.start()

    def __call__(self, event: Event) -> None:
        if isinstance(event, SentenceVoiced | ChunkSent | SessionEnded) and not self._closed:
            self._queue.put(event)

    def toggle_mute(self) -> bool:
        """Mute or unmute the device; returns whether it is muted now."""
        if self._player is None:
            return False
        self._player.set_muted(not self._player.muted)
        return self._player.muted

    def status(self) -> VoiceStatus:
        """The voice queue and counters, for the stats pane."""
        plan = self._device_plan if self._player is not None else self._track_plan
        return VoiceStatus(
            voiced=self._voiced,
            queued_ms=self._player.queued_ms() if self._player is not None else 0,
            sped_up=plan.sped_up,
            skipped=plan.skipped,
            muted=self._player.muted if self._player is not None else False,
            error=self._player.error if self._player is not None else None,
        )

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Process what is queued, finish the track and let the device play out (bounded). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)
        if self._player is not None:
            self._player.close()
        if self._track is not None:
            try:
                self._track.close()
            except Exception as exc:
                self._warn(f"voice track: cannot be finished ({exc})")

    # ----- the worker thread -----

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            try:
                self._handle(event)
            except Exception as exc:
                log.exception("voice output failed on %s", type(event).__name__)
                self._warn(f"voice: {type(exc).__name__}: {exc}")

    def _handle(self, event: Event) -> None:
        if isinstance(event, ChunkSent):
            if self._track is not None:
                # Silence up to the live edge, so the track grows with the session (never past a sentence
                # still being written: the planner's end is where the last one stops).
                self._track.silence_to(max(self._track_plan.end_ms, event.audio_start_ms + event.duration_ms))
        elif isinstance(event, SessionEnded):
            if self._track is not None:
                self._track.silence_to(max(self._track_plan.end_ms, event.at_ms))
        elif isinstance(event, SentenceVoiced):
            self._voice(event)

    def _voice(self, event: SentenceVoiced) -> None:
        if self._keep_dir is not None and not self._keep_failed:
            try:
                keep_audio(self._keep_dir, event)
            except OSError as exc:
                self._keep_failed = True
                self._warn(f"--keep-voice: {self._keep_dir} cannot be written ({exc.strerror or exc})")
        try:
            pcm = decode_voice(
                event.audio, codec=event.codec, sample_rate=event.sample_rate, track_rate=self.rate
            )
        except ValueError as exc:
            self._warn(f"voice: sentence {event.key} not voiced: {exc}")
            return
        duration_ms = len(pcm) * 1000 // (2 * self.rate)
        self._voiced += 1
        if self._track is not None:
            placement = self._track_plan.place(event.key, event.at_ms, duration_ms)
            self.placements.append(placement)
            self._report(placement)
            if not placement.skipped:
                self._track.put(placement.start_ms, speed_up(pcm, self.rate, placement.tempo))
        if self._player is not None:
            placement = self._device_plan.place(event.key, self._player.now_ms(), duration_ms)
            if self._track is None:
                self.placements.append(placement)
                self._report(placement)
            if not placement.skipped:
                self._player.enqueue(speed_up(pcm, self.rate, placement.tempo))

    def _report(self, placement: Placement) -> None:
        message = describe(placement)
        if message is not None:
            self._warn(message)

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        if self._on_warning is not None:
            try:
                self._on_warning(message)
            except Exception:
                log.exception("voice warning callback failed")

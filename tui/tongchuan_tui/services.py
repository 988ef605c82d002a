"""What the front ends (UI, headless output) are handed: a running session and the few services around it.

Built by the CLI from the settings; tests build it around an emulator-backed session instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# Defined in the layers they belong to; re-exported here, where front ends have always found them.
from tongchuan_tui.audio.devices import DeviceInfo
from tongchuan_tui.pipeline.events import Sink

__all__ = ["DeviceInfo", "Services", "SessionLike", "Sink"]


class SessionLike(Protocol):
    """A live session, or a replay of a journal: an event stream plus the commands a user may give."""

    def add_sink(self, sink: Sink) -> None:
        """Receive every event from now on (maybe on another thread: the sink must not block)."""
        ...

    async def run(self) -> int:
        """Run to the end; returns the process exit code. Emits `SessionEnded` last."""
        ...

    def stop(self, reason: str = "stopped") -> None:
        """End gracefully: final IsEnd, wait (bounded) for the last results."""
        ...

    def pause(self) -> None:
        """Pause (ends the service session with IsEnd); the timeline stops."""
        ...

    def resume(self) -> None:
        """Resume on a new service session; the timeline goes on."""
        ...

    def mark(self, label: str = "") -> None:
        """Mark the current moment in the journal."""
        ...


@dataclass
class Services:
    """Everything a front end needs, injected (see `ui.app.make_app`)."""

    session: SessionLike
    input_description: str
    endpoint_host: str
    emulated: bool
    source_lang: str
    target_lang: str
    journal_path: Path | None = None
    replay: bool = False
    list_devices: Callable[[], list[DeviceInfo]] | None = None
    """Capture devices for the `d` key; None when device switching is not possible (file, replay)."""
    switch_device: Callable[[str], Awaitable[None]] | None = None
    """Switch the live session to the device `mic:<index>`; raises AudioInputError."""
    export: Callable[[str, Path | None], Path] | None = None
    """Export the running session's journal in a format (srt, vtt, txt, md, json); returns the file."""
    live_status: Callable[[], str] | None = None
    """The live server's line for the UI (address, token, clients connected); None when not serving."""
    voice_status: Callable[[], str] | None = None
    """The voice's line for the stats pane (sentences, queue, catch-up); None without a voice output."""
    toggle_voice: Callable[[], bool] | None = None
    """Mute or unmute the voice device (returns whether it is muted now); None without one."""
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Run in order when the front end has finished (client session, in-process emulator...)."""

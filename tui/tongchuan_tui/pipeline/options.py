"""What a session is asked to do: languages, mode, packet size and bounds (re-exported by `session`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tongchuan_tui.api.models import TtsOptions


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """The settings of one interpreter session, as the CLI derives them from `Settings`."""

    source: str = "zh"
    target: str = "en"
    mode: str = "sync"
    """`sync` (TongChuanSync, results in each answer) or `split` (Recognize uploads + Display polling)."""
    chunk_ms: int = 200
    max_backlog_ms: int = 10_000
    translate_time: int = 2
    display_interval_ms: int = 300
    end_timeout_s: float = 10.0
    input_description: str = ""
    endpoint_host: str = ""
    emulated: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    """For `SessionStarted` (no secrets)."""
    tts: TtsOptions | None = None
    """Synthesized speech of each translation, asked for on every upload (None: not asked)."""

    def __post_init__(self) -> None:
        if self.mode not in ("sync", "split"):
            raise ValueError(f"mode must be sync or split, not {self.mode!r}")
        if not 200 <= self.chunk_ms <= 500:
            raise ValueError(f"chunk_ms must be 200..500, not {self.chunk_ms}")
        if self.max_backlog_ms < 1000:
            raise ValueError(f"max_backlog_ms must be at least 1000, not {self.max_backlog_ms}")
        if self.display_interval_ms < 20:
            raise ValueError(f"display_interval_ms must be at least 20, not {self.display_interval_ms}")

"""One service session (SessionUuid) as the scheduler paces it: the 1:1 budget counted from its opening."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.pipeline.transcript import TimelineMap

_EPSILON_MS = 1e-4
"""Float slack when turning elapsed seconds into whole ms (a deadline met exactly must count as met)."""


@dataclass
class ServiceSession:
    """One SessionUuid: its pacing origin, next Seq, and where its audio lies on the timeline."""

    uuid: str
    index: int
    opened_at: float
    utc: int
    timeline: TimelineMap
    last_ok: float
    seq: int = 0
    sent_bytes: int = 0
    """Delivered packet bytes, padding included: the service hears padding as audio, so pacing counts it."""

    def allowed_bytes(self, now: float) -> int:
        """How much audio the 1:1 rule allows to have been sent by `now`."""
        return max(0, math.floor((now - self.opened_at) * 1000 + _EPSILON_MS)) * BYTES_PER_MS

    def due_at(self, total_bytes: int) -> float:
        """When the 1:1 rule allows `total_bytes` in all to have been sent."""
        return self.opened_at + math.ceil(total_bytes / BYTES_PER_MS) / 1000

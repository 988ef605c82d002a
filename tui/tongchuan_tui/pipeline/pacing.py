"""One service session (SessionUuid) as the scheduler paces it: the 1:1 budget, anchored to what the service
accepted.

The service measures "faster than real time" from the first packet it *accepted*: audio received so far
against the time since that packet arrived. Refused attempts (RequestLimitExceeded, ServiceUnavailable…)
do not start its clock. So the budget starts counting when the session opens (the first packet can then go
as soon as its audio exists), and once Seq 0 is accepted its origin moves to "that packet's send time less
its length": from then on a packet ending at session byte `b` goes no earlier than `origin + b`, which keeps
the audio accepted at most one packet (the first) ahead of the service's clock, however refusals fall.
Later refusals only delay packets; the budget they leave unused may be caught up, never exceeded.
"""

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
    """When it opened (less any live lead): the pacing origin until the service accepts Seq 0."""
    utc: int
    timeline: TimelineMap
    last_ok: float
    seq: int = 0
    sent_bytes: int = 0
    """Delivered packet bytes, padding included: the service hears padding as audio, so pacing counts it."""
    origin: float = 0.0
    """The pacing origin: `opened_at`, then anchored to the accepted Seq 0 (see the module doc)."""

    def __post_init__(self) -> None:
        self.origin = self.opened_at

    def accepted(self, sent_at: float, size: int) -> None:
        """The service accepted the next packet (`size` bytes), whose successful attempt went at `sent_at`."""
        if self.seq == 0:
            # The service's clock starts at this packet: count the 1:1 budget from it.
            self.origin = max(self.origin, sent_at - size / BYTES_PER_MS / 1000)
        self.seq += 1
        self.sent_bytes += size
        self.last_ok = sent_at

    def allowed_bytes(self, now: float) -> int:
        """How much audio the 1:1 rule allows to have been sent by `now`."""
        return max(0, math.floor((now - self.origin) * 1000 + _EPSILON_MS)) * BYTES_PER_MS

    def due_at(self, total_bytes: int) -> float:
        """When the 1:1 rule allows `total_bytes` in all to have been sent."""
        return self.origin + math.ceil(total_bytes / BYTES_PER_MS) / 1000

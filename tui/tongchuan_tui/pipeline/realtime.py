"""What the interpreter's process must be like for one thread to pace packets while others draw: handed to
the engine explicitly (`SessionEngine(..., runtime=RealtimeRuntime())`), applied while it runs, undone after.

Two things every thread of a Python process shares can still make the engine's thread late, however idle
its own loop is:

- the interpreter lock: a thread that wakes for a due packet waits for a busy thread (the UI drawing) to
  hand the lock over, up to the switch interval (5 ms by default) each time it gets it back — after every
  socket call on the send path. A 1 ms interval bounds each wait to 1 ms.
- full garbage collections: they traverse every tracked object of the process and stop every thread
  meanwhile (15–40 ms with a Textual app's heap, more on a loaded machine). The young generations are left
  to the interpreter (a millisecond or two at most); the full ones are taken over and run in the session's
  quiet moments: right after a packet's answer arrived, when the next packet is most of a packet away, or,
  when no packet goes out (paused, waiting for input), on a timer; and never more than OVERDUE_S apart.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Callable

from tongchuan_tui.pipeline.events import ChunkSent, Event

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001
"""How long a thread may keep the interpreter lock while another waits for it."""
FULL_EVERY_S = 5.0
"""A full collection at the first quiet moment this long after the last one."""
FULL_BUDGET_MS = 60.0
"""A quiet moment is one where the next packet is at least this far away."""
OVERDUE_S = 30.0
"""With no quiet moment for this long (answers slower than a packet lasts), collect at the next answer anyway:
memory must not grow through a long session."""
IDLE_AFTER_S = 1.0
"""No packet for this long: nothing is being paced, any moment is quiet."""
NO_AUTOMATIC_FULL = 1_000_000
"""gc's third threshold: full collections never start on their own (only ours do)."""


class RealtimeRuntime:
    """Interpreter settings for the engine's thread while a session runs; `install`/`uninstall` pair up."""

    def __init__(
        self,
        *,
        switch_interval_s: float = SWITCH_INTERVAL_S,
        full_every_s: float = FULL_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._switch_interval_s = switch_interval_s
        self._full_every_s = full_every_s
        self._clock = clock
        self._saved: tuple[float, tuple[int, int, int]] | None = None
        self._last_full = clock()
        self._last_packet = 0.0
        self.full_collections = 0

    def install(self) -> None:
        """Shorten the switch interval and take over full collections (idempotent)."""
        if self._saved is not None:
            return
        threshold = gc.get_threshold()
        self._saved = (sys.getswitchinterval(), threshold)
        sys.setswitchinterval(self._switch_interval_s)
        gc.set_threshold(threshold[0], threshold[1], NO_AUTOMATIC_FULL)
        self._last_full = self._clock()

    def uninstall(self) -> None:
        """Restore what `install` changed."""
        if self._saved is None:
            return
        interval, threshold = self._saved
        self._saved = None
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)

    def observe(self, event: Event) -> None:
        """Called with every event on the engine's thread: after a packet's answer, collect if it is time."""
        if self._saved is None or not isinstance(event, ChunkSent):
            return
        now = self._clock()
        self._last_packet = now
        quiet_ms = event.duration_ms - event.round_trip_ms
        if event.is_end or quiet_ms >= FULL_BUDGET_MS or now - self._last_full >= OVERDUE_S:
            self._collect_if_due(now)

    def tick(self) -> None:
        """Called every second or so on the engine's thread: collect if no packet is being paced."""
        if self._saved is None:
            return
        now = self._clock()
        if now - self._last_packet >= IDLE_AFTER_S:
            self._collect_if_due(now)

    def _collect_if_due(self, now: float) -> None:
        if now - self._last_full < self._full_every_s:
            return
        self._last_full = now
        self.full_collections += 1
        gc.collect()

"""Handing one event to every subscriber, so that a failing one is reported once and never stops the rest
(the session's sinks and the engine's subscribers both go through it)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tongchuan_tui.pipeline.events import Event, Sink, WarningRaised

log = logging.getLogger(__name__)


def fan_out(sinks: Iterable[Sink], event: Event, broken: set[int]) -> list[WarningRaised]:
    """Call every sink with `event`, in order; returns a warning for each sink that failed for the first
    time (`broken` remembers which have: each is logged with its traceback once)."""
    failed: list[WarningRaised] = []
    for sink in sinks:
        try:
            sink(event)
        except Exception as error:
            if id(sink) not in broken:
                broken.add(id(sink))
                log.exception("subscriber %r failed", sink)
                message = f"an output failed and may miss events: {type(error).__name__}: {error}"
                failed.append(WarningRaised(message=message, code="sink-failed"))
    return failed

"""The transcript's single writer: every answer (Sync's and Display's) and every close goes through one desk.

The scheduler (upload answers), the result collector (Display polls, closing service sessions) and the lane
(the session's end) all change sentences; they do it only through `SentenceDesk`, which merges into the
transcript and emits a `SentenceRevised` for each sentence that changed, so there is one place that decides
what the viewers are told. They still read the transcript directly (`desk.transcript`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tongchuan_tui.api.models import DisplayInfo
from tongchuan_tui.pipeline.events import Event, SentenceRevised
from tongchuan_tui.pipeline.timing import TimelineMap
from tongchuan_tui.pipeline.transcript import Transcript


class SentenceDesk:
    """Writes one target's transcript and tells `emit` what changed."""

    def __init__(self, transcript: Transcript, emit: Callable[[Event], None]) -> None:
        self.transcript = transcript
        self._emit = emit

    def open_session(self, index: int, offset_ms: int) -> TimelineMap:
        """Service session `index` begins at timeline `offset_ms`; returns its map to extend."""
        return self.transcript.open_session(index, offset_ms)

    def merge(self, index: int, infos: Iterable[DisplayInfo], *, polled: bool = False) -> None:
        """One answer's sentences of service session `index` (`polled`: a Display answer)."""
        for sentence in self.transcript.apply(index, infos, polled=polled):
            self._emit(SentenceRevised(sentence))

    def close_session(self, index: int) -> None:
        """Service session `index` says no more: its open sentences are final as last seen."""
        for sentence in self.transcript.close_session(index):
            self._emit(SentenceRevised(sentence))

    def close_all(self) -> None:
        """The session ends: every open sentence is final as last seen."""
        for sentence in self.transcript.close_all():
            self._emit(SentenceRevised(sentence))

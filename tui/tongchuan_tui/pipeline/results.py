"""Collects sentences by polling TongChuanDisplay: the open service session in split mode, and every
closed service session until its sentences are final or its time to answer (`end_timeout_s`) is up.

In sync mode the open service session is polled too while the uploads' answers carry no sentence for
`SYNC_QUIET_MS` of audio: what Sync's `List` holds is undocumented, and it may stay empty (or null) even
while the service recognizes speech.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from tongchuan_tui.api.errors import TsiError
from tongchuan_tui.api.models import ACTION_DISPLAY, DisplayRequest
from tongchuan_tui.api.service import TsiService
from tongchuan_tui.pipeline.clock import Clock, wait_until
from tongchuan_tui.pipeline.events import Event, RequestFailed, RequestRetried, SentenceRevised
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.transcript import Transcript

log = logging.getLogger(__name__)

SYNC_QUIET_MS = 3000
"""Audio delivered without a sentence in Sync's answers after which Display is asked as well."""


@dataclass
class _Closing:
    uuid: str
    deadline: float
    polled: bool
    """Whether Display has been asked since it closed (needed when no sentence is known to be open)."""


class ResultCollector:
    """Display polling, sharing the transcript with the uploads; its failures never stop the uploads."""

    def __init__(
        self,
        *,
        service: TsiService,
        clock: Clock,
        limits: RateLimits,
        transcript: Transcript,
        emit: Callable[[Event], None],
        interval_s: float,
        poll_current: bool,
    ) -> None:
        self._service = service
        self._clock = clock
        self._limits = limits
        self._transcript = transcript
        self._emit = emit
        self._interval_s = interval_s
        self._poll_current = poll_current
        self.current: tuple[str, int] | None = None
        """(SessionUuid, index) of the open service session."""
        self._closing: dict[int, _Closing] = {}
        self._failures = 0
        self._changed = asyncio.Event()
        self.in_flight = 0

    def track_closed(self, uuid: str, index: int, timeout_s: float, *, collect: bool) -> None:
        """A service session sent IsEnd (`collect`: its last results are still to come) or was abandoned."""
        known_open = bool(self._transcript.open_sentences(index))
        # When the uploads' answers carried no sentence lately (Sync's List may stay empty; Recognize's always
        # is), sentences may exist that only Display can tell about: ask it at least once.
        unheard = self._transcript.quiet_ms(index) > 0
        if collect and (known_open or unheard):
            self._closing[index] = _Closing(uuid, self._clock.monotonic() + timeout_s, polled=known_open)
        else:
            self._finalize(index)
        self._changed.set()

    def hurry(self) -> None:
        """Stop waiting for late results: finalize every closed service session now."""
        for index in list(self._closing):
            self._finalize(index)
        self._changed.set()

    @property
    def waiting(self) -> bool:
        """Whether results of closed service sessions are still awaited."""
        return bool(self._closing)

    async def wait_done(self) -> None:
        """Until no closed service session awaits results."""
        while self._closing:
            self._changed.clear()
            await wait_until(self._clock, self._changed, None)

    async def run(self) -> None:
        """Poll every interval until cancelled."""
        while True:
            now = self._clock.monotonic()
            for index, closing in list(self._closing.items()):
                if (closing.polled and not self._transcript.open_sentences(index)) or now >= closing.deadline:
                    self._finalize(index)
            targets = [(c.uuid, i) for i, c in self._closing.items()]
            if self.current is not None and (
                self._poll_current or self._transcript.quiet_ms(self.current[1]) >= SYNC_QUIET_MS
            ):
                targets.insert(0, self.current)
            for uuid, index in targets:
                await self._poll(uuid, index)
            await self._clock.sleep(self._interval_s)

    async def _poll(self, uuid: str, index: int) -> None:
        await self._limits.acquire(ACTION_DISPLAY)
        self.in_flight += 1
        try:
            result = await self._service.display(DisplayRequest(session_uuid=uuid))
        except TsiError as error:
            self._failures += 1
            if error.retryable:
                self._emit(
                    RequestRetried(
                        action=ACTION_DISPLAY,
                        seq=None,
                        attempt=self._failures,
                        code=error.code,
                        message=error.message,
                        delay_ms=round(self._interval_s * 1000),
                    )
                )
            else:
                self._emit(RequestFailed(ACTION_DISPLAY, None, error.code, error.message, final=False))
            return
        except Exception as error:
            # A bug must not kill polling (closed sessions would then wait for results forever).
            log.exception("Display poll failed")
            self._emit(RequestFailed(ACTION_DISPLAY, None, "UnexpectedError", str(error), final=False))
            return
        finally:
            self.in_flight -= 1
        self._failures = 0
        for sentence in self._transcript.apply(index, result.sentences, polled=True):
            self._emit(SentenceRevised(sentence))
        if index in self._closing:
            self._closing[index].polled = True
            if not self._transcript.open_sentences(index):
                self._finalize(index)

    def _finalize(self, index: int) -> None:
        self._closing.pop(index, None)
        for sentence in self._transcript.close_session(index):
            self._emit(SentenceRevised(sentence))
        self._changed.set()

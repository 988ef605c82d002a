"""One packet to the service, retried while the service's 6-second gap rule allows (see scheduler.py).

Retryable failures retry the same Seq with the same data after `BACKOFF_S`; a rate refusal backs off every
stream of the account's budget. A retry refused as a duplicate counts as delivered. FailedOperation, or a
failure that would outlast the gap rule, abandons the service session (`Abandoned`: the scheduler rolls
over); any other final failure rejects it (`Rejected`).
"""

from __future__ import annotations

from collections.abc import Callable

from tongchuan_tui.api.errors import ApiError, NetworkError, TsiError
from tongchuan_tui.api.models import ACTION_SYNC, ApiResult, UploadRequest
from tongchuan_tui.api.service import TsiService
from tongchuan_tui.pipeline.clock import Clock, call_with_deadline
from tongchuan_tui.pipeline.events import Event, RequestFailed, RequestRetried, WarningRaised
from tongchuan_tui.pipeline.pacing import ServiceSession
from tongchuan_tui.pipeline.ratelimit import RateLimits, Stream

GAP_GIVE_UP_S = 5.0
"""No attempt starts later than this after the last delivered packet (the service's limit is 6 s)."""
ATTEMPT_DEADLINE_S = 5.5
"""An attempt still unanswered this long after the last delivered packet is given up (as a network error)."""
BACKOFF_S = (0.25, 0.5, 1.0, 2.0)
DUPLICATE_SEQ_CODE = "InvalidParameter.DuplicatedSessionIdAndSeq"
"""A retried Seq the service already has (its first attempt arrived, the answer was lost): delivered."""
RATE_LIMITED_CODE = "RequestLimitExceeded"
SESSION_FAILED_CODE = "FailedOperation"
"""The engine failed the SessionUuid itself: roll over to a new one rather than retry or give up."""


class Abandoned(Exception):
    """The service session cannot go on (in time): roll over."""

    def __init__(self, error: TsiError) -> None:
        super().__init__(error.message)
        self.error = error


class Rejected(Exception):
    """A final failure (authentication, parameters): the session ends."""

    def __init__(self, error: TsiError) -> None:
        super().__init__(error.message)
        self.error = error


class Delivery:
    """Sends packets of one action, one at a time, with the retry rules above."""

    def __init__(
        self,
        *,
        service: TsiService,
        clock: Clock,
        limits: RateLimits,
        stream: Stream,
        action: str,
        emit: Callable[[Event], None],
    ) -> None:
        self._service = service
        self._clock = clock
        self._limits = limits
        self._stream = stream
        self._action = action
        self._emit = emit
        self.in_flight = 0
        self.failing_since: float | None = None
        """When the current run of failures began (None after a delivered packet; the scheduler resets it)."""

    async def deliver(self, session: ServiceSession, request: UploadRequest) -> tuple[ApiResult, float, int]:
        """One packet, retried while the gap rule allows; returns (result, good attempt's start, retries)."""
        attempt = 0
        while True:
            await self._stream.acquire()
            if self._stream.warning is not None:
                self._emit(WarningRaised(self._stream.warning, code="budget"))
                self._stream.warning = None
            started = self._clock.monotonic()
            if started - session.last_ok > GAP_GIVE_UP_S:
                raise Abandoned(NetworkError("no answer within the service's 6-second gap"))
            call = (
                self._service.sync(request)
                if self._action == ACTION_SYNC
                else self._service.recognize(request)
            )
            self.in_flight += 1
            try:
                result = await call_with_deadline(self._clock, call, session.last_ok + ATTEMPT_DEADLINE_S)
                return result, started, attempt
            except TimeoutError:
                error: TsiError = NetworkError("no answer within the service's 6-second gap")
            except TsiError as failure:
                error = failure
            finally:
                self.in_flight -= 1
            if attempt > 0 and isinstance(error, ApiError) and error.code == DUPLICATE_SEQ_CODE:
                # An earlier attempt of this Seq did arrive (only its answer was lost): it is delivered, and
                # its results come with the next answer. Not a reason to end or roll over the session.
                return ApiResult(request_id="", sentences=()), started, attempt
            if self.failing_since is None:
                self.failing_since = self._clock.monotonic()
            if isinstance(error, ApiError) and error.code.startswith(SESSION_FAILED_CODE):
                # The engine gave up on this SessionUuid (e.g. the process was suspended past the gap rule):
                # a new one can go on where it stopped.
                self._emit(RequestFailed(self._action, request.seq, error.code, error.message, final=False))
                raise Abandoned(error)
            if not error.retryable:
                self._emit(RequestFailed(self._action, request.seq, error.code, error.message, final=True))
                raise Rejected(error)
            delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            if self._clock.monotonic() + delay - session.last_ok > GAP_GIVE_UP_S:
                raise Abandoned(error)
            attempt += 1
            if isinstance(error, ApiError) and error.code.startswith(RATE_LIMITED_CODE):
                # The account's budget is spent (other sessions, other machines): everyone sharing it waits.
                await self._limits.back_off(delay)
            self._emit(
                RequestRetried(
                    self._action, request.seq, attempt, error.code, error.message, round(delay * 1000)
                )
            )
            await self._clock.sleep(delay)

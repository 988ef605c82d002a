"""Whole sessions (scheduler, transcript, Display collector) in virtual time against a service that answers in
each way the API reference leaves open — SeId shapes, what Sync's List holds, the unit of StartTime — and
with each kind of final error. The transcript must come out the same every time."""

from __future__ import annotations

import hashlib

import pytest
from pipeline_fakes import FakeService, FakeSource, cues_for, make_pcm

from tongchuan_tui import exitcodes
from tongchuan_tui.api.errors import ProtocolError, TlsError, TsiError
from tongchuan_tui.api.models import ApiResult, DisplayInfo, DisplayRequest, UploadRequest
from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.events import Event, RequestFailed, Sentence, SentenceRevised, SessionEnded
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.session import InterpreterSession
from tongchuan_tui.ui.advice import advice_for_end, advice_for_failure

LISTS = ("newest5", "changed", "all", "empty", "null")
UNITS = (1, 10, 1000)


def opaque(uuid: str, se_id: str) -> str:
    """An id with no order, as text or as a number, that also holds ':' and non-ASCII text."""
    digest = hashlib.sha1(f"{uuid}/{se_id}".encode()).hexdigest()[:10]
    return f"{digest}:句{int(digest[:2], 16) % 7}"


class VaryingService(FakeService):
    """The pipeline's fake service, answering with opaque ids, times in `unit_ms`, Sync lists as `lists`."""

    def __init__(
        self, clock: FakeClock, pcm: bytes, *, lists: str = "newest5", unit_ms: int = 1, ids: str = "opaque"
    ) -> None:
        super().__init__(clock, pcm, cues_for(len(pcm) // 32))
        self.lists, self.unit_ms, self.ids = lists, unit_ms, ids
        self.final_error: TsiError | None = None
        self.failed_attempts = 0
        self._told: dict[str, dict[str, DisplayInfo]] = {}
        self._every: dict[str, dict[str, DisplayInfo]] = {}

    def _shape(self, uuid: str, info: DisplayInfo) -> DisplayInfo:
        se_id = opaque(uuid, info.se_id) if self.ids == "opaque" else info.se_id
        start, end = info.start_time // self.unit_ms, info.end_time // self.unit_ms
        return DisplayInfo(se_id, info.se_ver, info.source_text, info.target_text, start, end, info.is_end)

    async def display(self, request: DisplayRequest) -> ApiResult:
        result = await super().display(request)
        uuid = request.session_uuid
        return ApiResult(result.request_id, tuple(self._shape(uuid, s) for s in result.sentences))

    async def sync(self, request: UploadRequest) -> ApiResult:
        if self.final_error is not None and request.seq == 3:
            self.failed_attempts += 1
            raise self.final_error
        result = await super().sync(request)
        uuid = request.session_uuid
        newest = [self._shape(uuid, s) for s in result.sentences]  # the newest 5, newest first
        every = self._every.setdefault(uuid, {})
        every.update({s.se_id: s for s in reversed(newest)})
        listed: list[DisplayInfo] = []
        if self.lists == "newest5":
            listed = newest
        elif self.lists == "all":
            listed = list(every.values())  # oldest first, unlike Display
        elif self.lists == "changed":
            told = self._told.setdefault(uuid, {})
            listed = [s for s in every.values() if told.get(s.se_id) != s]
            told.update({s.se_id: s for s in listed})
        # "empty" and "null" both come to an empty tuple through the client (tests/unit/test_client.py).
        return ApiResult(result.request_id, tuple(listed))


async def run(service: VaryingService, clock: FakeClock, pcm: bytes, mode: str) -> tuple[int, list[Event]]:
    events: list[Event] = []
    session = InterpreterSession(
        SessionOptions(mode=mode),
        service,
        FakeSource(pcm, clock, live=False),
        clock=clock,
        sinks=[events.append],
    )
    code = await clock.run(session.run(), limit=600)
    return code, events


def finals(events: list[Event]) -> list[Sentence]:
    """Each sentence's final version, in the order they were finalized."""
    out: dict[str, Sentence] = {}
    for event in events:
        if isinstance(event, SentenceRevised) and event.sentence.final:
            assert event.sentence.key not in out, f"{event.sentence.key} finalized twice"
            out[event.sentence.key] = event.sentence
    return list(out.values())


CASES = [("sync", lists, unit) for lists in LISTS for unit in UNITS] + [
    ("split", "-", unit) for unit in UNITS
]


@pytest.mark.parametrize(("mode", "lists", "unit_ms"), CASES)
async def test_every_open_point_gives_the_same_transcript(mode: str, lists: str, unit_ms: int) -> None:
    clock = FakeClock()
    pcm = make_pcm(16_000)
    service = VaryingService(clock, pcm, lists=lists, unit_ms=unit_ms)
    code, events = await run(service, clock, pcm, mode)
    assert code == exitcodes.OK
    got = finals(events)
    assert [(s.source_text, s.target_text) for s in got] == [(f"S{c.k}", f"T{c.k}") for c in service.cues], (
        "every sentence final once, whole, in spoken order"
    )
    for sentence, cue in zip(got, service.cues, strict=True):
        assert abs(sentence.start_ms - cue.start_ms) < 1000, (sentence, cue)
        assert sentence.unit_ms == unit_ms
        assert sentence.raw_start == cue.start_ms // unit_ms, "the raw StartTime is kept as sent"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ProtocolError("Response.List holds a malformed sentence"), exitcodes.SERVICE_MALFORMED),
        (TlsError("tsi.tencentcloudapi.com", "certificate verify failed"), exitcodes.SERVICE_UNREACHABLE),
    ],
)
async def test_final_errors_end_with_their_own_exit_code_at_once(error: TsiError, code: int) -> None:
    clock = FakeClock()
    pcm = make_pcm(5000)
    service = VaryingService(clock, pcm)
    service.final_error = error
    got, events = await run(service, clock, pcm, "sync")
    assert got == code
    assert service.failed_attempts == 1, "a final error is not retried"
    assert max(c.seq or 0 for c in service.calls) == 2, "nothing is sent after it"
    ended = events[-1]
    assert isinstance(ended, SessionEnded)
    assert ended.exit_code == code
    assert error.code in ended.message


def test_the_opaque_ids_really_have_no_order() -> None:
    ids = [opaque("u", str(k)) for k in range(16)]
    assert ids != sorted(ids)
    assert ids != sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("code", "title"),
    [
        ("ProtocolError", "The service's answer could not be understood"),
        ("TLSError", "The connection to the service is not trusted"),
        ("AuthFailure.SignatureFailure", "The service rejected the session"),
    ],
)
def test_the_error_dialog_says_which_kind_of_failure_it_was(code: str, title: str) -> None:
    advice = advice_for_failure(RequestFailed("TongChuanSync", 3, code, "detail", final=True))
    assert advice.title == title
    ended = advice_for_end(SessionEnded("failed", 0, exitcodes.SERVICE_MALFORMED))
    assert "could not be understood" in ended.title
    assert "--endpoint" in ended.action


@pytest.mark.parametrize("mode", ["sync", "split"])
async def test_a_session_too_short_for_the_quiet_rule_still_asks_display_once_it_closed(mode: str) -> None:
    # 2.5 s of audio: Sync's List is always empty, and the session ends before 3 s of it went unanswered.
    clock = FakeClock()
    pcm = make_pcm(2500)
    service = VaryingService(clock, pcm, lists="null")
    code, events = await run(service, clock, pcm, mode)
    assert code == exitcodes.OK
    assert [s.source_text for s in finals(events)] == [f"S{c.k}" for c in service.cues]
    assert len(service.cues) == 2

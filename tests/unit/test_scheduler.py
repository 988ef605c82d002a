"""The scheduler's invariants, on a fake clock: 1:1 pacing, packet sizes, coalescing, bounded backlog,
retries and rollovers, final failures, shared rate limits, stalls, and both modes giving one transcript."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import Callable

import pytest
from pipeline_fakes import BPMS, Call, FakeSource, Run, make_pcm, run_session, run_together

from tongchuan_tui import exitcodes
from tongchuan_tui.api.errors import ApiError, HttpStatusError, NetworkError, TsiError
from tongchuan_tui.api.models import ACTION_DISPLAY, ACTION_SYNC
from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.events import (
    AudioDropped,
    ChunkSent,
    RequestFailed,
    RequestRetried,
    ServiceSessionClosed,
    ServiceSessionOpened,
    SessionEnded,
)
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.sinks import PlainSink

EPS = 1e-9


def opened_at(run: Run) -> dict[str, float]:
    """Each SessionUuid's pacing origin by the virtual clock: when it opened, less the live audio that
    had already been spoken by then (at most one packet; the first frame began before it arrived)."""
    out = {}
    for t, e in run.timed(ServiceSessionOpened):
        assert isinstance(e, ServiceSessionOpened)
        assert 0 <= e.lead_ms <= 500
        out[e.session_uuid] = t - e.lead_ms / 1000
    return out


def assert_paced(run: Run) -> None:
    """Every attempt: audio sent in its session so far (this packet included) ≤ time since it opened."""
    origins = opened_at(run)
    sent: dict[str, int] = {}
    for call in run.service.uploads(ok_only=False):
        before = sent.get(call.uuid, 0)
        end_ms = (before + len(call.data)) / BPMS
        assert call.at >= origins[call.uuid] + end_ms / 1000 - EPS, (
            call.seq,
            call.at - origins[call.uuid],
            end_ms,
        )
        if call.ok:
            sent[call.uuid] = before + len(call.data)


def assert_sizes(run: Run, chunk_ms: int = 200) -> None:
    """Packets are 200..500 ms; only an IsEnd packet may carry under 200 ms of audio (then padded to 200)."""
    for call in run.service.uploads():
        assert 200 * BPMS <= len(call.data) <= 500 * BPMS, (call.seq, len(call.data) / BPMS)
        real = len(call.data.rstrip(b"\0"))
        if real < len(call.data):
            assert call.is_end, "padding in a packet that is not the last"


def assert_contiguous_seq(run: Run) -> None:
    for uuid in run.service.order:
        seqs = [c.seq for c in run.service.uploads() if c.uuid == uuid]
        assert seqs == list(range(len(seqs))), seqs


def assert_delivered_once(run: Run, expected: list[tuple[int, int]]) -> None:
    """The input ranges the service heard, merged, in order, each byte once."""
    merged: list[list[int]] = []
    for a, b in run.service.delivered():
        if merged and merged[-1][1] == a:
            merged[-1][1] = b
        else:
            assert not merged or a > merged[-1][1] - 0, f"audio out of order or repeated at {a}"
            merged.append([a, b])
    assert [tuple(m) for m in merged] == expected


def assert_resent_from(run: Run, starts_ms: list[int]) -> None:
    """Each SessionUuid heard one contiguous stretch; after a rollover the next one began at `starts_ms`
    (the start of the sentence being spoken), and together they cover the input, in order."""
    stretches: list[tuple[int, int]] = []
    for uuid in run.service.order:
        runs = run.service.sessions[uuid].runs
        for (_, a, n), (_, b, _) in itertools.pairwise(runs):
            assert b == a + n, "a gap or repeat inside one service session"
        if runs:
            stretches.append((runs[0][1], runs[-1][1] + runs[-1][2]))
    assert [a // BPMS for a, _ in stretches[1:]] == starts_ms
    assert stretches[0][0] == 0
    for (_, end), (start, _) in itertools.pairwise(stretches):
        assert start <= end, "audio between two service sessions was never sent"
    assert stretches[-1][1] == len(run.service.pcm)


def transcript(run: Run) -> list[tuple[str, str, int, int]]:
    return [(s.source_text, s.target_text, s.start_ms, s.end_ms) for s in run.final_sentences()]


async def test_file_is_sent_at_one_to_one_in_chunks() -> None:
    pcm = make_pcm(3000)
    run = await run_session(pcm, live=False, chunk_ms=200)
    assert run.code == exitcodes.OK
    assert_paced(run)
    assert_sizes(run)
    assert_contiguous_seq(run)
    assert_delivered_once(run, [(0, len(pcm))])
    t0 = opened_at(run)[run.service.order[0]]
    times = [round(c.at - t0, 6) for c in run.service.uploads()]
    # Exactly one 200 ms packet every 200 ms, the last 400 ms (all that remained, with IsEnd).
    assert times == [round(0.2 * (k + 1), 6) for k in range(13)] + [3.0]
    assert [len(c.data) // BPMS for c in run.service.uploads()] == [200] * 13 + [400]
    assert [c.is_end for c in run.service.uploads()] == [False] * 13 + [True]
    ended = run.of(SessionEnded)[-1]
    assert isinstance(ended, SessionEnded)
    assert ended.reason == "input-ended"


@pytest.mark.parametrize("chunk_ms", [200, 320, 500])
async def test_live_source_is_paced_and_chunked(chunk_ms: int) -> None:
    pcm = make_pcm(4000)
    run = await run_session(pcm, live=True, chunk_ms=chunk_ms)
    assert run.code == exitcodes.OK
    assert_paced(run)
    assert_sizes(run)
    assert_contiguous_seq(run)
    assert_delivered_once(run, [(0, len(pcm))])
    sizes = [len(c.data) // BPMS for c in run.service.uploads()]
    assert all(size == chunk_ms for size in sizes[:-1])
    # Nothing is sent before its last sample was spoken: packet end ≤ its send time since the input started.
    assert run.source.started_at is not None
    sent = 0
    for call in run.service.uploads()[:-1]:
        sent += len(call.data)
        assert call.at - run.source.started_at >= sent / BPMS / 1000 - EPS


async def test_slow_answers_coalesce_up_to_500_ms_and_keep_one_request_in_flight() -> None:
    pcm = make_pcm(6000)
    run = await run_session(pcm, live=True, latency=0.35)
    assert run.code == exitcodes.OK
    assert_paced(run)
    assert_sizes(run)
    assert_delivered_once(run, [(0, len(pcm))])
    sizes = [len(c.data) // BPMS for c in run.service.uploads()]
    assert sizes[0] == 200
    # Each 350 ms answer leaves 350 ms queued: packets grow to carry it (in 20 ms frames, by phase).
    steady = sizes[1:-1]
    assert all(340 <= size <= 360 for size in steady), sizes
    assert abs(sum(steady) / len(steady) - 350) <= 10, sizes
    assert run.service.max_concurrent_uploads == 1
    uploads = run.service.uploads()
    assert all(b.at >= a.ended_at - EPS for a, b in itertools.pairwise(uploads))


async def test_very_slow_answers_cap_packets_at_500_ms_and_a_file_loses_nothing() -> None:
    pcm = make_pcm(8000)
    run = await run_session(pcm, live=False, latency=0.7, max_backlog_ms=2000)
    assert run.code == exitcodes.OK
    assert_paced(run)
    assert_sizes(run)
    assert max(len(c.data) for c in run.service.uploads()) == 500 * BPMS
    assert run.of(AudioDropped) == []
    assert_delivered_once(run, [(0, len(pcm))])
    # Backpressure: the reader was never more than the backlog bound (plus one piece) ahead of the service.
    assert run.source.read == len(pcm)


async def test_live_backlog_drops_oldest_audio_and_accounts_for_it() -> None:
    pcm = make_pcm(20_000)
    run = await run_session(pcm, live=True, latency=0.9, max_backlog_ms=2000)
    assert run.code == exitcodes.OK
    assert_paced(run)
    assert_sizes(run)
    drops = run.of(AudioDropped)
    assert drops, "a late live stream must drop"
    covered = sorted(
        [(a, b) for a, b in run.service.delivered()]
        + [(d.at_ms * BPMS, (d.at_ms + d.duration_ms) * BPMS) for d in drops if isinstance(d, AudioDropped)]
    )
    # Delivered and dropped audio tile the input exactly: nothing lost unaccounted, nothing twice.
    position = 0
    for a, b in covered:
        assert a == position, (a, position)
        position = b
    assert position == len(pcm)
    # Sentences after a gap are still placed where they were spoken on the timeline.
    cue_starts = {c.start_ms for c in run.service.cues}
    for sentence in run.final_sentences():
        if not sentence.source_text.endswith("~"):
            assert sentence.start_ms in cue_starts


def fail_first(
    times: int, error: TsiError, seq: int = 3, session: int = 0
) -> Callable[[Call, int], TsiError | None]:
    """Uploads of `seq` in the `session`-th SessionUuid fail `times` times with `error`."""

    def fault(call: Call, attempt: int) -> TsiError | None:
        if call.action == ACTION_DISPLAY or call.seq != seq or call.index != session:
            return None
        return error if attempt <= times else None

    return fault


async def test_retryable_failure_retries_the_same_seq_with_the_same_data_and_backoff() -> None:
    pcm = make_pcm(4000)
    clean = await run_session(pcm, live=False)
    run = await run_session(pcm, fault=fail_first(2, ApiError("InternalError", "boom")))
    assert run.code == exitcodes.OK
    attempts = [c for c in run.service.uploads(ok_only=False) if c.seq == 3]
    assert len(attempts) == 3
    assert len({c.data for c in attempts}) == 1
    assert [round(b.at - a.at, 6) for a, b in itertools.pairwise(attempts)] == [0.25, 0.5]
    retried = [e for e in run.of(RequestRetried) if isinstance(e, RequestRetried)]
    assert [(e.seq, e.attempt, e.delay_ms, e.code) for e in retried] == [
        (3, 1, 250, "InternalError"),
        (3, 2, 500, "InternalError"),
    ]
    sent = [e for e in run.of(ChunkSent) if isinstance(e, ChunkSent) and e.seq == 3]
    assert sent[0].retries == 2
    assert len(run.service.order) == 1
    assert_paced(run)
    assert_sizes(run)
    assert_contiguous_seq(run)
    assert_delivered_once(run, [(0, len(pcm))])
    assert transcript(run) == transcript(clean)


@pytest.mark.parametrize(
    "error",
    [
        NetworkError("connection reset"),
        HttpStatusError(503, "unavailable"),
        ApiError("ServiceUnavailable", "x"),
    ],
)
async def test_failure_beyond_the_gap_rule_rolls_over_and_resends_the_sentence_being_spoken(
    error: TsiError,
) -> None:
    pcm = make_pcm(5000)
    clean = await run_session(pcm)
    run = await run_session(pcm, fault=fail_first(99, error, seq=3))
    assert run.code == exitcodes.OK
    closed = [e for e in run.of(ServiceSessionClosed) if isinstance(e, ServiceSessionClosed)]
    assert closed[0].reason == "abandoned"
    opened = [e for e in run.of(ServiceSessionOpened) if isinstance(e, ServiceSessionOpened)]
    # Seq 3 ([600, 800) ms) failed while the sentence spoken from 100 ms was open: resent from there.
    assert [(o.index, o.reason, o.offset_ms) for o in opened] == [(0, "start", 0), (1, "rollover", 100)]
    # No attempt started later than 5 s after the last delivered packet of its session.
    first = run.service.order[0]
    ok_times = [c.at for c in run.service.uploads() if c.uuid == first]
    attempts = [c for c in run.service.uploads(ok_only=False) if c.uuid == first and not c.ok]
    assert attempts
    assert max(c.at for c in attempts) - max(ok_times) <= 5.0 + EPS
    # Nothing cut, nothing twice: the same sentences, whole, where they were spoken.
    assert transcript(run) == transcript(clean)
    assert not any(s.interrupted for s in run.final_sentences())
    second = [c for c in run.service.uploads() if c.uuid == run.service.order[1]]
    assert second[0].seq == 0
    assert_resent_from(run, [100])
    assert_paced(run)
    assert_sizes(run)
    assert_contiguous_seq(run)


async def test_a_hanging_request_is_given_up_within_the_gap_and_rolled_over() -> None:
    pcm = make_pcm(3000)
    clean = await run_session(pcm)

    def latency(call: Call) -> float:
        return 60.0 if call.seq == 2 and call.index == 0 else 0.0

    run = await run_session(pcm, latency=latency)
    assert run.code == exitcodes.OK
    closed = [e.reason for e in run.of(ServiceSessionClosed) if isinstance(e, ServiceSessionClosed)]
    assert closed[0] == "abandoned"
    assert_resent_from(run, [100])
    assert transcript(run) == transcript(clean)
    assert_paced(run)


async def test_final_failure_ends_with_service_rejected_and_the_api_message() -> None:
    pcm = make_pcm(3000)
    run = await run_session(
        pcm, fault=fail_first(99, ApiError("AuthFailure.SecretIdNotFound", "no such key"), seq=0)
    )
    assert run.code == exitcodes.SERVICE_REJECTED
    assert len(run.service.uploads(ok_only=False)) == 1
    failed = run.of(RequestFailed)
    assert len(failed) == 1
    assert isinstance(failed[0], RequestFailed)
    assert failed[0].final
    ended = run.events[-1][1]
    assert isinstance(ended, SessionEnded)
    assert ended.exit_code == exitcodes.SERVICE_REJECTED
    assert ended.reason == "failed"
    assert "AuthFailure.SecretIdNotFound" in ended.message
    assert "no such key" in ended.message


async def test_persistent_network_failure_ends_with_service_unreachable() -> None:
    pcm = make_pcm(60_000)

    def fault(call: Call, attempt: int) -> TsiError | None:
        return NetworkError("connection refused")

    run = await run_session(pcm, live=True, fault=fault)
    assert run.code == exitcodes.SERVICE_UNREACHABLE
    closed = [e.reason for e in run.of(ServiceSessionClosed) if isinstance(e, ServiceSessionClosed)]
    opened = [e.reason for e in run.of(ServiceSessionOpened) if isinstance(e, ServiceSessionOpened)]
    # The failure persisted across three rollovers: the fourth service session is the last one tried.
    assert opened == ["start"] + ["rollover"] * 3
    assert closed == ["abandoned"] * 4
    assert run.events[-1][0] - run.events[0][0] <= 30.0
    assert_paced(run)


async def test_every_request_passes_the_shared_rate_limiter() -> None:
    clock = FakeClock()
    limits = RateLimits(clock, {ACTION_SYNC: 3, "TongChuanRecognize": 25, ACTION_DISPLAY: 50})
    pcm = make_pcm(3000)
    runs = await asyncio.gather(
        run_session(pcm, clock=clock, limits=limits, live=True),
        run_session(make_pcm(3000, seed=2), clock=clock, limits=limits, live=True),
    )
    times = sorted(c.at for r in runs for c in r.service.uploads(ok_only=False))
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0 - EPS) <= 3
    for r in runs:
        assert r.code == exitcodes.OK
        assert_paced(r)


async def test_a_stalled_input_closes_the_service_session_before_the_gap_rule_and_reopens() -> None:
    clock = FakeClock()
    pcm = make_pcm(3000)
    source = FakeSource(pcm, clock, live=False, stall_at_ms=1100, stall_s=9.0)
    run = await run_session(pcm, clock=clock, source=source)
    assert run.code == exitcodes.OK
    closed = [e.reason for e in run.of(ServiceSessionClosed) if isinstance(e, ServiceSessionClosed)]
    opened = [e.reason for e in run.of(ServiceSessionOpened) if isinstance(e, ServiceSessionOpened)]
    assert closed == ["idle", "input-ended"]
    assert opened == ["start", "reopen"]
    for uuid in run.service.order:
        times = [c.at for c in run.service.uploads() if c.uuid == uuid]
        assert all(b - a < 5.0 for a, b in itertools.pairwise(times))
    idle_end = [c for c in run.service.uploads() if c.uuid == run.service.order[0]][-1]
    assert idle_end.is_end
    assert len(idle_end.data) == 200 * BPMS
    assert_paced(run)
    assert_sizes(run)
    assert_delivered_once(run, [(0, len(pcm))])


async def test_split_mode_gives_the_same_transcript_as_sync() -> None:
    pcm = make_pcm(7000)
    sync = await run_session(pcm, live=True, latency=0.05)
    split = await run_session(pcm, live=True, latency=0.05, mode="split")
    assert split.code == exitcodes.OK
    assert transcript(split) == transcript(sync)
    assert len(transcript(sync)) == 7
    displays = [c.at for c in split.service.calls if c.action == ACTION_DISPLAY]
    assert len(displays) > 10
    assert {c.action for c in split.service.uploads()} == {"TongChuanRecognize"}
    assert_paced(split)


async def test_split_mode_display_failures_do_not_stop_uploads() -> None:
    pcm = make_pcm(5000)
    sync = await run_session(pcm, live=True)

    displays = 0

    def fault(call: Call, attempt: int) -> TsiError | None:
        nonlocal displays
        if call.action == ACTION_DISPLAY:
            displays += 1
            if displays % 3 == 0:
                return ApiError("InternalError", "display hiccup")
        return None

    split = await run_session(pcm, live=True, mode="split", fault=fault)
    assert split.code == exitcodes.OK
    assert any(isinstance(e, RequestRetried) and e.action == ACTION_DISPLAY for e in split.of(RequestRetried))
    assert_delivered_once(split, [(0, len(pcm))])
    assert transcript(split) == transcript(sync)


async def test_an_engine_failure_of_the_session_rolls_over_at_once() -> None:
    pcm = make_pcm(3000)
    failure = ApiError("FailedOperation", "The engine failed for this session: 7.0 s without audio.")
    run = await run_session(pcm, fault=fail_first(1, failure, seq=4))
    assert run.code == exitcodes.OK
    assert run.of(RequestRetried) == []
    failed = [e for e in run.of(RequestFailed) if isinstance(e, RequestFailed)]
    assert [(e.seq, e.code, e.final) for e in failed] == [(4, "FailedOperation", False)]
    opened = [
        (e.reason, e.offset_ms) for e in run.of(ServiceSessionOpened) if isinstance(e, ServiceSessionOpened)
    ]
    # Seq 4 ([800, 1000) ms) failed within the sentence spoken from 100 ms: resent from its start.
    assert opened == [("start", 0), ("rollover", 100)]
    assert transcript(run) == transcript(await run_session(pcm))
    assert_paced(run)
    assert_contiguous_seq(run)
    assert_resent_from(run, [100])


async def test_a_parameter_error_midway_ends_the_session_with_the_api_message() -> None:
    pcm = make_pcm(3000)
    run = await run_session(pcm, fault=fail_first(1, ApiError("InvalidParameterValue", "bad Seq"), seq=5))
    assert run.code == exitcodes.SERVICE_REJECTED
    ended = run.events[-1][1]
    assert isinstance(ended, SessionEnded)
    assert ended.message == "InvalidParameterValue: bad Seq"
    assert len(run.service.uploads()) == 5
    closed = [e.reason for e in run.of(ServiceSessionClosed) if isinstance(e, ServiceSessionClosed)]
    assert closed == ["failed"]


def assert_not_ahead_of_the_service(run: Run) -> None:
    """The service's own rule: at each accepted packet, the audio it has accepted in that SessionUuid (this
    packet included) is at most one packet (the first accepted) ahead of the time since the first accepted
    packet arrived. Refused attempts do not count."""
    for uuid in run.service.order:
        accepted = [c for c in run.service.uploads() if c.uuid == uuid]
        if not accepted:
            continue
        first = accepted[0]
        heard = 0
        for call in accepted:
            heard += len(call.data)
            ahead_ms = heard / BPMS - (call.at - first.at) * 1000
            assert ahead_ms <= len(first.data) / BPMS + EPS, (call.seq, round(ahead_ms, 3))


def refuse(
    times_by_seq: dict[int, int], code: str = "RequestLimitExceeded"
) -> Callable[[Call, int], TsiError | None]:
    """Uploads of the first SessionUuid are refused `times_by_seq[seq]` times with `code` (then accepted)."""

    def fault(call: Call, attempt: int) -> TsiError | None:
        if call.action == ACTION_DISPLAY or call.index != 0 or call.seq is None:
            return None
        return ApiError(code, "refused") if attempt <= times_by_seq.get(call.seq, 0) else None

    return fault


@pytest.mark.parametrize("live", [False, True])
@pytest.mark.parametrize("code", ["RequestLimitExceeded", "ServiceUnavailable"])
async def test_refusals_of_seq_0_and_later_never_put_the_scheduler_ahead_of_what_the_service_accepted(
    live: bool, code: str
) -> None:
    pcm = make_pcm(13_000)
    clean = await run_session(pcm, live=live)
    run = await run_session(pcm, live=live, fault=refuse({0: 4, 20: 3}, code))
    assert run.code == exitcodes.OK
    assert len(run.service.order) == 1, "one service session"
    retried = [(e.seq, e.attempt) for e in run.of(RequestRetried) if isinstance(e, RequestRetried)]
    assert retried == [(0, 1), (0, 2), (0, 3), (0, 4), (20, 1), (20, 2), (20, 3)]
    assert_not_ahead_of_the_service(run)
    assert_paced(run)
    assert_sizes(run)
    assert_contiguous_seq(run)
    assert_delivered_once(run, [(0, len(pcm))])
    assert transcript(run) == transcript(clean)


@pytest.mark.parametrize("duplicates", ["refuse", "idempotent"])
async def test_a_retried_seq_the_service_already_had_counts_as_delivered(duplicates: str) -> None:
    pcm = make_pcm(4000)
    clean = await run_session(pcm)

    def lose_answer(call: Call, attempt: int) -> bool:
        return call.seq in (0, 6) and attempt == 1

    run = await run_session(pcm, lose_answer=lose_answer, duplicates=duplicates)
    assert run.code == exitcodes.OK
    # The answers of Seq 0 and 6 were lost; each retry was a duplicate, and the session went on: no rollover.
    assert [c.seq for c in run.service.calls if c.duplicate] == [0, 6]
    assert len(run.service.order) == 1
    closed = [e.reason for e in run.of(ServiceSessionClosed) if isinstance(e, ServiceSessionClosed)]
    assert closed == ["input-ended"]
    assert [e.final for e in run.of(RequestFailed) if isinstance(e, RequestFailed)] == []
    sent = [e.seq for e in run.of(ChunkSent) if isinstance(e, ChunkSent)]
    assert sent == list(range(len(sent)))
    assert_contiguous_seq(run)
    assert_delivered_once(run, [(0, len(pcm))])
    assert_not_ahead_of_the_service(run)
    assert transcript(run) == transcript(clean)


async def test_a_duplicate_refusal_of_a_seq_never_sent_before_is_not_taken_as_delivered() -> None:
    pcm = make_pcm(3000)
    run = await run_session(
        pcm, fault=fail_first(1, ApiError("InvalidParameter.DuplicatedSessionIdAndSeq", "dup"), seq=2)
    )
    assert run.code == exitcodes.SERVICE_REJECTED


async def test_rollovers_mid_sentence_cut_nothing_and_say_nothing_twice() -> None:
    pcm = make_pcm(10_000)
    clean = await run_session(pcm, live=True)

    def latency(call: Call) -> float:
        # A 9-second stall in the middle of the sentence spoken from 2100 ms (Seq 12 is [2400, 2600)).
        return 9.0 if call.index == 0 and call.seq == 12 else 0.0

    engine_failed = fail_first(1, ApiError("FailedOperation", "engine failed"), seq=3, session=1)
    run = await run_session(pcm, live=True, latency=latency, fault=engine_failed)
    assert run.code == exitcodes.OK
    opened = [
        (e.reason, e.offset_ms) for e in run.of(ServiceSessionOpened) if isinstance(e, ServiceSessionOpened)
    ]
    # The second session (from 2100 ms) failed at its Seq 3 ([2700, 2900) ms): the same sentence, again.
    assert opened == [("start", 0), ("rollover", 2100), ("rollover", 2100)]
    finals = run.final_sentences()
    assert not any(s.source_text.endswith("~") or s.interrupted for s in finals)
    assert transcript(run) == transcript(clean)
    assert len({s.key for s in finals}) == len(finals) == 10
    assert_paced(run)
    assert_not_ahead_of_the_service(run)
    assert_contiguous_seq(run)


async def test_a_sentence_no_rollover_could_complete_is_marked_interrupted_never_a_clean_final() -> None:
    pcm = make_pcm(60_000)

    def fault(call: Call, attempt: int) -> TsiError | None:
        # From 1.3 s on, nothing gets through: the sentence spoken from 1100 ms can never be completed.
        return NetworkError("connection refused") if call.at >= 1001.3 else None  # FakeClock starts at 1000

    lines = io.StringIO()
    plain = PlainSink(lines)
    run = await run_session(pcm, live=True, fault=fault, sinks=[plain])
    assert run.code == exitcodes.SERVICE_UNREACHABLE
    finals = run.final_sentences()
    cut = [s for s in finals if s.source_text.endswith("~")]
    assert [(s.start_ms, s.interrupted) for s in cut] == [(1100, True)]
    assert all(not s.interrupted for s in finals if s not in cut)
    assert "[00:01] S1~ [interrupted]" in lines.getvalue()


async def test_twelve_sessions_of_one_account_lengthen_their_packets_to_fit_the_budget_together() -> None:
    clock = FakeClock()
    limits = RateLimits(clock)
    runs = await run_together(
        clock,
        [
            run_session(make_pcm(8000, seed=k), clock=clock, limits=limits, live=True, drive_clock=False)
            for k in range(12)
        ],
    )
    times = sorted(c.at for r in runs for c in r.service.uploads(ok_only=False))
    assert all(sum(1 for u in times if t <= u < t + 1.0 - EPS) <= 25 for t in times)
    for r in runs:
        assert r.code == exitcodes.OK
        sizes = [len(c.data) // BPMS for c in r.service.uploads()]
        # Once all twelve had joined, each planned 500 ms packets (12 × 2/s = 24/s, under the 25/s limit).
        assert sizes[-4:-1] == [500, 500, 500], sizes
        assert_paced(r)
        assert_sizes(r)
        assert_delivered_once(r, [(0, 8000 * BPMS)])


async def test_a_rate_refusal_to_one_session_holds_the_other_sessions_of_the_account() -> None:
    clock = FakeClock()
    limits = RateLimits(clock)

    def refused_once(call: Call, attempt: int) -> TsiError | None:
        seq5 = call.action != ACTION_DISPLAY and call.seq == 5 and attempt == 1
        return ApiError("RequestLimitExceeded", "too many requests") if seq5 else None

    first, second = await run_together(
        clock,
        [
            run_session(
                make_pcm(4000), clock=clock, limits=limits, live=True, fault=refused_once, drive_clock=False
            ),
            run_session(make_pcm(4000, seed=2), clock=clock, limits=limits, live=True, drive_clock=False),
        ],
    )
    refused = next(c for c in first.service.uploads(ok_only=False) if not c.ok)
    others = [c.at for c in second.service.uploads()]
    # The back-off (250 ms) applied to both: the other session sent nothing in it.
    assert not [t for t in others if refused.at < t < refused.at + 0.25 - EPS]
    assert first.code == second.code == exitcodes.OK

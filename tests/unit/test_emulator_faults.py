"""Fault decisions (first attempt only, seeded randomness), their JSON form, and the per-second rate limit."""

from __future__ import annotations

import pytest

from tongchuan_tui.emulator.faults import FaultConfig, FaultInjector, Refusal
from tongchuan_tui.emulator.ratelimit import RateLimiter
from tongchuan_tui.emulator.state import EmulatorState, RequestLog, RequestRecord


def test_at_seq_faults_hit_the_first_attempt_only_by_default() -> None:
    injector = FaultInjector(FaultConfig(error_at_seq=(2,), reset_at_seq=(4,), http_5xx_at_seq=(5,)))
    assert injector.decide("a", 1).label is None
    assert injector.decide("a", 2).error_code == "InternalError"
    assert injector.decide("a", 2).error_code is None  # the retry goes through
    assert injector.decide("b", 2).error_code == "InternalError"  # per session
    assert injector.decide("a", 4).reset
    assert injector.decide("a", 5).http_status == 503
    assert injector.decide("a", None).label is None  # Display has no Seq
    lose = FaultInjector(FaultConfig(lose_response_at_seq=(0,))).decide("a", 0)
    assert (lose.lose_response, lose.reset, lose.label) == (True, False, "lost-response")


def test_every_attempt_mode_keeps_failing() -> None:
    injector = FaultInjector(
        FaultConfig(error_at_seq=(0,), first_attempt_only=False, error_code="FailedOperation")
    )
    assert [injector.decide("a", 0).error_code for _ in range(3)] == ["FailedOperation"] * 3


def test_error_rate_and_jitter_are_reproducible_with_a_seed() -> None:
    config = FaultConfig(error_rate=0.3, latency_ms=100, jitter_ms=50, seed=42)
    runs = []
    for _ in range(2):
        injector = FaultInjector(config)
        runs.append([(d.error_code, d.delay_s) for d in (injector.decide("s", i) for i in range(200))])
    assert runs[0] == runs[1]
    errors = sum(1 for code, _ in runs[0] if code)
    assert 30 < errors < 90
    assert all(0.05 <= delay <= 0.15 for _, delay in runs[0])


def test_stall_holds_then_lets_the_request_through() -> None:
    decision = FaultInjector(FaultConfig(stall_at_seq=(1,), stall_ms=2500)).decide("s", 1)
    assert (decision.stall_s, decision.error_code, decision.reset, decision.label) == (
        2.5,
        None,
        False,
        "stall",
    )


def test_at_seq_faults_narrowed_to_one_session_spare_the_others() -> None:
    stall = FaultInjector(FaultConfig(stall_at_seq=(3,), session_uuid="a"))
    assert stall.decide("b", 3).label is None  # a rollover's next session, its Seq from 0 again
    assert stall.decide("a", 3).label == "stall"
    config = FaultConfig(refusals=(Refusal(3, 1, "FailedOperation"),), session_uuid="a")
    refuse = FaultInjector(config)
    assert refuse.decide("b", 3).error_code is None
    assert refuse.decide("a", 3).error_code == "FailedOperation"
    assert FaultConfig.from_json(config.to_json()) == config
    assert FaultConfig.from_json({"session_uuid": None}) == FaultConfig()


def test_a_request_only_delayed_is_labelled_latency() -> None:
    injector = FaultInjector(FaultConfig(latency_ms=50, error_at_seq=(1,)))
    assert injector.decide("a", 0).label == "latency"
    assert injector.decide("a", 1).label == "InternalError"  # a failure names the failure
    assert FaultInjector().decide("a", 0).label is None


def test_json_round_trip_and_bad_keys() -> None:
    config = FaultConfig(latency_ms=10, error_at_seq=(1, 3), http_status=502)
    assert FaultConfig.from_json(config.to_json()) == config
    assert FaultConfig.from_json({}) == FaultConfig()
    with pytest.raises(ValueError, match="unknown fault 'latency'"):
        FaultConfig.from_json({"latency": 5})
    with pytest.raises(ValueError, match="error_at_seq must be a list of integers"):
        FaultConfig.from_json({"error_at_seq": 3})
    with pytest.raises(ValueError, match="http_status"):
        FaultConfig(http_status=404)
    with pytest.raises(ValueError, match="error_rate"):
        FaultConfig(error_rate=2)


def test_rate_limit_is_per_second_per_secret_id_and_action() -> None:
    now = [100.0]
    limiter = RateLimiter({"TongChuanSync": 25, "TongChuanDisplay": 50}, clock=lambda: now[0])
    assert all(limiter.allow("a", "TongChuanSync") for _ in range(25))
    assert not limiter.allow("a", "TongChuanSync")
    assert limiter.allow("b", "TongChuanSync")
    assert all(limiter.allow("a", "TongChuanDisplay") for _ in range(50))
    now[0] += 1.0
    assert limiter.allow("a", "TongChuanSync")


def test_the_request_log_keeps_the_newest_and_numbers_every_request_in_order() -> None:
    log = RequestLog(size=3)
    for seq in range(5):
        log.add(RequestRecord(float(seq), "TongChuanSync", "a", seq, ""))
    records, total = log.snapshot()
    # A long run marks a point in the log by number: it still means the same request once older ones fell off.
    assert [(r.number, r.seq) for r in records] == [(2, 2), (3, 3), (4, 4)]
    assert total == 5
    state = EmulatorState(sessions=(), requests=records, requests_total=total)
    assert state.to_json()["requests_total"] == 5
    assert [r["number"] for r in state.to_json()["requests"]] == [2, 3, 4]

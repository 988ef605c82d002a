"""Fault injection: latency and jitter, error codes at a rate or at given Seq, a Seq refused N times,
HTTP 5xx, resets and stalls."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tongchuan_tui.emulator import codes

HTTP_5XX = (500, 502, 503, 504)
MESSAGES = {
    codes.INTERNAL_ERROR: "An internal error has occurred. Retry your request.",
    codes.SERVICE_UNAVAILABLE: "The service is temporarily unavailable. Retry your request.",
    codes.REQUEST_LIMIT_EXCEEDED: "Your request rate exceeds the limit. Reduce the frequency of calls.",
    codes.FAILED_OPERATION: "The operation failed.",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Refuse the upload with Seq `seq` of every session on its first `times` attempts with `code`; the next
    attempt goes through."""

    seq: int
    times: int
    code: str = codes.REQUEST_LIMIT_EXCEEDED

    def __post_init__(self) -> None:
        if self.seq < 0 or self.times < 1:
            raise ValueError("a refusal needs a Seq >= 0 and times >= 1")
        if not self.code or " " in self.code:
            raise ValueError("a refusal's code must be an error code such as RequestLimitExceeded")

    @classmethod
    def parse(cls, text: str) -> Refusal:
        """A refusal from "SEQ:TIMES[:CODE]", e.g. "0:4:RequestLimitExceeded"; ValueError saying what is
        wrong."""
        parts = text.strip().split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"{text!r} is not SEQ:TIMES or SEQ:TIMES:CODE")
        try:
            seq, times = int(parts[0]), int(parts[1])
        except ValueError:
            raise ValueError(f"{text!r}: SEQ and TIMES must be whole numbers") from None
        return cls(seq, times, parts[2]) if len(parts) == 3 else cls(seq, times)

    def __str__(self) -> str:
        return f"{self.seq}:{self.times}:{self.code}"


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Which faults to inject. At-Seq faults hit uploads with that Seq in every session, on the first attempt
    only when `first_attempt_only` (so a client's retry succeeds); `error_rate` hits any request at random.
    `reset_at_seq` drops the connection before the packet is received; `lose_response_at_seq` after it was
    (so the client's retry is an idempotent re-send). `refusals` refuse a Seq a given number of times."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_code: str = codes.INTERNAL_ERROR
    error_at_seq: tuple[int, ...] = ()
    reset_at_seq: tuple[int, ...] = ()
    lose_response_at_seq: tuple[int, ...] = ()
    http_5xx_at_seq: tuple[int, ...] = ()
    http_status: int = 503
    stall_at_seq: tuple[int, ...] = ()
    stall_ms: float = 15_000.0
    refusals: tuple[Refusal, ...] = ()
    first_attempt_only: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0 or self.stall_ms < 0:
            raise ValueError("latency_ms, jitter_ms and stall_ms must not be negative")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if self.http_status not in HTTP_5XX:
            raise ValueError(f"http_status must be one of {', '.join(map(str, HTTP_5XX))}")
        if not self.error_code or " " in self.error_code:
            raise ValueError("error_code must be an error code such as InternalError")

    @property
    def active(self) -> bool:
        """Whether any fault is configured."""
        return self != FaultConfig(seed=self.seed)

    def to_json(self) -> dict[str, Any]:
        """The admin route's form."""
        out: dict[str, Any] = {}
        for f in _FIELDS:
            value = getattr(self, f.name)
            if f.name == "refusals":
                value = [str(r) for r in value]
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> FaultConfig:
        """A config from the admin route's JSON (missing keys take defaults); ValueError naming a bad key."""
        names = {f.name: f for f in _FIELDS}
        unknown = sorted(set(obj) - set(names))
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r} (known: {', '.join(sorted(names))})")
        values: dict[str, Any] = {}
        for key, value in obj.items():
            default = names[key].default
            if key == "refusals":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError('refusals must be a list of "SEQ:TIMES:CODE" strings')
                values[key] = tuple(Refusal.parse(v) for v in value)
            elif isinstance(default, tuple):
                if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
                    raise ValueError(f"{key} must be a list of integers")
                values[key] = tuple(value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                values[key] = value
            elif isinstance(default, int | float):
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise ValueError(f"{key} must be a number")
                values[key] = type(default)(value)
            else:
                if not isinstance(value, str):
                    raise ValueError(f"{key} must be text")
                values[key] = value
        return cls(**values)


_FIELDS = dataclasses.fields(FaultConfig)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do to one request: wait `delay_s` (latency) and `stall_s`, then fail it one way, or not."""

    delay_s: float = 0.0
    stall_s: float = 0.0
    error_code: str | None = None
    http_status: int | None = None
    reset: bool = False
    lose_response: bool = False

    @property
    def label(self) -> str | None:
        """A short name of the failure injected, for the request log."""
        if self.reset:
            return "reset"
        if self.lose_response:
            return "lost-response"
        if self.http_status is not None:
            return f"HTTP{self.http_status}"
        if self.error_code is not None:
            return self.error_code
        return "stall" if self.stall_s else None

    @property
    def message(self) -> str:
        """The error message to send with `error_code`."""
        return MESSAGES.get(self.error_code or "", "Injected fault (emulator).")


class FaultInjector:
    """Decides the faults for each request from the current FaultConfig, with a seedable RNG."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._rng = random.Random(self._config.seed)
        self._fired: set[tuple[str, str, int]] = set()
        self._refused: dict[tuple[str, int], int] = {}

    @property
    def config(self) -> FaultConfig:
        """The faults in force."""
        return self._config

    def set(self, config: FaultConfig) -> None:
        """Replace the faults in force (and reseed, and forget which at-Seq faults already fired)."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)
            self._fired.clear()
            self._refused.clear()

    def decide(self, session_uuid: str | None, seq: int | None) -> FaultDecision:
        """The faults for one request; `seq` is None for Display."""
        with self._lock:
            cfg = self._config
            delay = 0.0
            if cfg.latency_ms or cfg.jitter_ms:
                delay = max(0.0, cfg.latency_ms + self._rng.uniform(-cfg.jitter_ms, cfg.jitter_ms)) / 1000
            stall = cfg.stall_ms / 1000 if self._fires("stall", cfg.stall_at_seq, session_uuid, seq) else 0.0
            if self._fires("reset", cfg.reset_at_seq, session_uuid, seq):
                return FaultDecision(delay, stall, reset=True)
            if self._fires("lose", cfg.lose_response_at_seq, session_uuid, seq):
                return FaultDecision(delay, stall, lose_response=True)
            if self._fires("http", cfg.http_5xx_at_seq, session_uuid, seq):
                return FaultDecision(delay, stall, http_status=cfg.http_status)
            refusal = self._refusal(cfg, session_uuid, seq)
            if refusal is not None:
                return FaultDecision(delay, stall, error_code=refusal)
            if self._fires("error", cfg.error_at_seq, session_uuid, seq) or (
                cfg.error_rate and self._rng.random() < cfg.error_rate
            ):
                return FaultDecision(delay, stall, error_code=cfg.error_code)
            return FaultDecision(delay, stall)

    def _refusal(self, cfg: FaultConfig, session_uuid: str | None, seq: int | None) -> str | None:
        if seq is None or session_uuid is None:
            return None
        for refusal in cfg.refusals:
            if refusal.seq == seq:
                count = self._refused.get((session_uuid, seq), 0)
                if count < refusal.times:
                    self._refused[(session_uuid, seq)] = count + 1
                    return refusal.code
        return None

    def _fires(self, kind: str, seqs: tuple[int, ...], session_uuid: str | None, seq: int | None) -> bool:
        if seq is None or session_uuid is None or seq not in seqs:
            return False
        key = (kind, session_uuid, seq)
        if self._config.first_attempt_only:
            if key in self._fired:
                return False
            self._fired.add(key)
        return True

"""Everything the emulator is started with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tongchuan_tui.emulator.auth import MAX_SKEW_S
from tongchuan_tui.emulator.cues import CueScript
from tongchuan_tui.emulator.engine import GAP_LIMIT_S, PACING_TOLERANCE_MS
from tongchuan_tui.emulator.faults import FaultConfig
from tongchuan_tui.emulator.ratelimit import DEFAULT_LIMITS
from tongchuan_tui.emulator.segmenter import SegmenterConfig
from tongchuan_tui.emulator.state import REQUEST_LOG_SIZE
from tongchuan_tui.emulator.variants import WireVariant

DEFAULT_HOST = "127.0.0.1"
#: The API 3.0 gateway's request size limit for a JSON POST.
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class EmulatorOptions:
    """How to run the emulator: where to listen, whose keys to accept, what to answer, which faults to inject,
    and `variant`: how it answers on each point the API reference leaves open.

    `rate_limits` maps an action to requests per second per SecretId; an empty mapping disables limiting.
    """

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    host: str = DEFAULT_HOST
    port: int = 0
    cues: CueScript | None = None
    loop_cues: bool = False
    faults: FaultConfig = field(default_factory=FaultConfig)
    rate_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    max_body_bytes: int = MAX_BODY_BYTES
    max_skew_s: float = MAX_SKEW_S
    gap_limit_s: float = GAP_LIMIT_S
    pacing_tolerance_ms: float = PACING_TOLERANCE_MS
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    variant: WireVariant = field(default_factory=WireVariant)
    request_log_size: int = REQUEST_LOG_SIZE
    """How many of the newest requests the state route lists (a long soak judged from it wants them all)."""
    refused_targets: frozenset[str] = frozenset()
    """Target languages this account may not use: uploads into them are refused as an invalid Target (to
    check that one refused target of a multi-target client leaves the others running)."""

"""Wire variants: each point the API reference leaves open, answered one of the ways the service might.

The reference declares SeId a String without saying what it looks like, gives StartTime/EndTime no unit,
does not say what Sync's List holds, and says nothing of unknown fields, integers sent as text, a re-sent
Seq or the server's clock. A client must cope with every answer; `WireVariant` picks one per point, and
`WireVariant.random(seed)` picks all of them from a seed (the `--vary SEED` profile).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from dataclasses import dataclass
from typing import Any

from tongchuan_tui.emulator.sentences import Sentence

#: numeric: "0", "1", … (strings); number: 0, 1, … (JSON numbers); opaque: "0c4641e341e5" (hex, unordered).
SE_ID_SHAPES = ("numeric", "number", "opaque")
#: What Sync's List holds: the 5 newest (newest first), only the sentences changed since the previous
#: answer (oldest first), all of them (oldest first), or always nothing (results only through Display).
SYNC_LISTS = ("newest", "changed", "all", "empty")
#: How an empty List is sent: [] , null, or no List field at all.
EMPTY_LISTS = ("list", "null", "missing")
#: StartTime/EndTime unit, as the divisor of milliseconds.
TIME_UNITS: dict[str, int] = {"ms": 1, "10ms": 10, "s": 1000}
#: A re-sent Seq that was already accepted: answered as the first time, or refused as the predecessor API did.
DUPLICATE_SEQ = ("idempotent", "refuse")
#: Clock offsets `random` picks from (seconds): within and beyond the 5-minute signature window.
RANDOM_OFFSETS_S = (-420.0, -150.0, 0.0, 150.0, 420.0)


@dataclass(frozen=True, slots=True)
class WireVariant:
    """How the emulator answers on every open point (the defaults are its historical behaviour).

    `clock_offset_s` moves the server's clock (its Date header and its signature-expiry check) by that many
    seconds; `seed` is the `--vary` seed that picked this variant, if one did (it also salts opaque ids)."""

    se_id: str = "numeric"
    sync_list: str = "newest"
    empty_list: str = "list"
    time_unit: str = "ms"
    extra_fields: bool = False
    string_ints: bool = False
    omit_empty: bool = False
    duplicate_seq: str = "idempotent"
    clock_offset_s: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name, allowed in (
            ("se_id", SE_ID_SHAPES),
            ("sync_list", SYNC_LISTS),
            ("empty_list", EMPTY_LISTS),
            ("time_unit", tuple(TIME_UNITS)),
            ("duplicate_seq", DUPLICATE_SEQ),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")

    @classmethod
    def random(cls, seed: int) -> WireVariant:
        """Every open point picked at random from `seed` (the same seed always gives the same variant)."""
        rng = random.Random(seed)
        return cls(
            se_id=rng.choice(SE_ID_SHAPES),
            sync_list=rng.choice(SYNC_LISTS[:3]),  # "empty" leaves Sync mode nothing to show; ask for it
            empty_list=rng.choice(EMPTY_LISTS),
            time_unit=rng.choice(tuple(TIME_UNITS)),
            extra_fields=rng.random() < 0.5,
            string_ints=rng.random() < 0.5,
            omit_empty=rng.random() < 0.5,
            duplicate_seq=rng.choice(DUPLICATE_SEQ),
            clock_offset_s=rng.choice(RANDOM_OFFSETS_S),
            seed=seed,
        )

    @classmethod
    def from_json(cls, obj: Any) -> WireVariant:
        """A variant from the admin route's JSON object (missing keys take defaults); ValueError naming the
        bad key."""
        if not isinstance(obj, dict):
            raise ValueError("expected a JSON object of variant fields")
        defaults = cls().to_json()
        unknown = sorted(set(obj) - set(defaults))
        if unknown:
            raise ValueError(f"unknown variant field {unknown[0]!r} (known: {', '.join(sorted(defaults))})")
        for key, value in obj.items():
            default = defaults[key]
            if isinstance(default, bool) and not isinstance(value, bool):
                raise ValueError(f"{key} must be true or false")
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if key == "clock_offset_s" and not number:
                raise ValueError("clock_offset_s must be a number")
            if key == "seed" and value is not None and not (number and isinstance(value, int)):
                raise ValueError("seed must be an integer or null")
        return cls(**{**obj, "clock_offset_s": float(obj.get("clock_offset_s", 0.0))})

    def replace(self, **changes: Any) -> WireVariant:
        """This variant with some points changed."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The state route's and the start-up report's form."""
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """One line naming every choice, e.g. "se_id=opaque sync_list=changed … clock_offset_s=-420"."""
        return " ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.to_json().items()
        )

    def wire_id(self, session_uuid: str, index: int) -> str | int:
        """The SeId of a session's `index`-th sentence in this variant's shape."""
        if self.se_id == "number":
            return index
        if self.se_id == "opaque":
            salt = self.seed or 0
            return hashlib.sha256(f"{salt}:{session_uuid}:{index}".encode()).hexdigest()[:12]
        return str(index)

    def sentence(self, session_uuid: str, s: Sentence) -> dict[str, Any]:
        """One DisplayInfo as this variant sends it."""
        unit = TIME_UNITS[self.time_unit]
        out: dict[str, Any] = {
            "SeId": self.wire_id(session_uuid, s.se_id),
            "SeVer": s.se_ver,
            "SourceText": s.source_text,
            "TargetText": s.target_text,
            "StartTime": s.start_time // unit,
            # Rounded up, so a sentence that lasts at all never ends where it starts.
            "EndTime": -(-s.end_time // unit),
            "IsEnd": s.is_end,
        }
        if s.audio is not None:
            out["Audio"] = s.audio
        if self.string_ints:
            for key in ("SeId", "SeVer", "StartTime", "EndTime"):
                out[key] = str(out[key])
        if self.omit_empty:
            out = {k: v for k, v in out.items() if v != ""}
        if self.extra_fields:
            out["Confidence"] = 0.9
            out["SpeakerId"] = "0"
            out["Words"] = [{"Word": s.source_text[:1], "Offset": 0}] if s.source_text else []
        return out

    def put_list(self, payload: dict[str, Any], session_uuid: str, sentences: list[Sentence]) -> None:
        """Set `payload["List"]` to these sentences (or what this variant sends for none)."""
        if sentences or self.empty_list == "list":
            payload["List"] = [self.sentence(session_uuid, s) for s in sentences]
        elif self.empty_list == "null":
            payload["List"] = None

    def extend_response(self, payload: dict[str, Any], session_uuid: str | None) -> None:
        """Add fields the reference does not define to a successful Response, when this variant does."""
        if self.extra_fields:
            payload["SessionUuid"] = session_uuid
            payload["Status"] = "RUNNING"
            payload["Extra"] = {"Engine": "emulator", "Version": 2}

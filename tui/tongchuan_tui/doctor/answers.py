"""What the service's answers looked like, from their raw JSON: the points its API reference leaves open.

Read from the raw `Response` objects (not through the client's models) so that a user with an account can
report exactly what the real service sends: the JSON type and shape of `SeId`, what `List` holds, and which
unit `StartTime`/`EndTime` seem to be in.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

KNOWN_RESPONSE_FIELDS = frozenset({"RequestId", "List", "Error"})
KNOWN_SENTENCE_FIELDS = frozenset(
    {"SeId", "SeVer", "SourceText", "TargetText", "StartTime", "EndTime", "IsEnd", "Audio"}
)
UNITS_MS = {"ms": 1.0, "10 ms": 10.0, "s": 1000.0}
_NUMERIC = re.compile(r"^-?\d+$")


def _sentences(responses: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for response in responses:
        items = response.get("List")
        if isinstance(items, list):
            found.extend(item for item in items if isinstance(item, Mapping))
    return found


def se_id_shape(responses: Sequence[Mapping[str, Any]]) -> str:
    """How SeId arrived: "no sentences", "JSON numbers", "numeric strings", "opaque strings", or a mix."""
    kinds: Counter[str] = Counter()
    for sentence in _sentences(responses):
        value = sentence.get("SeId")
        if isinstance(value, bool) or value is None:
            kinds["missing or not a string/number"] += 1
        elif isinstance(value, int | float):
            kinds["JSON numbers"] += 1
        elif isinstance(value, str):
            kinds["numeric strings" if _NUMERIC.match(value) else "opaque strings"] += 1
        else:
            kinds["missing or not a string/number"] += 1
    if not kinds:
        return "no sentences"
    return " and ".join(kind for kind, _ in kinds.most_common())


def list_behaviour(responses: Sequence[Mapping[str, Any]]) -> str:
    """What `List` held across the answers, e.g. "[] in 5 of 5" or "absent in 1, 1-3 sentences in 4"."""
    absent = empty = 0
    sizes: list[int] = []
    other = 0
    for response in responses:
        if "List" not in response:
            absent += 1
            continue
        items = response["List"]
        if items is None:
            absent += 1
        elif isinstance(items, list):
            if items:
                sizes.append(len(items))
            else:
                empty += 1
        else:
            other += 1
    total = len(responses)
    parts = []
    if absent:
        parts.append(f"absent or null in {absent}")
    if empty:
        parts.append(f"[] in {empty}")
    if sizes:
        span = f"{min(sizes)}" if min(sizes) == max(sizes) else f"{min(sizes)}-{max(sizes)}"
        parts.append(f"{span} sentence{'s' if max(sizes) != 1 else ''} in {len(sizes)}")
    if other:
        parts.append(f"not a list in {other}")
    return f"{', '.join(parts)} of {total}" if parts else "no answers"


def time_unit_guess(responses: Sequence[Mapping[str, Any]], sent_ms: float) -> str:
    """The StartTime/EndTime unit that best fits `sent_ms` of audio: "ms", "10 ms" or "s", or why not known.

    The latest EndTime cannot lie beyond the audio sent; of the units that keep it there, the one that puts it
    nearest the end of the audio is the guess (silence gives no sentences, so no guess: that is an answer).
    """
    ends: list[float] = []
    for sentence in _sentences(responses):
        value: Any = sentence.get("EndTime")
        try:
            ends.append(float(value))  # numbers, or numeric strings
        except (TypeError, ValueError):
            continue
    latest = max((end for end in ends if end > 0), default=None)
    if latest is None:
        return "not observable (no sentence with an EndTime)"
    fitting = {unit: latest * factor for unit, factor in UNITS_MS.items() if latest * factor <= sent_ms * 1.2}
    if not fitting:
        return f"implausible (EndTime {latest:g} beyond the {sent_ms:g} ms sent, in any unit)"
    unit = min(fitting, key=lambda u: abs(math.log(max(fitting[u], 1e-3) / max(sent_ms, 1.0))))
    return f"{unit} (latest EndTime {latest:g} against {sent_ms:g} ms sent)"


def extra_fields(responses: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Fields the API reference does not list, in the responses and in their sentences."""
    in_response = sorted({key for r in responses for key in r if key not in KNOWN_RESPONSE_FIELDS})
    in_sentences = sorted(
        {key for s in _sentences(responses) for key in s if key not in KNOWN_SENTENCE_FIELDS}
    )
    return {"response": in_response, "sentence": in_sentences}


def describe(responses: Sequence[Mapping[str, Any]], sent_ms: float) -> dict[str, Any]:
    """Every observation at once, for the report's details."""
    return {
        "answers": len(responses),
        "sentences": len(_sentences(responses)),
        "se_id": se_id_shape(responses),
        "list": list_behaviour(responses),
        "time_unit": time_unit_guess(responses, sent_ms),
        "extra_fields": extra_fields(responses),
    }

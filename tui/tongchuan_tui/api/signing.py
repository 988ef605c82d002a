"""TC3-HMAC-SHA256 request signing for Tencent Cloud API 3.0, as pure functions.

The client signs with these; the emulator verifies with the same functions, for any SignedHeaders set.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
DEFAULT_SIGNED_HEADERS: tuple[str, ...] = ("content-type", "host")


def utc_date(timestamp: int) -> str:
    """The UTC calendar date of a Unix timestamp, as the credential scope wants it (YYYY-MM-DD)."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def credential_scope(date: str, service: str) -> str:
    """The `{date}/{service}/tc3_request` scope that binds a signature to a day and a service."""
    return f"{date}/{service}/tc3_request"


def canonical_header_value(name: str, value: str) -> str:
    """A header value as it enters the canonical request: trimmed; `x-tc-action` lower-cased."""
    value = value.strip()
    if name == "x-tc-action":
        value = value.lower()
    return value


def canonical_request(
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload: bytes,
    *,
    method: str = "POST",
    uri: str = "/",
    query: str = "",
) -> str:
    """The canonical request over `signed_headers` (names matched case-insensitively in `headers`).

    Raises KeyError naming a signed header that `headers` does not carry.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    names = sorted(h.strip().lower() for h in signed_headers)
    lines = "".join(f"{n}:{canonical_header_value(n, lowered[n])}\n" for n in names)
    return "\n".join(
        [method.upper(), uri, query, lines, ";".join(names), hashlib.sha256(payload).hexdigest()]
    )


def string_to_sign(timestamp: int, scope: str, canonical: str) -> str:
    """The string that the derived key signs."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    """The HMAC-SHA256 key chain "TC3"+SecretKey → date → service → tc3_request."""
    k_date = hmac.new(("TC3" + secret_key).encode("utf-8"), date.encode("utf-8"), hashlib.sha256).digest()
    k_service = hmac.new(k_date, service.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(k_service, b"tc3_request", hashlib.sha256).digest()


def signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    """The hex signature of `to_sign`."""
    key = signing_key(secret_key, date, service)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    timestamp: int,
    headers: Mapping[str, str],
    payload: bytes,
    signed_headers: Sequence[str] = DEFAULT_SIGNED_HEADERS,
) -> str:
    """The `Authorization` header value for a POST of `payload` with `headers` at `timestamp`."""
    date = utc_date(timestamp)
    scope = credential_scope(date, service)
    canonical = canonical_request(headers, signed_headers, payload)
    sig = signature(secret_key, date, service, string_to_sign(timestamp, scope, canonical))
    names = ";".join(sorted(h.lower() for h in signed_headers))
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={names}, Signature={sig}"


@dataclass(frozen=True, slots=True)
class ParsedAuthorization:
    """The parts of a received `Authorization` header."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization:
    """Parse an `Authorization` header; raises ValueError saying what is malformed."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ValueError(f"algorithm must be {ALGORITHM}")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            raise ValueError(f"malformed field {key!r}")
        parts[key] = val
    try:
        credential, names, sig = parts["Credential"], parts["SignedHeaders"], parts["Signature"]
    except KeyError as exc:
        raise ValueError(f"missing {exc.args[0]}") from None
    pieces = credential.split("/")
    if len(pieces) != 4 or pieces[3] != "tc3_request":
        raise ValueError("Credential must be SecretId/date/service/tc3_request")
    signed = tuple(n.strip().lower() for n in names.split(";") if n.strip())
    return ParsedAuthorization(pieces[0], pieces[1], pieces[2], signed, sig)

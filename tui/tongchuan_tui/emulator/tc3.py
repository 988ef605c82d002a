"""TC3-HMAC-SHA256 as the service checks it, written from the reference (PROTOCOL.md "Signing").

Independent of the client's signer on purpose: the emulator verifies what the client (or the official SDK)
produced, so sharing the code would let one mistake pass on both sides.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ALGORITHM = "TC3-HMAC-SHA256"
_PARTS = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")


@dataclass(frozen=True, slots=True)
class Authorization:
    """The parts of an `Authorization: TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse(value: str) -> Authorization:
    """The parts of an Authorization header; ValueError saying what is malformed."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ValueError(f"the algorithm must be {ALGORITHM}")
    parts = dict(_PARTS.findall(rest))
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not parts.get(name):
            raise ValueError(f"{name} is missing")
    scope = parts["Credential"].split("/")
    if len(scope) != 4 or scope[3] != "tc3_request" or not all(scope):
        raise ValueError("Credential must be SecretId/date/service/tc3_request")
    names = tuple(n.strip().lower() for n in parts["SignedHeaders"].split(";") if n.strip())
    if not names:
        raise ValueError("SignedHeaders is empty")
    return Authorization(scope[0], scope[1], scope[2], names, parts["Signature"])


def utc_day(timestamp: int) -> str:
    """The UTC date of a Unix time, as the credential scope writes it (YYYY-MM-DD)."""
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


def canonical(
    method: str, path: str, query: str, headers: Mapping[str, str], names: Sequence[str], body: bytes
) -> str:
    """The canonical request: method, URI, query, `name:value` lines of the signed headers (sorted,
    lower-case names, trimmed values, x-tc-action's value lower-cased), their names, the body's SHA-256."""
    ordered = sorted(names)
    lines = []
    for name in ordered:
        value = headers[name].strip()
        lines.append(f"{name}:{value.lower() if name == 'x-tc-action' else value}\n")
    digest = hashlib.sha256(body).hexdigest()
    return f"{method}\n{path}\n{query}\n{''.join(lines)}\n{';'.join(ordered)}\n{digest}"


def expected_signature(secret_key: str, auth: Authorization, timestamp: int, canonical_request: str) -> str:
    """The hex signature the holder of `secret_key` would have sent for this canonical request."""
    scope = f"{auth.date}/{auth.service}/tc3_request"
    hashed = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashed}"
    key = ("TC3" + secret_key).encode("utf-8")
    for part in (auth.date, auth.service, "tc3_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()

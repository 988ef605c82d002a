"""TC3-HMAC-SHA256 verification of incoming requests, for any SignedHeaders set, as the service does."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from tongchuan_tui.emulator import codes, tc3
from tongchuan_tui.emulator.codes import ApiFailure
from tongchuan_tui.emulator.wire import SERVICE

#: The service refuses a request whose X-TC-Timestamp is further than this from its own clock.
MAX_SKEW_S = 300
REQUIRED_SIGNED_HEADERS = ("content-type", "host")


@dataclass(frozen=True, slots=True)
class Account:
    """A key pair the emulator accepts; with `token`, requests must carry that X-TC-Token (temporary keys)."""

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header value by case-insensitive name (plain dicts in unit tests, CIMultiDict from aiohttp)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _invalid(detail: str) -> ApiFailure:
    return ApiFailure(codes.AUTH_INVALID_AUTHORIZATION, f"The Authorization header is invalid: {detail}.")


def _signature_failure(detail: str = "") -> ApiFailure:
    message = "The provided credentials could not be validated. Please check your signature is correct."
    return ApiFailure(codes.AUTH_SIGNATURE_FAILURE, f"{message} {detail}".strip())


def verify(
    *,
    headers: Mapping[str, str],
    body: bytes,
    accounts: Mapping[str, Account],
    now: float,
    method: str = "POST",
    path: str = "/",
    query: str = "",
    max_skew_s: float = MAX_SKEW_S,
) -> Account:
    """The account that signed this request; ApiFailure with the service's code when it does not verify."""
    value = _header(headers, "Authorization")
    if not value or not value.strip():
        raise _invalid("missing")
    try:
        parsed = tc3.parse(value)
    except ValueError as exc:
        raise _invalid(str(exc)) from None
    raw_timestamp = _header(headers, "X-TC-Timestamp")
    if raw_timestamp is None:
        raise codes.missing("X-TC-Timestamp")
    try:
        timestamp = int(raw_timestamp.strip())
    except ValueError:
        raise ApiFailure(codes.INVALID_PARAMETER, "X-TC-Timestamp must be an integer Unix time.") from None
    account = accounts.get(parsed.secret_id)
    if account is None:
        raise ApiFailure(
            codes.AUTH_SECRET_ID_NOT_FOUND,
            "The SecretId is not found, please ensure that your SecretId is correct.",
        )
    if abs(now - timestamp) > max_skew_s:
        raise ApiFailure(
            codes.AUTH_SIGNATURE_EXPIRE,
            f"Signature expired. Timestamp comparison failed: the request timestamp {timestamp} and the "
            f"server time {int(now)} differ by more than {int(max_skew_s)} seconds.",
        )
    missing_required = [h for h in REQUIRED_SIGNED_HEADERS if h not in parsed.signed_headers]
    if missing_required:
        raise _invalid(f"SignedHeaders must include {' and '.join(missing_required)}")
    if parsed.service != SERVICE:
        raise _signature_failure(f"The credential scope names service {parsed.service!r}, not {SERVICE!r}.")
    if parsed.date != tc3.utc_day(timestamp):
        raise _signature_failure("The credential scope date is not the UTC date of X-TC-Timestamp.")
    absent = [h for h in parsed.signed_headers if _header(headers, h) is None]
    if absent:
        raise _signature_failure(f"Signed header {absent[0]!r} is not in the request.")
    signed = {h: _header(headers, h) or "" for h in parsed.signed_headers}
    canonical = tc3.canonical(method, path, query, signed, parsed.signed_headers, body)
    expected = tc3.expected_signature(account.secret_key, parsed, timestamp, canonical)
    if not hmac.compare_digest(expected, parsed.signature.strip()):
        raise _signature_failure()
    token = _header(headers, "X-TC-Token") or None
    if token != account.token:
        raise ApiFailure(
            codes.AUTH_TOKEN_FAILURE, "The token is invalid or does not belong to this SecretId."
        )
    return account

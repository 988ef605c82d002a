"""The emulator's TC3 verification: any SignedHeaders set, and the service's code for each way it can fail."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tongchuan_tui.api import signing
from tongchuan_tui.emulator.auth import Account, verify
from tongchuan_tui.emulator.codes import ApiFailure

NOW = 1_764_000_000
BODY = b'{"SessionUuid": "s", "IsNew": 1, "SeMax": 5}'
ACCOUNTS = {"emu-test-id": Account("emu-test-id", "emu-test-key")}


def signed(
    *,
    secret_id: str = "emu-test-id",
    secret_key: str = "emu-test-key",
    timestamp: int = NOW,
    signed_headers: Sequence[str] = ("content-type", "host"),
    body: bytes = BODY,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Host": "127.0.0.1:8765",
        "X-TC-Action": "TongChuanDisplay",
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": "2021-03-25",
        **(extra or {}),
    }
    headers["Authorization"] = signing.authorization(
        secret_id=secret_id,
        secret_key=secret_key,
        service="tsi",
        timestamp=timestamp,
        headers=headers,
        payload=body,
        signed_headers=signed_headers,
    )
    return headers


def code(headers: dict[str, str], body: bytes = BODY, accounts: dict[str, Account] = ACCOUNTS) -> str:
    with pytest.raises(ApiFailure) as info:
        verify(headers=headers, body=body, accounts=accounts, now=NOW)
    return info.value.code


@pytest.mark.parametrize(
    "names",
    [
        ("content-type", "host"),
        ("content-type", "host", "x-tc-action"),
        ("host", "x-tc-timestamp", "content-type", "x-tc-version", "x-tc-action"),
    ],
)
def test_any_signed_header_set_verifies(names: tuple[str, ...]) -> None:
    assert verify(headers=signed(signed_headers=names), body=BODY, accounts=ACCOUNTS, now=NOW).secret_id == (
        "emu-test-id"
    )


def test_signed_action_value_is_compared_lower_cased() -> None:
    headers = signed(signed_headers=("content-type", "host", "x-tc-action"))
    headers["X-TC-Action"] = "TONGCHUANDISPLAY"  # same lower-cased value: the signature still holds
    verify(headers=headers, body=BODY, accounts=ACCOUNTS, now=NOW)
    headers["X-TC-Action"] = "TongChuanSync"
    assert code(headers) == "AuthFailure.SignatureFailure"


def test_clock_skew_within_five_minutes_is_accepted_beyond_is_expired() -> None:
    verify(headers=signed(timestamp=NOW - 300), body=BODY, accounts=ACCOUNTS, now=NOW)
    assert code(signed(timestamp=NOW - 301)) == "AuthFailure.SignatureExpire"
    assert code(signed(timestamp=NOW + 301)) == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (signed(secret_key="wrong-key"), "AuthFailure.SignatureFailure"),
        (signed(secret_id="someone-else"), "AuthFailure.SecretIdNotFound"),
        (signed(signed_headers=("host",)), "AuthFailure.InvalidAuthorization"),
        ({**signed(), "Authorization": ""}, "AuthFailure.InvalidAuthorization"),
        ({**signed(), "Authorization": "TC3-HMAC-SHA256 garbage"}, "AuthFailure.InvalidAuthorization"),
        (
            {**signed(), "Authorization": "HMAC-SHA1 Credential=a/b/c/tc3_request"},
            "AuthFailure.InvalidAuthorization",
        ),
        ({**signed(), "Content-Type": "application/json; charset=utf-8"}, "AuthFailure.SignatureFailure"),
        ({k: v for k, v in signed().items() if k != "X-TC-Timestamp"}, "MissingParameter"),
    ],
    ids=[
        "bad-key",
        "unknown-id",
        "host-only",
        "empty",
        "garbled",
        "other-algorithm",
        "content-type",
        "no-ts",
    ],
)
def test_failures_get_the_services_codes(headers: dict[str, str], expected: str) -> None:
    assert code(headers) == expected


def test_a_changed_body_breaks_the_signature() -> None:
    assert code(signed(), body=BODY.replace(b'"s"', b'"t"')) == "AuthFailure.SignatureFailure"


def test_temporary_keys_need_their_token() -> None:
    accounts = {"emu-test-id": Account("emu-test-id", "emu-test-key", "tok-123")}
    with_token = signed(extra={"X-TC-Token": "tok-123"})
    assert verify(headers=with_token, body=BODY, accounts=accounts, now=NOW).token == "tok-123"
    assert code(signed(), accounts=accounts) == "AuthFailure.TokenFailure"
    assert code(signed(extra={"X-TC-Token": "other"}), accounts=accounts) == "AuthFailure.TokenFailure"
    # Permanent keys with a token the service never issued for them.
    assert code(with_token) == "AuthFailure.TokenFailure"

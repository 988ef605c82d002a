"""What to do about an error code of the service: one sentence, shared by the UI's dialogs, the headless
messages and `doctor` (so none of them depends on another)."""

from __future__ import annotations

from tongchuan_tui.api.models import LANGUAGE_PAIRS
from tongchuan_tui.config import log_file

CREDENTIALS_HINT = (
    "Check TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or the [default] profile in "
    "~/.tencentcloud/credentials): the key may be wrong, disabled or deleted."
)


def allowed_pairs() -> str:
    """The language pairs the service interprets, e.g. `zh → en/ja/ko/yue; en → zh; …`."""
    return "; ".join(f"{source} → {'/'.join(targets)}" for source, targets in LANGUAGE_PAIRS.items())


def advice_for_code(code: str) -> str:
    """What to do about a service error code that ended the session."""
    if code == "AuthFailure.SignatureExpire":
        return "The computer's clock is more than 5 minutes off: correct it (e.g. enable NTP) and retry."
    if code == "AuthFailure.UnauthorizedOperation":
        return (
            "This key's account may not use tsi: grant it the QcloudTSIFullAccess policy in the CAM console."
        )
    if code == "AuthFailure.TokenFailure":
        return (
            "The temporary key's session token is wrong or expired: set a fresh TENCENTCLOUD_SESSION_TOKEN."
        )
    if code.startswith("AuthFailure"):
        return CREDENTIALS_HINT
    if code.startswith(("InvalidParameter", "UnsupportedOperation", "MissingParameter")):
        return f"Check --source/--target: allowed pairs are {allowed_pairs()}."
    if code.startswith(("ResourceUnavailable", "FailedOperation", "ResourceInsufficient")):
        return "Check that simultaneous interpretation (tsi) is enabled in the Tencent Cloud console."
    if code == "TLSError":
        return "Check the system clock, any proxy that intercepts HTTPS, and the CA certificates."
    if code == "ProtocolError" or code.startswith("HTTP"):
        return (
            f"Check --endpoint (is it the tsi API?); the log file has the answer that could not be read "
            f"({log_file()})."
        )
    if code.startswith("RequestLimitExceeded"):
        return "The rate limit was exceeded for too long: stop other sessions or ask for a higher limit."
    return f"See the log file for details ({log_file()}), then retry."

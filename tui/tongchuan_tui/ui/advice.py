"""What to tell the user when a session fails for good: one line of what happened, one of what to do."""

from __future__ import annotations

from dataclasses import dataclass

from tongchuan_tui import exitcodes
from tongchuan_tui.api.models import LANGUAGE_PAIRS
from tongchuan_tui.pipeline.events import RequestFailed, SessionEnded

CREDENTIALS_HINT = (
    "Check TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or the [default] profile in "
    "~/.tencentcloud/credentials): the key may be wrong, disabled or deleted."
)


def allowed_pairs() -> str:
    """The language pairs the service interprets, e.g. `zh → en/ja/ko/yue; en → zh; …`."""
    return "; ".join(f"{source} → {'/'.join(targets)}" for source, targets in LANGUAGE_PAIRS.items())


@dataclass(frozen=True, slots=True)
class Advice:
    """A final failure explained: a title, what happened, what to do."""

    title: str
    message: str
    action: str


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
    if code.startswith("RequestLimitExceeded"):
        return "The rate limit was exceeded for too long: stop other sessions or ask for a higher limit."
    return "See the log file for details, then retry."


def advice_for_exit(code: int) -> str:
    """What to do about a session that ended with exit code `code`."""
    if code == exitcodes.BAD_INPUT:
        return (
            "Check the input: the file exists and is audio, the URL is reachable, or pick another device (d)."
        )
    if code == exitcodes.SERVICE_REJECTED:
        return CREDENTIALS_HINT + f" Allowed language pairs: {allowed_pairs()}."
    if code == exitcodes.SERVICE_UNREACHABLE:
        return "Check the network and --endpoint; the service did not answer within the retry budget."
    if code == exitcodes.NO_CREDENTIALS:
        return CREDENTIALS_HINT
    if code == exitcodes.JOURNAL_ERROR:
        return "The journal could not be read or written: check the sessions directory and its free space."
    return "See the log file for details."


def failure_title(code: str) -> str:
    """A dialog's title that names the cause: the network, the secure connection, an answer that could not
    be understood, or the service saying no."""
    if code in ("NetworkError", "ConnectionError"):
        return "The service could not be reached"
    if code == "TLSError":
        return "The secure connection to the service failed"
    if code in ("ProtocolError", "MalformedAnswer") or code.startswith("HTTP"):
        return "The service's answer could not be understood"
    return "The service rejected the session"


def advice_for_failure(failure: RequestFailed) -> Advice:
    """The dialog for a request that failed for good."""
    return Advice(
        title=failure_title(failure.code),
        message=f"{failure.action}: {failure.code} — {failure.message}",
        action=advice_for_code(failure.code),
    )


def advice_for_end(ended: SessionEnded) -> Advice:
    """The dialog for a session that ended with a non-zero exit code and no final request failure."""
    what = exitcodes.DESCRIPTIONS.get(ended.exit_code, "the session failed")
    message = ended.message or what
    return Advice(
        title=f"The session ended: {what}", message=message, action=advice_for_exit(ended.exit_code)
    )

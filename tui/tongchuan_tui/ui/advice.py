"""What to tell the user when a session fails for good: one line of what happened, one of what to do."""

from __future__ import annotations

from dataclasses import dataclass

from tongchuan_tui import exitcodes
from tongchuan_tui.config import log_file
from tongchuan_tui.pipeline.events import RequestFailed, SessionEnded

# What to do about a service error code is shared with `doctor`, which is no UI: it lives in remedies.
from tongchuan_tui.remedies import CREDENTIALS_HINT, advice_for_code, allowed_pairs

__all__ = [
    "CREDENTIALS_HINT",
    "Advice",
    "advice_for_code",
    "advice_for_end",
    "advice_for_exit",
    "advice_for_failure",
    "allowed_pairs",
]


@dataclass(frozen=True, slots=True)
class Advice:
    """A final failure explained: a title, what happened, what to do."""

    title: str
    message: str
    action: str


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
    if code == exitcodes.SERVICE_MALFORMED:
        return (
            "Check --endpoint (is it the tsi API?); the log file has the answer that could not be read: "
            f"{log_file()}"
        )
    if code == exitcodes.NO_CREDENTIALS:
        return CREDENTIALS_HINT
    if code == exitcodes.JOURNAL_ERROR:
        return "The journal could not be read or written: check the sessions directory and its free space."
    return f"See the log file for details: {log_file()}"


def failure_title(code: str) -> str:
    """A dialog's title that names the cause: the network, the secure connection, an answer that could not
    be understood, or the service saying no."""
    if code in ("NetworkError", "ConnectionError"):
        return "The service could not be reached"
    if code == "TLSError":
        return "The connection to the service is not trusted"
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

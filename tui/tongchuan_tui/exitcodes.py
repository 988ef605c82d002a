"""Process exit codes, one per kind of failure, as documented in `--help` and the README."""

from __future__ import annotations

from typing import Protocol

OK = 0
UNEXPECTED = 1
USAGE = 2
"""Bad command line or config value (click's own usage code)."""
NO_CREDENTIALS = 3
BAD_INPUT = 4
"""The audio input cannot be used: missing file, not audio, unreachable URL, no such device, busy."""
SERVICE_REJECTED = 5
"""The service refused the session for good: authentication or parameters."""
SERVICE_UNREACHABLE = 6
"""The service could not be reached or recovered within the retry budget, or its TLS is not trusted."""
JOURNAL_ERROR = 7
"""A journal to read is missing, corrupt beyond use, or from a newer format version."""
SERVICE_MALFORMED = 8
"""The service's answer could not be understood (malformed, or not the tsi API at that address)."""
INTERRUPTED = 130
"""Ended by SIGINT (Ctrl-C), after the last results were collected."""
TERMINATED = 143
"""Ended by SIGTERM, after the last results were collected."""

DESCRIPTIONS = {
    OK: "success",
    UNEXPECTED: "unexpected error (see the log file)",
    USAGE: "bad command line or configuration",
    NO_CREDENTIALS: "no credentials found",
    BAD_INPUT: "the audio input cannot be used",
    SERVICE_REJECTED: "the service rejected the session (authentication or parameters)",
    SERVICE_UNREACHABLE: "the service could not be reached (network, or TLS not trusted)",
    JOURNAL_ERROR: "a journal could not be read",
    SERVICE_MALFORMED: "the service's answer could not be understood",
    INTERRUPTED: "interrupted (SIGINT)",
    TERMINATED: "terminated (SIGTERM)",
}


class _ServiceError(Protocol):
    kind: str


_BY_KIND = {"malformed": SERVICE_MALFORMED, "unreachable": SERVICE_UNREACHABLE}


def for_error(error: _ServiceError) -> int:
    """The exit code of a session ended by a final service error (`api.errors.TsiError.kind`)."""
    return _BY_KIND.get(error.kind, SERVICE_REJECTED)

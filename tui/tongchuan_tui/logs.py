"""Diagnostic logging: a rotating file in the platform log dir, with every known secret masked.

Never stdout/stderr: those belong to the UI and to piped output.
"""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterable
from pathlib import Path

from tongchuan_tui.api.credentials import REDACTED
from tongchuan_tui.config import log_file

MAX_BYTES = 2_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Values shorter than this are not masked: no real key is that short, and masking a
#: one-letter "secret" would garble every line.
MIN_SECRET_LEN = 4


class SecretFilter(logging.Filter):
    """Replaces known secret values in a record's message, arguments and traceback text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: dict[str, str] = {}
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None, replacement: str = REDACTED) -> None:
        """Mask `secret` from now on (ignored if empty or implausibly short)."""
        if secret and len(secret) >= MIN_SECRET_LEN:
            self._secrets[secret] = replacement

    def scrub(self, text: str) -> str:
        """`text` with every known secret replaced, longest first (so a secret inside another goes too)."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, self._secrets[secret])
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


_HANDLER_MARK = "_tongchuan_tui_handler"


def setup_logging(
    path: Path | None = None, level: str = "INFO", *, secret_filter: SecretFilter | None = None
) -> Path:
    """Send all logging (ours, aiohttp's...) to a rotating file, masked by `secret_filter`; returns its path.

    The caller keeps the filter and `add()`s secrets to it as they become known (the CLI hands it to the run
    that resolves the credentials); there is no process-wide one. `path` defaults to `config.log_file()`
    (the platform state/log dir).

    Idempotent: a second call replaces the handler this module installed, leaving others alone.
    """
    path = path if path is not None else log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
    )
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(secret_filter if secret_filter is not None else SecretFilter())
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # Our own DEBUG lines are useful; aiohttp's and asyncio's at DEBUG are noise.
    for noisy in ("asyncio", "aiohttp"):
        logging.getLogger(noisy).setLevel(max(root.level, logging.INFO))
    logging.captureWarnings(True)
    return path


def teardown_logging() -> None:
    """Remove the handler `setup_logging` installed (tests; end of process)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()

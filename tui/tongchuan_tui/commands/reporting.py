"""What a run says on stderr: a headless run's diagnostics as they happen, and the closing lines of any run.

`StderrReporter` is a session sink (one line per retry, replaced service session, warning or growing lag);
`account_for_output` says what output was lost and picks the exit code that tells the truth; `exit_summary`
is the line the UI leaves once it is gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tongchuan_tui import exitcodes


def _stderr(message: str) -> None:
    click.echo(f"tongchuan-tui: {message}", err=True)


class StderrReporter:
    """Diagnostics of a headless run, one line each on stderr, each said once.

    A final RequestFailed is not printed: the SessionEnded that follows says the same as the reason for the
    exit code. A service session the engine failed (FailedOperation) is replaced by a new one; if the run
    then ends well, the last line says it recovered. Lag past 10 s, 20 s, 40 s… behind live is reported.
    """

    LAG_FIRST_MS = 10_000

    def __init__(self) -> None:
        self.replaced = 0
        self._replaced_codes: list[str] = []
        self._lag_warn_at = self.LAG_FIRST_MS

    def __call__(self, event: object) -> None:
        from tongchuan_tui.pipeline.events import (
            RequestFailed,
            RequestRetried,
            SessionEnded,
            StatsUpdated,
            WarningRaised,
        )

        if isinstance(event, RequestRetried):
            _stderr(f"retrying {event.action} (attempt {event.attempt}): {event.code}: {event.message}")
        elif isinstance(event, RequestFailed) and not event.final:
            self.replaced += 1
            if event.code not in self._replaced_codes:
                self._replaced_codes.append(event.code)
            _stderr(
                f"{event.action} failed: {event.code}: {event.message}; "
                "going on in a new service session from the audio not yet answered"
            )
        elif isinstance(event, WarningRaised):
            _stderr(f"warning: {event.message}")
        elif isinstance(event, StatsUpdated):
            self._lag(event.stats.behind_live_ms)
        elif isinstance(event, SessionEnded):
            if event.exit_code not in (0, 130, 143) and event.message:
                _stderr(event.message)
            elif self.replaced:
                noun = "service session" if self.replaced == 1 else "service sessions"
                _stderr(
                    f"recovered: {self.replaced} {noun} failed ({', '.join(self._replaced_codes)}) "
                    "and the interpretation went on in new ones"
                )

    def _lag(self, behind_ms: int) -> None:
        if behind_ms >= self._lag_warn_at:
            _stderr(f"warning: {behind_ms / 1000:.0f} s behind live: the service is answering slowly")
            while self._lag_warn_at <= behind_ms:
                self._lag_warn_at *= 2
        elif behind_ms < self.LAG_FIRST_MS // 2:
            self._lag_warn_at = self.LAG_FIRST_MS


def account_for_output(code: int, session: Any, printer: Any = None) -> int:
    """Say on stderr what output was lost (stdout, journal, recording); the exit code that tells the truth.

    A run that otherwise ended well (0, 130, 143) but lost output exits OUTPUT_LOST; a failure keeps its code.
    """
    lost: list[str] = []
    if printer is not None and printer.lost:
        lost.append(f"stdout: {printer.lost} {printer.unit}(s) could not be written ({printer.error})")
    for output in session.outputs:
        lines_lost = getattr(output, "lines_lost", 0)
        if lines_lost:
            written = getattr(output, "lines_written", 0)
            state = "was never written" if not written else f"is missing {lines_lost} line(s)"
            lost.append(f"journal {output.path} {state} ({lines_lost} of {lines_lost + written} lines lost)")
        if getattr(output, "failed", False):
            seconds = output.bytes_written / 32_000
            lost.append(f"audio recording {output.path} stopped after {seconds:.1f} s; the rest is not in it")
    if not lost:
        return code
    _stderr("lost output: " + "; ".join(lost))
    if code in (exitcodes.OK, exitcodes.INTERRUPTED, exitcodes.TERMINATED):
        return exitcodes.OUTPUT_LOST
    return code


def exit_summary(reason: str, message: str, sentences: int, elapsed_s: float, journal: Path | None) -> str:
    """The one line left on stderr once the UI is gone: how it ended, how much, and where it is kept."""
    seconds = max(0, int(elapsed_s))
    duration = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    how = f"{reason} ({message})" if message else reason
    kept = f"journal {journal}" if journal is not None else "no journal"
    plural = "" if sentences == 1 else "s"
    return f"session {how}: {sentences} sentence{plural} in {duration}; {kept}"

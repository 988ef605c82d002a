"""The doctor's findings: one `Check` per thing looked at, and the report they make (text or JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tongchuan_tui import exitcodes

OK = "ok"
WARN = "warn"
"""Worth knowing and fixing, but a session can run."""
FAIL = "fail"
"""An essential: a session cannot run until it is fixed."""
INFO = "info"
"""An observation (what the service's answers looked like)."""
SKIP = "skip"
"""Not checked, because something it needs failed first."""


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: what was checked, how it went, in one line, and what to do when it did not go well."""

    name: str
    status: str
    summary: str
    action: str | None = None
    code: str | None = None
    """The service's error code behind a failure (e.g. AuthFailure.SignatureFailure)."""
    exit_code: int | None = None
    """The process exit code a failure of this check stands for."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Machine-readable facts for --json (never a secret)."""

    def to_json(self) -> dict[str, Any]:
        """The check as a JSON object."""
        out: dict[str, Any] = {"name": self.name, "status": self.status, "summary": self.summary}
        if self.action:
            out["action"] = self.action
        if self.code:
            out["code"] = self.code
        out["details"] = dict(self.details)
        return out


@dataclass(frozen=True, slots=True)
class Report:
    """Every check, in the order made, for one endpoint."""

    endpoint: str
    official: bool
    checks: Sequence[Check]

    @property
    def exit_code(self) -> int:
        """0 when every essential passed, else the exit code of the first failure."""
        for check in self.checks:
            if check.status == FAIL:
                return check.exit_code if check.exit_code is not None else exitcodes.UNEXPECTED
        return exitcodes.OK

    def to_json(self) -> str:
        """The report as one JSON document."""
        doc = {
            "endpoint": self.endpoint,
            "official_service": self.official,
            "ok": self.exit_code == exitcodes.OK,
            "exit_code": self.exit_code,
            "checks": [check.to_json() for check in self.checks],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2)

    def to_text(self) -> str:
        """The report for a person: one line per check, what to do under each that did not pass."""
        what = "the real service" if self.official else "NOT the real service"
        lines = [f"tongchuan-tui doctor: {self.endpoint} ({what})"]
        width = max(len(check.name) for check in self.checks) if self.checks else 0
        for check in self.checks:
            label = check.status.upper() if check.status in (FAIL, WARN) else check.status
            lines.append(f"  {label:<5} {check.name:<{width}}  {check.summary}")
            if check.action and check.status in (FAIL, WARN):
                lines.append(f"  {'':<5} {'':<{width}}  → {check.action}")
        code = self.exit_code
        if code == exitcodes.OK:
            warnings = sum(1 for check in self.checks if check.status == WARN)
            tail = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
            lines.append(f"ready: the essentials pass{tail}")
        else:
            failed = next(check for check in self.checks if check.status == FAIL)
            lines.append(
                f"not ready: {failed.name} failed (exit {code}: {exitcodes.DESCRIPTIONS.get(code, '')})"
            )
        return "\n".join(lines)

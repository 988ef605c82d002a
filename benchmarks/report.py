"""The written report: markdown tables, targets with met / not met, and the machine it ran on."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata


@dataclass(frozen=True, slots=True)
class Target:
    """A stated goal and whether this run met it (None: not measured)."""

    name: str
    goal: str
    observed: str
    met: bool | None


@dataclass
class Section:
    """One measure: how it was taken, its table(s), its targets, and caveats."""

    title: str
    method: str
    body: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Append a markdown table."""
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
        self.body.append("\n".join(lines))

    def target(self, name: str, goal: str, observed: str, met: bool | None) -> None:
        """Record a target and this run's verdict."""
        self.targets.append(Target(name, goal, observed, met))


def verdict(met: bool | None) -> str:
    """met / NOT met / not measured."""
    return "not measured" if met is None else ("met" if met else "**NOT met**")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, timeout=5, check=False
        )
    except OSError:
        return "unknown"
    rev = out.stdout.strip() or "unknown"
    return rev + (" (uncommitted changes)" if dirty.stdout.strip() else "")


def machine_lines() -> list[str]:
    """Where and with what this report was produced."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; revision {_git_revision()}",
        f"- machine: {platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs "
        f"({_cpu_model()}); load average at start {load[0]:.2f}",
        f"- python {sys.version.split()[0]} ({platform.python_implementation()}); "
        + ", ".join(f"{d} {_version(d)}" for d in ("tongchuan-tui", "aiohttp", "textual", "av")),
    ]


def render(title: str, intro: Sequence[str], sections: Sequence[Section], caveats: Sequence[str]) -> str:
    """The whole report as markdown: summary of targets first, then each section."""
    out = [f"# {title}", "", *intro, "", "## Machine", "", *machine_lines(), ""]
    all_targets = [(s.title, t) for s in sections for t in s.targets]
    if all_targets:
        out += ["## Targets", "", "| measure | target | observed | verdict |", "|---|---|---|---|"]
        out += [f"| {t.name} | {t.goal} | {t.observed} | {verdict(t.met)} |" for _, t in all_targets]
        out.append("")
    for section in sections:
        out += [f"## {section.title}", "", section.method, ""]
        for block in section.body:
            out += [block, ""]
        out += [f"- {note}" for note in section.notes]
        if section.notes:
            out.append("")
    if caveats:
        out += ["## Caveats", "", *[f"- {c}" for c in caveats], ""]
    return "\n".join(out)


def prose(text: str) -> str:
    """A paragraph written wrapped in the source, as one markdown line."""
    return " ".join(text.split())

"""`tongchuan-tui sessions`: past sessions newest first; `sessions prune --older-than 30d` removes old ones.

The sessions directory is the resolved settings' (ctx.obj["settings"]), else the platform default.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import platformdirs

from tongchuan_tui import exitcodes
from tongchuan_tui.journal.sessions import SessionSummary, list_sessions, parse_age, prune


def resolve_sessions_dir(ctx: click.Context) -> Path:
    """The sessions directory of the settings the CLI resolved (ctx.obj["settings"]), else the default."""
    obj: Any = ctx.find_root().obj
    settings = obj.get("settings") if isinstance(obj, dict) else None
    settings = getattr(settings, "settings", settings)  # a LoadedSettings wraps the Settings
    if settings is not None:
        from tongchuan_tui.config import sessions_dir

        return sessions_dir(settings)
    return platformdirs.user_data_path("tongchuan-tui") / "sessions"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _row(s: SessionSummary) -> str:
    start = s.started_at.strftime("%Y-%m-%d %H:%M:%S UTC") if s.started_at else "?"
    languages = f"{s.source}→{s.target}" if s.source else "?"
    if s.failed:
        # A session that failed (to start, or later) is not one with "0 errors": say what ended it.
        status = f"  [failed, exit {s.exit_code}{': ' + s.failure if s.failure else ''}]"
        errors = "   failed"
    else:
        status = "" if s.status == "closed" else f"  [{s.status}{': ' + s.problem if s.problem else ''}]"
        errors = f"{s.errors:>3} errors"
    return (
        f"{start}  {_duration(s.duration_s):>8}  {languages:<6}  {s.sentences:>5} sentences  "
        f"{errors}  {s.input}\n    {s.path}{status}"
    )


def live_sessions(*, as_json: bool) -> dict[str, Any]:
    """Print the live (detached, attachable) sessions first; their JSON form by journal path.

    A live session's journal has no closing line yet: `--json` marks its row with `"live"`; a live session
    without a journal is shown in the text listing only. Stale sockets are cleaned up and reported (stderr).
    """
    from tongchuan_tui.remote.live import describe, safe_scan, to_json

    live, reports = safe_scan()
    for report in reports:
        click.echo(f"tongchuan-tui: {report}", err=True)
    if live and not as_json:
        click.echo("live:")
        for session in live:
            click.echo(f"  {describe(session)}")
        click.echo("")
    return {str(s.hello.journal): to_json(s) for s in live if s.hello.journal}


@click.group("sessions", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def sessions_command(ctx: click.Context, as_json: bool) -> None:
    """List past sessions (their journals), newest first; a killed or crashed session shows as crashed.

    Live sessions (--detach, --attachable) come first: name, state, languages, running time, viewers.
    """
    if ctx.invoked_subcommand is not None:
        return
    directory = resolve_sessions_dir(ctx)
    summaries = list_sessions(directory)
    live = live_sessions(as_json=as_json)
    if as_json:
        rows = [s.to_json() for s in summaries]
        for row in rows:
            row["live"] = live.get(str(row["path"]))
            if row["live"] is not None:
                row["status"] = "live"  # no closing line yet because it is still running
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not summaries:
        click.echo(f"no sessions in {directory}")
        return
    for summary in summaries:
        running = live.get(str(summary.path))
        text = _row(summary)
        if running is not None:
            text = text.split(f"  [{summary.status}")[0] + f"  [live: {running['name']}]"
        click.echo(text)


@sessions_command.command("prune")
@click.option("--older-than", "older_than", required=True, help="Age, e.g. 30d, 12h, 2w.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed, remove nothing.")
@click.pass_context
def prune_command(ctx: click.Context, older_than: str, dry_run: bool) -> None:
    """Remove the journals of sessions that started longer ago than --older-than."""
    try:
        age = parse_age(older_than)
    except ValueError as exc:
        click.echo(f"tongchuan-tui: --older-than: {exc}", err=True)
        sys.exit(exitcodes.USAGE)
    directory = resolve_sessions_dir(ctx)
    removed = prune(directory, age, datetime.now(UTC), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for path in removed:
        click.echo(f"{verb} {path}")
    noun = "session" if len(removed) == 1 else "sessions"
    click.echo(f"{verb} {len(removed)} {noun} older than {older_than} from {directory}")

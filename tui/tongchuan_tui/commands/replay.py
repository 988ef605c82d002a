"""`tongchuan-tui replay JOURNAL [--speed 1|2|max]`: a recorded session played back in the UI, offline."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tongchuan_tui import exitcodes

if TYPE_CHECKING:
    from collections.abc import Callable

    from tongchuan_tui.journal.reader import Journal
    from tongchuan_tui.services import Services

SPEEDS = {"1": 1.0, "2": 2.0, "max": None}


@dataclass(frozen=True)
class _DefaultUiSettings:
    """The UI settings when the command runs without the CLI group's resolved settings."""

    layout: str = "auto"
    final_only: bool = False


def _ui_settings(ctx: click.Context) -> Any:
    obj: Any = ctx.find_root().obj
    settings = obj.get("settings") if isinstance(obj, dict) else None
    return settings if settings is not None else _DefaultUiSettings()


def _exporter(journal: Journal) -> Callable[[str, Path | None], Path]:
    """Exports the replayed journal next to it (the same files `tongchuan-tui export` writes)."""

    def export(fmt: str, output: Path | None) -> Path:
        from tongchuan_tui.journal.export import export as render

        target = output if output is not None else journal.path.with_suffix(f".{fmt}")
        target.write_text(render(journal, fmt), encoding="utf-8")
        return target

    return export


def replay_services(recorded: Journal, speed: float | None) -> Services:
    """What the UI is handed for a replay: a ReplaySession of the journal and an exporter of it."""
    from tongchuan_tui.journal.replay import ReplaySession
    from tongchuan_tui.services import Services

    started = recorded.session_started()
    return Services(
        session=ReplaySession(recorded, speed),
        input_description=started.input,
        endpoint_host=started.endpoint_host,
        emulated=started.emulated,
        source_lang=started.source,
        target_lang=",".join(started.all_targets),
        journal_path=recorded.path,
        replay=True,
        export=_exporter(recorded),
    )


@click.command("replay")
@click.argument("journal", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--speed",
    type=click.Choice(list(SPEEDS)),
    default="1",
    show_default=True,
    help="Playback speed: as recorded, twice as fast, or as fast as possible.",
)
@click.pass_context
def replay_command(ctx: click.Context, journal: Path, speed: str) -> None:
    """Play a session journal back in the UI: the same sentences, stats and marks at the recorded pace.

    No account, network or sound card is needed. Space pauses the playback, e exports the transcript.
    """
    from tongchuan_tui.journal.reader import JournalError, read_journal

    try:
        recorded = read_journal(journal)
    except JournalError as exc:
        click.echo(f"tongchuan-tui: {exc}", err=True)
        sys.exit(exitcodes.JOURNAL_ERROR)
    for warning in recorded.warnings:
        click.echo(f"tongchuan-tui: warning: {warning}", err=True)
    services = replay_services(recorded, SPEEDS[speed])
    # Textual is imported only here, so the other commands never load it.
    from tongchuan_tui.ui.app import make_app

    app = make_app(_ui_settings(ctx), services)
    app.run()
    sys.exit(app.return_code or exitcodes.OK)

"""`tongchuan-tui export JOURNAL --format srt|vtt|txt|md|json`: a session's sentences as subtitles or text."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tongchuan_tui import exitcodes
from tongchuan_tui.journal.export import FORMATS, TEXT_CHOICES, export
from tongchuan_tui.journal.reader import JournalError, read_journal


@click.command("export")
@click.argument("journal", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option(
    "--text",
    type=click.Choice(TEXT_CHOICES),
    default="target",
    show_default=True,
    help="Which language to show; both = source line(s) above the translation.",
)
@click.option(
    "-t",
    "--target",
    metavar="LANG",
    default=None,
    help="Of a multi-target session, the translation to export (default: the first target).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
def export_command(journal: Path, fmt: str, text: str, target: str | None, output: Path | None) -> None:
    """Export the final sentences of a session journal (it may be from a crashed session); of a session
    interpreted into several languages, those of one target (--target, default the first).

    Subtitles (srt, vtt) follow the session timeline: cues in order, never overlapping, at most two lines
    of about 42 characters per language. txt is timestamped plain text, md a Markdown document, json all
    sentences with both texts.
    """
    try:
        recorded = read_journal(journal)
    except JournalError as exc:
        click.echo(f"tongchuan-tui: {exc}", err=True)
        sys.exit(exitcodes.JOURNAL_ERROR)
    for warning in recorded.warnings:
        click.echo(f"tongchuan-tui: warning: {warning}", err=True)
    try:
        document = export(recorded, fmt, text, target)
    except ValueError as exc:
        click.echo(f"tongchuan-tui: {exc}", err=True)
        sys.exit(exitcodes.USAGE)
    if output is None:
        click.echo(document, nl=False)
        return
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as exc:
        click.echo(f"tongchuan-tui: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(exitcodes.UNEXPECTED)
    count = len(recorded.for_target(target).sentences)
    click.echo(f"exported {count} sentences to {output}", err=True)

"""`tongchuan-tui export JOURNAL --format srt|vtt|txt|md|json`: a session's sentences as subtitles or text."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tongchuan_tui import exitcodes
from tongchuan_tui.journal.export import FORMATS, TEXT_CHOICES, export
from tongchuan_tui.journal.reader import Journal, JournalError, read_journal


@click.command("export")
@click.argument("journal", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Output format.")
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
@click.option(
    "--voice",
    "voice_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rebuild the voice track (.wav/.flac) from a session run with --keep-voice.",
)
def export_command(
    journal: Path, fmt: str | None, text: str, target: str | None, output: Path | None, voice_out: Path | None
) -> None:
    """Export the final sentences of a session journal (it may be from a crashed session); of a session
    interpreted into several languages, those of one target (--target, default the first).

    Subtitles (srt, vtt) follow the session timeline: cues in order, never overlapping, at most two lines
    of about 42 characters per language. txt is timestamped plain text, md a Markdown document, json all
    sentences with both texts. --voice FILE rebuilds the session's voice track from the speech kept beside
    the journal (--keep-voice).
    """
    if fmt is None and voice_out is None:
        click.echo("tongchuan-tui: export needs --format FORMAT or --voice FILE.wav", err=True)
        sys.exit(exitcodes.USAGE)
    try:
        recorded = read_journal(journal)
    except JournalError as exc:
        click.echo(f"tongchuan-tui: {exc}", err=True)
        sys.exit(exitcodes.JOURNAL_ERROR)
    for warning in recorded.warnings:
        click.echo(f"tongchuan-tui: warning: {warning}", err=True)
    if voice_out is not None:
        _export_voice(recorded, voice_out)
    if fmt is None:
        return
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


def _export_voice(recorded: Journal, voice_out: Path) -> None:
    from tongchuan_tui.audio.pcmfile import SUFFIXES
    from tongchuan_tui.voice import VoiceError
    from tongchuan_tui.voice.rebuild import rebuild_voice

    if str(voice_out) == "-" or voice_out.suffix.lower() not in SUFFIXES:
        click.echo(f"tongchuan-tui: export --voice {voice_out}: use a .wav or .flac file name", err=True)
        sys.exit(exitcodes.USAGE)
    try:
        rebuilt = rebuild_voice(recorded, voice_out)
    except VoiceError as exc:  # no voice in this journal, or it was not kept: the journal cannot give one
        click.echo(f"tongchuan-tui: {exc}", err=True)
        sys.exit(exitcodes.JOURNAL_ERROR)
    missing = f" ({rebuilt.missing} missing from the kept audio)" if rebuilt.missing else ""
    click.echo(
        f"voice of {rebuilt.voiced} sentences ({rebuilt.length_ms / 1000:.1f} s) in {voice_out}{missing}",
        err=True,
    )

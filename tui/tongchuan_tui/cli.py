"""The `tongchuan-tui` command line: interpret (UI or headless) by default, plus the subcommands."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from tongchuan_tui import __version__, exitcodes

EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {code:>3}  {text}" for code, text in sorted(exitcodes.DESCRIPTIONS.items())
)

EPILOG = (
    "\b\nExamples:\n"
    "  tongchuan-tui --demo                       no account, no sound card: the built-in demo\n"
    "  tongchuan-tui --input talk.mp3 --plain     interpret a file, print finished sentences\n"
    "  arecord -f S16_LE -r 16000 -c 1 | ssh host tongchuan-tui --input - --plain\n"
    "  tongchuan-tui --input https://example.com/live.m3u8 --source en --target zh\n\n" + EXIT_CODES_HELP
)


def fail(message: str, code: int) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    click.echo(f"tongchuan-tui: {message}", err=True)
    sys.exit(code)


def version_text() -> str:
    """The package's version and those it speaks or runs on: the service API, Textual, PyAV (and PyAudio)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from tongchuan_tui.api.models import API_VERSION

    def installed(distribution: str, missing: str = "not installed") -> str:
        # From the installed metadata: importing Textual or PyAV just to print a version would be slow.
        try:
            return version(distribution)
        except PackageNotFoundError:
            return missing

    return "\n".join(
        (
            f"tongchuan-tui {__version__}",
            f"tsi API {API_VERSION}",
            f"Textual {installed('textual')}",
            f"PyAV {installed('av')}",
            f"PyAudio {installed('pyaudio', 'not installed (the mic extra)')}",
            f"Python {platform.python_version()}",
        )
    )


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit()


class _Main(click.Group):
    """The command group, turning an unexpected exception into one line that says where the details are."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            from tongchuan_tui.config import log_file
            from tongchuan_tui.logs import setup_logging

            if not logging.getLogger().handlers:
                setup_logging()  # failed before logging was set up: the traceback still goes to the file
            logging.getLogger("tongchuan_tui").error("unexpected error", exc_info=exc)
            what = type(exc).__name__
            fail(
                f"unexpected error ({what}); the details are in the log file {log_file()}",
                exitcodes.UNEXPECTED,
            )


@click.group(
    cls=_Main,
    invoke_without_command=True,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version, and those of the service API, Textual and PyAV, and exit.",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file (TOML).")
@click.option("--profile", help="Profile in ~/.tencentcloud/credentials (default: default).")
@click.option(
    "-i",
    "--input",
    "input_spec",
    metavar="SPEC",
    help="mic, mic:INDEX, mic:NAME, - (raw s16le 16 kHz mono on stdin), a file, or a URL.",
)
@click.option("-s", "--source", help="Spoken language: zh, en, ja, ko, yue.")
@click.option("-t", "--target", help="Translation language (zh → en/ja/ko/yue; others → zh).")
@click.option("--mode", type=click.Choice(["sync", "split"]), help="TongChuanSync, or Recognize + Display.")
@click.option("--chunk-ms", type=int, help="Packet length in ms (200–500).")
@click.option("--max-backlog-ms", type=int, help="Live audio kept while the service is slow (ms).")
@click.option(
    "--translate-time",
    type=click.IntRange(0, 2),
    help="0 no translation, 2 real-time sentence translation (1: an alias of 2).",
)
@click.option("--endpoint", metavar="URL", help="Service address (e.g. a local emulator).")
@click.option("--plain", is_flag=True, help="No UI: print each finished sentence (headless).")
@click.option("--jsonl", is_flag=True, help="No UI: print every event as a JSON line (headless).")
@click.option("--log", "log_path", type=click.Path(path_type=Path), help="Write the session journal here.")
@click.option("--no-log", is_flag=True, help="Do not write a session journal.")
@click.option("--record-audio", type=click.Path(path_type=Path), help="Save the audio sent (.wav or .flac).")
@click.option("--demo", is_flag=True, help="Run on the built-in demo: in-process emulator, bundled speech.")
@click.option(
    "--layout",
    type=click.Choice(["auto", "side", "stacked", "interleaved", "translation"]),
    help="UI layout at start.",
)
@click.option("--final-only", is_flag=True, default=None, help="UI: show translations only once final.")
@click.option("--serve", metavar="[HOST:]PORT", help="Serve a caption page, event feed (loopback default).")
@click.option("--serve-token", metavar="TOKEN", help="Token the live server requires (else generated).")
@click.option("--live-srt", type=click.Path(path_type=Path), help="Keep an SRT file of the sentences, live.")
@click.option("--live-vtt", type=click.Path(path_type=Path), help="Keep a WebVTT file of them, live.")
@click.option("--live-text", type=click.Path(path_type=Path), help="Keep the last lines in a text file.")
@click.option("--live-text-lines", type=int, metavar="N", help="Lines kept in --live-text (default 2).")
@click.option(
    "--voice",
    metavar="[VOICETYPE]",
    is_flag=False,
    flag_value="auto",
    default=None,
    help="Speak the translation (service TTS); VOICETYPE: a standard voice ID (default: by target).",
)
@click.option(
    "--voice-out", metavar="FILE|-", help="Write the voice track: .wav, .flac, or - (raw PCM, stdout)."
)
@click.option(
    "--voice-device", metavar="SPEC", help="Play the voice on an output device: default, index, name."
)
@click.option(
    "--keep-voice", is_flag=True, default=None, help="Keep each sentence's speech beside the journal."
)
@click.pass_context
def main(ctx: click.Context, /, **options: Any) -> None:
    """Live interpretation with Tencent Cloud simultaneous interpretation (腾讯同传), in the terminal.

    With no subcommand, interprets INPUT (default: the microphone) in the UI, or headless with --plain or
    --jsonl. Credentials come from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY, then
    ~/.tencentcloud/credentials, then the config file.
    """
    from tongchuan_tui.config import ConfigError, load_settings

    flag_names = {
        "input_spec": "input",
        "source": "source",
        "target": "target",
        "mode": "mode",
        "chunk_ms": "chunk_ms",
        "max_backlog_ms": "max_backlog_ms",
        "translate_time": "translate_time",
        "endpoint": "endpoint",
        "profile": "profile",
        "layout": "layout",
        "final_only": "final_only",
        "serve": "serve",
        "serve_token": "serve_token",
        "live_srt": "live_srt",
        "live_vtt": "live_vtt",
        "live_text": "live_text",
        "live_text_lines": "live_text_lines",
        "voice_out": "voice_out",
        "voice_device": "voice_device",
        "keep_voice": "keep_voice",
    }
    flags = {key: options[opt] for opt, key in flag_names.items() if options.get(opt) is not None}
    if options["no_log"]:
        flags["journal"] = False
    if options.get("voice") is not None:
        flags["voice"] = True
        if options["voice"] != "auto":
            if not options["voice"].strip().isdigit():
                fail(
                    f"--voice VOICETYPE must be a standard voice ID, a number (got {options['voice']!r})",
                    2,
                )
            flags["voice_type"] = options["voice"]
    try:
        loaded = load_settings(config_path=options["config_path"], flags=flags)
    except ConfigError as exc:
        fail(str(exc), exitcodes.USAGE)
    from tongchuan_tui.logs import SecretFilter, setup_logging

    # The log's masking filter, handed to whatever learns a secret (no process-wide one).
    secret_filter = SecretFilter()
    setup_logging(level=loaded.settings.log_level, secret_filter=secret_filter)
    for warning in loaded.warnings:
        click.echo(f"tongchuan-tui: warning: {warning}", err=True)
    ctx.obj = {
        "settings": loaded.settings,
        "config_path": loaded.path,
        "loaded": loaded,
        "options": options,
        "secret_filter": secret_filter,
    }
    if ctx.invoked_subcommand is None:
        from tongchuan_tui.commands.run import run_command

        sys.exit(run_command(loaded.settings, options, secret_filter=secret_filter))


def _register() -> None:
    """Attach the subcommands (each in its own module)."""
    from tongchuan_tui.commands.config import config_command
    from tongchuan_tui.commands.devices import devices_command
    from tongchuan_tui.commands.doctor import doctor_command
    from tongchuan_tui.commands.emulator import emulator_command
    from tongchuan_tui.commands.export import export_command
    from tongchuan_tui.commands.replay import replay_command
    from tongchuan_tui.commands.sessions import sessions_command

    for command in (
        config_command,
        devices_command,
        doctor_command,
        emulator_command,
        export_command,
        replay_command,
        sessions_command,
    ):
        main.add_command(command)


_register()

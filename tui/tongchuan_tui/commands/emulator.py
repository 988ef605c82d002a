"""`tongchuan-tui emulator`: serve a local stand-in of the tsi service (NOT the real service)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import sys
from typing import Any

import click

from tongchuan_tui import exitcodes
from tongchuan_tui.api.credentials import Credentials, CredentialsError, mask, resolve_credentials
from tongchuan_tui.emulator.cues import CueError, CueScript
from tongchuan_tui.emulator.faults import HTTP_5XX, FaultConfig, Refusal
from tongchuan_tui.emulator.options import DEFAULT_HOST, EmulatorOptions
from tongchuan_tui.emulator.ratelimit import DEFAULT_LIMITS
from tongchuan_tui.emulator.server import EmulatorServer
from tongchuan_tui.emulator.variants import (
    DUPLICATE_SEQ,
    EMPTY_LISTS,
    SE_ID_SHAPES,
    SYNC_LISTS,
    TIME_UNITS,
    WireVariant,
)

log = logging.getLogger("tongchuan_tui.emulator")

EPILOG = """\b
Examples:
  tongchuan-tui emulator --port 0 --cues zh-en-short
  tongchuan-tui emulator --latency-ms 150 --jitter-ms 50 --error-at-seq 5,9 --reset-at-seq 12
  tongchuan-tui emulator --se-id opaque --sync-list changed --time-unit s --clock-offset-s -400
  tongchuan-tui emulator --vary 7 --refuse-seq 0:4:RequestLimitExceeded --refuse-seq 9:3:ServiceUnavailable
  tongchuan-tui --endpoint http://127.0.0.1:8765/ --input talk.wav --plain

\b
The endpoint URL is printed alone on the first line of stdout. Admin routes (loopback clients only):
  GET /__emulator__/state    sessions, packets, drops, violations, sentences (JSON)
  GET|POST /__emulator__/faults   the faults in force; POST a JSON object to replace them
See docs/emulator.md for the cue script format and the rules it enforces."""


def _fail(message: str, code: int) -> None:
    click.echo(f"tongchuan-tui emulator: {message}", err=True)
    sys.exit(code)


def _seqs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[int, ...]:
    """Seq numbers from repeated flags and/or comma-separated lists."""
    out: list[int] = []
    for value in values:
        for part in value.split(","):
            if part.strip():
                try:
                    seq = int(part)
                except ValueError:
                    raise click.BadParameter(f"{part!r} is not a packet number") from None
                if seq < 0:
                    raise click.BadParameter("packet numbers start at 0")
                out.append(seq)
    return tuple(sorted(set(out)))


def _credentials(ctx: click.Context) -> Credentials:
    obj: dict[str, Any] = ctx.obj if isinstance(ctx.obj, dict) else {}
    settings = obj.get("settings")
    try:
        return resolve_credentials(
            profile=getattr(settings, "profile", None) or "default",
            config_secret_id=getattr(settings, "secret_id", None),
            config_secret_key=getattr(settings, "secret_key", None),
            config_token=getattr(settings, "token", None),
        )
    except CredentialsError as exc:
        _fail(f"{exc} (the emulator accepts the same credentials the client uses)", exitcodes.NO_CREDENTIALS)
        raise  # unreachable: _fail exits


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


SEQ_HELP = "Packet number(s), comma-separated or repeated."
#: The variant flags, by WireVariant field; None (not given) keeps the default or the --vary pick.
VARIANT_FLAGS = (
    "se_id",
    "sync_list",
    "empty_list",
    "time_unit",
    "extra_fields",
    "string_ints",
    "omit_empty",
    "duplicate_seq",
    "clock_offset_s",
)


def _refusals(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Refusal, ...]:
    """Refusals from repeated SEQ:TIMES[:CODE] flags."""
    try:
        return tuple(Refusal.parse(value) for value in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def wire_variant(opts: dict[str, Any]) -> WireVariant:
    """The variant the flags ask for: --vary SEED's random pick (or the defaults), then each flag given."""
    base = WireVariant.random(opts["vary"]) if opts.get("vary") is not None else WireVariant()
    given = {name: opts[name] for name in VARIANT_FLAGS if opts.get(name) is not None}
    return base.replace(**given) if given else base


@click.command("emulator", epilog=EPILOG, context_settings={"max_content_width": 110})
@click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="Address to bind (loopback by default)."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port; 0 picks a free one.  [default: 0]"
)
@click.option(
    "--cues",
    "cues_path",
    metavar="NAME|PATH",
    help="Cue script: a bundled one by name (demo, zh-en-short, en-zh-short) or a JSON file.",
)
@click.option("--loop-cues", is_flag=True, help="Repeat the cue script when it runs out.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Delay every request (ms).")
@click.option("--jitter-ms", type=click.FloatRange(min=0), default=0.0, help="± random spread of the delay.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, help="Fraction of requests to fail.")
@click.option("--error-code", default="InternalError", show_default=True, help="Code for injected errors.")
@click.option("--error-at-seq", multiple=True, callback=_seqs, help=f"Answer --error-code at Seq. {SEQ_HELP}")
@click.option(
    "--reset-at-seq", multiple=True, callback=_seqs, help=f"Reset the connection at Seq. {SEQ_HELP}"
)
@click.option(
    "--lose-response-at-seq", multiple=True, callback=_seqs,
    help=f"Take the packet, then reset instead of answering. {SEQ_HELP}",
)  # fmt: skip
@click.option("--http-5xx-at-seq", multiple=True, callback=_seqs, help=f"Answer HTTP 5xx at Seq. {SEQ_HELP}")
@click.option(
    "--http-status", type=click.Choice([str(s) for s in HTTP_5XX]), default="503", show_default=True,
    help="Status for --http-5xx-at-seq.",
)  # fmt: skip
@click.option("--stall-at-seq", multiple=True, callback=_seqs, help=f"Hold the request at Seq. {SEQ_HELP}")
@click.option(
    "--stall-ms", type=click.FloatRange(min=0), default=15000.0, show_default=True, help="Stall length."
)
@click.option(
    "--refuse-seq", "refusals", multiple=True, callback=_refusals, metavar="SEQ:TIMES[:CODE]",
    help="Refuse Seq SEQ of every session TIMES times with CODE (default RequestLimitExceeded); repeatable.",
)  # fmt: skip
@click.option("--every-attempt", is_flag=True, help="At-Seq faults hit retries too (default: first attempt).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for jitter and --error-rate.")
@click.option("--no-rate-limit", is_flag=True, help="Do not enforce 25/s Sync and Recognize, 50/s Display.")
@click.option(
    "--se-id", type=click.Choice(SE_ID_SHAPES), default=None,
    help='SeId shape: "0","1"… (numeric, default), JSON numbers, or opaque unordered hex strings.',
)  # fmt: skip
@click.option(
    "--sync-list", type=click.Choice(SYNC_LISTS), default=None,
    help="What Sync's List holds: the 5 newest (default), only the changed, all, or always nothing.",
)  # fmt: skip
@click.option(
    "--empty-list", type=click.Choice(EMPTY_LISTS), default=None,
    help="An empty List is sent as [] (default), null, or left out.",
)  # fmt: skip
@click.option(
    "--time-unit", type=click.Choice(tuple(TIME_UNITS)), default=None,
    help="Unit of StartTime/EndTime: ms (default), 10ms or s.",
)  # fmt: skip
@click.option(
    "--extra-fields/--no-extra-fields", default=None, help="Add fields the reference does not define."
)
@click.option("--string-ints/--no-string-ints", default=None, help='Send SeVer, StartTime… as text ("3").')
@click.option("--omit-empty/--no-omit-empty", default=None, help="Leave out empty SourceText/TargetText.")
@click.option(
    "--duplicate-seq", type=click.Choice(DUPLICATE_SEQ), default=None,
    help="A re-sent Seq: answered again (idempotent, default) or refused "
    "(InvalidParameter.DuplicatedSessionIdAndSeq).",
)  # fmt: skip
@click.option(
    "--clock-offset-s", type=float, default=None,
    help="Run the server's clock this many seconds off (its Date header and signature-expiry check).",
)  # fmt: skip
@click.option(
    "--vary", type=int, default=None, metavar="SEED",
    help="Pick every open point above at random from SEED (flags given override); the pick is logged.",
)  # fmt: skip
@click.option("-v", "--verbose", is_flag=True, help="Log every request, not only errors and sessions.")
@click.pass_context
def emulator_command(ctx: click.Context, /, **opts: Any) -> None:
    """Serve a local EMULATOR of Tencent Cloud simultaneous interpretation (tsi) — NOT the real service.

    For tests and demos without an account: it verifies TC3 signatures against the credentials the client
    would use (TENCENTCLOUD_SECRET_ID/KEY, then ~/.tencentcloud/credentials), enforces the service's packet,
    pacing and rate rules with its real error codes, and answers with sentences from a cue script — or, with
    no script, with placeholders such as "[speech 1: 2.4 s]" for each stretch of speech it hears. It
    recognises and translates nothing. Point the client at it with --endpoint URL.
    """
    credentials = _credentials(ctx)
    cues: CueScript | None = None
    if opts["cues_path"] is not None:
        from tongchuan_tui.resources import cue_scripts, find_cue_script

        path = find_cue_script(opts["cues_path"])
        if path is None:
            _fail(
                f"--cues {opts['cues_path']}: no such file and no bundled cue script of that name "
                f"(bundled: {', '.join(cue_scripts())})",
                exitcodes.USAGE,
            )
            raise AssertionError  # unreachable: _fail exits
        try:
            cues = CueScript.load(path)
        except CueError as exc:
            _fail(str(exc), exitcodes.USAGE)
    try:
        faults = FaultConfig(
            latency_ms=opts["latency_ms"],
            jitter_ms=opts["jitter_ms"],
            error_rate=opts["error_rate"],
            error_code=opts["error_code"],
            error_at_seq=opts["error_at_seq"],
            reset_at_seq=opts["reset_at_seq"],
            lose_response_at_seq=opts["lose_response_at_seq"],
            http_5xx_at_seq=opts["http_5xx_at_seq"],
            http_status=int(opts["http_status"]),
            stall_at_seq=opts["stall_at_seq"],
            stall_ms=opts["stall_ms"],
            refusals=opts["refusals"],
            first_attempt_only=not opts["every_attempt"],
            seed=opts["seed"],
        )
        variant = wire_variant(opts)
    except ValueError as exc:
        _fail(str(exc), exitcodes.USAGE)
    options = EmulatorOptions(
        secret_id=credentials.secret_id,
        secret_key=credentials.secret_key,
        token=credentials.token,
        host=opts["host"],
        port=opts["port"],
        cues=cues,
        loop_cues=opts["loop_cues"],
        faults=faults,
        rate_limits={} if opts["no_rate_limit"] else dict(DEFAULT_LIMITS),
        variant=variant,
    )
    _setup_logging(verbose=opts["verbose"])
    if not _is_loopback(options.host):
        click.echo(
            f"tongchuan-tui emulator: warning: binding {options.host} exposes this emulator beyond this "
            "machine; it accepts your credentials' signatures and is NOT the real service",
            err=True,
        )
    code = asyncio.run(_serve(options, credentials))
    sys.exit(code)


def _setup_logging(*, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s emulator %(levelname)s: %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


async def _serve(options: EmulatorOptions, credentials: Credentials) -> int:
    server = EmulatorServer(options)
    try:
        await server.start()
    except OSError as exc:
        click.echo(
            f"tongchuan-tui emulator: cannot listen on {options.host}:{options.port} "
            f"({exc.strerror or exc}); "
            "choose another --port, or --port 0 for a free one",
            err=True,
        )
        return exitcodes.USAGE
    click.echo(server.url)
    sys.stdout.flush()
    cues = "a cue script" if options.cues else "speech placeholders (no cue script)"
    click.echo(
        f"tongchuan-tui emulator (NOT the real service) at {server.url}, answering with {cues}; accepting "
        f"SecretId {mask(credentials.secret_id)} from {credentials.origin}. Ctrl-C stops it.",
        err=True,
    )
    if options.variant != WireVariant():
        seed = options.variant.seed
        picked = f"--vary {seed} picked" if seed is not None else "wire variant"
        click.echo(f"tongchuan-tui emulator: {picked}: {options.variant.describe()}", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return exitcodes.OK

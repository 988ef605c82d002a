"""`tongchuan-tui doctor`: before an event, check the account and this machine against the endpoint."""

from __future__ import annotations

import asyncio
import sys

import click

from tongchuan_tui import exitcodes
from tongchuan_tui.config import Settings, sessions_dir

EPILOG = """\b
Checks, in order: credentials (masked), DNS and TLS, round trip (p50 of TongChuanDisplay requests), the
server's clock (its Date header), a 1-second silent session really sent and closed with IsEnd, what the
answers looked like (SeId shape, List, time unit), audio capture, the journal directory, the terminal, and
with --serve a free port. Exit 0 when the essentials pass; otherwise the exit code of the first failure
(3 credentials, 5 rejected by the service, 6 unreachable, 8 not a tsi answer, 7 journal, 2 --serve port).
No secret is printed.
\b
Examples:
  tongchuan-tui doctor
  tongchuan-tui doctor --json > doctor.json      attach this to a report of the real service's behaviour
  tongchuan-tui doctor --endpoint http://127.0.0.1:8765/ --serve 0.0.0.0:8080"""


@click.command("doctor", epilog=EPILOG, context_settings={"max_content_width": 110})
@click.option("--endpoint", metavar="URL", help="Service address to check (default: the configured one).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--serve", metavar="[HOST:]PORT", help="Also check this port is free for --serve (default: the config's)."
)
@click.pass_context
def doctor_command(ctx: click.Context, endpoint: str | None, as_json: bool, serve: str | None) -> None:
    """Check the account, the service and this machine before an event; print a short report.

    Sends about 10 requests and one second of silence (so it is billed as at most a minute of audio).
    """
    from tongchuan_tui.api.client import parse_endpoint
    from tongchuan_tui.outputs.address import parse_serve_address

    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    settings = obj.get("settings")
    if not isinstance(settings, Settings):
        settings = Settings()
    try:
        target = parse_endpoint(endpoint or settings.endpoint)
        # The configured `serve` is checked too, as the session would use it.
        serve = serve or settings.serve
        serve_at = parse_serve_address(serve) if serve else None
    except ValueError as exc:
        click.echo(f"tongchuan-tui doctor: --serve {exc}", err=True)
        sys.exit(exitcodes.USAGE)
    from tongchuan_tui.doctor.run import run_doctor

    report = asyncio.run(
        run_doctor(
            settings,
            target,
            config_path=obj.get("config_path"),
            journal_dir=sessions_dir(settings) if settings.journal else None,
            serve_at=serve_at,
        )
    )
    click.echo(report.to_json() if as_json else report.to_text())
    sys.exit(report.exit_code)

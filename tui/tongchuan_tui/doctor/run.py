"""All of the doctor's checks, in the order a user reads them, gathered into one report."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tongchuan_tui.api.client import Endpoint
from tongchuan_tui.api.credentials import Credentials, CredentialsError, resolve_credentials
from tongchuan_tui.config import Settings
from tongchuan_tui.doctor import machine
from tongchuan_tui.doctor.probe import Probe, ProbeSettings, service_checks, skipped
from tongchuan_tui.doctor.report import Check, Report

SERVICE_CHECKS = ("network", "service", "clock", "session", "answers")


async def run_doctor(
    settings: Settings,
    endpoint: Endpoint,
    *,
    config_path: Path | None = None,
    journal_dir: Path | None = None,
    serve_at: tuple[str, int] | None = None,
) -> Report:
    """Check the credentials, the service at `endpoint` and this machine; never raises for a failed check."""
    try:
        found: Credentials | CredentialsError = resolve_credentials(
            settings.profile, settings.secret_id, settings.secret_key, settings.token, config_path=config_path
        )
    except CredentialsError as exc:
        found = exc
    checks: list[Check] = [machine.credentials_check(found)]
    if isinstance(found, Credentials):
        probe_settings = ProbeSettings(
            source=settings.source,
            target=settings.target,
            mode=settings.mode,
            translate_time=settings.translate_time,
        )
        async with Probe(found, endpoint, probe_settings) as probe:
            checks += await service_checks(probe)
    else:
        checks += [skipped(name, "credentials") for name in SERVICE_CHECKS]
    # PortAudio's probing and the disk checks block: off the loop, as the house does with blocking I/O.
    checks.append(await asyncio.to_thread(machine.audio_check))
    checks.append(await asyncio.to_thread(machine.journal_check, journal_dir))
    checks.append(machine.terminal_check())
    if serve_at is not None:
        checks.append(machine.port_check(*serve_at))
    return Report(endpoint=endpoint.url, official=endpoint.is_official, checks=checks)

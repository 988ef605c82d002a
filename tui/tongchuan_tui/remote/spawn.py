"""`--detach`: start a session host in the background, print its name, exit once it is running.

The host is `tongchuan-tui --attachable --name NAME` with the same run options, in a new session (setsid:
no controlling terminal, so the terminal's hang-up does not reach it), stdin from /dev/null, stdout and stderr
to a log file. The same start-up checks as a foreground run come first; a failure the host finds itself
(credentials refused, endpoint unreachable, input unusable) is relayed with the host's exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import platformdirs

from tongchuan_tui import exitcodes
from tongchuan_tui.config import Settings
from tongchuan_tui.logs import SecretFilter
from tongchuan_tui.remote.paths import UnsafePathError, session_paths, validate_name

READY_TIMEOUT_S = 45.0
"""How long to wait for the service to accept the first packet (an unreachable one fails within ~30 s)."""
SKIPPED_OPTIONS = frozenset({"detach", "attachable", "name"})


def _stderr(message: str) -> None:
    click.echo(f"tongchuan-tui: {message}", err=True)


def host_log_path(name: str) -> Path:
    """Where a detached host's stdout and stderr go."""
    return platformdirs.user_log_path("tongchuan-tui") / "hosts" / f"{name}.log"


def host_arguments(ctx: click.Context) -> list[str]:
    """The run options given on this command line, as arguments for the host (minus --detach/--name)."""
    args: list[str] = []
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name is None or param.name in SKIPPED_OPTIONS:
            continue
        if ctx.get_parameter_source(param.name) != click.core.ParameterSource.COMMANDLINE:
            continue
        value = ctx.params.get(param.name)
        if value is None:
            continue
        if param.is_flag:
            if value is True or value == param.flag_value:
                args.append(max(param.opts, key=len))
            elif param.secondary_opts:
                args.append(max(param.secondary_opts, key=len))
            continue
        values = value if param.multiple else [value]
        for item in values:
            args.extend([max(param.opts, key=len), str(item)])
    return args


def detach_command(
    ctx: click.Context,
    settings: Settings,
    options: dict[str, Any],
    *,
    secret_filter: SecretFilter | None = None,
) -> int:
    """Start a background host for the session the options describe; returns the exit code."""
    from tongchuan_tui.commands.preflight import preflight_input
    from tongchuan_tui.commands.run import make_plan
    from tongchuan_tui.remote.live import LiveSession, check, next_default_name

    if settings.input.strip() == "-" and not options.get("demo"):
        _stderr("--input - cannot be detached (a detached session has no stdin): use --attachable instead")
        return exitcodes.USAGE
    name = options.get("name") or ""
    try:
        if name:
            problem = validate_name(name)
            if problem is not None:
                _stderr(problem)
                return exitcodes.USAGE
            if isinstance(check(session_paths(name)), LiveSession):
                _stderr(f"a session named {name} is already running: pick another --name, or stop it first")
                return exitcodes.USAGE
        else:
            name = next_default_name()
        paths = session_paths(name)
    except UnsafePathError as exc:
        _stderr(str(exc))
        return exitcodes.SESSION_REFUSED
    plan = make_plan(settings, options, headless=True, secret_filter=secret_filter)
    if isinstance(plan, int):
        return plan
    if not plan.demo:
        problem = preflight_input(settings.input)
        if problem is not None:
            _stderr(problem)
            return exitcodes.BAD_INPUT
    log_path = host_log_path(name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "tongchuan_tui", *host_arguments(ctx), "--attachable", "--name", name]
    with open(log_path, "ab") as log_file:
        log_file.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n".encode())
        log_file.flush()
        start = log_file.tell()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            close_fds=True,
            cwd=os.getcwd(),
        )
    return _wait_until_running(process, paths.socket, name, log_path, start)


def _wait_until_running(
    process: subprocess.Popen[bytes], socket_path: Path, name: str, log_path: Path, log_start: int
) -> int:
    """Poll (bounded) until the host's first packet is accepted, or it exits; then print the name or fail."""
    from tongchuan_tui.remote.client import probe

    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            _relay(log_path, log_start)
            if code == exitcodes.OK:
                click.echo(name)  # it ran and already ended (a very short input)
            return code
        try:
            hello = probe(socket_path, timeout_s=1.0)
        except Exception:
            hello = None
        if hello is not None and (hello.packets > 0 or hello.state == "ended"):
            click.echo(name)
            return exitcodes.OK
        time.sleep(0.1)
    _stderr(
        f"session {name} has not had a packet accepted within {READY_TIMEOUT_S:g} s; it keeps trying "
        f"(`tongchuan-tui attach {name}` shows it; its log is {log_path})"
    )
    click.echo(name)
    return exitcodes.OK


def _relay(log_path: Path, start: int) -> None:
    """The host's own one-line messages, on this process's stderr."""
    try:
        with open(log_path, "rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return
    for line in text.splitlines():
        if line.startswith("tongchuan-tui: "):
            click.echo(line, err=True)

"""Helpers for tests that run the CLI in a real terminal: a tmux session on a private socket."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping

TERMINAL_ENV_KEYS = (
    "HOME",
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TERM",
    "PATH",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
)
"""What the CLI needs of a test's environment: its private home, the emulator's keys, the terminal type."""


def tmux(*args: str) -> str:
    """Run one tmux command (bounded); its stdout."""
    done = subprocess.run(["tmux", *args], capture_output=True, text=True, check=True, timeout=10)
    return done.stdout


def tmux_env_args(env: Mapping[str, str], keys: Iterable[str] = TERMINAL_ENV_KEYS) -> list[str]:
    """`-e KEY=VALUE` for `tmux new-session`, whose command gets the tmux server's environment, not ours."""
    return [arg for key in keys if key in env for arg in ("-e", f"{key}={env[key]}")]

"""Helpers for detached-session tests: a private runtime dir, the CLI in real processes, cleanup of hosts."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.functional.tmux_helpers import TERMINAL_ENV_KEYS, tmux_env_args

from tongchuan_tui.commands.stop import process_gone
from tongchuan_tui.emulator.testing import EmulatorHandle

ENV_KEYS = (*TERMINAL_ENV_KEYS, "XDG_RUNTIME_DIR")
"""A host's or viewer's environment in tmux: the private runtime dir (where sessions are found) too."""


def spoken_cues(count: int, *, every_ms: int = 3000) -> dict[str, Any]:
    """A cue script of `count` sentences, one every `every_ms`, each 2 s long."""
    cues = [
        {
            "start_ms": 300 + every_ms * i,
            "end_ms": 2300 + every_ms * i,
            "source": f"第{i + 1}句话。",
            "target": f"Sentence number {i + 1}.",
        }
        for i in range(count)
    ]
    return {"source": "zh", "target": "en", "cues": cues}


def speech_spans(cues: dict[str, Any]) -> list[tuple[int, int]]:
    """The (start_ms, end_ms) of every cue, to generate matching speech-like audio."""
    return [(c["start_ms"], c["end_ms"]) for c in cues["cues"]]


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


class Hosts:
    """The runtime dir of one test, its environment, and every host it started (killed at teardown)."""

    def __init__(self, home: Path, runtime: Path) -> None:
        self.home = home
        self.runtime = runtime
        self.pids: set[int] = set()
        self.env: dict[str, str] = {
            k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TONGCHUAN_"))
        }
        self.env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), PYTHONUNBUFFERED="1")

    @property
    def socket_dir(self) -> Path:
        return self.runtime / "tongchuan-tui"

    def use(self, handle: EmulatorHandle) -> None:
        """Credentials of the emulator for every command."""
        self.env.update(TENCENTCLOUD_SECRET_ID=handle.secret_id, TENCENTCLOUD_SECRET_KEY=handle.secret_key)

    def cli(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        """Run `tongchuan-tui ARGS` to its end."""
        done = subprocess.run(
            [sys.executable, "-m", "tongchuan_tui", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.collect_pids()
        return done

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start `tongchuan-tui ARGS` with stdout/stderr piped."""
        return subprocess.Popen(
            [sys.executable, "-m", "tongchuan_tui", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def info(self, name: str) -> dict[str, Any]:
        """The info file a host writes next to its socket (pid, journal)."""
        data: dict[str, Any] = json.loads((self.socket_dir / f"{name}.json").read_text())
        return data

    def collect_pids(self) -> None:
        for path in self.socket_dir.glob("*.json") if self.socket_dir.is_dir() else ():
            with contextlib.suppress(OSError, ValueError, KeyError):
                self.pids.add(int(json.loads(path.read_text())["pid"]))

    def tmux_env(self) -> list[str]:
        env = dict(self.env, TERM="xterm-256color")
        return tmux_env_args(env, ENV_KEYS)

    def cleanup(self) -> None:
        self.collect_pids()
        for pid in self.pids:
            if not process_gone(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def hosts_in(isolated_home: Path) -> Iterator[Hosts]:
    """A `Hosts` with a fresh private runtime dir; every host started is killed on the way out."""
    # A short private path: a Unix socket's path is limited to 107 bytes.
    runtime = Path(tempfile.mkdtemp(prefix="tt-run-"))
    runtime.chmod(0o700)
    registry = Hosts(isolated_home, runtime)
    try:
        yield registry
    finally:
        registry.cleanup()
        shutil.rmtree(runtime, ignore_errors=True)


class LineReader:
    """Reads a process's stdout on a thread, keeping each line with the time it arrived."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def join(self, timeout_s: float = 10) -> None:
        """Wait (bounded) for the process's stdout to be read to its end."""
        self._thread.join(timeout_s)

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


class Tmux:
    """A tmux server of its own (its socket in the test's dir), running one command in a window."""

    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=True, timeout=10
        )
        return done.stdout

    def start(self, command: str, env_args: list[str], *, width: int = 120, height: int = 32) -> None:
        self.run("new-session", "-d", "-s", "v", "-x", str(width), "-y", str(height), *env_args, command)

    def screen(self) -> str:
        try:
            return self.run("capture-pane", "-p", "-t", "v")
        except subprocess.CalledProcessError:
            return ""

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "v", *keys)

    def kill(self) -> None:
        """Kill the tmux server: the terminal vanishes under whatever runs in it (SIGHUP)."""
        subprocess.run(
            ["tmux", "-S", self.socket, "kill-server"], capture_output=True, check=False, timeout=10
        )

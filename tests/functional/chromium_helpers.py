"""Headless Debian Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`).

Only what the caption-page tests need: open a page, evaluate JavaScript, take a screenshot. Every wait is
bounded; the browser is killed at the end whatever happened.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium_path() -> str:
    """The Debian chromium binary, or a skip saying why there is none (scripts/setup installs it)."""
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup installs it with apt)")
    return path


class Browser:
    """One headless Chromium and its first page."""

    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self._process = process
        self._out = to_browser
        self._in = from_browser
        self._buffer = b""
        self._next_id = 0
        self._session = ""

    def call(self, method: str, params: dict[str, Any] | None = None, *, timeout_s: float = 20.0) -> Any:
        """Send one command (to the page once attached) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self._session and not method.startswith("Target."):
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _read(self, deadline: float, what: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"chromium did not answer {what} in time")
            ready, _, _ = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    pytest.fail(f"chromium exited while waiting for {what}")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    def open(self, url: str) -> None:
        """Attach to the first page and load `url`."""
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self._session = self.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})[
            "sessionId"
        ]
        self.call("Page.enable")
        self.call("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, check: Callable[[Any], bool], timeout_s: float, what: str) -> Any:
        """Poll `expression` until `check` holds of its value; fail naming `what` after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if check(value):
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout_s} s waiting for {what}; the page shows {value!r}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the page."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@contextmanager
def headless_chromium(profile_dir: Path, *, width: int = 1280, height: int = 720) -> Iterator[Browser]:
    """A headless Chromium on about:blank, killed on exit."""
    binary = chromium_path()
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    args = [*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", f"--window-size={width},{height}"]
    # The protocol pipe is fds 3 (commands in) and 4 (replies out) of the browser (bash: dash cannot
    # redirect from the two-digit fds a test process holds).
    command = ["/bin/bash", "-c", f'exec "$0" "$@" 3<&{to_r} 4>&{from_w}', binary, *args]
    command += ["--remote-debugging-pipe", "about:blank"]
    process = subprocess.Popen(
        command, pass_fds=(to_r, from_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    os.close(to_r)
    os.close(from_w)
    try:
        yield Browser(process, to_w, from_r)
    finally:
        process.kill()
        process.wait(10)
        os.close(to_w)
        os.close(from_r)

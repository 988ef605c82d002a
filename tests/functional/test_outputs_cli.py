"""The issue's "done when", end to end: a real `tongchuan-tui --plain --serve ... --live-srt ...` against the
emulator, read with an HTTP client, headless Chromium and the `srt` parser while it runs."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import srt
from tests.functional.audio_helpers import write_wav
from tests.functional.chromium_helpers import headless_chromium
from tests.functional.test_cli_live import cli_env

from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, run_emulator_in_thread

SECONDS = 24
SPANS = [(start, start + 1600) for start in range(300, SECONDS * 1000 - 2000, 2500)]
TARGETS = [f"Sentence {n} of the talk." for n in range(1, len(SPANS) + 1)]
CUES = {
    "source": "zh",
    "target": "en",
    "cues": [
        {"start_ms": a, "end_ms": b, "source": f"演讲的第{n}句。", "target": target}
        for n, ((a, b), target) in enumerate(zip(SPANS, TARGETS, strict=True), 1)
    ],
}
SERVE_ARGS = ("--serve", "127.0.0.1:0", "--live-srt")
URL_LINE = re.compile(r"serving the caption page at (http://\S+)")


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(cues=CUES) as handle:
        yield handle


class Session:
    """The command running, its stderr read on a thread (so nothing it writes can block it)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tongchuan_tui", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def url(self) -> str:
        """The caption page's address as the command printed it."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                match = URL_LINE.search(self.lines.get(timeout=1))
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.stderr)
                continue
            if match:
                return match.group(1)
        pytest.fail("the command never said where it serves")

    def finish(self, timeout_s: float = 90) -> tuple[int, str]:
        try:
            out, _ = self.process.communicate(timeout=timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode, out


def first_data_line(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        for _ in range(50):
            line = response.readline().decode()
            if line.startswith("data:"):
                return line
    pytest.fail("no data: line on /events")


@pytest.mark.realtime
def test_a_served_session_feeds_the_page_and_a_live_srt(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(SECONDS * 1000, SPANS, seed=11))
    live = tmp_path / "live.srt"
    session = Session(
        ["--input", str(wav), "--plain", "--endpoint", emulator.url, "--no-log", *SERVE_ARGS, str(live)],
        cli_env(isolated_home, emulator),
    )
    try:
        url = session.url()
        assert url.startswith("http://127.0.0.1:")
        assert '"status"' in first_data_line(url + "events")
        time.sleep(max(0.0, 15 - (time.monotonic() - session.started)))  # the "15 s in"
        with headless_chromium(tmp_path / "profile") as browser:
            browser.open(url)
            shown = browser.wait_for(
                "document.getElementById('captions').innerText",
                lambda text: any(t in (text or "") for t in TARGETS),
                20,
                "a translation on the caption page",
            )
        mid = list(srt.parse(live.read_text(encoding="utf-8")))
        assert session.process.poll() is None, "the session ended before the mid-session checks"
        assert mid, "the live SRT is empty 15 s in"
        assert all(cue.content in TARGETS for cue in mid)
        assert any(t in shown for t in TARGETS)
    finally:
        code, out = session.finish()
    assert code == 0, "".join(session.stderr)
    assert [cue.content for cue in srt.parse(live.read_text(encoding="utf-8"))] == TARGETS
    assert TARGETS[-1] in out


@pytest.mark.realtime
def test_a_session_served_beyond_loopback_refuses_requests_without_its_token(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(SECONDS * 1000, SPANS, seed=12))
    session = Session(
        ["--input", str(wav), "--plain", "--endpoint", emulator.url, "--no-log", "--serve", "0.0.0.0:0"],
        cli_env(isolated_home, emulator),
    )
    try:
        url = session.url()
        match = re.fullmatch(r"http://0\.0\.0\.0:(\d+)/\?token=([A-Za-z0-9_-]{16,})", url)
        assert match, url
        local = f"http://127.0.0.1:{match.group(1)}/events"  # only ever connect to this machine
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(local, timeout=10)
        assert refused.value.code == 401
        assert first_data_line(f"{local}?token={match.group(2)}").startswith("data:")
        session.process.send_signal(2)
    finally:
        code, _ = session.finish()
    assert code == 130

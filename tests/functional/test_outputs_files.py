"""Live subtitle files: valid for any parser at any moment, complete at the end, refused at start when the
path cannot be written."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import srt
import webvtt
from tests.functional.outputs_helpers import revision

from tongchuan_tui import exitcodes
from tongchuan_tui.outputs import OutputsError
from tongchuan_tui.outputs.files import LiveFileOptions, LiveFiles
from tongchuan_tui.pipeline.events import SessionEnded


def parse_all(srt_path: Path, vtt_path: Path) -> tuple[list[str], list[str]]:
    """What the independent parsers read from the live files now (raises if either file is broken)."""
    subtitles = [s.content for s in srt.parse(srt_path.read_text(encoding="utf-8"))]
    captions = [c.text for c in webvtt.from_buffer(io.StringIO(vtt_path.read_text(encoding="utf-8")))]
    return subtitles, captions


def test_live_files_parse_at_every_moment_and_hold_every_sentence_at_the_end(tmp_path: Path) -> None:
    paths = LiveFileOptions(
        srt=tmp_path / "live.srt", vtt=tmp_path / "live.vtt", text=tmp_path / "live.txt", text_lines=3
    )
    files = LiveFiles(paths)
    files.start()
    assert parse_all(tmp_path / "live.srt", tmp_path / "live.vtt") == ([], [])  # valid before any sentence
    stop = threading.Event()
    reads: list[int] = []
    failures: list[str] = []

    def reader() -> None:
        # Parses the files as fast as it can while they are rewritten, as OBS or a player would read them.
        while not stop.is_set() and len(reads) < 100_000:
            try:
                subtitles, _ = parse_all(tmp_path / "live.srt", tmp_path / "live.vtt")
                reads.append(len(subtitles))
            except Exception as exc:
                failures.append(repr(exc))
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        count = 300
        for n in range(1, count + 1):
            files.sink(revision(n, 1, f"Sentence {n} in progress"))  # not final: not written
            files.sink(revision(n, 2, f"Sentence number {n}.", final=True))
            if n % 50 == 0:
                # Let the writer and the reader catch up (bounded), so the files are read mid-session.
                wanted_reads = len(reads) + 5
                deadline = time.monotonic() + 10
                while (files.writes < 3 * (n // 50) or len(reads) < wanted_reads) and not failures:
                    assert time.monotonic() < deadline, "the live files were not rewritten in time"
                    time.sleep(0.01)
        files.sink(SessionEnded("input-ended", count * 1000 + 1000, 0))
        files.close()
    finally:
        stop.set()
        thread.join(30)
    assert failures == []
    assert len(set(reads)) > 2, "the reader never saw the files mid-session"
    subtitles, captions = parse_all(tmp_path / "live.srt", tmp_path / "live.vtt")
    expected = [f"Sentence number {n}." for n in range(1, count + 1)]
    assert subtitles == expected
    assert captions == expected
    assert (tmp_path / "live.txt").read_text(encoding="utf-8").splitlines() == expected[-3:]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "a temporary file was left"


@pytest.mark.parametrize(
    ("name", "why"),
    [("missing/dir/live.srt", "does not exist"), (".", "is a directory")],
)
def test_an_unusable_live_file_is_refused_at_start(tmp_path: Path, name: str, why: str) -> None:
    files = LiveFiles(LiveFileOptions(srt=tmp_path / name))
    with pytest.raises(OutputsError, match=why) as info:
        files.start()
    assert "\n" not in str(info.value)
    assert "--live-srt" in str(info.value)


def test_the_command_refuses_an_unwritable_live_file_before_interpreting(
    isolated_home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-dir" / "live.vtt"
    done = subprocess.run(
        [sys.executable, "-m", "tongchuan_tui", "--demo", "--plain", "--no-log", "--live-vtt", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(isolated_home), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == exitcodes.USAGE, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--live-vtt" in lines[0]
    assert "does not exist" in lines[0]
    assert done.stdout == ""

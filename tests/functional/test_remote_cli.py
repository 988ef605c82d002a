"""Detached sessions end to end, in real processes against the emulator: a session that outlives its
viewers (tmux terminals killed, `q` → detach), a late `attach --plain`, two viewers at once, `stop`, a
socket that must be refused, a killed host, and the start-up failures `--detach` still reports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.functional.audio_helpers import write_wav
from tests.functional.remote_helpers import (
    Hosts,
    LineReader,
    Tmux,
    hosts_in,
    speech_spans,
    spoken_cues,
    wait_for,
)

from tongchuan_tui import exitcodes
from tongchuan_tui.commands.stop import process_gone
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, run_emulator_in_thread
from tongchuan_tui.journal.reader import read_journal

LONG_CUES = spoken_cues(13)  # one sentence every 3 s over 40 s
SHORT_CUES = spoken_cues(6)
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/setup")


@pytest.fixture
def hosts(isolated_home: Path) -> Iterator[Hosts]:
    with hosts_in(isolated_home) as registry:
        yield registry


@pytest.fixture
def long_emulator() -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(cues=LONG_CUES) as handle:
        yield handle


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(cues=SHORT_CUES, loop_cues=True) as handle:
        yield handle


def finals_on_disk(journal: Path) -> list[str]:
    """Target texts of the final sentences the journal holds so far."""
    if not journal.exists():
        return []
    return [s.target_text for s in read_journal(journal).sentences if s.final]


def detach(hosts: Hosts, handle: EmulatorHandle, wav: Path, name: str, *extra: str) -> None:
    """`--detach` a session on `wav`; check it printed its name alone and exited 0."""
    done = hosts.cli("--detach", "--name", name, "--input", str(wav), "--endpoint", handle.url, *extra)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{name}\n"


def viewer_command(hosts: Hosts, name: str, exit_file: Path) -> str:
    return f"{sys.executable} -m tongchuan_tui attach {name}; echo $? > {exit_file}; sleep 60"


def check_every_packet_arrived(handle: EmulatorHandle, audio_ms: int) -> None:
    """From the emulator's side: consecutive Seqs, 1:1 pacing, all the audio, IsEnd on the last session."""
    state = handle.state
    assert state.sessions, "the emulator saw no session"
    for snapshot in state.sessions:
        assert snapshot.seqs == list(range(len(snapshot.seqs)))
        assert not snapshot.pacing_violations
        assert not snapshot.gap_violations
    assert state.sessions[-1].ended, "no IsEnd on the last service session"
    assert sum(s.audio_ms for s in state.sessions) >= audio_ms


@pytest.mark.realtime
@needs_tmux
def test_a_detached_session_keeps_interpreting_while_viewers_come_and_go(
    hosts: Hosts, tmp_path: Path, long_emulator: EmulatorHandle
) -> None:
    hosts.use(long_emulator)
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(40_000, speech_spans(LONG_CUES), seed=7))
    journal = tmp_path / "talk.jsonl"
    detach(hosts, long_emulator, wav, "talk", "--log", str(journal))
    pid = int(hosts.info("talk")["pid"])
    first = Tmux(tmp_path / "tmux-1.sock")
    second = Tmux(tmp_path / "tmux-2.sock")
    plain = None
    try:
        # A viewer in a terminal sees the translations; then its terminal is killed (SIGHUP).
        first.start(viewer_command(hosts, "talk", tmp_path / "exit-1"), hosts.tmux_env())
        wait_for(lambda: "Sentence number 1." in first.screen(), 30, "a translation in the first viewer")
        assert "第1句话。" in first.screen()
        first.kill()

        # 15 s in (four sentences said), a late `attach --plain` prints them at once, then follows.
        wait_for(lambda: len(finals_on_disk(journal)) >= 4, 30, "four sentences said")
        assert not os.path.exists(tmp_path / "exit-1")  # the killed viewer never got to exit on its own
        attached_at = time.monotonic()
        plain = hosts.popen("attach", "talk", "--plain")
        output = LineReader(plain)
        second.start(viewer_command(hosts, "talk", tmp_path / "exit-2"), hosts.tmux_env())
        wait_for(lambda: "Sentence number 4." in output.text(), 10, "the history in attach --plain")
        history = [line for at, line in output.lines if at - attached_at < 5]
        assert [f"Sentence number {i}." in "\n".join(history) for i in range(1, 5)] == [True] * 4

        # Two viewers at once, as `sessions` shows.
        wait_for(lambda: "Sentence number" in second.screen(), 30, "a translation in the second viewer")
        wait_for(lambda: "2 viewers" in hosts.cli("sessions").stdout, 10, "two viewers listed")
        listed = hosts.cli("sessions").stdout
        assert "talk" in listed
        assert "zh→en" in listed
        assert str(wav) in listed

        # `q` in a viewer asks; `d` detaches and the session goes on.
        second.keys("q")
        wait_for(lambda: "Leave session talk?" in second.screen(), 10, "the quit dialog")
        second.keys("d")
        exit_2 = tmp_path / "exit-2"
        wait_for(lambda: exit_2.exists() and exit_2.read_text().strip() != "", 20, "the viewer to exit")
        assert exit_2.read_text().strip() == "0"
        assert "talk" in hosts.cli("sessions").stdout

        # The plain viewer follows to the end of the input and exits 0 with the session.
        assert plain.wait(timeout=60) == 0, plain.stderr.read() if plain.stderr else ""
        output.join()
    finally:
        first.kill()
        second.kill()
        if plain is not None and plain.poll() is None:
            plain.kill()
    printed = output.text()
    positions = [printed.find(f"Sentence number {i}.") for i in range(1, 14)]
    assert -1 not in positions, printed
    assert positions == sorted(positions)
    wait_for(lambda: not (hosts.socket_dir / "talk.sock").exists(), 20, "the host to exit")
    check_every_packet_arrived(long_emulator, 39_800)
    recorded = read_journal(journal)
    assert recorded.closed
    assert [s.target_text for s in recorded.sentences if s.final] == [
        f"Sentence number {i}." for i in range(1, 14)
    ]
    wait_for(lambda: process_gone(pid), 10, "the host process to exit")


@pytest.mark.realtime
def test_stop_ends_a_detached_session_gracefully(
    hosts: Hosts, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    hosts.use(emulator)
    wav = write_wav(tmp_path / "long.wav", speech_like_pcm(30_000, speech_spans(SHORT_CUES), seed=2))
    journal = tmp_path / "stop.jsonl"
    started = time.monotonic()
    detach(hosts, emulator, wav, "meeting", "--log", str(journal))
    wait_for(lambda: len(finals_on_disk(journal)) >= 1, 20, "a first sentence")
    done = hosts.cli("stop")  # the only session: no name needed
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped meeting")
    assert time.monotonic() - started < 28, "it ran to the end of its input instead of stopping"
    assert not (hosts.socket_dir / "meeting.sock").exists()
    recorded = read_journal(journal)
    assert recorded.closed
    assert recorded.sentences
    last = emulator.state.sessions[-1]
    assert last.ended
    assert last.seqs == list(range(len(last.seqs)))
    again = hosts.cli("stop", "meeting")
    assert again.returncode == exitcodes.NO_SESSION
    assert "no live session named meeting" in again.stderr


@pytest.mark.realtime
def test_a_socket_open_to_others_cannot_be_attached(
    hosts: Hosts, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    hosts.use(emulator)
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(20_000, speech_spans(SHORT_CUES), seed=4))
    detach(hosts, emulator, wav, "open")
    socket_path = hosts.socket_dir / "open.sock"
    assert socket_path.stat().st_mode & 0o777 == 0o600
    assert hosts.socket_dir.stat().st_mode & 0o777 == 0o700
    # The same name cannot be started twice.
    twice = hosts.cli("--detach", "--name", "open", "--input", str(wav), "--endpoint", emulator.url)
    assert twice.returncode == exitcodes.USAGE
    assert "already running" in twice.stderr

    socket_path.chmod(0o666)
    for args in (("attach", "open", "--plain"), ("attach", "--jsonl"), ("stop", "open")):
        refused = hosts.cli(*args)
        assert refused.returncode == exitcodes.SESSION_REFUSED, (args, refused.stderr)
        assert "mode 0666" in refused.stderr
        assert refused.stderr.count("\n") == 1
        assert refused.stdout == ""
    socket_path.chmod(0o600)
    assert hosts.cli("stop", "open").returncode == 0


@pytest.mark.realtime
def test_a_killed_host_leaves_a_crashed_journal_and_its_stale_socket_is_reported(
    hosts: Hosts, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    hosts.use(emulator)
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(20_000, speech_spans(SHORT_CUES), seed=5))
    detach(hosts, emulator, wav, "doomed")  # journal in the sessions dir, where `sessions` looks
    info = hosts.info("doomed")
    journal = Path(info["journal"])
    wait_for(lambda: len(finals_on_disk(journal)) >= 1, 20, "a first sentence")
    listed = hosts.cli("sessions", "--json")
    rows = json.loads(listed.stdout)
    assert rows[0]["live"]["name"] == "doomed"
    assert rows[0]["status"] == "live"
    assert "[live: doomed]" in hosts.cli("sessions").stdout

    os.kill(int(info["pid"]), signal.SIGKILL)
    wait_for(lambda: hosts.cli("attach", "doomed", "--plain").returncode == exitcodes.NO_SESSION, 10, "gone")
    assert not (hosts.socket_dir / "doomed.sock").exists()  # cleaned up by the attach that found it stale
    attach = hosts.cli("attach", "--plain")
    assert attach.returncode == exitcodes.NO_SESSION
    assert "no live session" in attach.stderr

    # Killed again: `sessions` finds the stale socket, reports and removes it; the journals read as crashed.
    detach(hosts, emulator, wav, "doomed2")
    info2 = hosts.info("doomed2")
    wait_for(lambda: len(finals_on_disk(Path(info2["journal"]))) >= 1, 20, "a first sentence")
    os.kill(int(info2["pid"]), signal.SIGKILL)
    wait_for(lambda: "stale socket" in hosts.cli("sessions").stderr, 10, "the stale socket reported")
    listing = hosts.cli("sessions").stdout
    assert "live:" not in listing
    assert listing.count("[crashed]") == 2
    assert not (hosts.socket_dir / "doomed2.sock").exists()


@pytest.mark.realtime
def test_detach_still_fails_before_it_returns(hosts: Hosts, tmp_path: Path, emulator: EmulatorHandle) -> None:
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(5_000, speech_spans(SHORT_CUES), seed=6))
    no_credentials = hosts.cli("--detach", "--input", str(wav), "--endpoint", emulator.url)
    assert no_credentials.returncode == exitcodes.NO_CREDENTIALS
    assert no_credentials.stdout == ""

    hosts.use(emulator)
    missing = hosts.cli("--detach", "--input", str(tmp_path / "nope.wav"), "--endpoint", emulator.url)
    assert missing.returncode == exitcodes.BAD_INPUT
    assert "no such file" in missing.stderr

    stdin = hosts.cli("--detach", "--input", "-", "--endpoint", emulator.url)
    assert stdin.returncode == exitcodes.USAGE
    no_terminal = hosts.cli("attach")  # the UI without a terminal: say so before looking for sessions
    assert no_terminal.returncode == exitcodes.USAGE
    assert "--plain or --jsonl" in no_terminal.stderr

    hosts.env["TENCENTCLOUD_SECRET_KEY"] = "not-the-key"
    rejected = hosts.cli("--detach", "--input", str(wav), "--endpoint", emulator.url)
    assert rejected.returncode == exitcodes.SERVICE_REJECTED, rejected.stderr
    assert rejected.stdout == ""
    assert "AuthFailure" in rejected.stderr
    assert "not-the-key" not in rejected.stderr
    assert hosts.cli("sessions").stdout.count("live:") == 0


@pytest.mark.realtime
def test_an_attachable_host_prints_serves_jsonl_viewers_and_ends_gracefully_on_hangup(
    hosts: Hosts, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    hosts.use(emulator)
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(30_000, speech_spans(SHORT_CUES), seed=8))
    journal = tmp_path / "fg.jsonl"
    args = ("--attachable", "--name", "stage", "--plain", "--input", str(wav), "--endpoint", emulator.url)
    host = hosts.popen(*args, "--log", str(journal))
    viewer = None
    try:
        printed = LineReader(host)
        wait_for(lambda: "Sentence number 1." in printed.text(), 20, "the host printing a sentence")
        hosts.collect_pids()
        viewer = hosts.popen("attach", "stage", "--jsonl")
        events = LineReader(viewer)
        wait_for(lambda: "Sentence number 1." in events.text(), 10, "the history as JSON lines")
        first = json.loads(events.lines[0][1])
        assert first["type"] == "SessionStarted"
        assert first["input"] == str(wav)
        host.send_signal(signal.SIGHUP)  # the host's own terminal went away: it ends like `stop`
        assert host.wait(timeout=30) == exitcodes.OK  # a hang-up is a graceful end, as a headless run's
        assert viewer.wait(timeout=10) == 0
        events.join()
    finally:
        for process in (host, viewer):
            if process is not None and process.poll() is None:
                process.kill()
    last = json.loads(events.lines[-1][1])
    assert last["type"] == "SessionEnded"
    assert last["reason"] == "hangup"
    assert emulator.state.sessions[-1].ended
    assert read_journal(journal).closed
    assert not (hosts.socket_dir / "stage.sock").exists()

"""A stand-in session process for the kill test: a real JournalWriter fed a never-ending stream of events.

Run as `python journal_child.py JOURNAL`; it journals packets, growing sentences (each one finalized) and
stats until it is killed. The settings it journals hold a fake secret, which must never reach the file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tongchuan_tui.journal.writer import JournalWriter
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Sentence,
    SentenceRevised,
    SessionStarted,
    StatsSnapshot,
    StatsUpdated,
)

FAKE_SECRET_KEY = "CHILDfakeSECRETkey0123456789"


def main(path: Path) -> None:
    writer = JournalWriter(path)
    writer(
        SessionStarted(
            started_at_utc=time.time(),
            input="child.wav",
            source="zh",
            target="en",
            mode="sync",
            chunk_ms=200,
            endpoint_host="127.0.0.1:1",
            emulated=True,
            settings={"chunk_ms": 200, "secret_key": FAKE_SECRET_KEY},
        )
    )
    n = 0
    while True:
        writer(ChunkSent(n, "uuid", n * 200, 200, 6400, n * 200, 12.0, f"req-{n}", 0, False))
        for ver, final in ((1, False), (2, True)):
            text = f"Sentence number {n}." if final else "Sentence num"
            writer(
                SentenceRevised(
                    Sentence(f"0:{n}", 0, n, ver, f"第{n}句。", text, n * 1000, n * 1000 + 800, final)
                )
            )
        writer(StatsUpdated(StatsSnapshot(requests_ok=n)))
        n += 1
        time.sleep(0.02)


if __name__ == "__main__":
    main(Path(sys.argv[1]))

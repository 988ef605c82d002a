"""Runs one audio-device action in its own process (ALSA reads ~/.asoundrc once per process) and prints JSON.

Usage: alsa_probe.py list | capture SPEC SECONDS OUT.raw | sequence OUT_DIR SECONDS SPEC...
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path


async def capture(spec: str, seconds: float, out: Path) -> dict[str, object]:
    from tongchuan_tui.audio.factory import open_source
    from tongchuan_tui.audio.mic import MicSource
    from tongchuan_tui.audio.source import AudioInputError

    source = open_source(spec)
    assert isinstance(source, MicSource)
    # The file plugin over a null slave delivers far faster than real time: keep everything it gives.
    source.max_items = 1_000_000
    try:
        await source.start()
    except AudioInputError as exc:
        return {"error": str(exc)}
    wanted = int(seconds * 32_000)
    pcm = bytearray()
    started = time.monotonic()
    async for piece in source.frames():
        pcm += piece
        if len(pcm) >= wanted:
            break
    elapsed = time.monotonic() - started
    await source.stop()
    await asyncio.to_thread(out.write_bytes, bytes(pcm))
    return {
        "description": source.description,
        "live": source.live,
        "rate": source.rate,
        "channels": source.channels,
        "overflows": source.overflows,
        "dropped_bytes": source.dropped_bytes,
        "bytes": len(pcm),
        "elapsed_s": elapsed,
    }


def main() -> None:
    action = sys.argv[1]
    if action == "list":
        from tongchuan_tui.audio.devices import list_devices

        result: dict[str, object] = {"devices": [asdict(d) for d in list_devices()]}
    elif action == "capture":
        result = asyncio.run(capture(sys.argv[2], float(sys.argv[3]), Path(sys.argv[4])))
    elif action == "sequence":  # several captures one after another in one process, as a device switch does
        out_dir, seconds, specs = Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
        result = {
            "runs": [
                asyncio.run(capture(spec, seconds, out_dir / f"{i}.raw")) for i, spec in enumerate(specs)
            ]
        }
    else:
        raise SystemExit(f"unknown action {action}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

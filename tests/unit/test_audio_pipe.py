"""The thread → event-loop PCM queue: backpressure loses nothing, live mode drops the oldest."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tongchuan_tui.audio.pipe import PcmPipe
from tongchuan_tui.audio.source import AudioInputError


def _produce(pipe: PcmPipe, count: int, results: list[bool], error: AudioInputError | None = None) -> None:
    for i in range(count):
        results.append(pipe.put(bytes([i]) * 4))
    pipe.finish(error)


async def _wait_for(condition: object, deadline_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while not condition():  # type: ignore[operator]
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(0.005)


async def test_backpressure_blocks_the_producer_and_loses_nothing() -> None:
    pipe = PcmPipe(asyncio.get_running_loop(), max_items=4, drop_oldest=False)
    results: list[bool] = []
    producer = threading.Thread(target=_produce, args=(pipe, 10, results))
    producer.start()

    await _wait_for(lambda: len(results) == 4)  # the producer fills the queue, then blocks
    assert producer.is_alive()
    got = [piece async for piece in pipe.items()]
    producer.join(5)

    assert got == [bytes([i]) * 4 for i in range(10)]
    assert results == [True] * 10
    assert pipe.dropped_bytes == 0


async def test_live_mode_drops_the_oldest_and_counts_it() -> None:
    pipe = PcmPipe(asyncio.get_running_loop(), max_items=4, drop_oldest=True)
    results: list[bool] = []
    producer = threading.Thread(target=_produce, args=(pipe, 10, results))
    producer.start()
    producer.join(5)  # never blocks: a live producer cannot wait

    got = [piece async for piece in pipe.items()]

    assert got == [bytes([i]) * 4 for i in range(6, 10)]
    assert pipe.dropped_bytes == 6 * 4


async def test_a_producer_error_reaches_the_consumer_after_the_audio() -> None:
    pipe = PcmPipe(asyncio.get_running_loop(), max_items=8, drop_oldest=False)
    producer = threading.Thread(target=_produce, args=(pipe, 2, [], AudioInputError("stream lost")))
    producer.start()
    got: list[bytes] = []

    async def consume() -> None:
        async for piece in pipe.items():
            got.append(piece)

    with pytest.raises(AudioInputError, match="stream lost"):
        await consume()
    producer.join(5)
    assert len(got) == 2


async def test_close_wakes_a_blocked_producer_and_ends_the_consumer() -> None:
    pipe = PcmPipe(asyncio.get_running_loop(), max_items=2, drop_oldest=False)
    results: list[bool] = []
    producer = threading.Thread(target=_produce, args=(pipe, 5, results))
    producer.start()
    await _wait_for(lambda: len(results) == 2)

    pipe.close()
    producer.join(5)

    assert not producer.is_alive()
    assert results[2:] == [False] * 3  # every put after close says "stop"
    assert [piece async for piece in pipe.items()] == []

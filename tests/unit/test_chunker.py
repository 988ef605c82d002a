"""The chunker: exact packets of chunk_ms, a zero-padded final packet of at least 200 ms, sample alignment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongchuan_tui.audio.chunker import Chunker

BYTES_PER_MS = 32


def _run(chunk_ms: int, pieces: list[bytes]) -> tuple[list[bytes], bytes | None]:
    chunker = Chunker(chunk_ms)
    packets = [packet for piece in pieces for packet in chunker.push(piece)]
    return packets, chunker.flush_final()


def test_200ms_packets_from_100ms_pieces() -> None:
    pieces = [bytes([i]) * 3200 for i in range(5)]  # 5 × 100 ms, each piece a distinct byte value

    packets, final = _run(200, pieces)

    assert [len(p) for p in packets] == [6400, 6400]
    assert packets[0] == bytes([0]) * 3200 + bytes([1]) * 3200
    assert final == bytes([4]) * 3200 + bytes(3200)  # 100 ms left, padded with silence to 200 ms


def test_final_longer_than_200ms_is_not_padded_further() -> None:
    packets, final = _run(500, [b"\x01\x02" * (16 * 300)])  # 300 ms with 500 ms packets

    assert packets == []
    assert final == b"\x01\x02" * (16 * 300)


def test_nothing_left_means_no_final_packet() -> None:
    packets, final = _run(250, [bytes(250 * BYTES_PER_MS)])

    assert len(packets) == 1
    assert final is None
    assert Chunker(200).flush_final() is None


def test_a_sample_split_across_pieces_is_rejoined() -> None:
    chunker = Chunker(200)
    first = chunker.push(b"\x34")  # the low byte of a sample
    packets = chunker.push(b"\x12" + bytes(6398) + b"\xff")

    assert first == []
    assert packets == [b"\x34\x12" + bytes(6398)]
    assert chunker.pending_bytes == 1
    assert chunker.flush_final() == b"\xff" + bytes(6399)  # the odd byte completed, then padded


@pytest.mark.parametrize("chunk_ms", [0, 199, 501, 1000])
def test_chunk_ms_outside_the_service_range_is_refused(chunk_ms: int) -> None:
    with pytest.raises(ValueError, match=r"200\.\.500"):
        Chunker(chunk_ms)


@given(
    chunk_ms=st.integers(200, 500),
    pieces=st.lists(st.binary(min_size=0, max_size=9000), max_size=30),
)
def test_packets_are_the_input_plus_zero_padding(chunk_ms: int, pieces: list[bytes]) -> None:
    packets, final = _run(chunk_ms, pieces)
    data = b"".join(pieces)
    everything = b"".join(packets) + (final or b"")

    assert everything[: len(data)] == data
    assert set(everything[len(data) :]) <= {0}
    assert all(len(p) == chunk_ms * BYTES_PER_MS for p in packets)
    if data:
        assert final is not None or len(data) % (chunk_ms * BYTES_PER_MS) == 0
    if final is not None:
        assert len(final) >= 200 * BYTES_PER_MS
        assert len(final) % 2 == 0
        assert len(final) <= max(200 * BYTES_PER_MS, len(data) - len(b"".join(packets)) + 1)
    else:
        assert len(everything) == len(data)

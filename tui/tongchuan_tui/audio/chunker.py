"""Cuts a PCM stream of arbitrary pieces into service packets of exactly `chunk_ms`."""

from __future__ import annotations

from tongchuan_tui.audio.format import MAX_PACKET_MS, MIN_PACKET_MS, SAMPLE_WIDTH, ms_to_bytes


class Chunker:
    """Accumulates PCM pieces (any size, even split mid-sample) into packets of exactly `chunk_ms`.

    Every packet returned by `push` is `chunk_ms` long; `flush_final` returns what is left, padded with zero
    bytes (silence) to at least 200 ms as the service requires of a last packet.
    """

    def __init__(self, chunk_ms: int) -> None:
        if not MIN_PACKET_MS <= chunk_ms <= MAX_PACKET_MS:
            raise ValueError(f"chunk_ms must be {MIN_PACKET_MS}..{MAX_PACKET_MS}, not {chunk_ms}")
        self.chunk_ms = chunk_ms
        self.packet_bytes = ms_to_bytes(chunk_ms)
        self._buffer = bytearray()

    @property
    def pending_bytes(self) -> int:
        """Bytes held back, waiting for the rest of a packet."""
        return len(self._buffer)

    def push(self, pcm: bytes) -> list[bytes]:
        """Add a piece; returns the whole packets it completes (often none)."""
        self._buffer += pcm
        size = self.packet_bytes
        count = len(self._buffer) // size
        if count == 0:
            return []
        packets = [bytes(self._buffer[i * size : (i + 1) * size]) for i in range(count)]
        del self._buffer[: count * size]
        return packets

    def flush_final(self) -> bytes | None:
        """The remainder as a last packet, zero-padded to ≥ 200 ms and whole samples; None if empty."""
        if not self._buffer:
            return None
        packet = bytes(self._buffer)
        self._buffer.clear()
        # A stray odd byte is half a sample: complete it so the packet stays sample-aligned.
        packet += bytes(-len(packet) % SAMPLE_WIDTH)
        minimum = ms_to_bytes(MIN_PACKET_MS)
        if len(packet) < minimum:
            packet += bytes(minimum - len(packet))
        return packet

"""The baseline to beat: the quick-start sample's approach to streaming.

Blocking calls on one thread, a new HTTP connection per request, and a `time.sleep(chunk)` after each result,
so every round trip adds to the schedule. Unlike the sample it sends raw PCM (the protocol contract)
instead of wrapping each packet in a WAV header; its timing is otherwise the sample's.
"""

from __future__ import annotations

import http.client
import json
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tongchuan_tui.api.models import ACTION_SYNC, API_VERSION, SERVICE, UploadRequest
from tongchuan_tui.api.signing import authorization
from tongchuan_tui.audio.format import MIN_PACKET_MS, ms_to_bytes


@dataclass
class BaselineRun:
    """What the baseline did: per packet, when it hit the wire and when its answer came (monotonic s)."""

    chunk_ms: int
    started_at: float
    sent_at: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)
    audio_end_ms: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    thread_cpu_s: float = 0.0
    sentences: int = 0


def _post(
    host: str, port: int, secret_id: str, secret_key: str, body: bytes
) -> tuple[dict[str, object], float]:
    """One signed TongChuanSync POST on a fresh connection, as `requests.post` without a session does;
    returns the answer and when the request had been written to the socket."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "Host": f"{host}:{port}",
        "X-TC-Action": ACTION_SYNC,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": API_VERSION,
    }
    headers["Authorization"] = authorization(
        secret_id=secret_id,
        secret_key=secret_key,
        service=SERVICE,
        timestamp=timestamp,
        headers=headers,
        payload=body,
    )
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        wire_at = time.monotonic()
        data = conn.getresponse().read()
    finally:
        conn.close()
    parsed: dict[str, object] = json.loads(data)["Response"]
    return parsed, wire_at


def run_baseline(
    url: str, secret_id: str, secret_key: str, pcm: bytes, *, chunk_ms: int = 200, source: str = "zh"
) -> BaselineRun:
    """Stream `pcm` the quick-start way (blocking; one chunk of sleep after each result), timing it."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    step = ms_to_bytes(chunk_ms)
    chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
    session = str(uuid.uuid4())
    cpu0 = time.thread_time()
    run = BaselineRun(chunk_ms=chunk_ms, started_at=time.monotonic())
    audio_ms = 0
    for seq, chunk in enumerate(chunks):
        is_end = seq == len(chunks) - 1
        audio_ms += len(chunk) // ms_to_bytes(1)
        if len(chunk) < ms_to_bytes(MIN_PACKET_MS):
            chunk = chunk.ljust(ms_to_bytes(MIN_PACKET_MS), b"\0")
        request = UploadRequest(
            session_uuid=session,
            source=source,
            target="en",
            seq=seq,
            utc=int(time.time()),
            is_end=is_end,
            data=chunk,
            translate_time=1,
        )
        body = json.dumps(request.to_json()).encode()
        try:
            response, wire_at = _post(host, port, secret_id, secret_key, body)
        except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
            run.errors.append(f"{type(exc).__name__}: {exc}")
            response, wire_at = {}, time.monotonic()
        run.sent_at.append(wire_at)
        run.answered_at.append(time.monotonic())
        run.audio_end_ms.append(audio_ms)
        if "Error" in response:
            run.errors.append(str(response["Error"]))
        sentences = response.get("List")
        if isinstance(sentences, list):
            run.sentences = max(run.sentences, len(sentences))
        time.sleep(chunk_ms / 1000)  # the sample's pacing: one chunk of sleep after each result
    run.thread_cpu_s = time.thread_time() - cpu0
    return run

"""Report sections for the soak and the many-clients rows (issue 15)."""

from __future__ import annotations

from benchmarks.clients import ClientsResult
from benchmarks.measure import fmt, percentile
from benchmarks.report import Section, prose
from benchmarks.soak import AT_SEQ_KINDS, PERIOD_S, RATE_CODES, SoakResult


def soak_section(soak: SoakResult) -> Section:
    """The soak: faults injected, and the service's rules judged from the emulator's side."""
    sec = Section(
        "7. Soak under faults",
        prose(
            f"""
            One live session over {fmt(soak.seconds / 60, 1)} minutes of speech against an emulator that
            faults at least 5 % of requests: every {PERIOD_S:g} s the next of {len(AT_SEQ_KINDS)} at-Seq
            faults ({", ".join(name for name, _, _ in AT_SEQ_KINDS)}) over a random error rate
            ({", ".join(RATE_CODES)} in turn); re-sent Seqs are refused as duplicates. Beside it, the same
            audio against a fault-free emulator. Pacing, gaps, Seq order and what audio each service session
            heard are the emulator's figures; the transcripts are compared sentence by sentence (start within
            400 ms, same text less the emulator's per-session sentence number).
            """
        ),
    )
    sec.table(
        ["requests", "faulted", "faulted %", "service sessions", "rollovers", "re-sent ms", "exit"],
        [
            [
                soak.requests,
                soak.faulted,
                fmt(100 * soak.faulted_share, 1),
                soak.service_sessions,
                soak.rollovers,
                soak.resent_ms,
                f"{soak.exit_code} (fault-free {soak.clean_exit_code})",
            ]
        ],
    )
    if soak.faulted_by_kind:
        # Every kind of the rotation, so one that never fired shows as 0.
        names = [name for name, _, _ in AT_SEQ_KINDS] + [f"random {code}" for code in RATE_CODES]
        rows = [[name, soak.faulted_by_kind.get(name, 0)] for name in names]
        rows += sorted([k, v] for k, v in soak.faulted_by_kind.items() if k not in names)
        sec.table(["fault", "requests"], rows)
        sec.notes.append("Requests only delayed (latency) are listed but not counted in the faulted share.")
    sec.target(
        "faults", "≥ 5 % of requests", f"{fmt(100 * soak.faulted_share, 1)} %", soak.faulted_share >= 0.05
    )
    sec.target(
        "pacing and gap rules",
        "0 violations",
        f"{soak.pacing_violations} pacing, {soak.gap_violations} gap, {soak.failed_sessions} sessions failed"
        f" (and {soak.stall_gaps} at a stalled request, after the client had rolled over)",
        soak.pacing_violations == soak.gap_violations == 0,
    )
    sec.notes += [f"gap: {line}" for line in soak.gap_details[:5]]
    if soak.requests_logged < soak.requests:
        sec.notes.append(
            f"The emulator's log held only the newest {soak.requests_logged} of {soak.requests} requests:"
            " the faulted share and the kinds are of those."
        )
    sec.target("Seq contiguous", "0 breaks", f"{soak.seq_breaks} breaks", soak.seq_breaks == 0)
    sec.target(
        "every byte delivered once",
        "0 ms missing, 0 ms twice in one service session",
        f"{soak.missing_ms} ms missing, {soak.repeated_ms} ms twice"
        f" (re-sent at rollovers: {soak.resent_ms} ms)",
        soak.missing_ms == soak.repeated_ms == 0,
    )
    sec.target(
        "sentences cut by a rollover",
        "0",
        f"{soak.interrupted} interrupted of {soak.sentences}",
        soak.interrupted == 0,
    )
    sec.target(
        "same final transcript as the fault-free run",
        "identical",
        f"{soak.sentences} vs {soak.clean_sentences} sentences, {len(soak.transcript_diff)} differ",
        soak.same_transcript,
    )
    sec.notes += [f"differs: {line}" for line in soak.transcript_diff[:5]]
    return sec


def clients_section(rows: list[ClientsResult]) -> Section:
    """N separate client processes of one account against one emulator."""
    sec = Section(
        "8. Many clients of one account",
        prose(
            """
            N separate `tongchuan-tui --input FILE --jsonl` processes started within 2 s of each other, one
            account, one emulator (its limit: 25 Sync requests a second per account). The processes share
            the account's budget through the file in the runtime dir: they lengthen their packets (200 →
            500 ms) so that together they plan under the limit, and wait for it when even 500 ms packets do
            not fit. *Lag* is how much longer than real time a client took to send its audio.
            """
        ),
    )
    table = []
    for row in rows:
        chunks = [c for run in row.runs for c in run.chunk_ms[1:-1]]
        lags = [run.lag_ms for run in row.runs]
        table.append(
            [
                row.clients,
                fmt(row.audio_s),
                row.uploads,
                f"{row.refused} ({fmt(100 * row.refused_share, 1)} %)",
                sum(run.rollovers for run in row.runs),
                row.pacing_failed_sessions,
                fmt(percentile([float(c) for c in chunks], 50)),
                f"{fmt(percentile(lags, 50) / 1000, 1)} / {fmt(max(lags, default=0.0) / 1000, 1)}",
                sum(1 for run in row.runs if run.exit_code != 0),
            ]
        )
    sec.table(
        [
            "clients",
            "audio s",
            "uploads",
            "rate refusals",
            "rollovers",
            "sessions failed for pacing",
            "packet ms p50",
            "lag s p50 / max",
            "non-zero exits",
        ],
        table,
    )
    for row in rows:
        sec.target(
            f"{row.clients} clients: rate refusals",
            "≈ 0 % (one budget)",
            f"{fmt(100 * row.refused_share, 1)} %",
            row.refused_share < 0.01,
        )
    return sec

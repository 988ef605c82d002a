"""Small statistics and resource meters shared by the benchmarks."""

from __future__ import annotations

import asyncio
import math
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Summary:
    """Distribution of one measured quantity."""

    n: int
    mean: float
    p50: float
    p99: float
    max: float
    min: float


def summarize(values: Sequence[float]) -> Summary:
    """Count, mean, median, 99th percentile and extremes of `values`."""
    if not values:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    return Summary(
        n=len(values),
        mean=sum(values) / len(values),
        p50=percentile(values, 50),
        p99=percentile(values, 99),
        max=max(values),
        min=min(values),
    )


def rss_mib() -> float:
    """The process's resident set size now, in MiB (Linux /proc; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def peak_rss_mib() -> float:
    """The process's peak resident set size so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu_s() -> float:
    """CPU time (user + system) of the whole process so far, in seconds."""
    return time.process_time()


def fmt(value: float, digits: int = 1) -> str:
    """A number for a report table; NaN shows as an en dash."""
    if math.isnan(value):
        return "–"
    return f"{value:.{digits}f}"


class LoopLag:
    """How late the event loop wakes a short sleeper: a stall of the loop delays every packet as much."""

    def __init__(self, period_s: float = 0.005) -> None:
        self.period_s = period_s
        self.lags_ms: list[float] = []

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            t = time.perf_counter()
            await asyncio.sleep(self.period_s)
            self.lags_ms.append((time.perf_counter() - t - self.period_s) * 1000)

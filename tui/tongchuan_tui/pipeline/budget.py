"""Up-front arithmetic of the account's budget for a session with several service sessions at once (one per
target): the packet length the shared limiter (`ratelimit.plan`) will give them, and whether they can fit at
all. A set of streams that cannot stay under the limit even at the longest packets is refused before any
audio is sent, with the arithmetic in the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongchuan_tui.api.models import ACTION_DISPLAY, ACTION_RECOGNIZE, ACTION_SYNC
from tongchuan_tui.audio.format import MAX_PACKET_MS
from tongchuan_tui.pipeline.ratelimit import DEFAULT_LIMITS, State, plan


@dataclass(frozen=True, slots=True)
class BudgetPlan:
    """What `plan_budget` found: the planned packet length and the request rates it makes."""

    action: str
    streams: int
    chunk_ms: int
    """The packet length every stream is planned to use (chunk_ms, or longer while the budget is shared)."""
    upload_per_s: float
    display_per_s: float


class BudgetError(ValueError):
    """The streams cannot fit in the account's limit; the message gives the arithmetic and what to do."""


def plan_budget(
    streams: int,
    *,
    mode: str,
    chunk_ms: int,
    display_interval_ms: int,
    limits: dict[str, int] | None = None,
) -> BudgetPlan:
    """The plan for `streams` service sessions of one process; raises BudgetError if they cannot fit."""
    limits = dict(DEFAULT_LIMITS if limits is None else limits)
    action = ACTION_SYNC if mode == "sync" else ACTION_RECOGNIZE
    limit = limits[action]
    longest = streams * 1000 / MAX_PACKET_MS
    name = "target" if streams == 1 else "targets"
    if longest > limit:
        raise BudgetError(
            f"{streams} {name} need {streams} × 1000/{MAX_PACKET_MS} = {longest:g} {action} requests/s"
            f" even at {MAX_PACKET_MS} ms packets, over the account's limit of {limit}/s: use fewer targets"
            " (or a higher upload_rate_limit, if the account has one)"
        )
    state: State = {}
    planned = chunk_ms
    for n in range(streams):
        planned = plan(state, f"stream-{n}", action, chunk_ms, limit, 0.0)
    display = 0.0
    if mode == "split":
        display = streams * 1000 / display_interval_ms
        display_limit = limits[ACTION_DISPLAY]
        if display > display_limit:
            raise BudgetError(
                f"{streams} {name} polled every {display_interval_ms} ms make {streams} × 1000/"
                f"{display_interval_ms} = {display:g} {ACTION_DISPLAY} requests/s, over the account's"
                f" limit of {display_limit}/s: use a longer display_interval_ms or fewer targets"
            )
    return BudgetPlan(action, streams, planned, round(streams * 1000 / planned, 2), display)


def account_limits(upload_rate_limit: int) -> dict[str, int]:
    """The per-action limits of an account whose upload actions allow `upload_rate_limit` requests/s."""
    return {**DEFAULT_LIMITS, ACTION_SYNC: upload_rate_limit, ACTION_RECOGNIZE: upload_rate_limit}

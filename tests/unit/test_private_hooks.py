"""Private details of dependencies that the code relies on, checked so a new release that changes them fails
here, naming what to rework, instead of silently slowing or breaking something.

(Textual's `App._handle_exception` has its own test, tests/ui/test_ui_private_api.py.)
"""

from __future__ import annotations

import asyncio

from tongchuan_tui.pipeline.clock import FakeClock


async def test_fake_clock_sees_the_event_loops_ready_queue() -> None:
    # FakeClock.settle peeks at `loop._ready` (CPython's queue of runnable callbacks) to know when every task
    # waits; without it, it falls back to a fixed number of passes, which is slower and less exact.
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)
    assert ready is not None, "asyncio's loop lost _ready: FakeClock.settle needs another idle test"
    loop.call_soon(lambda: None)
    assert len(ready) >= 1


async def test_settle_runs_a_chain_of_tasks_to_the_end() -> None:
    clock = FakeClock()
    done: list[int] = []

    async def chain(n: int) -> None:
        for i in range(n):
            await asyncio.sleep(0)
            done.append(i)

    task = asyncio.create_task(chain(20))
    await clock.settle()
    assert task.done()
    assert done == list(range(20))

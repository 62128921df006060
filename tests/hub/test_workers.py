"""The hub's worker threads: answers, errors and context come back; slow jobs run side by side."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable

import pytest

from nowserving.hub.workers import Workers

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


def test_a_job_runs_in_another_thread_with_the_callers_context_and_its_answer_comes_back() -> None:
    async def main() -> tuple[str, str, int]:
        WHO.set("kiosk-1")
        return await Workers().run(lambda: (WHO.get(), threading.current_thread().name, 42))

    who, thread, answer = asyncio.run(main())
    assert (who, answer) == ("kiosk-1", 42)
    assert thread != threading.current_thread().name


def test_a_jobs_error_is_raised_to_its_caller() -> None:
    def fails() -> None:
        raise ValueError("no such line")

    with pytest.raises(ValueError, match="no such line"):
        asyncio.run(Workers().run(fails))


def test_slow_jobs_run_side_by_side_up_to_the_most_and_the_rest_wait_their_turn() -> None:
    """Three jobs that each wait for the other two finish only if they run at once (a slow
    report must not hold up every other request); with one thread they queue and finish."""
    together = threading.Barrier(3, timeout=30)

    async def main(workers: Workers, job: Callable[[], int]) -> list[int]:
        return await asyncio.gather(*(workers.run(job) for _ in range(3)))

    assert sorted(asyncio.run(main(Workers(), together.wait))) == [0, 1, 2]  # each its turn
    assert asyncio.run(main(Workers(most=1), lambda: 7)) == [7, 7, 7]


def test_a_request_that_goes_away_ends_only_once_its_job_has() -> None:
    """The hub closes its store when every request has ended: not while a job writes."""
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def job() -> None:
        started.set()
        release.wait(30)
        finished.append("job")

    async def main() -> None:
        request = asyncio.create_task(Workers().run(job))
        await asyncio.to_thread(started.wait, 30)
        request.cancel()
        for _ in range(5):  # enough turns of the loop for a plain await to be cancelled
            await asyncio.sleep(0)
        assert not request.done()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await request
        assert finished == ["job"]

    asyncio.run(main())

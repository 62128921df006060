"""The worker threads that run the hub's blocking endpoints (those that use the store).

anyio's `to_thread.run_sync` (what Starlette's `run_in_threadpool` uses) cost 0.16-0.19 ms
a hop on the development machine (a capacity limiter, a cancel scope, its own queue per
call). These threads take jobs from one queue and hand each answer back with
`loop.call_soon_threadsafe`: 0.08-0.11 ms, measured in the same minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")
MOST = 40  # threads at most, as anyio's default limiter: slow jobs (reports) do not starve the rest
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


class Workers:
    """Threads started as jobs need them (up to `most`), then kept, waiting for jobs.

    Args:
        most: the most threads that run at once; more jobs wait in the queue.
    """

    def __init__(self, most: int = MOST) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._most = most
        self._threads = 0
        self._idle = 0  # threads waiting for a job
        self._queued = 0  # jobs no thread has taken yet

    async def run(self, call: Callable[[], R]) -> R:
        """`call()` in a worker thread, with this task's context variables."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[R] = loop.create_future()
        with self._lock:
            self._queued += 1
            start = self._queued > self._idle and self._threads < self._most
            self._threads += start
        if start:
            threading.Thread(target=self._work, name="hub-worker", daemon=True).start()
        self._jobs.put((loop, done, functools.partial(contextvars.copy_context().run, call)))
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            # As with anyio, a request that goes away ends when its job has: the job may be
            # writing to the store, which the hub closes once every request has ended.
            await asyncio.wait([done])
            raise

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            loop, done, call = self._jobs.get()
            with self._lock:
                self._idle -= 1
                self._queued -= 1
            try:
                answer, error = call(), None
            except BaseException as exc:  # the endpoint's error is the request's
                answer, error = None, exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for it
                loop.call_soon_threadsafe(_settle, done, answer, error)


def _settle(done: asyncio.Future[Any], answer: Any, error: BaseException | None) -> None:
    if done.cancelled():  # the request went away; what it did is done (as with anyio)
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(answer)


WORKERS = Workers()  # one set per process, shared by every application in it

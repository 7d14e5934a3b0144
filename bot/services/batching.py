"""Requests handled in groups: those that arrive while one group is handled form the next.

Under load this turns many small transactions into a few larger ones (group commit), each
read and written with a handful of statements whatever its size; with one request at a time
it is the same as handling each on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")

# What handling a group gives for each of its requests: a result, or the error to raise.
Outcomes = list[Result | Exception]


class Batcher(Generic[Request, Result]):
    """Hands requests to `handle` in groups of at most `limit`, up to `workers` groups at once.

    If a whole group fails (an error no request's own rules foresaw), each of its requests is
    handled again on its own, so one bad request cannot fail the others.
    """

    def __init__(
        self,
        handle: Callable[[Sequence[Request]], Awaitable[Outcomes[Result]]],
        limit: int = 200,
        workers: int = 1,
    ) -> None:
        self._handle = handle
        self._limit = limit
        self._most_workers = workers
        self._waiting: list[tuple[Request, asyncio.Future[Result]]] = []
        self._workers: set[asyncio.Task[None]] = set()

    async def submit(self, request: Request) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        # A worker that has just found nothing left is done at once (its done-callbacks are
        # not, yet), so only the ones still running are counted.
        self._workers = {worker for worker in self._workers if not worker.done()}
        if len(self._workers) < self._most_workers:
            self._workers.add(asyncio.create_task(self._work()))
        return await future

    async def _work(self) -> None:
        while self._waiting:
            group = self._waiting[: self._limit]
            del self._waiting[: self._limit]
            try:
                outcomes = await self._outcomes([request for request, _ in group])
            except BaseException:
                # Stopped (the bot is shutting down): nobody is left waiting for an answer.
                for _, future in group + self._waiting:
                    future.cancel()
                self._waiting.clear()
                raise
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.done():  # the one who asked has stopped waiting
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _outcomes(self, requests: list[Request]) -> Outcomes[Result]:
        try:
            return await self._each(requests)
        except Exception as error:
            if len(requests) == 1:
                return [error]
        outcomes: Outcomes[Result] = []
        for request in requests:
            try:
                outcomes.extend(await self._each([request]))
            except Exception as error:
                outcomes.append(error)
        return outcomes

    async def _each(self, requests: list[Request]) -> Outcomes[Result]:
        """`handle`'s outcomes, one per request; a wrong count fails the group."""
        outcomes = await self._handle(requests)
        if len(outcomes) != len(requests):
            raise RuntimeError(f"{len(outcomes)} outcomes for {len(requests)} requests")
        return outcomes

"""Reads by key shared by the calls that want them at the same moment: one read at a time of
each kind, and the keys asked meanwhile join the next one, which reads them all. Under load,
a dozen requests each missing a few rows cost one round trip and one plan, not a dozen (rows
by primary key read ten at a time cost 206 µs each; 5,000 at a time, 47 µs)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Read = Callable[[set[K]], Awaitable[Mapping[K, V]]]


class _Batch(Generic[K, V]):
    def __init__(self, read: Read[K, V]) -> None:
        self.read, self.keys = read, set[K]()
        self.answer: asyncio.Future[Mapping[K, V]] = asyncio.get_running_loop().create_future()


class Batched(Generic[K, V]):
    """Reads of one kind (say, one view's rows) run one at a time; a call's keys join the next
    read of its kind, which starts as soon as the one running ends. The read is the first
    call's, so every call of one kind must be able to share it (the same scope, a connection
    from the shared queue). Each call gets the whole read's answer and picks its own keys; a
    read that fails fails every call in it; a call cancelled leaves the read to the others."""

    def __init__(self) -> None:
        self._next: dict[Hashable, _Batch[K, V]] = {}
        self._running: dict[Hashable, asyncio.Task[None]] = {}

    async def read(self, kind: Hashable, keys: Iterable[K], read: Read[K, V]) -> Mapping[K, V]:
        batch = self._next.get(kind)
        if batch is None:
            batch = self._next[kind] = _Batch(read)
            if kind not in self._running:
                self._running[kind] = asyncio.create_task(self._run(kind), name="batched-read")
        batch.keys.update(keys)
        return await asyncio.shield(batch.answer)

    async def _run(self, kind: Hashable) -> None:
        try:
            while (batch := self._next.pop(kind, None)) is not None:
                try:
                    answer = await batch.read(batch.keys)
                except asyncio.CancelledError:  # stopping: so are its calls
                    batch.answer.cancel()
                    raise
                except Exception as exc:  # each call in it answers for it
                    batch.answer.set_exception(exc)
                else:
                    batch.answer.set_result(answer)
        finally:
            del self._running[kind]
            waiting = self._next.pop(kind, None)  # only when stopped: its calls stop too
            if waiting is not None:
                waiting.answer.cancel()

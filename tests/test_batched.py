"""Reads shared by the calls that want them at the same moment (app.batched)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from app.batched import Batched


class Store:
    """A key-value store whose reads take a moment and are counted."""

    def __init__(self) -> None:
        self.reads: list[set[int]] = []

    async def read(self, keys: set[int]) -> Mapping[int, str]:
        self.reads.append(set(keys))
        await asyncio.sleep(0.01)
        return {k: f"value {k}" for k in keys if k != 13}


def test_calls_at_the_same_moment_share_one_read_and_later_ones_the_next() -> None:
    store, batched = Store(), Batched[int, str]()

    async def calls() -> list[Mapping[int, str]]:
        first = [
            asyncio.create_task(batched.read("public", {i, i + 1}, store.read)) for i in range(5)
        ]
        await asyncio.sleep(0.002)  # the first read is out: these wait for the next, together
        later = [asyncio.create_task(batched.read("public", {i}, store.read)) for i in (20, 21)]
        return await asyncio.gather(*first, *later)

    answers = asyncio.run(calls())
    assert store.reads == [{0, 1, 2, 3, 4, 5}, {20, 21}]
    assert answers[0][1] == "value 1" and answers[6][21] == "value 21"


def test_each_kind_reads_apart() -> None:
    store, batched = Store(), Batched[int, str]()

    async def calls() -> list[Mapping[int, str]]:
        return await asyncio.gather(
            batched.read("public", {1}, store.read), batched.read("admin", {2}, store.read)
        )

    asyncio.run(calls())
    assert sorted(map(sorted, store.reads)) == [[1], [2]]


def test_a_read_that_fails_fails_each_of_its_calls_and_not_the_next() -> None:
    batched = Batched[int, str]()

    async def broken(keys: set[int]) -> Mapping[int, str]:
        await asyncio.sleep(0.01)
        raise TimeoutError("the queue was full")

    async def calls() -> tuple[list[object], Mapping[int, str]]:
        failed = await asyncio.gather(
            *(batched.read("public", {i}, broken) for i in range(3)), return_exceptions=True
        )
        return failed, await batched.read("public", {7}, Store().read)

    failed, after = asyncio.run(calls())
    assert all(isinstance(f, TimeoutError) for f in failed)
    assert after == {7: "value 7"}


def test_a_call_cancelled_leaves_the_read_to_the_others() -> None:
    store, batched = Store(), Batched[int, str]()

    async def calls() -> Mapping[int, str]:
        leaving = asyncio.create_task(batched.read("public", {1}, store.read))
        staying = asyncio.create_task(batched.read("public", {2}, store.read))
        await asyncio.sleep(0.002)
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return await staying

    assert asyncio.run(calls()) == {1: "value 1", 2: "value 2"}
    assert store.reads == [{1, 2}]

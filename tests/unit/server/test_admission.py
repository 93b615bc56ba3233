"""Upload admission: a slot limit, a short first-come-first-served wait, no leaked slots."""

from __future__ import annotations

import asyncio

import pytest

from apprentice.server.admission import UploadSlots


def test_slots_up_to_the_limit_are_taken_at_once() -> None:
    async def scenario() -> None:
        slots = UploadSlots(2)
        assert await slots.acquire(0) and await slots.acquire(0)
        assert not await slots.acquire(0)  # full, and no waiting asked for
        assert slots.busy == 2
    asyncio.run(scenario())


def test_a_released_slot_goes_to_the_longest_waiting_upload() -> None:
    async def scenario() -> None:
        slots = UploadSlots(1)
        assert await slots.acquire(0)
        order: list[str] = []

        async def wait(name: str) -> None:
            assert await slots.acquire(5)
            order.append(name)
        first = asyncio.create_task(wait("first"))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(wait("second"))
        await asyncio.sleep(0.01)
        assert slots.waiting == 2
        slots.release()
        await first
        slots.release()
        await second
        assert order == ["first", "second"] and slots.busy == 1 and slots.waiting == 0
        slots.release()
        assert slots.busy == 0
    asyncio.run(scenario())


def test_a_newcomer_does_not_overtake_the_queue() -> None:
    async def scenario() -> None:
        slots = UploadSlots(1)
        assert await slots.acquire(0)
        waiter = asyncio.create_task(slots.acquire(5))
        await asyncio.sleep(0.01)
        slots.release()  # handed to the waiter, not left free for anyone
        assert not await slots.acquire(0)
        assert await waiter and slots.busy == 1
    asyncio.run(scenario())


def test_a_wait_that_times_out_leaves_the_queue() -> None:
    async def scenario() -> None:
        slots = UploadSlots(1)
        assert await slots.acquire(0)
        assert not await slots.acquire(0.05)
        assert slots.waiting == 0 and slots.busy == 1
    asyncio.run(scenario())


def test_a_cancelled_waiter_takes_no_slot_even_if_handed_one() -> None:
    """The device hung up while waiting: its place, or the slot it was just handed, goes on."""
    async def scenario() -> None:
        slots = UploadSlots(1)
        assert await slots.acquire(0)
        gone = asyncio.create_task(slots.acquire(5))
        await asyncio.sleep(0.01)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert slots.waiting == 0
        handed = asyncio.create_task(slots.acquire(5))
        await asyncio.sleep(0.01)
        slots.release()  # handed to the waiter ...
        handed.cancel()  # ... which is cancelled before it runs again
        with pytest.raises(asyncio.CancelledError):
            await handed
        assert slots.busy == 0 and slots.waiting == 0  # the slot was passed on, not leaked
    asyncio.run(scenario())
